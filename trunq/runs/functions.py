"""``function(fn, name=...).to(cluster)``: a callable whose calls become Runs on a cluster.

Caching is by run name: ``get_or_call``/``get_or_run`` reuse a COMPLETED run of that name,
wait for one that is in progress, and re-execute a failed, cancelled or lost one.
The function and its inputs are pickled with dill: only run them inside a trusted
cluster.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from trunq.runs.clusters import Cluster, cluster
from trunq.runs.record import Run


class Function:
    def __init__(self, fn: Callable[..., Any], name: str | None = None,
                 system: Cluster | str | None = None) -> None:
        self.fn = fn
        self.name: str = name or str(getattr(fn, "__name__", "function"))
        self.system = _as_cluster(system or "local")

    def to(self, system: Cluster | str) -> Function:
        """The same function bound to another cluster."""
        return Function(self.fn, name=self.name, system=system)

    def __call__(self, *args: Any, run_name: str | None = None, **kwargs: Any) -> Any:
        """Run on the cluster, wait, return the result (RunFailed if it failed)."""
        return self.run(*args, run_name=run_name, **kwargs).wait().result()

    def run(self, *args: Any, run_name: str | None = None, **kwargs: Any) -> Run:
        """Start on the cluster and return the Run at once (RunInProgress if that name is running)."""
        return self.system.submit_function(self.fn, self.name, args, kwargs, run_name=run_name)

    def get_or_call(self, *args: Any, run_name: str | None = None, **kwargs: Any) -> Any:
        """The cached result of a COMPLETED run named ``run_name``, else call and wait."""
        return self.get_or_run(*args, run_name=run_name, **kwargs).wait().result()

    def get_or_run(self, *args: Any, run_name: str | None = None, **kwargs: Any) -> Run:
        """The COMPLETED run named ``run_name``, else the run already in progress, else a new one."""
        return self.system.submit_function(self.fn, self.name, args, kwargs, run_name=run_name, cached=True)

    def get(self, run_name: str) -> Any:
        """The result of an earlier run of this function."""
        return self.system.get_run(run_name).result()


def function(fn: Callable[..., Any], name: str | None = None, system: Cluster | str | None = None) -> Function:
    return Function(fn, name=name, system=system)


def _as_cluster(system: Cluster | str) -> Cluster:
    return cluster(system) if isinstance(system, str) else system
