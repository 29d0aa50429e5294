"""Distributed execution: trunq's Celery app, its generic task and the client-side dispatcher.

The only package of trunq that imports Celery. Modules:

- ``app``: the Celery app (``celery -A trunq worker``), the ``trunq.execute_step`` task,
  worker heartbeats and crash reporting;
- ``runner``: what the task does on the worker (fenced start, lease renewal, execute, finish);
- ``payload``: the JSON a step travels as, and how a worker rebuilds the step;
- ``dispatch``: ``CeleryExecutor``, the client side used by ``the build loop for a ``trunq.rpc.RemoteScheduler````;
- ``cli``: ``trunq worker`` and ``trunq message``.
"""
