"""Formats: how a target's bytes become the stream a step reads or writes.

A format turns a raw byte stream into another stream, once for reading
(``pipe_reader``) and once for writing (``pipe_writer``). Formats chain with ``>>`` in
the order data flows when writing: ``UTF8 >> Gzip`` encodes text to UTF-8 bytes, then
gzips them; reading undoes the chain in reverse. Each format declares the kind of data it
takes (``input``) and gives (``output``), ``"unicode"`` or ``"bytes"``; a chain whose
links do not fit raises ``TypeError`` when built.

Every wrapper here keeps the underlying target's all-or-nothing write: leaving a
``with`` block by an exception (or dropping the stream unclosed) aborts the whole stack
and the destination never appears; a normal ``close()`` finishes each layer (a gzip
trailer, say) before the innermost stream commits.
"""

from __future__ import annotations

import bz2
import gzip
import io
import locale
import os
import re
import warnings
import zlib
from typing import IO, Any

__all__ = [
    "Format", "ChainFormat", "NopFormat", "WrappedFormat", "TextFormat", "MixedUnicodeBytesFormat",
    "NewlineFormat", "GzipFormat", "Bzip2Format", "Text", "UTF8", "Nop", "SysNewLine", "Gzip",
    "Bzip2", "MixedUnicodeBytes", "get_default_format", "abort_stream",
]


def abort_stream(stream: Any) -> None:
    """Stop writing ``stream`` without committing it (a reader is simply closed)."""
    abort = getattr(stream, "abort", None) or getattr(stream, "discard", None)
    if abort is not None and _ask(stream, "writable", False):
        abort()
    elif not getattr(stream, "closed", False):
        stream.close()


class Format:
    """Turns a byte stream into the stream a step uses; see the module docstring."""

    input: str | None = None
    output: str | None = None

    def pipe_reader(self, input_pipe: Any) -> Any:
        raise NotImplementedError

    def pipe_writer(self, output_pipe: Any) -> Any:
        raise NotImplementedError

    def __rshift__(self, other: Format) -> ChainFormat:
        return ChainFormat(self, other)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ChainFormat(Format):
    """Formats applied one after the other; ``a >> b`` writes through ``a`` then ``b``."""

    def __init__(self, *formats: Format, check_consistency: bool = True) -> None:
        self.args = formats
        self.input = getattr(formats[0], "input", None) if formats else None
        self.output = getattr(formats[-1], "output", None) if formats else None
        if check_consistency:
            for left, right in zip(formats, formats[1:]):
                gives, takes = getattr(left, "output", None), getattr(right, "input", None)
                if gives is not None and takes is not None and gives != takes:
                    raise TypeError(f"The format chaining is not valid, {type(right).__name__} expects "
                                    f"{takes} but {type(left).__name__} provides {gives}")

    def pipe_reader(self, input_pipe: Any) -> Any:
        for fmt in reversed(self.args):
            input_pipe = fmt.pipe_reader(input_pipe)
        return input_pipe

    def pipe_writer(self, output_pipe: Any) -> Any:
        for fmt in reversed(self.args):
            output_pipe = fmt.pipe_writer(output_pipe)
        return output_pipe

    def __repr__(self) -> str:
        return " >> ".join(repr(fmt) for fmt in self.args)


class NopFormat(Format):
    """Bytes in, bytes out: the raw stream."""

    def pipe_reader(self, input_pipe: Any) -> Any:
        return input_pipe

    def pipe_writer(self, output_pipe: Any) -> Any:
        return output_pipe


class _Layer:
    """Mixin for wrappers: ``with`` commits on success and aborts the stack on an error."""

    _inner: Any

    def abort(self) -> None:
        self._aborted = True
        abort_stream(self._inner)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __getattr__(self, name: str) -> Any:
        if name == "_inner":
            raise AttributeError(name)
        return getattr(self._inner, name)


class TextWrapper(_Layer, io.TextIOWrapper):
    """Text over a byte stream; closing it closes (commits) the byte stream."""

    def __init__(self, stream: Any, encoding: str | None = None, errors: str | None = None,
                 newline: str | None = None) -> None:
        self._inner = stream
        self._aborted = False
        # A real buffered stream is used as is (faster); anything else gets a thin adapter.
        # Any: typeshed wants a `.name` that BufferedIOBase does not declare (real ones have it).
        buffer: Any = stream if isinstance(stream, io.BufferedIOBase) else _Readable(stream)
        super().__init__(buffer, encoding=encoding, errors=errors, newline=newline)

    @property
    def closed(self) -> bool:
        return self._aborted or self.buffer.closed

    def close(self) -> None:
        if not self.closed:
            super().close()

    def __del__(self) -> None:
        # Dropped without close(): a write did not finish, so nothing must be committed.
        _drop(self)


def _drop(stream: Any) -> None:
    """A stream garbage-collected open: abort a writer, close a reader."""
    try:
        if stream.closed:
            return
        if stream.writable():
            stream.abort()
        else:
            stream.close()
    except Exception:  # noqa: BLE001 - nothing can be reported from a finalizer
        pass


class _Readable(io.BufferedIOBase):
    """Adapts any file-like byte stream (a pipe wrapper, a remote file) for TextIOWrapper."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return _ask(self._stream, "readable", True)

    def writable(self) -> bool:
        return _ask(self._stream, "writable", True)

    def seekable(self) -> bool:
        return False

    def read(self, size: int | None = -1) -> bytes:
        return self._stream.read(-1 if size is None else size)

    def read1(self, size: int = -1) -> bytes:
        reader = getattr(self._stream, "read1", None)
        return reader(size) if reader is not None else self._stream.read(size)

    def write(self, data: Any) -> int:
        written = self._stream.write(data)
        return len(data) if written is None else written

    def flush(self) -> None:
        flush = getattr(self._stream, "flush", None)
        if flush is not None and not self.closed:
            flush()

    @property
    def closed(self) -> bool:
        return bool(getattr(self._stream, "closed", False))

    def close(self) -> None:
        if not self.closed:
            self._stream.close()

    def __del__(self) -> None:
        pass  # the owner decides whether the inner stream commits


def _ask(stream: Any, name: str, default: bool) -> bool:
    method = getattr(stream, name, None)
    try:
        return bool(method()) if method is not None else default
    except ValueError:  # asked after close
        return default


class WrappedFormat(Format):
    """A format made by one wrapper class, built with the format's own arguments."""

    wrapper_cls: type = TextWrapper

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.kwargs = kwargs

    def pipe_reader(self, input_pipe: Any) -> Any:
        return self.wrapper_cls(input_pipe, *self.args, **self.kwargs)

    def pipe_writer(self, output_pipe: Any) -> Any:
        return self.wrapper_cls(output_pipe, *self.args, **self.kwargs)

    def __repr__(self) -> str:
        params = [repr(arg) for arg in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{type(self).__name__}({', '.join(params)})"


class TextFormat(WrappedFormat):
    """Text (``str``) over bytes; ``encoding`` defaults to the locale's, as ``open()`` does."""

    input = "unicode"
    output = "bytes"
    wrapper_cls = TextWrapper


class _ByteLayer(_Layer):
    """A byte-to-byte wrapper that owns its inner stream."""

    def __init__(self, stream: Any) -> None:
        self._inner = stream
        self._aborted = False
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed or self._aborted

    def readable(self) -> bool:
        return _ask(self._inner, "readable", False)

    def writable(self) -> bool:
        return _ask(self._inner, "writable", False)

    def seekable(self) -> bool:
        return False

    def read(self, size: int = -1) -> bytes:
        return self._inner.read(size)

    def write(self, data: Any) -> int:
        self._inner.write(data)
        return len(data)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if not self.closed:
            self._inner.flush()

    def close(self) -> None:
        if not self.closed:
            self._closed = True
            self._inner.close()

    def __iter__(self) -> Any:
        return iter(self._inner)

    def __del__(self) -> None:
        _drop(self)


class MixedUnicodeBytesWrapper(_ByteLayer):
    """A byte stream that also takes ``str`` (encoded, with a warning)."""

    def __init__(self, stream: Any, encoding: str | None = None) -> None:
        super().__init__(stream)
        self.encoding = encoding or locale.getpreferredencoding()

    def write(self, data: Any) -> int:
        return super().write(self._convert(data))

    def _convert(self, data: Any) -> bytes:
        if isinstance(data, str):
            warnings.warn("Writing unicode to byte stream", stacklevel=3)
            return data.encode(self.encoding)
        return data


class MixedUnicodeBytesFormat(WrappedFormat):
    output = "bytes"
    wrapper_cls = MixedUnicodeBytesWrapper


class NewlineWrapper(_ByteLayer):
    """Bytes with line endings rewritten: to ``newline`` when writing (default ``os.linesep``)."""

    _ENDINGS = re.compile(b"\r\n|\n|\r")

    def __init__(self, stream: Any, newline: str | None = None) -> None:
        self.newline = None if newline is None else newline.encode("ascii")
        if self.newline not in (None, b"", b"\n", b"\r\n", b"\r"):
            raise ValueError(r"newline must be one of None, '', '\n', '\r\n', '\r'")
        super().__init__(stream)

    def read(self, size: int = -1) -> bytes:
        data = self._inner.read(size)
        return data if self.newline == b"" else self._ENDINGS.sub(b"\n", data)

    def write(self, data: Any) -> int:
        ending = self.newline or os.linesep.encode("ascii")
        self._inner.write(self._ENDINGS.sub(ending, data))
        return len(data)


class NewlineFormat(WrappedFormat):
    input = "bytes"
    output = "bytes"
    wrapper_cls = NewlineWrapper


class CompressingWriter(_ByteLayer):
    """Compresses what is written; ``close()`` writes the trailer, then closes the inner stream."""

    def __init__(self, stream: Any, compressor: Any) -> None:
        super().__init__(stream)
        self._compressor = compressor

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def write(self, data: Any) -> int:
        chunk = self._compressor.compress(data)
        if chunk:
            self._inner.write(chunk)
        return len(data)

    def close(self) -> None:
        if self.closed:
            return
        self._closed = True
        try:
            self._inner.write(self._compressor.flush())
        except BaseException:
            abort_stream(self._inner)
            raise
        self._inner.close()


class DecompressingReader(_ByteLayer):
    """Reads a compressed stream; closing it closes the inner stream."""

    def __init__(self, stream: Any, opener: Any) -> None:
        super().__init__(stream)
        self._file = opener(_Readable(stream))

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def read1(self, size: int = -1) -> bytes:
        return self._file.read1(size)

    def readline(self, size: int = -1) -> bytes:
        return self._file.readline(size)

    def __iter__(self) -> Any:
        return iter(self._file)

    def close(self) -> None:
        if not self.closed:
            self._closed = True
            self._file.close()
            self._inner.close()


class GzipFormat(Format):
    """gzip-compressed bytes (readable by ``gunzip``); ``compression_level`` 1-9."""

    input = "bytes"
    output = "bytes"

    def __init__(self, compression_level: int | None = None) -> None:
        self.compression_level = compression_level

    def pipe_reader(self, input_pipe: Any) -> IO[bytes]:
        return DecompressingReader(input_pipe, lambda raw: gzip.GzipFile(fileobj=raw, mode="rb"))  # type: ignore[return-value]

    def pipe_writer(self, output_pipe: Any) -> IO[bytes]:
        level = 6 if self.compression_level is None else int(self.compression_level)
        # wbits 31: a gzip header and trailer around the deflate stream, as gzip(1) writes.
        return CompressingWriter(output_pipe, zlib.compressobj(level, zlib.DEFLATED, 31))  # type: ignore[return-value]


class Bzip2Format(Format):
    """bzip2-compressed bytes (readable by ``bunzip2``)."""

    input = "bytes"
    output = "bytes"

    def pipe_reader(self, input_pipe: Any) -> IO[bytes]:
        return DecompressingReader(input_pipe, lambda raw: bz2.BZ2File(raw, mode="rb"))  # type: ignore[return-value]

    def pipe_writer(self, output_pipe: Any) -> IO[bytes]:
        return CompressingWriter(output_pipe, bz2.BZ2Compressor())  # type: ignore[return-value]


Text = TextFormat()
UTF8 = TextFormat(encoding="utf8")
Nop = NopFormat()
SysNewLine = NewlineFormat()
Gzip = GzipFormat()
Bzip2 = Bzip2Format()
MixedUnicodeBytes = MixedUnicodeBytesFormat()


def get_default_format() -> Format:
    """The format of a target created without one: text in the locale's encoding."""
    return Text
