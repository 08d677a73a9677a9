"""Linearizability checking throughput and memory on synthetic key-value histories.

Each configuration runs in a fresh child process: it synthesises a history, then
checks it with the key-value spec (KV-LINEARIZABLE) and reports the check's seconds,
operations/s, search steps/s, and the child's peak RSS during the check (VmHWM, reset
before the check where Linux allows it; ru_maxrss is carried across exec, so it would
report the parent's peak).

The histories are linearizable by construction: every client runs one operation at a
time; each operation takes effect at a point inside its interval [call, return]
(exponential delays on both sides), in the order of those points, on a plain map.
A crashing client (probability `--crash` per operation) leaves its operation pending,
taken effect or not (half each), and is replaced by a fresh client, as Jepsen does.
The mix is 50% get, 30% put, 20% append over `keys` uniform keys. The worst case is
one key with puts and gets only: every operation overlaps ~2x `clients` others and
the blind writes make the search try subsets of them.

    python bench/linearizability.py                 # the default plan below
    python bench/linearizability.py --quick         # the 10^5 / 16 / 1,000 target only
    python bench/linearizability.py --ops 1000000 --clients 64 --keys 1000
    python bench/linearizability.py --worst --worst-ops 2000 --max-steps 20000000

Prints a table; asserts nothing about time (DESIGN.md).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import subprocess
import sys
import time


def synthesize(ops: int, clients: int, keys: int, crash: float, seed: int,
               mix: tuple[float, float] = (0.5, 0.3)) -> list:
    """A linearizable history of `ops` operations (see the module docstring)."""
    from smrcheck.checker.linearizability import Operation
    from smrcheck.models.common.kv import KV

    rng = random.Random(seed)
    expo = rng.expovariate
    planned = []  # (point, call, ret, index, process, text, crashed, applied)
    clocks = [rng.random() for _ in range(clients)]
    names = list(range(clients))
    fresh = clients
    get_share, put_share = mix
    for i in range(ops):
        c = i % clients
        call = clocks[c]
        point = call + expo(1.0)
        key = f"k{rng.randrange(keys)}"
        r = rng.random()
        text = (f"get {key}" if r < get_share else
                f"put {key} {i}" if r < get_share + put_share else f"append {key} {i % 10}")
        crashed = rng.random() < crash
        applied = not crashed or rng.random() < 0.5
        ret = point + expo(1.0)
        planned.append((point, call, ret, i, names[c], text, crashed, applied))
        clocks[c] = ret + rng.random() * 0.1
        if crashed:
            names[c] = fresh
            fresh += 1
    planned.sort()
    data: dict[str, str] = {}
    history = []
    for point, call, ret, i, process, text, crashed, applied in planned:
        inp = KV.parse(text)
        out = None
        if applied:
            verb, key, arg = inp
            value = data.get(key, "")
            if verb == "get":
                out = value
            elif verb == "put":
                data[key] = arg
                out = "ok"
            else:
                out = data[key] = value + arg
        if crashed:
            history.append(Operation(f"p{process}#{i}", f"p{process}", inp, call))
        else:
            history.append(Operation(f"p{process}#{i}", f"p{process}", inp, call, ret, out))
    return history


def _rss(field: str) -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(config: dict) -> dict:
    from smrcheck.checker.linearizability import check
    from smrcheck.models.common.kv import KV

    t0 = time.perf_counter()
    mix = (0.5, 0.5) if config["worst"] else (0.5, 0.3)
    history = synthesize(config["ops"], config["clients"], config["keys"], config["crash"],
                         config["seed"], mix)
    generated = time.perf_counter() - t0
    gc.collect()
    try:  # reset VmHWM to the current RSS, so the peak below is the check's
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
            clear.write("5")
        reset = True
    except OSError:
        reset = False
    before = _rss("VmRSS")
    t1 = time.perf_counter()
    c1 = time.process_time()
    result = check(KV, history, max_steps=config["max_steps"])
    seconds = time.perf_counter() - t1
    cpu = time.process_time() - c1
    peak = _rss("VmHWM")
    return {
        **config, "result": result.result, "pending": result.pending, "keys_seen": result.keys,
        "steps": result.steps, "generate_s": round(generated, 2), "check_s": round(seconds, 3),
        "cpu_s": round(cpu, 3), "ops_per_s": round(len(history) / cpu) if cpu else None,
        "steps_per_s": round(result.steps / cpu) if cpu else None,
        "rss_before_mb": round(before), "peak_mb": round(peak),
        "check_mb": round(peak - before) if reset else None,
    }


def run(config: dict) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", json.dumps(config)],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"child failed on {config}:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def plan(args: argparse.Namespace) -> list[dict]:
    def cfg(ops, clients, keys, worst=False, max_steps=None):
        return {"ops": ops, "clients": clients, "keys": keys, "crash": args.crash,
                "seed": args.seed, "worst": worst, "max_steps": max_steps}

    if args.ops or args.clients or args.keys:
        return [cfg(args.ops or 100_000, args.clients or 16, args.keys or 1000)]
    if args.quick:
        return [cfg(100_000, 16, 1000)]
    configs = []
    if not args.worst:
        configs += [cfg(n, 16, 1000) for n in (1_000, 10_000, 100_000, 1_000_000)]
        configs += [cfg(100_000, c, 1000) for c in (4, 64)]
        configs += [cfg(100_000, 16, k) for k in (10, 100_000)]
    configs += [cfg(args.worst_ops, c, 1, worst=True, max_steps=args.max_steps)
                for c in (4, 16, 64)]
    return configs


COLUMNS = ["ops", "clients", "keys", "pending", "result", "steps", "check_s", "cpu_s",
           "ops_per_s", "steps_per_s", "peak_mb", "check_mb"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--ops", type=int)
    ap.add_argument("--clients", type=int)
    ap.add_argument("--keys", type=int)
    ap.add_argument("--crash", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--worst", action="store_true", help="only the one-key worst case")
    ap.add_argument("--worst-ops", type=int, default=500)
    ap.add_argument("--max-steps", type=int, default=10_000_000,
                    help="search budget of the worst case (the others run unbounded)")
    ap.add_argument("--json", action="store_true", help="one JSON object per line")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    print(f"# python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load "
          f"{os.getloadavg()[0]:.1f}")
    if not args.json:
        print("| " + " | ".join(COLUMNS) + " |")
        print("|" + "---|" * len(COLUMNS))
    for config in plan(args):
        row = run(config)
        if args.json:
            print(json.dumps(row), flush=True)
            continue
        cells = []
        for c in COLUMNS:
            v = row[c]
            cells.append("-" if v is None else f"{v:,}" if isinstance(v, int) else str(v))
        if row["worst"]:
            cells[2] += " (worst)"
        print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
