"""Parallel BFS workers as Ray actors (`--backend ray`), one per partition.

The coordinator of `checker.search.parallel` drives them exactly as it drives forked
local workers: the same `Worker` class, the same calls in the same order, so counts and
counterexamples are the same on either backend. Ray is an optional extra
(`smrcheck[ray]`), imported only when this backend is asked for. A local Ray listens on
loopback only; a cluster (`Distribution.address`) is the user's to give, and a
checkpoint directory must then be one every machine sees.
"""

from __future__ import annotations

import sys
from typing import Any

from ..errors import UsageError
from ..loader import FILE_PREFIX, load_file
from .options import Options
from .worker import Worker


class RayBackend:
    def __init__(self, n: int, model: Any, options: Options, address: str | None) -> None:
        try:
            import ray
        except ImportError:
            raise UsageError("--backend ray needs Ray: pip install 'smrcheck[ray]'") from None
        self.ray = ray
        self.started = not ray.is_initialized()
        if self.started:
            local = {} if address else {"num_cpus": n, "_node_ip_address": "127.0.0.1"}
            ray.init(address=address, include_dashboard=False, log_to_driver=False,
                     configure_logging=False, **local)
        actor = ray.remote(num_cpus=1)(_RayWorker)
        # The model travels as bytes, opened in the actor only after the files it was
        # loaded from are: a user's model file (`check path/model.py:NAME`) is no
        # module an actor can import by name, so its classes could not be found.
        blob = ray.cloudpickle.dumps(model)
        files = [m.__file__ for name, m in sorted(sys.modules.items())
                 if name.startswith(FILE_PREFIX) and getattr(m, "__file__", None)]
        self.actors = [actor.remote(i, n, blob, options, files) for i in range(n)]

    def call(self, method: str, per_worker_args: list[tuple]) -> list[Any]:
        refs = [getattr(a, method).remote(*args) for a, args in zip(self.actors, per_worker_args)]
        return self.ray.get(refs)

    def call_one(self, index: int, method: str, args: tuple) -> Any:
        return self.ray.get(getattr(self.actors[index], method).remote(*args))

    def close(self) -> None:
        self.ray.get([a.close.remote() for a in self.actors])
        for a in self.actors:
            self.ray.kill(a)
        if self.started:
            self.ray.shutdown()


class _RayWorker(Worker):
    """A `Worker` whose model arrives pickled, after the user's model files it needs."""

    def __init__(self, index: int, n: int, blob: bytes, options: Options,
                 files: list[str]) -> None:
        import ray

        for path in files:
            load_file(path)
        super().__init__(index, n, ray.cloudpickle.loads(blob), options)
