"""The layered workload without a workflow engine: the references trunq is measured against.

- ``bare``: a plain Python loop over the layers doing only what each step must do: check
  that its output is missing, then write it atomically (temp file, rename). The floor.
- ``step-api``: the workload's own trunq Step classes driven by a plain loop, no engine:
  build each step, call ``requires()``, check its output and its dependencies' outputs (the
  run-time check luigi makes too), call ``run()``. The floor for any engine that runs
  Steps: what is left above it is the engine's own cost.
- ``dask-threads``: the same graph on dask's threaded scheduler.
- ``dask-distributed``: the same graph on a local ``distributed`` cluster of 2 worker
  processes (what a user would otherwise pick to spread plain functions over processes).

The graph is the one of ``workloads.py``: layers of ``WIDTH`` steps, each requiring 3 steps of
the layer below; every step writes a tiny file.
"""

from __future__ import annotations

import os

from workloads import WIDTH

_made: set[str] = set()


def write_step(out: str, layer: int, i: int, *_deps: object) -> str:
    """One trivial step: skip when complete, else write the output atomically."""
    path = os.path.join(out, "layer", str(layer), str(i))
    if os.path.exists(path):
        return path
    directory = os.path.dirname(path)
    if directory not in _made:  # made once, as trunq's LocalTarget does
        os.makedirs(directory, exist_ok=True)
        _made.add(directory)
    tmp = f"{path}-tmp-{os.getpid()}"
    with open(tmp, "w") as handle:
        handle.write("x")
    os.replace(tmp, path)
    return path


def run_bare(n: int, out: str) -> bool:
    for layer in range(n // WIDTH):
        for i in range(WIDTH):
            write_step(out, layer, i)
    return True


def run_step_api(layer_cls: type, n: int, out: str) -> bool:
    """The ``step-api`` floor: the engine-free calls every step's user code needs."""
    for layer in range(n // WIDTH):
        for i in range(WIDTH):
            step = layer_cls(layer=layer, i=i, out=out)
            deps = step.requires()
            if step.output().exists():
                continue
            if not all(dep.output().exists() for dep in deps):
                return False
            step.run()
    return True


def task_graph(n: int, out: str) -> tuple[dict, list]:
    """The graph in dask's own task-tuple form, and the keys of its top layer.

    Built directly rather than through ``dask.delayed``: chaining 10,000 delayed calls merges
    their graphs again and again (about 20 s here), which would measure graph building, not
    scheduling.
    """
    graph: dict = {}
    layers = n // WIDTH
    for layer in range(layers):
        for i in range(WIDTH):
            deps = [("step", layer - 1, (i + k) % WIDTH) for k in range(3)] if layer else []
            graph[("step", layer, i)] = (write_step, out, layer, i, *deps)
    return graph, [("step", layers - 1, i) for i in range(WIDTH)]


def run_dask_threads(n: int, out: str, workers: int) -> bool:
    from dask.threaded import get

    graph, keys = task_graph(n, out)
    get(graph, keys, num_workers=workers)
    return True


def start_dask_cluster(workers: int):
    """A local cluster of worker processes (started before timing, like Celery workers)."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=None, host="127.0.0.1")
    return Client(cluster), cluster


def run_dask_distributed(client, n: int, out: str) -> bool:
    graph, keys = task_graph(n, out)
    client.get(graph, keys, sync=True)
    return True
