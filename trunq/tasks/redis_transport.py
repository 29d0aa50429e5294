"""kombu's Redis transport with two repairs, so a worker lives through a Redis restart or a
moment of Redis out of memory.

When Redis drops while a worker both runs a late-acknowledged step and waits in BRPOP for the
next message, Celery closes the broken connection in two passes. The first detaches the
transport from its connection; the second closes the channel again and, to give the unacked
message back, asks for a Redis client of a transport that no longer has connection settings.
kombu then raises AttributeError, which Celery treats as unrecoverable: the worker exits
although Redis is back two seconds later. Here that request fails as what it is, a lost
connection, which Celery ignores while it reconnects. The message stays in Redis's unacked
set, and trunq's own leases and resends decide what runs again, as for any lost worker.

A Redis at its ``maxmemory`` (policy noeviction) refuses writes, acknowledgements included.
kombu counts that reply as a channel error, which Celery's acknowledgement does not catch: the
worker stopped for good. Here it is a connection error, and the refused acknowledgement still
frees the message's prefetch slot (else the consumer, its slots all taken by messages it can
no longer acknowledge, would never take another): Redis keeps the message as unacknowledged,
gives it back after the visibility timeout, and trunq's fencing makes that delivery a no-op.

``install()`` makes this the transport of ``redis://`` URLs in this process, so broker URLs,
the worker banner and tools that read them (Flower) still say ``redis``.
"""

from __future__ import annotations

from typing import Any

from kombu import transport as kombu_transport
from kombu.transport import redis as kombu_redis
from kombu.transport import virtual as kombu_virtual
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError


class QoS(kombu_redis.QoS):
    def ack(self, delivery_tag: Any) -> None:
        try:
            super().ack(delivery_tag)
        except OutOfMemoryError:
            kombu_virtual.QoS.ack(self, delivery_tag)  # forgotten here; Redis keeps it as unacked
            raise


class Channel(kombu_redis.Channel):
    QoS = QoS

    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection.client is None:  # the transport was closed under this channel
            raise RedisConnectionError("the broker connection is closed")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    Channel = Channel
    connection_errors = (*kombu_redis.Transport.connection_errors, OutOfMemoryError)


def install() -> None:
    """``redis://`` resolves to this module's Transport from now on in this process."""
    kombu_transport.TRANSPORT_ALIASES["redis"] = f"{__name__}:Transport"
    getattr(kombu_transport, "_transport_cache", {}).pop("redis", None)  # resolved before: forget it
