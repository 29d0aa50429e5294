"""JSON errors for the API: one clear message, the right status, never a traceback."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from trunq.core.errors import TrunqError


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _is_store_outage(exc: Exception) -> bool:
    return type(exc).__name__ == "StoreUnavailable"  # defined by the Redis store; not imported here


def register_error_handlers(blueprint: Blueprint) -> None:
    @blueprint.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Any:
        return jsonify(error=exc.message), exc.status

    @blueprint.errorhandler(TrunqError)
    def trunq_error(exc: TrunqError) -> Any:
        return jsonify(error=str(exc)), exc.http_status

    @blueprint.errorhandler(RuntimeError)
    def outage(exc: RuntimeError) -> Any:
        if _is_store_outage(exc):
            return jsonify(error=str(exc)), 503
        raise exc
