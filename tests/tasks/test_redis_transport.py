"""The broker transport trunq installs for ``redis://``: kombu's, failing a closed channel's
Redis lookup as a lost connection (which Celery rides out) instead of an AttributeError."""

from __future__ import annotations

import pytest
from kombu import Connection

from tests.redis_fixtures import redis_server, redis_url  # noqa: F401  (fixtures)
from trunq.tasks import redis_transport
from trunq.tasks.app import make_celery


def test_the_app_uses_it_and_still_names_the_broker_redis() -> None:
    connection = make_celery().connection_for_write()
    try:
        assert isinstance(connection.transport, redis_transport.Transport)
        assert connection.as_uri().startswith("redis://")
    finally:
        connection.release()


def test_a_channel_whose_transport_was_closed_fails_as_a_lost_connection(redis_url: str) -> None:  # noqa: F811
    connection = Connection(redis_url)
    channel = connection.default_channel  # connects: a real Redis
    connection.transport.client = None  # what Celery's collect() leaves after a broker loss
    channel._pool = None
    with pytest.raises(connection.connection_errors):
        with channel.conn_or_acquire():  # what giving back unacked messages and acks ask for
            pass
    channel.closed = True  # nothing left to close against Redis
    connection.release()


def test_redis_out_of_memory_is_a_connection_error_so_an_ack_it_refuses_does_not_stop_the_worker() -> None:
    from redis.exceptions import OutOfMemoryError

    assert issubclass(OutOfMemoryError, redis_transport.Transport.connection_errors)
