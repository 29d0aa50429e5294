"""Mutating API: message console, re-enable / forgive, cancel a running step.

Off unless ``[web] allow_actions = true`` and ``[web] token`` are set; every call must
carry the token in the ``X-Trunq-Token`` header. A browser cannot add that header to a
cross-site request, so the token also stops cross-site request forgery.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from trunq.core.status import ACTIVE, Status
from trunq.scheduler.state import StepRecord
from trunq.web.context import web_context
from trunq.web.errors import ApiError, json_object, register_error_handlers
from trunq.web.guard import check_token

blueprint = Blueprint("actions", __name__, url_prefix="/api/step")
register_error_handlers(blueprint)
TOKEN_HEADER = "X-Trunq-Token"
MAX_MESSAGE_CHARS = 10_000
_RUNNING = tuple(ACTIVE)


def requires_token(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        settings = web_context().settings
        if not settings.actions_enabled:
            raise ApiError(403, "actions are disabled: set [web] allow_actions = true and [web] token")
        check_token(current_app._get_current_object(),  # type: ignore[attr-defined]  # the app behind the proxy
                    settings.token or "",
                    request.headers.get(TOKEN_HEADER, ""))
        return view(*args, **kwargs)

    return guarded


def _existing_step() -> StepRecord:
    step_id = request.args.get("id", "")
    if not step_id:
        raise ApiError(400, "the id query parameter (a step id) is required")
    record = web_context().store.get(step_id)
    if record is None:
        raise ApiError(404, "no such step")
    return record


def _running_step() -> StepRecord:
    record = _existing_step()
    if record.status not in _RUNNING:
        raise ApiError(409, f"the step is {record.status}, not running")
    return record


@blueprint.post("/message")
@requires_token
def send_message() -> Any:
    record = _running_step()
    if not record.accepts_messages:
        raise ApiError(409, "the step does not accept messages")
    body = json_object()
    content = body.get("content")
    if not isinstance(content, str) or not content.strip():
        raise ApiError(400, 'send {"content": "<text>"}')
    if len(content) > MAX_MESSAGE_CHARS:
        raise ApiError(400, f"a message is at most {MAX_MESSAGE_CHARS} characters")
    message_id = web_context().store.send_message(record.step_id, content)
    return jsonify(step_id=record.step_id, message_id=message_id), 202


@blueprint.get("/message")
@requires_token
def message_response() -> Any:
    record = _existing_step()
    message_id = request.args.get("message_id", "")
    if not message_id:
        raise ApiError(400, "the message_id query parameter is required")
    answer = web_context().store.response(record.step_id, message_id)
    return jsonify(step_id=record.step_id, message_id=message_id, response=answer, answered=answer is not None)


@blueprint.get("/messages")
@requires_token
def messages() -> Any:
    """The step's conversation: every message sent (the last few hundred) and its answer."""
    record = _existing_step()
    return jsonify(step_id=record.step_id, messages=web_context().store.conversation(record.step_id))


@blueprint.post("/re-enable")
@requires_token
def re_enable() -> Any:
    record = _existing_step()
    if record.status != Status.DISABLED:
        raise ApiError(409, f"the step is {record.status}, not DISABLED")
    return _cleared(record)


@blueprint.post("/forgive")
@requires_token
def forgive() -> Any:
    """Forget the failure count of a FAILED or DISABLED step, so that it may run again."""
    record = _existing_step()
    if record.status not in (Status.FAILED, Status.DISABLED):
        raise ApiError(409, f"the step is {record.status}, neither FAILED nor DISABLED")
    return _cleared(record)


def _cleared(record: StepRecord) -> Any:
    store = web_context().store
    store.re_enable(record.step_id)
    store.update(record.step_id, retries=0)  # re_enable keeps the shown count of a FAILED step
    store.publish("web_action", record.step_id, {"action": request.path.rsplit("/", 1)[-1]})
    updated = store.get(record.step_id)
    return jsonify(step_id=record.step_id, status=updated.status if updated else None)


@blueprint.post("/cancel")
@requires_token
def cancel() -> Any:
    """Ask the execution of a running step to stop; its worker fails it ("cancelled from
    the web UI") within about a second, see ``trunq.tasks.cancel``."""
    record = _running_step()
    if not web_context().store.request_cancel(record.step_id, requested_by="web"):
        raise ApiError(409, "the step is not running any more")
    return jsonify(step_id=record.step_id, requested=True, worker=record.worker), 202
