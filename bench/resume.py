"""What `--resume` saves: a checkpointed run stopped part way, resumed, against a fresh
run of the same model.

A run is stopped at several depths (`--max-depth D` with a checkpoint at every level),
then resumed from its checkpoint to the end. A resume should cost what was left, not
the whole run again: it reloads the visited set and the frontier of the level it
stopped at and explores only the levels after it. Each run is a fresh `smrcheck`
process, so the times include start-up; peak RSS is the resumed process's own. Prints
the parameters, distinct states, seconds and states/s of each part, and the ratio
(first part + resume) / fresh. Asserts nothing about time.

    python bench/resume.py                          # paxos, max_ballot=2
    python bench/resume.py --model multipaxos --params rounds=2 --depths 8 12
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time


def smrcheck(*args: str) -> tuple[dict, float]:
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "smrcheck.checker.cli", "check", *args,
                           "--json", "--quiet"], capture_output=True, text=True)
    seconds = time.monotonic() - start
    if proc.returncode not in (0, 3):
        sys.exit(f"smrcheck {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    return json.loads(proc.stdout), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="paxos")
    parser.add_argument("--params", nargs="*", default=["max_ballot=2"])
    parser.add_argument("--depths", type=int, nargs="+", default=[10, 15, 20])
    args = parser.parse_args()
    params = [x for p in args.params for x in ("-p", p)]
    print(f"model {args.model} {' '.join(args.params)}; python {sys.version.split()[0]}")
    fresh, fresh_s = smrcheck(args.model, *params)
    print(f"fresh: {fresh['distinct_states']:,} distinct, depth {fresh['depth']}, "
          f"{fresh_s:.2f} s wall, {fresh['states_per_second']:,.0f} states/s, "
          f"peak RSS {fresh['peak_rss_mb']:.0f} MB")
    print(f"{'stop at':>8} {'first part':>22} {'resume':>30} {'sum/fresh':>10}")
    for depth in args.depths:
        folder = tempfile.mkdtemp(prefix="smrcheck-resume-")
        try:
            first, first_s = smrcheck(args.model, *params, "--max-depth", str(depth),
                                      "--checkpoint", folder, "--checkpoint-every", "0")
            rest, rest_s = smrcheck(args.model, *params, "--resume", folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        assert rest["distinct_states"] == fresh["distinct_states"], "resume changed the count"
        print(f"{depth:>8} {first['distinct_states']:>10,} {first_s:>8.2f} s   "
              f"{rest['distinct_states'] - first['distinct_states']:>10,} new {rest_s:>7.2f} s "
              f"{rest['peak_rss_mb']:>4.0f} MB {(first_s + rest_s) / fresh_s:>9.2f}")


if __name__ == "__main__":
    main()
