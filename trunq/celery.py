"""Where ``celery -A trunq worker`` finds trunq's Celery app (``trunq.celery.app``)."""

from trunq.tasks.app import app

__all__ = ["app"]
