"""The one line a failed build prints for Redis trouble (``trunq.cli.build.error_line``)."""

from __future__ import annotations

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError

from trunq.cli.build import error_line


def test_a_redis_out_of_memory_says_so_not_a_lost_connection() -> None:
    line, code = error_line(OutOfMemoryError("command not allowed when used memory > 'maxmemory'."))
    assert code == 2 and line is not None
    assert line.startswith("Redis is out of memory") and "lost the connection" not in line


def test_a_lost_connection_keeps_its_line() -> None:
    line, code = error_line(RedisConnectionError("Connection refused"))
    assert code == 2 and line is not None and line.startswith("lost the connection to Redis: Connection refused")
