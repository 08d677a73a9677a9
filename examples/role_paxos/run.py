"""Run role_paxos: one OS process per proposer, acceptor, learner and the client.

    python examples/role_paxos/run.py --out run1 --seed 3 --commands 6 --loss 0.1
    python examples/role_paxos/run.py --out run2 --scenario first-promise --bug adopt-first-promise

Leaves in --out the cluster file (`cluster.conf`: role, name, host, port per line) and
one native text log per process (`<name>.log`). adapter.py turns those into smrtrace.

The launcher binds every UDP socket itself (127.0.0.1, a free port each) and hands each
child its socket, so the cluster file is complete before any process starts and no
port can be taken in between. It starts everyone at once with a "go" datagram once all
have said "ready", waits for the client to finish (every request answered, or its time
is up), then tells the rest to stop, and kills whatever has not exited a moment later:
no process outlives the launcher.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from node import BUGS as BUG_ROLE  # noqa: E402  (bug -> the role whose code it changes)


def layout(args) -> list[tuple[str, str]]:
    """(role, name) for every process; proposers first: their order ranks ballots."""
    out = [("proposer", f"p{i + 1}") for i in range(args.proposers)]
    out += [("acceptor", f"a{i + 1}") for i in range(args.acceptors)]
    out += [("learner", f"l{i + 1}") for i in range(args.learners)]
    return out + [("client", "c1")]


def run(args) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.scenario == "first-promise":
        # The scenario scripts faults on exactly this cluster and these two commands.
        args.proposers, args.acceptors, args.learners, args.commands = 2, 3, 2, 2
        args.gap, args.loss, args.delay_ms = 0.5, 0.0, 0.0
    nodes = layout(args)
    socks = {}
    procs: list[subprocess.Popen] = []
    control = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    control.bind(("127.0.0.1", 0))
    try:
        for _, name in nodes:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            socks[name] = s
        cluster = out / "cluster.conf"
        cluster.write_text("# role name host port\n" + "".join(
            f"{role} {name} 127.0.0.1 {socks[name].getsockname()[1]}\n" for role, name in nodes))
        crash = parse_crash(args.crash, [n for r, n in nodes if r == "acceptor"])

        def start(role: str, name: str, incarnation: int = 1) -> subprocess.Popen:
            fd = socks[name].fileno()
            log = f"{name}.log" if incarnation == 1 else f"{name}.{incarnation}.log"
            cmd = [sys.executable, str(HERE / "node.py"), "--name", name, "--cluster", str(cluster),
                   "--fd", str(fd), "--launcher-port", str(control.getsockname()[1]),
                   "--log", str(out / log), "--seed", str(args.seed),
                   "--loss", str(args.loss), "--delay-ms", str(args.delay_ms),
                   "--max-seconds", str(args.max_seconds), "--incarnation", str(incarnation)]
            if role == "acceptor":
                cmd += ["--state", str(out / f"{name}.state")]
            if args.scenario:
                cmd += ["--scenario", args.scenario]
            if args.bug and BUG_ROLE[args.bug] == role:
                cmd += ["--bug", args.bug]
            if role == "client":
                cmd += ["--commands", str(args.commands), "--gap", str(args.gap)]
            return subprocess.Popen(cmd, pass_fds=(fd,))

        by_name: dict[str, subprocess.Popen] = {}
        killed: set[subprocess.Popen] = set()  # the crash asked for: exit -9 is expected
        for role, name in nodes:
            by_name[name] = start(role, name)
            procs.append(by_name[name])
        for name, s in socks.items():
            if not crash or name != crash[0]:
                s.close()  # the child holds its own copy; a crashing one's is kept to restart it
        if not wait_ready(control, len(nodes), deadline=time.monotonic() + 15):
            print("role_paxos: not every process started", file=sys.stderr)
            return 2
        go = time.monotonic()
        for _, name in nodes:
            control.sendto(json.dumps("go").encode(), ("127.0.0.1", port_of(cluster, name)))
        client = procs[-1]
        while client.poll() is None and time.monotonic() < go + args.max_seconds + 2:
            if crash and by_name[crash[0]].poll() is None and time.monotonic() >= go + crash[1]:
                by_name[crash[0]].kill()  # SIGKILL: no goodbye, maybe a half-written line
                by_name[crash[0]].wait()
                killed.add(by_name[crash[0]])
            if crash and by_name[crash[0]].poll() is not None and time.monotonic() >= go + crash[2]:
                by_name[crash[0]] = start("acceptor", crash[0], incarnation=2)
                procs.append(by_name[crash[0]])
                crash = None
            time.sleep(0.01)
        # Let in-flight messages land so the logs end quiet, then stop everyone.
        time.sleep(0.2)
        for _, name in nodes:
            control.sendto(json.dumps("stop").encode(), ("127.0.0.1", port_of(cluster, name)))
        for p in procs:
            try:
                p.wait(timeout=3)
            except subprocess.TimeoutExpired:
                pass
        return 0 if all(p.returncode == 0 for p in by_name.values() if p not in killed) else 1
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for s in socks.values():
            s.close()
        control.close()


def parse_crash(spec: str | None, acceptors: list[str]) -> tuple[str, float, float] | None:
    """`a1@0.4+0.5`: kill acceptor a1 0.4 s after the start, restart it 0.5 s later."""
    if not spec:
        return None
    name, _, times = spec.partition("@")
    at, _, down = times.partition("+")
    if name not in acceptors:
        raise SystemExit(f"--crash: {name!r} is not an acceptor (only acceptors restart: "
                         f"their state is durable)")
    return name, float(at), float(at) + float(down or 0.3)


def wait_ready(control: socket.socket, n: int, deadline: float) -> bool:
    ready = 0
    while ready < n and time.monotonic() < deadline:
        control.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            data, _ = control.recvfrom(1024)
        except socket.timeout:
            break
        ready += json.loads(data) == "ready"
    return ready == n


def port_of(cluster: Path, name: str) -> int:
    for line in cluster.read_text().splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[1] == name:
            return int(parts[3])
    raise KeyError(name)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="folder for cluster.conf and the logs")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--commands", type=int, default=4)
    ap.add_argument("--proposers", type=int, default=2)
    ap.add_argument("--acceptors", type=int, default=3)
    ap.add_argument("--learners", type=int, default=2)
    ap.add_argument("--loss", type=float, default=0.0, help="probability a message is lost")
    ap.add_argument("--delay-ms", type=float, default=0.0, help="random delay up to this")
    ap.add_argument("--gap", type=float, default=0.0, help="seconds between client requests")
    ap.add_argument("--scenario", choices=["first-promise"],
                    help="scripted faults where adopt-first-promise breaks agreement")
    ap.add_argument("--bug", choices=sorted(BUG_ROLE),
                    help="adopt-first-promise (proposers), amnesiac-acceptor (a restarted "
                         "acceptor forgets its state; use with --crash)")
    ap.add_argument("--crash", metavar="ACCEPTOR@T+D",
                    help="kill an acceptor T s after the start, restart it D s later (e.g. a1@0.4+0.5)")
    ap.add_argument("--max-seconds", type=float, default=8.0)
    return run(ap.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
