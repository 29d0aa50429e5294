"""Celery settings for trunq workers and clients: copy this file next to your step modules.

trunq already applies these values (``trunq.tasks.settings``); this module is loaded after
them, so anything set here wins. Point Celery at another file with
``CELERY_CONFIG_MODULE=my_settings``. Keep the reliability settings unless you know why:
trunq relies on late acks, single prefetch and JSON-only messages.
"""

# Broker and result backend: by default the trunq Redis ($TRUNQ_REDIS_URL, or
# [core] redis_url in trunq.toml, or redis://localhost:6379/0).
# broker_url = "redis://redis.internal:6379/0"
# result_backend = broker_url

task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
result_accept_content = ["json"]

task_acks_late = True  # a step's message is acknowledged when the step has finished
worker_prefetch_multiplier = 1  # a worker holds one waiting message per process, no more
task_reject_on_worker_lost = False  # trunq re-dispatches lost steps itself, with a cap
task_acks_on_failure = True
task_acks_on_timeout = True

# A message not acknowledged within this many seconds is delivered again: keep it above
# your longest step.
broker_transport_options = {"visibility_timeout": 24 * 3600}
result_backend_transport_options = {"visibility_timeout": 24 * 3600}

worker_send_task_events = False  # trunq has its own events; True (or `worker -E`) for Flower

# Per-deployment tuning, for example:
# worker_concurrency = 4
# worker_max_tasks_per_child = 1000  # recycle pool processes of leaky steps
# task_time_limit = 6 * 3600
