"""HTML pages: server-rendered shells (escaped by Jinja) filled in by the scripts in ``static/``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from trunq.web import queries
from trunq.web.context import web_context

blueprint = Blueprint("views", __name__)

_NAV = (("builds", "Builds"), ("steps", "Steps"), ("timeline", "Timeline"), ("workers", "Workers"), ("resources", "Resources"),
        ("runs", "Runs"), ("history", "History"), ("tasklists", "TaskLists"))


def _page(template: str, page: str, title: str, **values: Any) -> str:
    settings = web_context().settings
    return render_template(template, page=page, title=title, nav=_NAV, poll_ms=settings.poll_ms,
                           actions_enabled=settings.actions_enabled, **values)


@blueprint.get("/")
def builds() -> str:
    return _page("builds.html", "builds", "Builds")


@blueprint.get("/builds/<build_id>")
def build(build_id: str) -> str:
    return _page("build.html", "build", f"Build {build_id}", build_id=build_id)


@blueprint.get("/steps")
def steps() -> str:
    # the statuses are fixed: shipping them in the page saves the list a request before its first data
    return _page("steps.html", "steps", "Steps", statuses=",".join(queries.STATUSES))


@blueprint.get("/step")
def step() -> str:
    step_id = request.args.get("id", "")
    return _page("step.html", "step", step_id or "Step", step_id=step_id)


@blueprint.get("/graph")
def graph() -> str:
    step_id = request.args.get("id", "")
    return _page("graph.html", "graph", f"Graph of {step_id}", step_id=step_id)


@blueprint.get("/timeline")
def timeline() -> str:
    return _page("timeline.html", "timeline", "Timeline", root=request.args.get("root", ""))


@blueprint.get("/workers")
def workers() -> str:
    return _page("workers.html", "workers", "Workers")


@blueprint.get("/resources")
def resources() -> str:
    return _page("resources.html", "resources", "Resources")


@blueprint.get("/history")
def history() -> str:
    family = request.args.get("family", "")
    return _page("history.html", "history", f"History of {family}" if family else "History", family=family)


@blueprint.get("/tasklists")
def tasklists() -> str:
    directory = request.args.get("dir", "")
    return _page("tasklists.html", "tasklists", f"TaskList {directory}" if directory else "TaskLists",
                 directory=directory)


@blueprint.get("/runs")
def runs() -> str:
    return _page("runs.html", "runs", "Runs")
