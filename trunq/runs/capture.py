"""Capture of ``sys.stdout``/``sys.stderr`` per block, and artifact notes for the active run.

The streams are replaced once by small routers that tee every write to the original
stream and to the capture of the current context (a ContextVar), so two steps running in
two threads each get their own output. The routers are removed when the last block ends.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, Protocol

FLUSH_BYTES = 64 * 1024
FLUSH_SECONDS = 0.5


class ArtifactSink(Protocol):
    def _register_artifact(self, path: str, direction: str) -> None: ...


_active_capture: ContextVar[Capture | None] = ContextVar("trunq_run_capture", default=None)
_active_run: ContextVar[ArtifactSink | None] = ContextVar("trunq_active_run", default=None)
_install_lock = threading.Lock()
_install_depth = 0
_saved_streams: tuple[Any, Any] | None = None


def note_artifact(path: Any, direction: str) -> None:
    """Record that the active run read (``"upstream"``) or wrote (``"downstream"``) ``path``.

    Called by Targets on open('r') and on a committed write; a no-op when no run is active.
    """
    run = _active_run.get()
    if run is not None:
        run._register_artifact(str(path), direction)


def current_run() -> ArtifactSink | None:
    """The run (context-manager run or step record) active in this context, if any."""
    return _active_run.get()


class _Router:
    """Stands in for sys.stdout/sys.stderr: writes go to the original and to the capture."""

    def __init__(self, original: Any, index: int) -> None:
        self._original = original
        self._index = index

    def write(self, text: str) -> int:
        capture = _active_capture.get()
        if capture is not None:
            capture.add(self._index, text)
        return self._original.write(text)

    def flush(self) -> None:
        self._original.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


class Capture:
    """Collects the text written to stdout (0) and stderr (1) during a block.

    ``on_flush(index, text)`` receives the text in chunks: when 64 KiB are buffered, when
    0.5 s passed since the last flush (so ``trunq logs --follow`` sees progress), and at the
    end. Nothing is flushed for a stream that stayed empty.
    """

    def __init__(self, on_flush: Callable[[int, str], None]) -> None:
        self._on_flush = on_flush
        self._chunks: tuple[list[str], list[str]] = ([], [])
        self._sizes = [0, 0]
        self._last_flush = time.monotonic()
        self._token: Any = None

    def add(self, index: int, text: str) -> None:
        self._chunks[index].append(text)
        self._sizes[index] += len(text)
        now = time.monotonic()
        if self._sizes[index] >= FLUSH_BYTES or now - self._last_flush >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        self._last_flush = time.monotonic()
        for index in (0, 1):
            if self._chunks[index]:
                text = "".join(self._chunks[index])
                self._chunks[index].clear()
                self._sizes[index] = 0
                self._on_flush(index, text)

    def __enter__(self) -> Capture:
        _install_routers()
        self._token = _active_capture.set(self)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        _active_capture.reset(self._token)
        _remove_routers()
        self.flush()


def _install_routers() -> None:
    global _install_depth, _saved_streams
    with _install_lock:
        if _install_depth == 0 or not isinstance(sys.stdout, _Router):
            _saved_streams = (sys.stdout, sys.stderr)
            sys.stdout = _Router(sys.stdout, 0)
            sys.stderr = _Router(sys.stderr, 1)
        _install_depth += 1


def _remove_routers() -> None:
    global _install_depth, _saved_streams
    with _install_lock:
        _install_depth = max(0, _install_depth - 1)
        if _install_depth == 0 and _saved_streams is not None:
            # Only undo our own replacement; someone may have swapped the streams since.
            if isinstance(sys.stdout, _Router):
                sys.stdout = _saved_streams[0]
            if isinstance(sys.stderr, _Router):
                sys.stderr = _saved_streams[1]
            _saved_streams = None


class ActiveRun:
    """Context helper making ``sink`` the target of :func:`note_artifact`."""

    def __init__(self, sink: ArtifactSink) -> None:
        self._sink = sink
        self._token: Any = None

    def __enter__(self) -> ArtifactSink:
        self._token = _active_run.set(self._sink)
        return self._sink

    def __exit__(self, *exc_info: Any) -> None:
        _active_run.reset(self._token)
