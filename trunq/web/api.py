"""Read-only JSON API under ``/api/`` (documented in docs/web_api.md)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from trunq.scheduler.sorting import SORTS
from trunq.web import lineage, queries, runfiles, tasklists
from trunq.web.context import web_context
from trunq.web.errors import ApiError, register_error_handlers

blueprint = Blueprint("api", __name__, url_prefix="/api")
register_error_handlers(blueprint)
EVENTS_PER_POLL = 500


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be between {low} and {high}, got {value}")
    return value


def _text_arg(name: str) -> str | None:
    value = request.args.get(name, "").strip()
    return value or None


def _step_id_arg() -> str:
    step_id = request.args.get("id", "")
    if not step_id:
        raise ApiError(400, "the id query parameter (a step id) is required")
    return step_id


@blueprint.get("/config")
def config() -> Any:
    settings = web_context().settings
    return jsonify(actions_enabled=settings.actions_enabled, poll_ms=settings.poll_ms,
                   statuses=list(queries.STATUSES))


@blueprint.get("/overview")
def overview() -> Any:
    return jsonify(queries.overview(web_context().store, _text_arg("family")))


@blueprint.get("/steps")
def steps() -> Any:
    context = web_context()
    status = _text_arg("status")
    page = queries.step_page(
        context.store, status=status.upper() if status else None, family=_text_arg("family"),
        search=_text_arg("search"), offset=_int_arg("offset", 0, 0, 10**9),
        limit=_int_arg("limit", 50, 1, context.settings.page_size_max), **_sort_args())
    return jsonify(page)


def _sort_args() -> dict[str, Any]:
    """``sort`` (one of the store's orders) and ``order`` (asc/desc, default desc)."""
    sort = _text_arg("sort") or "updated"
    if sort not in SORTS:
        raise ApiError(400, f"sort must be one of {', '.join(SORTS)}, got {sort!r}")
    order = (_text_arg("order") or "desc").lower()
    if order not in ("asc", "desc"):
        raise ApiError(400, f"order must be asc or desc, got {order!r}")
    return {"sort": sort, "descending": order == "desc"}


@blueprint.get("/step")
def step() -> Any:
    context = web_context()
    detail = queries.step_detail(context.store, _step_id_arg(), context.settings.dependents_max,
                                 _int_arg("deps_offset", 0, 0, 10**9))
    if detail is None:
        raise ApiError(404, "no such step")
    return jsonify(detail)


@blueprint.get("/step/<direction>")
def step_lineage(direction: str) -> Any:
    """``/api/step/upstream`` or ``/api/step/downstream``: a node's ancestors or descendants."""
    if direction not in lineage.DIRECTIONS:
        raise ApiError(404, f"no such view {direction!r}: use upstream or downstream")
    context = web_context()
    found = lineage.lineage(context.store, _step_id_arg(), direction, depth=_int_arg("depth", 3, 1, 50),
                            limit=_int_arg("limit", 200, 1, context.settings.graph_max_nodes))
    if found is None:
        raise ApiError(404, "no such step")
    return jsonify(found)


@blueprint.get("/step/runs")
def step_runs() -> Any:
    context = web_context()
    limit = _int_arg("limit", 20, 1, 200)
    return jsonify(runs=runfiles.runs_of_step(context.runs_root, _step_id_arg(), limit))


@blueprint.get("/runs")
def runs() -> Any:
    """Recent runs from the runs folder, newest first (local builds show here without Redis)."""
    status = (_text_arg("status") or "").upper() or None
    limit = _int_arg("limit", 100, 1, 1000)
    try:
        found = runfiles.recent_runs(web_context().runs_root, limit, status)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    return jsonify(runs=found)


@blueprint.get("/runs/<name>")
def run_detail(name: str) -> Any:
    summary = _guarded_run(lambda root: runfiles.run_summary(root, name))
    if summary is None:
        raise ApiError(404, "no such run")
    return jsonify(summary)


@blueprint.get("/runs/<name>/<stream>")
def run_log(name: str, stream: str) -> Any:
    offset = _int_arg("offset", 0, 0, 2**62)
    try:
        return jsonify(_guarded_run(lambda root: runfiles.read_log(root, name, stream, offset)))
    except FileNotFoundError:
        raise ApiError(404, "no such run") from None
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None


@blueprint.get("/tasklists")
def tasklist_dirs() -> Any:
    return jsonify(tasklists=tasklists.configured(web_context().settings))


@blueprint.get("/tasklist")
def tasklist() -> Any:
    directory = _tasklist_dir()
    return jsonify(dir=str(directory), counts=tasklists.counts(directory), runs=tasklists.task_runs(directory))


@blueprint.get("/tasklist/<name>/<stream>")
def tasklist_log(name: str, stream: str) -> Any:
    directory = _tasklist_dir()
    offset = _int_arg("offset", 0, 0, 2**62)
    try:
        return jsonify(tasklists.task_log(directory, name, stream, offset))
    except runfiles.OutsideRunsRoot:
        raise ApiError(400, "not a run name") from None
    except FileNotFoundError:
        raise ApiError(404, "no such run") from None
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None


def _tasklist_dir() -> Any:
    try:
        return tasklists.resolve(web_context().settings, request.args.get("dir", ""))
    except tasklists.UnknownTaskList as exc:
        raise ApiError(404, str(exc)) from None


def _guarded_run(read: Any) -> Any:
    try:
        return read(web_context().runs_root)
    except runfiles.OutsideRunsRoot:
        raise ApiError(400, "not a run name") from None


@blueprint.get("/graph")
def graph() -> Any:
    context = web_context()
    collapse = {"auto": None, "yes": True, "no": False}.get(request.args.get("collapse", "auto"))
    found = queries.dependency_graph(
        context.store, _step_id_arg(), max_nodes=context.settings.graph_max_nodes,
        collapse_above=context.settings.graph_collapse_above, collapse=collapse)
    if found is None:
        raise ApiError(404, "no such step")
    return jsonify(found)


@blueprint.get("/timeline")
def timeline() -> Any:
    context = web_context()
    found = queries.timeline(context.store, _text_arg("root"), max_nodes=context.settings.graph_max_nodes)
    if found is None:
        raise ApiError(404, "no such step")
    return jsonify(found)


@blueprint.get("/workers")
def workers() -> Any:
    context = web_context()
    return jsonify(queries.workers(context.store, context.settings.page_size_max))


@blueprint.get("/resources")
def resources() -> Any:
    context = web_context()
    return jsonify(queries.resources(context.store, context.settings.resource_limits))


@blueprint.get("/events")
def events() -> Any:
    """Events after ``after`` (an id from a previous answer; ``$`` = only what comes next)."""
    store = web_context().store
    after = request.args.get("after", "$")
    if after == "$":
        return jsonify(events=[], last=store.last_event_id())
    found = store.read_events(after, count=EVENTS_PER_POLL)
    listed = [{"id": e.id, "kind": e.kind, "step_id": e.step_id, "data": e.data} for e in found]
    return jsonify(events=listed, last=found[-1].id if found else after)


@blueprint.get("/history")
def history_families() -> Any:
    return jsonify(families=web_context().history.families())


@blueprint.get("/history/<family>")
def history_family(family: str) -> Any:
    history = web_context().history
    limit = _int_arg("limit", 200, 1, 5000)
    runs = [record.to_dict() for record in history.family_runs(family, limit=limit)]
    return jsonify(family=family, stats=history.family_stats(family), runs=runs)
