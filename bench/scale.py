"""Explorer scaling: states/s and bytes/state for 1 and N workers, one table per run.

Each (model, workers) pair runs in a fresh process so its memory is its own. Bytes per
state (one worker) is the process's RSS growth during the search over the distinct
states: visited set, frontier and allocator slack. With N workers the visited set is
split between them (16 bytes a state in all); the table adds every worker's RSS growth
(forked workers start out sharing the coordinator's pages, counted once). It asserts
nothing about time.

    python bench/scale.py                                  # 1 and 2 workers, small models
    python bench/scale.py --workers 1 2 4 8 16 --repeat 3 --markdown scale.md
    python bench/scale.py --runs "paxos:max_ballot=3" --max-states 1000000
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import subprocess
import sys

# Issue 8's table: paxos with ballots 0..3 (bounded: tens of millions of states), the
# multipaxos and pbft defaults.
DEFAULT_RUNS = ["paxos:max_ballot=3", "multipaxos", "pbft"]


def child(run: str, workers: int, max_states: int, time_limit: float) -> dict:
    from smrcheck.checker.search import Bounds, Distribution, Options, check
    from smrcheck.models.registry import MODELS

    name, _, params = run.partition(":")
    spec = MODELS[name]
    values = spec.resolve_params([p for p in params.split(",") if p])
    model = spec.build(values, None)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # What a forked worker's peak RSS is before it does anything: fork an idle child.
    idle = multiprocessing.get_context("fork").Process(target=int)
    idle.start()
    idle.join()
    fork_base = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    r = check(model, Options(bounds=Bounds(max_states=max_states or None,
                                           time_limit=time_limit or None),
                             distribution=Distribution(workers)), name=name, params=values)
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # r.peak_rss_mb sums the coordinator's and every worker's peak; a worker's growth
    # is its peak less an idle forked child's.
    kids = r.peak_rss_mb * 1024 - me if workers > 1 else 0
    grown = me - base + (kids - workers * fork_base if workers > 1 else 0)
    per_state = grown * 1024 / max(1, r.distinct_states)
    return {"run": run, "workers": workers, "result": r.result, "distinct": r.distinct_states,
            "generated": r.generated_states, "depth": r.depth, "seconds": r.seconds,
            "rss_mb": me / 1024, "worker_rss_mb": kids / 1024, "bytes_per_state": per_state}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", default=DEFAULT_RUNS,
                        help="MODEL[:NAME=VALUE,...] (default: %(default)s)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--max-states", type=int, default=300_000,
                        help="bound each run (0: exhaustive; default %(default)s)")
    parser.add_argument("--time-limit", type=float, default=0)
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per row; the fastest is shown (a shared machine's load "
                             "swings single runs)")
    parser.add_argument("--markdown", help="also write the table as Markdown to this file")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run, w, m, t = args.child
        print(json.dumps(child(run, int(w), int(m), float(t))))
        return
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    header = ("| run | workers | result | distinct | generated | seconds | states/s | speed-up "
              "| coordinator MB | workers MB (sum) | bytes/state |")
    rows = [header, "|" + "---|" * 11]
    print(header)
    for run in args.runs:
        one = None
        for w in args.workers:
            tries = []
            for _ in range(max(1, args.repeat)):
                proc = subprocess.run([sys.executable, __file__, "--child", run, str(w),
                                       str(args.max_states), str(args.time_limit)],
                                      capture_output=True, text=True)
                if proc.returncode != 0:
                    print(f"| {run} | {w} | failed: {proc.stderr.strip().splitlines()[-1:]} |")
                    break
                tries.append(json.loads(proc.stdout))
            if not tries:
                continue
            r = min(tries, key=lambda t: t["seconds"])
            rate = r["distinct"] / r["seconds"] if r["seconds"] else 0.0
            one = one or rate
            row = (f"| {run} | {w} | {r['result']} | {r['distinct']:,} | {r['generated']:,} | "
                   f"{r['seconds']:.2f} | {rate:,.0f} | {rate / one:.2f}x | {r['rss_mb']:.0f} | "
                   f"{r['worker_rss_mb']:.0f} | {r['bytes_per_state']:.0f} |")
            print(row, flush=True)
            rows.append(row)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as out:
            out.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
