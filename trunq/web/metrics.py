"""``/metrics`` (Prometheus text format 0.0.4) and ``/healthcheck``; both need no token."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from trunq.core.errors import TrunqError
from trunq.web.context import web_context

blueprint = Blueprint("metrics", __name__)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _gauge(name: str, help_text: str, samples: list[tuple[dict[str, str], float]]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    for labels, value in samples:
        rendered = ",".join(f'{key}="{_label(val)}"' for key, val in labels.items())
        lines.append(f"{name}{{{rendered}}} {value:g}" if rendered else f"{name} {value:g}")
    return lines


def render_metrics() -> str:
    context = web_context()
    store = context.store
    counts = store.status_counts()
    workers = store.live_workers()
    usage = store.resource_usage()
    limits = context.settings.resource_limits
    names = sorted(set(usage) | set(limits))
    lines = _gauge("trunq_steps", "Registered steps by status.",
                   [({"status": status}, n) for status, n in sorted(counts.items())])
    lines += _gauge("trunq_workers_alive", "Workers with a live heartbeat.", [({}, len(workers))])
    lines += _gauge("trunq_resource_in_use", "Units of a resource held right now.",
                    [({"resource": name}, sum(usage.get(name, {}).values())) for name in names])
    lines += _gauge("trunq_resource_limit", "Configured units of a resource.",
                    [({"resource": name}, limits.get(name, 1)) for name in names])
    return "\n".join(lines) + "\n"


@blueprint.get("/metrics")
def metrics() -> Any:
    return Response(render_metrics(), content_type="text/plain; version=0.0.4; charset=utf-8")


@blueprint.get("/healthcheck")
def healthcheck() -> Any:
    try:
        web_context().store.status_counts()
    except (RuntimeError, TrunqError) as exc:
        return jsonify(ok=False, error=str(exc)), 503
    return jsonify(ok=True)
