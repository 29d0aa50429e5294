"""Request guards: Host allow-list, read auth, token throttling and JSON errors under ``/api``.

DNS rebinding lets a hostile page reach a loopback server under the attacker's host name,
so requests whose ``Host`` is a name we were not told about are refused (IP literals are
fine: rebinding needs a name). When the UI listens beyond loopback with a token, every
page and API call needs that token; a browser gets it once via ``?token=`` and keeps it in
an HttpOnly, same-site cookie.
"""

from __future__ import annotations

import hmac
import ipaddress
import socket
import threading
import time
from collections import deque
from typing import Any
from urllib.parse import urlencode

from flask import Flask, jsonify, redirect, request
from werkzeug.exceptions import HTTPException

from trunq.core.errors import StoreUnavailable, TrunqError
from trunq.web.settings import WebSettings

TOKEN_HEADER = "X-Trunq-Token"
TOKEN_COOKIE = "trunq_token"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "localhost.localdomain"})
REDIS_HINT = "cluster views need Redis: start one with `trunq server` (or set [web] redis_url)"
OPEN_PATHS = ("/healthcheck", "/static/")  # liveness probes and assets carry no data


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def allowed_host_names(settings: WebSettings) -> frozenset[str]:
    names = set(LOOPBACK_NAMES) | {name.lower() for name in settings.allowed_hosts}
    bound = settings.bind_host.strip("[]").lower()
    if bound and not _is_ip(bound):
        names.add(bound)
    if bound in ("0.0.0.0", "::", ""):  # every interface: this machine's own names too
        names.update({socket.gethostname().lower(), socket.getfqdn().lower()})
    return frozenset(names)


def host_of(header: str) -> str:
    """The host name of a ``Host`` header, without port and brackets, lower-cased."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class Throttle:
    """Refuses a client address for ``window`` seconds after ``limit`` wrong tokens in that window."""

    def __init__(self, limit: int = 5, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(client, deque())
        while failures and now - failures[0] > self.window:
            failures.popleft()
        return failures

    def retry_after(self, client: str) -> int:
        """Seconds until ``client`` may try again; 0 when it is not throttled."""
        now = time.monotonic()
        with self._lock:
            failures = self._recent(client, now)
            if len(failures) < self.limit:
                return 0
            return max(1, int(self.window - (now - failures[0])) + 1)

    def failed(self, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._recent(client, now).append(now)
            if len(self._failures) > 10_000:  # bound memory under a spray of addresses
                self._failures = {key: val for key, val in self._failures.items() if val}


class TokenRefused(Exception):
    def __init__(self, status: int, message: str, retry_after: int = 0) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


def given_token() -> str:
    header = request.headers.get(TOKEN_HEADER)
    if header:
        return header
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.cookies.get(TOKEN_COOKIE, "")


def check_token(app: Flask, expected: str, given: str) -> None:
    """Raise ``TokenRefused`` (401, or 429 once the client is throttled) unless ``given`` matches."""
    throttle: Throttle = app.extensions["trunq_throttle"]
    client = request.remote_addr or "?"
    wait = throttle.retry_after(client)
    if wait:
        raise TokenRefused(429, f"too many wrong tokens from {client}: retry in {wait} s", wait)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        throttle.failed(client)
        raise TokenRefused(401, f"missing or wrong token (send the {TOKEN_HEADER} header)")


def _wants_json() -> bool:
    return request.path.startswith("/api") or request.path == "/metrics"


def _error(status: int, message: str, **extra: Any) -> Any:
    response = jsonify(error=message, status=status, **extra)
    response.status_code = status
    return response


def _refused_host_or_size(hosts: Any, settings: WebSettings) -> Any:
    """An error response for a host not allowed (DNS rebinding) or a body over the limit."""
    host = host_of(request.host or "")
    if not _is_ip(host) and host not in hosts:
        return _error(421 if _wants_json() else 403, f"host {host!r} is not allowed: add it to [web] allowed_hosts")
    if (request.content_length or 0) > settings.max_content_length:
        return _error(413, f"the request body is over {settings.max_content_length} bytes")
    return None


def _check_read_token(app: Flask, settings: WebSettings) -> Any:
    """Reads need the token; one given in the address is kept in a cookie and dropped from it."""
    query_token = request.args.get("token")
    check_token(app, settings.token or "", query_token or given_token())
    if query_token and request.method == "GET" and not _wants_json():
        args = [(key, val) for key, val in request.args.items(multi=True) if key != "token"]
        target = request.path + ("?" + urlencode(args) if args else "")
        response = redirect(target)
        response.set_cookie(TOKEN_COOKIE, query_token, httponly=True, samesite="Strict")
        return response
    return None


def install(app: Flask, settings: WebSettings) -> None:
    """Register the guards and error handlers on ``app``."""
    app.extensions["trunq_throttle"] = Throttle()
    hosts = allowed_host_names(settings)

    @app.before_request
    def guard_host_and_reads() -> Any:
        refused = _refused_host_or_size(hosts, settings)
        if refused is not None:
            return refused
        if not settings.read_token_required or request.path.startswith(OPEN_PATHS):
            return None
        return _check_read_token(app, settings)

    @app.after_request
    def conditional_json(response: Any) -> Any:
        """Polls re-send nothing when nothing changed: an ETag on every successful JSON GET, a
        304 for a matching ``If-None-Match``; ``no-cache`` makes the browser revalidate each time."""
        if request.method == "GET" and response.status_code == 200 and response.is_json:
            response.headers["Cache-Control"] = "no-cache"
            response.add_etag()
            response.make_conditional(request)
        return response

    _install_error_handlers(app)


def _install_error_handlers(app: Flask) -> None:
    """JSON for every error under ``/api`` (and where JSON is asked for); HTML pages keep theirs."""

    @app.errorhandler(TokenRefused)
    def token_refused(exc: TokenRefused) -> Any:
        response = _error(exc.status, exc.message)
        if exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(StoreUnavailable)
    def store_unavailable(exc: StoreUnavailable) -> Any:
        return _error(503, str(exc), hint=REDIS_HINT)

    @app.errorhandler(TrunqError)
    def trunq_error(exc: TrunqError) -> Any:
        return _error(exc.http_status, str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        if not _wants_json():
            return exc
        return _error(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        app.logger.exception("unhandled error on %s", request.path)
        if _wants_json():
            return _error(500, f"internal error: {type(exc).__name__}")
        return "internal error", 500
