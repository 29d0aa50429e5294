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


def register_error_handlers(blueprint: Blueprint) -> None:
    @blueprint.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Any:
        return jsonify(error=exc.message), exc.status

    @blueprint.errorhandler(TrunqError)
    def trunq_error(exc: TrunqError) -> Any:
        return jsonify(error=str(exc)), exc.http_status
