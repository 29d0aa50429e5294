"""Streams through an external command, for formats written as luigi's custom formats are.

``InputPipeProcessWrapper(["lzop", "-dc"], stream)`` reads what the command prints when fed
``stream``; ``OutputPipeProcessWrapper(["lzop"], stream)`` feeds the command what is written
and lets it write ``stream``. The output stream commits only when the command exits with 0;
an error (or a failing command) aborts it, so the target stays all-or-nothing.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from typing import Any, Self

from trunq.core.format import abort_stream

__all__ = ["InputPipeProcessWrapper", "OutputPipeProcessWrapper"]


def _default_sigpipe() -> None:
    # Python ignores SIGPIPE; the commands expect the default (die quietly when the reader left).
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)


def _has_fileno(stream: Any) -> bool:
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return False
    return True


class _PipeStream:
    """What both pipe wrappers share: unseekable, closed once the command was waited for, and
    ``with`` / garbage collection that commit on success and abort otherwise."""

    _finished = True

    def close(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError

    def seekable(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return self._finished

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self) -> None:
        if not getattr(self, "_finished", True):
            self.abort()


class InputPipeProcessWrapper(_PipeStream):
    """The output of ``command`` run with ``input_pipe`` (a byte stream) as its stdin."""

    def __init__(self, command: Sequence[str], input_pipe: Any = None) -> None:
        self._input = input_pipe
        self._spool: str | None = None
        stdin = input_pipe
        if input_pipe is not None and not _has_fileno(input_pipe):
            # A stream without a file descriptor (a remote file): copy it to a local file first.
            handle, self._spool = tempfile.mkstemp(prefix="trunq-pipe-")
            with os.fdopen(handle, "wb") as spool:
                shutil.copyfileobj(input_pipe, spool)
            input_pipe.close()
            stdin = open(self._spool, "rb")  # noqa: SIM115 - closed in _finish
            self._input = stdin
        self._process = subprocess.Popen(list(command), stdin=stdin, stdout=subprocess.PIPE,
                                         preexec_fn=_default_sigpipe, close_fds=True)
        self._finished = False

    def read(self, size: int = -1) -> bytes:
        return self._process.stdout.read(size)  # type: ignore[union-attr]

    def readline(self, size: int = -1) -> bytes:
        return self._process.stdout.readline(size)  # type: ignore[union-attr]

    def __iter__(self) -> Any:
        yield from self._process.stdout  # type: ignore[misc]
        self.close()

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False


    def close(self) -> None:
        """Wait for the command; a failure (other than a broken pipe) raises RuntimeError."""
        if self._finished:
            return
        self._finished = True
        self._process.stdout.close()  # type: ignore[union-attr]
        if self._input is not None:
            self._input.close()
        code = self._process.wait()
        if self._spool is not None:
            os.unlink(self._spool)
        if code not in (0, -signal.SIGPIPE, 128 + signal.SIGPIPE):
            raise RuntimeError(f"Error reading from pipe. Subcommand exited with non-zero exit status {code}.")

    def abort(self) -> None:
        try:
            self.close()
        except RuntimeError:
            pass


class OutputPipeProcessWrapper(_PipeStream):
    """Bytes written here go to ``command``'s stdin; its stdout goes to ``output_pipe``."""

    def __init__(self, command: Sequence[str], output_pipe: Any = None) -> None:
        self._command = list(command)
        self._output = output_pipe
        self._process = subprocess.Popen(self._command, stdin=subprocess.PIPE, stdout=output_pipe,
                                         close_fds=True)
        self._finished = False

    def write(self, data: Any) -> int:
        self._process.stdin.write(data)  # type: ignore[union-attr]
        return len(data)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._process.stdin.flush()  # type: ignore[union-attr]

    def readable(self) -> bool:
        return False

    def writable(self) -> bool:
        return True


    def _wait(self) -> int:
        self._finished = True
        try:
            self._process.stdin.close()  # type: ignore[union-attr]
        except BrokenPipeError:
            pass
        return self._process.wait()

    def close(self) -> None:
        """Commit the output stream when the command succeeded; else abort it and raise."""
        if self._finished:
            return
        if self._output is not None and hasattr(self._output, "flush"):
            self._output.flush()  # what Python buffered must precede what the command writes
        if self._wait() != 0:
            if self._output is not None:
                abort_stream(self._output)
            raise RuntimeError(f"Error when executing command {self._command}")
        if self._output is not None:
            self._output.close()

    def abort(self) -> None:
        if not self._finished:
            self._wait()
        if self._output is not None:
            abort_stream(self._output)
