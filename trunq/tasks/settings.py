"""Celery's defaults for trunq (a Celery configuration module).

The app loads this module first, then the module named by ``$CELERY_CONFIG_MODULE``
(default ``celeryconfig``) if it can be imported, so a ``celeryconfig.py`` next to your
step modules overrides any of these the usual Celery way. ``celeryconfig.py`` at the root
of the trunq repository is a commented copy to start from.

Why these values: Celery delivers at least once on Redis. trunq makes repeated deliveries
harmless with its own leases and fencing tokens, and decides retries itself, so Celery is
asked for late acks, no prefetching beyond one message, no requeue of a task whose worker
process died, and JSON only (nothing executable travels through the broker).
"""

from __future__ import annotations

# A message not acknowledged within this time is delivered again. trunq steps are fenced,
# but a step running longer than this would be started a second time: keep it above the
# longest step.
VISIBILITY_TIMEOUT_S = 24 * 3600

# broker_url and result_backend: the cluster's Redis, set by ``make_celery`` from trunq's
# configuration (result_backend only serves plain Celery tasks; trunq's step task ignores results).

task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
result_accept_content = ["json"]

task_acks_late = True
worker_prefetch_multiplier = 1
task_reject_on_worker_lost = False  # trunq's retry policy decides, with a cap
task_acks_on_failure = True
task_acks_on_timeout = True
worker_cancel_long_running_tasks_on_connection_loss = False  # a broker blip must not stop running steps (start-once-per-token prevents doubles)

task_track_started = False  # trunq records start and finish in its own store
worker_send_task_events = False  # trunq follows steps in its own store; `celery worker -E` turns them on
task_send_sent_event = False
result_expires = 7 * 86400

broker_connection_retry_on_startup = True
broker_transport_options = {"visibility_timeout": VISIBILITY_TIMEOUT_S}
result_backend_transport_options = {"visibility_timeout": VISIBILITY_TIMEOUT_S}

worker_hijack_root_logger = False
