"""TaskList and ``defer``: run plain function-call graphs in parallel, crash-safely.

    from trunq.tasklist import TaskList, defer

    tasklist = TaskList("tasklist")
    for item in items:
        task = defer(prepare, item)
        tasklist.schedule(defer(dostuff, task[1], task.thing))
    for task in tasklist.run(nprocesses=4):
        print(task.returnvalue, task.errorvalue)

See docs/tasklist.md.
"""

from .backends import LocalBackend, TaskBackend, load_backend
from .errors import (
    AutoKilled,
    ResultNotLoadable,
    ResultNotPicklable,
    TaskError,
    TaskFileCorrupt,
    TaskListError,
    WorkerDied,
)
from .graph import PartOfTask, Task, TaskAttribute, TaskItem, defer, evaluate
from .supervisor import Outcome, TaskJob, exec_task, fork_task, supervise
from .tasklist import TaskIterator, TaskList

__all__ = [
    "AutoKilled", "LocalBackend", "Outcome", "PartOfTask", "ResultNotLoadable", "ResultNotPicklable",
    "Task", "TaskAttribute", "TaskBackend", "TaskError", "TaskFileCorrupt", "TaskItem", "TaskIterator",
    "TaskJob", "TaskList", "TaskListError", "WorkerDied", "defer", "evaluate", "exec_task", "fork_task",
    "load_backend", "supervise",
]
