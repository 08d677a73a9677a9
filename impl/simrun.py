"""Build a whole cluster (replicas and clients) on the simulated network.

`build(...)` returns the `SimNetwork` with every node added; tests drive it step by
step (Hypothesis picks steps, crashes and restarts), `run_to_completion` runs it until
every client is done. With `trace_dir`, each node writes its own trace file there, as
in a real run, so `smrcheck validate trace_dir` checks the simulated run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .client import Client, workload
from .runtime.faults import FaultSpec
from .runtime.sim import SimNetwork
from .runtime.tracer import Tracer, header


@dataclass
class SimCluster:
    net: SimNetwork
    replicas: list[str]
    clients: list[str]
    storages: dict = field(default_factory=dict)

    def replica(self, name: str):
        return self.net.nodes[name]

    def client(self, name: str) -> Client:
        return self.net.nodes[name]

    def done(self) -> bool:
        return all(self.net.nodes[c].done() for c in self.clients)

    def close(self) -> None:
        for t in self.net.tracers.values():
            t.close()


def build(protocol: str = "multipaxos", n: int = 3, f: int | None = None, clients: int = 1,
          requests: int = 10, seed: int = 0, faults: FaultSpec | None = None,
          bug: str | None = None, trace_dir: str | None = None, window: int = 1,
          byzantine: dict[str, str] | None = None) -> SimCluster:
    replicas = [f"r{i}" for i in range(n)]
    names = [f"c{i}" for i in range(clients)]
    if f is None:
        f = (n - 1) // 2 if protocol == "multipaxos" else (n - 1) // 3
    tracers = {}
    if trace_dir is not None:
        os.makedirs(trace_dir, exist_ok=True)
        for node in replicas + names:
            head = header(protocol, replicas, names, f, node=node,
                          byzantine=sorted(byzantine or ()), run=f"sim-{seed}")
            tracers[node] = Tracer(os.path.join(trace_dir, f"{node}.jsonl"), head, node,
                                   timestamps=False)
    auth = None
    if protocol == "pbft":
        from .pbft.crypto import sim_keys

        auth = sim_keys(replicas + names, seed)
    net = SimNetwork(seed, faults, tracers, auth=auth)
    cluster = SimCluster(net, replicas, names)
    for r in replicas:
        net.add(r, replica_factory(protocol, replicas, f, bug, (byzantine or {}).get(r), auth))
    need = 1 if protocol == "multipaxos" or bug == "client-first-reply" else f + 1
    for c in names:
        ops = workload(c, requests, seed)
        net.add(c, lambda env, ops=ops: Client(env, replicas, ops, need=need, window=window,
                                               broadcast=protocol == "pbft",
                                               timeout=0.5))
    return cluster


def replica_factory(protocol: str, replicas: list[str], f: int, bug: str | None,
                    mode: str | None, keys):
    if protocol == "multipaxos":
        from .multipaxos.replica import MultiPaxosReplica

        return lambda env: MultiPaxosReplica(env, replicas, env.storage, bug=bug)
    from .pbft.replica import PbftReplica

    return lambda env: PbftReplica(env, replicas, f, env.storage, keys, bug=bug, mode=mode)


def run_to_completion(cluster: SimCluster, max_time: float = 600.0,
                      max_steps: int = 2_000_000) -> bool:
    cluster.net.run(until=cluster.done, max_time=max_time, max_steps=max_steps)
    return cluster.done()
