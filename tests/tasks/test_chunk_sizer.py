"""ChunkSizer: the adaptive chunk size of the Celery dispatcher (no cluster needed)."""

from __future__ import annotations

from dataclasses import dataclass, field

from trunq.scheduler.chunking import MAX_CHUNK, ChunkSizer
from trunq.tasks.chunks import shadow_name


@dataclass
class FakeJob:
    family: str
    members: list = field(default_factory=lambda: [object()])
    timeout: float | None = None

    @property
    def step(self):  # noqa: ANN201
        return self

    def get_task_family(self) -> str:
        return self.family


def feed(sizer: ChunkSizer, seconds_per_step: float, slots: int, count: int) -> None:
    now = 0.0
    for _ in range(count):
        now += seconds_per_step / slots
        sizer.finished(slots, now)


def test_short_steps_grow_the_chunk_up_to_the_cap() -> None:
    sizer = ChunkSizer()
    sizer._since = 0.0
    feed(sizer, 0.004, 2, 2000)
    assert sizer.size == MAX_CHUNK


def test_long_steps_keep_chunks_of_one_and_shrink_grown_ones() -> None:
    sizer = ChunkSizer(start=1)
    sizer._since = 0.0
    feed(sizer, 0.3, 2, 50)
    assert sizer.size == 1
    grown = ChunkSizer(start=32)
    grown._since = 0.0
    feed(grown, 0.3, 2, 200)
    assert grown.size == 1


def test_split_groups_by_family_keeps_limited_steps_alone_and_feeds_every_slot() -> None:
    sizer = ChunkSizer(start=8)
    jobs = [FakeJob("A") for _ in range(10)] + [FakeJob("B") for _ in range(3)] + [FakeJob("A", timeout=5.0)]
    chunks = sizer.split(jobs, slots=2, limited=lambda job: job.timeout is not None)
    # A: 10 jobs over 2 slots -> chunks of 5 (not 8: both slots get work); B: 2 + 1; the limited A alone
    assert sorted(len(chunk) for chunk in chunks) == [1, 1, 2, 5, 5]
    assert all(len({job.family for job in chunk}) == 1 for chunk in chunks)
    assert [chunk for chunk in chunks if chunk[0].timeout] == [[jobs[-1]]]


def test_shadow_names_show_the_chunk() -> None:
    assert shadow_name(["A(x=1)"]) == "A(x=1)"
    assert shadow_name(["A(x=1)", "A(x=2)", "A(x=3)"]) == "chunk of 3: A(x=1) ..."
