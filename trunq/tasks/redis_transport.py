"""kombu's Redis transport with one repair, so a worker lives through a Redis restart.

When Redis drops while a worker both runs a late-acknowledged step and waits in BRPOP for the
next message, Celery closes the broken connection in two passes. The first detaches the
transport from its connection; the second closes the channel again and, to give the unacked
message back, asks for a Redis client of a transport that no longer has connection settings.
kombu then raises AttributeError, which Celery treats as unrecoverable: the worker exits
although Redis is back two seconds later. Here that request fails as what it is, a lost
connection, which Celery ignores while it reconnects. The message stays in Redis's unacked
set, and trunq's own leases and resends decide what runs again, as for any lost worker.

``install()`` makes this the transport of ``redis://`` URLs in this process, so broker URLs,
the worker banner and tools that read them (Flower) still say ``redis``.
"""

from __future__ import annotations

from typing import Any

from kombu import transport as kombu_transport
from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection.client is None:  # the transport was closed under this channel
            raise RedisConnectionError("the broker connection is closed")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    Channel = Channel


def install() -> None:
    """``redis://`` resolves to this module's Transport from now on in this process."""
    kombu_transport.TRANSPORT_ALIASES["redis"] = f"{__name__}:Transport"
    getattr(kombu_transport, "_transport_cache", {}).pop("redis", None)  # resolved before: forget it
