"""Trace validation throughput and memory: invariants, then conformance, separately.

Generates a MultiPaxos (or PBFT) trace of `--events` events with the synthetic runner
(`tests/support/synth.py`), then validates it in a fresh child process per mode and
reports events/s and the child's peak RSS. Memory must not grow with the trace: run with
`--events 100000` and `--events 1000000` and compare (`--sizes` does both). The
invariants include the client-service checks (models/common/service.py), whose
KV-LINEARIZABLE settles each key's history while the run is read: they add a bounded
amount (their caches fill in the first few hundred thousand events), not the history.

Conformance (the default of `smrcheck validate`) runs on the same trace: the finite
model follows it through a sliding window (models/*/window.py), so its memory is the
frontier of windowed model states, not the trace; compare the two sizes here too.

    python bench/validate.py                       # 1,000,000 events, multipaxos
    python bench/validate.py --sizes 100000,1000000 --protocol pbft
    python bench/validate.py --modes invariants --repeat 3   # best of 3, the spread, the median

Prints figures; asserts nothing about time (DESIGN.md). Events per CPU second is the
steadier figure on a shared machine; wall-clock rate is printed beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def generate(path: str, protocol: str, events: int) -> int:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from tests.support.synth import run_for  # test material: not in the package

    per_request = 33 if protocol == "multipaxos" else 60
    written = 0
    with open(path, "w", encoding="utf-8") as out:
        dumps = json.JSONEncoder(separators=(",", ":")).encode
        for ev in run_for(protocol, requests=events // per_request + 10, clients=3, seed=1,
                          heartbeats=True):
            out.write(dumps(ev))
            out.write("\n")
            written += 1
            if written > events:  # the header plus `events` events
                break
    return written - 1


def peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM, not ru_maxrss: Linux carries ru_maxrss across
    exec, so a child would report its parent's peak (the generator's)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(path: str, mode: str) -> None:
    """Validate `path` in this process and print one JSON line of figures."""
    from importlib import import_module

    from smrcheck.checker.validate import validate_run
    from smrcheck.models import registry

    # Loaded before the clock starts, as the old child did: the figure is per event.
    # The reader (pydantic with it) and the trace maps too: validate_run imports them
    # on first use, which put a quarter of a CPU second of imports inside the clock.
    registry.monitor_for, registry.trace_map_module  # noqa: B018
    import_module("smrcheck.traces.reader")
    if mode == "conformance":
        for name in ("multipaxos.trace_map", "paxos.trace_map", "pbft.trace_map"):
            import_module(f"smrcheck.models.{name}")
    start, cpu = time.perf_counter(), time.process_time()
    result = validate_run([path], conformance=mode == "conformance")
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    print(json.dumps({
        "mode": mode, "result": result.result, "conformance": result.conformance,
        "events": result.events, "seconds": seconds, "events_per_s": result.events / seconds,
        "events_per_cpu_s": result.events / cpu,
        "peak_rss_mb": peak_rss_mb(),
        "max_frontier": result.max_frontier,
    }))


def measure(path: str, mode: str, repeat: int = 1) -> dict:
    """The best of `repeat` child runs (by events per CPU second), with the spread and
    the median: on a shared machine one run says little."""
    runs = []
    for _ in range(repeat):
        proc = subprocess.run([sys.executable, __file__, "--child", mode, path],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            return {"mode": mode, "error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
        runs.append(json.loads(proc.stdout))
    best = max(runs, key=lambda r: r["events_per_cpu_s"])
    rates = sorted(r["events_per_cpu_s"] for r in runs)
    best["spread"] = [rates[0], rates[-1]]
    best["median"] = statistics.median(rates)
    best["repeat"] = repeat
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--sizes", help="comma-separated event counts, e.g. 100000,1000000")
    ap.add_argument("--protocol", default="multipaxos", choices=("multipaxos", "pbft"))
    ap.add_argument("--modes", default="invariants,conformance")
    ap.add_argument("--repeat", type=int, default=1,
                    help="validate each trace this many times; print the best and the spread")
    ap.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[1], args.child[0])
        return
    sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else [args.events]
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            path = os.path.join(tmp, f"{args.protocol}-{size}.jsonl")
            t = time.perf_counter()
            n = generate(path, args.protocol, size)
            mb = os.path.getsize(path) / 1e6
            print(f"{args.protocol}: {n:,} events, {mb:,.0f} MB, generated in "
                  f"{time.perf_counter() - t:.1f} s")
            for mode in args.modes.split(","):
                r = measure(path, mode, args.repeat)
                if "error" in r:
                    print(f"  {mode:<12} unavailable: {r['error']}")
                    continue
                print(f"  {mode:<12} {r['events_per_s']:>10,.0f} events/s wall "
                      f"({r['events_per_cpu_s']:,.0f} per CPU s)  {r['seconds']:6.1f} s  "
                      f"peak RSS {r['peak_rss_mb']:6.1f} MB  result={r['result']}"
                      + (f" conformance={r['conformance']} frontier<={r['max_frontier']}"
                         if r["conformance"] else "")
                      + (f"\n  {'':<12} best of {r['repeat']} runs; per CPU s "
                         f"{r['spread'][0]:,.0f}..{r['spread'][1]:,.0f}, median "
                         f"{r['median']:,.0f}" if r["repeat"] > 1 else ""))


if __name__ == "__main__":
    main()
