"""`smrcheck run`: replicas as OS processes on 127.0.0.1, clients in this process.

Each replica runs `python -m smrcheck.impl.runtime.proc` with its own port, trace file
and durable storage; the clients run here, on one event loop, each a `TcpHost` of its
own with its own trace file. `crash=K` in the fault spec kills K replicas with
SIGKILL, one at a time, at evenly spaced points of the workload (first r0, the first
leader or primary; then replicas drawn from the seed), and starts each again 0.5 s
later from its storage. Every process started here is stopped before
`run_cluster` returns, on success, error or interrupt alike.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from ..checker.errors import UsageError
from .client import Client, workload
from .runtime.faults import FaultPlan, FaultSpec
from .runtime.tcp import TcpHost
from .runtime.tracer import Tracer, header

PROTOCOLS = ("multipaxos", "pbft")


@dataclass
class RunConfig:
    protocol: str
    n: int = 3
    f: int | None = None
    requests: int = 1000
    clients: int = 4
    window: int = 16
    faults: FaultSpec = field(default_factory=FaultSpec)
    byzantine: dict[str, str] = field(default_factory=dict)
    bug: str | None = None
    seed: int = 0
    trace_dir: str = "traces-run"
    time_limit: float = 60.0


@dataclass
class RunResult:
    protocol: str
    n: int
    f: int
    clients: int
    requests: int
    committed: int
    gave_up: int
    seconds: float
    throughput: float
    p50_ms: float
    p99_ms: float
    crashes: list[str]
    trace_dir: str
    complete: bool

    def to_json(self) -> dict:
        return asdict(self)


def bugs_for(protocol: str) -> dict[str, str]:
    if protocol == "multipaxos":
        from .multipaxos.replica import BUGS
    else:
        from .pbft.replica import BUGS
    return BUGS


def byzantine_modes() -> dict[str, str]:
    from .pbft.replica import MODES

    return MODES


def check_config(cfg: RunConfig) -> RunConfig:
    """Bad input -> UsageError naming what is allowed."""
    if cfg.protocol not in PROTOCOLS:
        raise UsageError(f"unknown protocol {cfg.protocol!r}; allowed: {', '.join(PROTOCOLS)}")
    bft = cfg.protocol == "pbft"
    if cfg.f is None:
        cfg.f = (cfg.n - 1) // 3 if bft else (cfg.n - 1) // 2
    need = 3 * cfg.f + 1 if bft else 2 * cfg.f + 1
    if cfg.n < need or cfg.n > 16:
        raise UsageError(f"-n {cfg.n} with -f {cfg.f}: {cfg.protocol} needs n >= "
                         f"{'3f+1' if bft else '2f+1'} = {need} (and n <= 16)")
    bugs = bugs_for(cfg.protocol)
    if cfg.bug is not None and cfg.bug not in bugs:
        raise UsageError(f"unknown --bug {cfg.bug!r} for {cfg.protocol}; allowed: {', '.join(bugs)}")
    if cfg.byzantine:
        if not bft:
            raise UsageError("--byzantine applies to pbft only (multipaxos tolerates crashes)")
        modes = byzantine_modes()
        names = [f"r{i}" for i in range(cfg.n)]
        for r, mode in cfg.byzantine.items():
            if r not in names:
                raise UsageError(f"--byzantine {r}={mode}: unknown replica; allowed: {', '.join(names)}")
            if mode not in modes:
                raise UsageError(f"--byzantine {r}={mode}: unknown mode; allowed: {', '.join(modes)}")
        if len(cfg.byzantine) > cfg.f:
            raise UsageError(f"--byzantine names {len(cfg.byzantine)} replicas; at most f={cfg.f}")
    if cfg.faults.crash > 20:
        raise UsageError("--faults crash=K: at most 20 crashes per run")
    return cfg


def parse_byzantine(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        for part in item.split(","):
            r, eq, mode = part.partition("=")
            if not eq or not r or not mode:
                raise UsageError(f"bad --byzantine {part!r}; expected REPLICA=MODE, e.g. r1=equivocate")
            out[r.strip()] = mode.strip()
    return out


def free_ports(count: int) -> list[int]:
    socks, ports = [], []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


class Cluster:
    """The replica processes of one run: start, kill, restart, stop them all."""

    def __init__(self, cfg: RunConfig, data_dir: str) -> None:
        self.cfg = cfg
        self.data_dir = data_dir
        self.replicas = [f"r{i}" for i in range(cfg.n)]
        self.client_names = [f"c{i}" for i in range(cfg.clients)]
        ports = free_ports(cfg.n + cfg.clients)
        names = self.replicas + self.client_names
        self.addrs = {name: ("127.0.0.1", p) for name, p in zip(names, ports)}
        self.procs: dict[str, subprocess.Popen] = {}
        self.isolate = None
        if cfg.faults.partition:
            # one replica cut off from all for `partition` seconds, 1 s into the run
            victim = random.Random(f"partition:{cfg.seed}").choice(self.replicas)
            self.isolate = [victim, time.time() + 1.0, cfg.faults.partition]
        self.keys_path = None
        if cfg.protocol == "pbft":
            from .pbft.crypto import write_keys

            self.keys_path = os.path.join(data_dir, "keys.json")
            write_keys(self.keys_path, names, cfg.seed)

    def proc_config(self, name: str) -> dict:
        c = self.cfg
        return {"name": name, "protocol": c.protocol, "nodes": self.replicas,
                "clients": self.client_names, "f": c.f, "addrs": self.addrs,
                "trace_dir": c.trace_dir, "data_dir": self.data_dir,
                "faults": {k: v for k, v in asdict(c.faults).items() if k != "crash"},
                "seed": c.seed, "bug": c.bug, "byzantine": c.byzantine, "run": f"run-{c.seed}",
                "keys": self.keys_path, "isolate": self.isolate}

    def start(self, name: str) -> None:
        log = open(os.path.join(self.data_dir, f"{name}.out"), "ab")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "smrcheck.impl.runtime.proc", json.dumps(self.proc_config(name))],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()

    def kill(self, name: str) -> None:
        p = self.procs.get(name)
        if p is not None and p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait()

    def stop_all(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 3
        for p in self.procs.values():
            try:
                p.wait(timeout=max(0.05, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def died(self) -> list[str]:
        return [n for n, p in self.procs.items() if p.poll() is not None]


async def _wait_listening(addrs: list[tuple[str, int]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for host, port in addrs:
        while True:
            try:
                _, w = await asyncio.open_connection(host, port)
                w.close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise UsageError(f"replica on port {port} did not start within {timeout:.0f} s")
                await asyncio.sleep(0.05)


async def _drive(cfg: RunConfig, cluster: Cluster, progress: Callable[[int, int], None] | None,
                 crashes: list[str]) -> tuple[list[Client], float]:
    for r in cluster.replicas:
        cluster.start(r)
    await _wait_listening([cluster.addrs[r] for r in cluster.replicas], 20)
    hosts = []
    need = 1 if cfg.protocol == "multipaxos" or cfg.bug == "client-first-reply" else cfg.f + 1
    per = [cfg.requests // cfg.clients + (1 if i < cfg.requests % cfg.clients else 0)
           for i in range(cfg.clients)]
    for name, count in zip(cluster.client_names, per):
        head = header(cfg.protocol, cluster.replicas, cluster.client_names, cfg.f, node=name,
                      byzantine=sorted(cfg.byzantine), run=f"run-{cfg.seed}")
        tracer = Tracer(os.path.join(cfg.trace_dir, f"{name}.jsonl"), head, name)
        ops = workload(name, count, cfg.seed)
        auth = None
        if cfg.protocol == "pbft":
            from .pbft.crypto import load_keys

            auth = load_keys(cluster.keys_path, name)

        def make(env, ops=ops):
            return Client(env, cluster.replicas, ops, need=need, window=cfg.window,
                          timeout=0.5,
                          broadcast=cfg.protocol == "pbft", max_tries=1000)

        plan = FaultPlan(FaultSpec(), 0)
        if cluster.isolate:
            plan.isolate(*cluster.isolate)
        hosts.append(TcpHost(name, cluster.addrs, tracer, None, make, plan, auth=auth))
    start = time.monotonic()
    for h in hosts:
        await h.start()
    clients = [h.node for h in hosts]
    if cluster.isolate:
        crashes.append(f"partition: {cluster.isolate[0]} cut off for {cfg.faults.partition:g} s "
                       "from 1 s into the run")
    rng = random.Random(cfg.seed)
    points = [cfg.requests * (k + 1) // (cfg.faults.crash + 1) for k in range(cfg.faults.crash)]
    down: tuple[str, float] | None = None
    try:
        while time.monotonic() - start < cfg.time_limit:
            done = sum(len(c.results) for c in clients)
            if progress is not None:
                progress(done, cfg.requests)
            if all(c.done() for c in clients) and down is None:
                break
            now = time.monotonic()
            if down is not None and now >= down[1]:
                cluster.start(down[0])
                crashes.append(f"restarted {down[0]} at {now - start:.2f}s")
                down = None
            elif down is None and points and done >= points[0]:
                points.pop(0)
                # the first kill takes r0, the first leader / primary (the hard case);
                # later ones a replica drawn from the seed
                victim = cluster.replicas[0] if not crashes or all(
                    "killed" not in c for c in crashes) else rng.choice(cluster.replicas)
                cluster.kill(victim)
                crashes.append(f"killed {victim} at {now - start:.2f}s ({done} committed)")
                down = (victim, now + 0.5)
            await asyncio.sleep(0.02)
    finally:
        for h in hosts:
            await h.stop()
    return clients, time.monotonic() - start


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def run_cluster(cfg: RunConfig, progress: Callable[[int, int], None] | None = None) -> RunResult:
    check_config(cfg)
    os.makedirs(cfg.trace_dir, exist_ok=True)
    if any(name.endswith(".jsonl") for name in os.listdir(cfg.trace_dir)):
        raise UsageError(f"--trace-dir {cfg.trace_dir} already holds traces; give an empty or new folder")
    data_dir = tempfile.mkdtemp(prefix="smrcheck-run-")
    cluster = Cluster(cfg, data_dir)
    crashes: list[str] = []
    # SIGTERM ends the run like Ctrl-C does: through the `finally` that stops every process
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        clients, seconds = asyncio.run(_drive(cfg, cluster, progress, crashes))
    finally:
        cluster.stop_all()
        signal.signal(signal.SIGTERM, previous)
        shutil.rmtree(data_dir, ignore_errors=True)
    latencies = [x for c in clients for x in c.latencies]
    committed = sum(len(c.results) for c in clients)
    result = RunResult(cfg.protocol, cfg.n, cfg.f, cfg.clients, cfg.requests, committed,
                       sum(c.gave_up for c in clients), seconds,
                       committed / seconds if seconds > 0 else 0.0,
                       1000 * percentile(latencies, 0.5), 1000 * percentile(latencies, 0.99),
                       crashes, cfg.trace_dir, committed == cfg.requests)
    head = header(cfg.protocol, cluster.replicas, cluster.client_names, cfg.f,
                  byzantine=sorted(cfg.byzantine), run=f"run-{cfg.seed}")
    with open(os.path.join(cfg.trace_dir, "run.json"), "w") as fh:
        json.dump({"header": head, "config": {**asdict(cfg), "faults": asdict(cfg.faults)},
                   "result": result.to_json()}, fh, indent=1)
    return result
