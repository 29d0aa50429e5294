"""Where ``celery -A trunq worker`` finds trunq's Celery app (``trunq.celery.app``)."""

from trunq.tasks.app import celery_app

app = celery_app()  # the one module-level app; everything else asks celery_app()

__all__ = ["app"]
