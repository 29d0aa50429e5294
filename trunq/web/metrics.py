"""``/metrics`` (Prometheus text, via prometheus_client) and ``/healthcheck``; both need no token.

Every scrape reads the state store afresh through a custom collector, so several web
processes report the same numbers and nothing is kept between scrapes. Every known status
is present (zero-valued) so that ``rate()`` and alerts see a series from the first scrape.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, jsonify
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from trunq.core.errors import StoreUnavailable, TrunqError
from trunq.core.status import TERMINAL, BuildStatus, Status
from trunq.web.context import web_context

blueprint = Blueprint("metrics", __name__)

STATUSES = tuple(status.value for status in Status)
BUILD_STATUSES = tuple(status.value for status in BuildStatus)
QUEUED_STATUSES = (Status.PENDING.value,)
BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0)
TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8"  # what generate_latest() writes
DURATION_SAMPLE = 500  # finished records per family and status read for the duration histogram


def _durations(store: Any, family: str) -> list[float]:
    found = []
    for status in (Status.DONE.value, Status.FAILED.value):
        _, records = store.list_steps(status=status, family=family, limit=DURATION_SAMPLE)
        found += [r.finished - r.started for r in records if r.started and r.finished and r.finished >= r.started]
    return found


def _histogram(values: list[float]) -> tuple[list[tuple[str, float]], float]:
    """Cumulative buckets and the sum, as Prometheus histograms count them."""
    buckets = [(f"{bound:g}", float(sum(1 for v in values if v <= bound))) for bound in BUCKETS]
    buckets.append(("+Inf", float(len(values))))
    return buckets, float(sum(values))


class StoreCollector:
    """Reads the store at scrape time."""

    def __init__(self, store: Any, resource_limits: dict[str, int]) -> None:
        self.store = store
        self.limits = resource_limits

    def collect(self) -> Iterator[Any]:
        store = self.store
        families = sorted(store.family_counts())
        yield from self._steps(families)
        yield from self._durations(families)
        workers = store.live_workers()
        alive = GaugeMetricFamily("trunq_workers_alive", "Workers with a live heartbeat.")
        alive.add_metric([], len(workers))
        yield alive
        yield from self._builds()
        yield from self._resources()

    def _steps(self, families: list[str]) -> Iterator[Any]:
        steps = GaugeMetricFamily("trunq_steps", "Registered steps by status.", labels=["status"])
        counts = self.store.status_counts()
        for status in sorted(set(STATUSES) | set(counts)):
            steps.add_metric([status], counts.get(status, 0))
        yield steps
        finished = CounterMetricFamily("trunq_steps_finished", "Steps that ended, by family and status "
                                       "(from the store's current records).", labels=["family", "status"])
        queued = GaugeMetricFamily("trunq_queue_depth", "Steps waiting to run (PENDING), by family.",
                                   labels=["family"])
        for family in families:
            per_family = self.store.status_counts(family)
            for status in sorted({s.value for s in TERMINAL} | {"UPSTREAM_FAILED"}):
                finished.add_metric([family, status], per_family.get(status, 0))
            queued.add_metric([family], sum(per_family.get(status, 0) for status in QUEUED_STATUSES))
        yield finished
        yield queued

    def _durations(self, families: list[str]) -> Iterator[Any]:
        histogram = HistogramMetricFamily("trunq_step_duration_seconds",
                                          "Run time of finished steps, by family.", labels=["family"])
        for family in families:
            buckets, total = _histogram(_durations(self.store, family))
            histogram.add_metric([family], buckets, total)
        yield histogram

    def _builds(self) -> Iterator[Any]:
        builds = GaugeMetricFamily("trunq_builds", "Recent cluster builds by status.", labels=["status"])
        counts = dict.fromkeys(BUILD_STATUSES, 0)
        for record in self.store.builds.recent(1000):
            counts[record.status] = counts.get(record.status, 0) + 1
        for status, n in counts.items():
            builds.add_metric([status], n)
        yield builds

    def _resources(self) -> Iterator[Any]:
        usage = self.store.resource_usage()
        names = sorted(set(usage) | set(self.limits))
        in_use = GaugeMetricFamily("trunq_resource_in_use", "Units of a resource held right now.",
                                   labels=["resource"])
        limit = GaugeMetricFamily("trunq_resource_limit", "Configured units of a resource.", labels=["resource"])
        for name in names:
            in_use.add_metric([name], sum(usage.get(name, {}).values()))
            limit.add_metric([name], self.limits.get(name, 1))
        yield in_use
        yield limit


def render_metrics() -> bytes:
    context = web_context()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(context.store, context.settings.resource_limits))
    return generate_latest(registry)


@blueprint.get("/metrics")
def metrics() -> Any:
    """Prometheus text; a store outage is a 503 JSON answer (handled by ``guard``)."""
    return Response(render_metrics(), content_type=TEXT_FORMAT)


@blueprint.get("/healthcheck")
def healthcheck() -> Any:
    """The state store and the history database, each as ok or its one-line problem."""
    context = web_context()
    problems = {}
    try:
        context.store.status_counts()
    except StoreUnavailable as exc:
        problems["store"] = str(exc)
    try:
        context.history.families()
    except TrunqError as exc:
        problems["history"] = str(exc)
    if problems:
        return jsonify(ok=False, error="; ".join(problems.values()), **problems), 503
    return jsonify(ok=True)
