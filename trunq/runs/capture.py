"""Capture of ``sys.stdout``/``sys.stderr`` per block, and artifact notes for the active run.

The streams are replaced by small routers that tee every write to the original stream and
to the block active in the current context (one ContextVar), so two steps running in two
threads each get their own output. The routers are removed when the last block ends, or
when a :func:`held_routers` section (a build loop) ends: blocks inside it install nothing.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any, Protocol

from trunq.core import target

FLUSH_BYTES = 64 * 1024
FLUSH_SECONDS = 0.5


class Block(Protocol):
    """What a capturing block offers to the routers and to Targets."""

    @property
    def run(self) -> Any: ...  # the Run that current_run() returns

    def add(self, index: int, text: str) -> None: ...  # index 0: stdout, 1: stderr

    def _register_artifact(self, path: str, direction: str) -> None: ...


_active: ContextVar[Block | None] = ContextVar("trunq_run_block", default=None)
_install_lock = threading.Lock()
_install_depth = 0
_held = 0  # open held_routers() sections
_saved_streams: tuple[Any, Any] | None = None
_tee = True  # captured text also reaches the process's own streams


def set_tee(enabled: bool) -> None:
    """Whether text captured by a block is also written to the process's own streams.

    A Celery pool process turns this off: its streams are the worker's log, and a step's
    output belongs in the step's Run, not duplicated there as WARNING lines.
    """
    global _tee
    _tee = enabled


def note_artifact(path: Any, direction: str) -> None:
    """Record that the active run read (``"upstream"``) or wrote (``"downstream"``) ``path``.

    Called by Targets on open('r') and on a committed write; a no-op when no run is active.
    """
    block = _active.get()
    if block is not None:
        block._register_artifact(str(path), direction)



target.set_artifact_listener(note_artifact)

def current_run() -> Any:
    """The run (context-manager run or step run) active in this context, if any."""
    block = _active.get()
    return None if block is None else block.run


class _Router:
    """Stands in for sys.stdout/sys.stderr: writes go to the original and to the active block."""

    def __init__(self, original: Any, index: int) -> None:
        self._original = original
        self._index = index

    def write(self, text: str) -> int:
        block = _active.get()
        if block is not None:
            block.add(self._index, text)
            if not _tee:
                return len(text)
        return self._original.write(text)

    def flush(self) -> None:
        self._original.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


def begin_block(block: Block) -> tuple[Token[Block | None], bool]:
    """Send this context's output and artifact notes to ``block``; undo with :func:`end_block`."""
    installed = not (_held and type(sys.stdout) is _Router and type(sys.stderr) is _Router)
    if installed:
        _install_routers()
    return _active.set(block), installed


def end_block(token: tuple[Token[Block | None], bool]) -> None:
    _active.reset(token[0])
    if token[1]:
        _remove_routers()


@contextmanager
def held_routers() -> Iterator[None]:
    """Keep the routers in place for a section that runs many blocks (a build loop)."""
    global _held
    _install_routers()
    with _install_lock:
        _held += 1
    try:
        yield
    finally:
        with _install_lock:
            _held -= 1
        _remove_routers()


class Capture:
    """The block of a context-manager Run: collects stdout (0) and stderr (1) text.

    ``on_flush(index, text)`` receives the text in chunks: when 64 KiB are buffered, when
    0.5 s passed since the last flush (so ``trunq logs --follow`` sees progress), and at the
    end. Nothing is flushed for a stream that stayed empty. Artifact notes go to ``run``.
    """

    def __init__(self, on_flush: Callable[[int, str], None], run: Any) -> None:
        self._on_flush = on_flush
        self.run = run
        self._chunks: tuple[list[str], list[str]] = ([], [])
        self._sizes = [0, 0]
        self._last_flush = time.monotonic()
        self._token: Any = None

    def add(self, index: int, text: str) -> None:
        self._chunks[index].append(text)
        self._sizes[index] += len(text)
        now = time.monotonic()
        if self._sizes[index] >= FLUSH_BYTES or now - self._last_flush >= FLUSH_SECONDS:
            self.flush()

    def _register_artifact(self, path: str, direction: str) -> None:
        self.run._register_artifact(path, direction)

    def flush(self) -> None:
        self._last_flush = time.monotonic()
        for index in (0, 1):
            if self._chunks[index]:
                text = "".join(self._chunks[index])
                self._chunks[index].clear()
                self._sizes[index] = 0
                self._on_flush(index, text)

    def __enter__(self) -> Capture:
        self._token = begin_block(self)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        end_block(self._token)
        self.flush()


def _install_routers() -> None:
    global _install_depth, _saved_streams
    with _install_lock:
        if _install_depth == 0 or not isinstance(sys.stdout, _Router):
            _saved_streams = (sys.stdout, sys.stderr)
            sys.stdout = _Router(sys.stdout, 0)
            sys.stderr = _Router(sys.stderr, 1)
        _install_depth += 1


def _remove_routers() -> None:
    global _install_depth, _saved_streams
    with _install_lock:
        _install_depth = max(0, _install_depth - 1)
        if _install_depth == 0 and _saved_streams is not None:
            # Only undo our own replacement; someone may have swapped the streams since.
            if isinstance(sys.stdout, _Router):
                sys.stdout = _saved_streams[0]
            if isinstance(sys.stderr, _Router):
                sys.stderr = _saved_streams[1]
            _saved_streams = None
