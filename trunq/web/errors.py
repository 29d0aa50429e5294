"""JSON errors for the API: one clear message, the right status, never a traceback."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def register_error_handlers(blueprint: Blueprint) -> None:
    @blueprint.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Any:
        return jsonify(error=exc.message, status=exc.status), exc.status


def json_object() -> dict[str, Any]:
    """The request body as a JSON object; anything else (list, number, bad JSON) is a 400."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object")
    return body
