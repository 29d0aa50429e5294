"""Cluster builds (``store.builds``): list, detail, cancel and re-run.

Cancel and re-run are actions: they need ``[web] allow_actions``, the token, and (in the
UI) a confirmation. A re-run queues a new detached build of the same roots that a worker
drives; the web process only rebuilds the root steps from their references to get their ids.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from flask import Blueprint, jsonify, request

from trunq.core.errors import PayloadError
from trunq.core.status import Status
from trunq.web.api_actions import requires_token
from trunq.web.context import web_context
from trunq.web.errors import ApiError, register_error_handlers

blueprint = Blueprint("builds", __name__, url_prefix="/api/builds")
register_error_handlers(blueprint)
FAILED_FIRST = {Status.FAILED: 0, Status.UPSTREAM_FAILED: 1, Status.RUNNING: 2, Status.BATCH_RUNNING: 2,
                Status.PENDING: 3}


def build_dict(record: Any, now: float) -> dict[str, Any]:
    data = asdict(record)
    begin = record.started or record.created
    data["duration"] = round(((record.ended or now) - begin), 3) if begin else None
    data["ended_flag"] = record.is_ended
    return data


def _record(build_id: str) -> Any:
    record = web_context().store.builds.get(build_id)
    if record is None:
        raise ApiError(404, f"no build {build_id!r}")
    return record


@blueprint.get("")
def list_builds() -> Any:
    try:
        limit = max(1, min(500, int(request.args.get("limit", 50))))
    except ValueError:
        raise ApiError(400, "limit must be a whole number") from None
    now = time.time()
    records = web_context().store.builds.recent(limit)
    running = [build_dict(r, now) for r in records if not r.is_ended]
    recent = [build_dict(r, now) for r in records if r.is_ended]
    return jsonify(running=running, recent=recent)


@blueprint.get("/<build_id>")
def build_detail(build_id: str) -> Any:
    record = _record(build_id)
    store = web_context().store
    roots = []
    for step_id, found in zip(record.root_ids, store.get_many(record.root_ids), strict=False):
        roots.append({"step_id": step_id, "status": found.status if found else "UNKNOWN",
                      "expl": found.expl if found else None,
                      "started": found.started if found else None, "finished": found.finished if found else None})
    roots.sort(key=lambda root: (FAILED_FIRST.get(root["status"], 4), root["step_id"]))
    return jsonify(build=build_dict(record, time.time()), roots=roots)


@blueprint.post("/<build_id>/cancel")
@requires_token
def cancel_build(build_id: str) -> Any:
    record = _record(build_id)
    if record.is_ended:
        raise ApiError(409, f"the build is {record.status}, nothing to cancel")
    web_context().store.builds.request_cancel(build_id)
    return jsonify(build_id=build_id, cancel_requested=True), 202


@blueprint.post("/<build_id>/rerun")
@requires_token
def rerun_build(build_id: str) -> Any:
    from trunq.execution.builds import open_build
    from trunq.execution.payload import rebuild_step

    record = _record(build_id)
    try:
        steps = [rebuild_step(reference) for reference in record.roots]
    except PayloadError as exc:
        raise ApiError(400, f"cannot rebuild the roots here: {exc}") from None
    created = open_build(web_context().store, steps, dict(record.options), detached=True)
    return jsonify(build_id=created.build_id, rerun_of=build_id), 202
