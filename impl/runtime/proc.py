"""One replica as its own OS process: `python -m smrcheck.impl.runtime.proc CONFIG_JSON`.

CONFIG holds the replica's name, the protocol, every node's 127.0.0.1 address, the
trace and data folders, the fault spec, seed, bug and Byzantine mode. The process runs
until SIGTERM or SIGINT, then closes its trace and storage. Started again after a
kill, it finds its trace file and storage there: it logs `crash` and `restart` (the
crash happened while it could not write) and recovers from its durable state.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

from .faults import FaultPlan, FaultSpec
from .storage import FileStorage
from .tcp import TcpHost
from .tracer import Tracer, header


def executed_in_trace(path: str, protocol: str) -> dict:
    """What this node's own trace shows it executed before it was killed."""
    out: dict = {}
    if not os.path.exists(path):
        return out
    with open(path, "rb") as fh:
        for raw in fh:
            if b'"kind":"execute"' not in raw:
                continue
            try:
                ev = json.loads(raw)
            except ValueError:
                continue  # the torn last line
            if protocol == "multipaxos":
                out[ev["slot"]] = ev["cmd"]
            else:
                out[ev["n"]] = (ev["digest"], ev["cmd"])
    return out


def make_replica(cfg: dict, storage, traced: dict | None):
    name, nodes, f = cfg["name"], cfg["nodes"], cfg["f"]
    if cfg["protocol"] == "multipaxos":
        from ..multipaxos.replica import MultiPaxosReplica

        return lambda env: MultiPaxosReplica(env, nodes, storage, bug=cfg.get("bug"), traced=traced)
    from ..pbft.crypto import load_keys
    from ..pbft.replica import PbftReplica

    keys = load_keys(cfg["keys"], name)
    mode = cfg.get("byzantine", {}).get(name)
    return lambda env: PbftReplica(env, nodes, f, storage, keys, bug=cfg.get("bug"), mode=mode,
                                   traced=traced)


def host_for(cfg: dict) -> TcpHost:
    name = cfg["name"]
    path = os.path.join(cfg["trace_dir"], f"{name}.jsonl")
    restarted = os.path.exists(path) and os.path.getsize(path) > 0
    traced = executed_in_trace(path, cfg["protocol"]) if restarted else None
    head = header(cfg["protocol"], cfg["nodes"], cfg["clients"], cfg["f"], node=name,
                  byzantine=sorted(cfg.get("byzantine", {})), run=cfg.get("run"))
    tracer = Tracer(path, head, name)
    if restarted:
        tracer.emit("crash")
        tracer.emit("restart")
    storage = FileStorage(os.path.join(cfg["data_dir"], f"{name}.log"))
    addrs = {k: tuple(v) for k, v in cfg["addrs"].items()}
    plan = FaultPlan(FaultSpec(**cfg.get("faults", {})), f"{cfg['seed']}:{name}:{tracer.seq}")
    if cfg.get("isolate"):
        plan.isolate(*cfg["isolate"])
    auth = None
    if cfg["protocol"] == "pbft":
        from ..pbft.crypto import load_keys

        auth = load_keys(cfg["keys"], name)
    return TcpHost(name, addrs, tracer, storage, make_replica(cfg, storage, traced), plan, cfg["seed"],
                   auth=auth)


async def main(cfg: dict) -> None:
    host = host_for(cfg)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await host.start()
    print("ready", flush=True)
    await stop.wait()
    await host.stop()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
