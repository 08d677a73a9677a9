"""`smrcheck run` over real processes on 127.0.0.1: short runs, with timeouts."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from smrcheck.checker.cli import main

SMRCHECK = [sys.executable, "-m", "smrcheck.checker.cli"]


def run_cli(*args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run([*SMRCHECK, *args], capture_output=True, text=True, timeout=timeout)


def test_multipaxos_with_faults_and_a_crash_validates(tmp_path, validate_dir):
    d = str(tmp_path / "t")
    p = run_cli("run", "multipaxos", "-n", "3", "--requests", "600", "--clients", "2",
                "--faults", "drop=0.05,dup=0.02,delay=0.005,crash=1,partition=0.5", "--seed", "3",
                "--trace-dir", d, "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["committed"] == 600 and any("killed r0" in c for c in out["crashes"])
    assert any("partition" in c for c in out["crashes"])
    assert sorted(os.listdir(d)) == ["c0.jsonl", "c1.jsonl", "r0.jsonl", "r1.jsonl", "r2.jsonl",
                                     "run.json"]
    result = validate_dir(d)
    assert result.exit_code == 0, result.to_json()
    assert_restart_lost_nothing(d)


def events(path):
    with open(path) as fh:
        return [json.loads(line) for line in fh if line.strip()][1:]


def assert_restart_lost_nothing(d):
    """Every command a client got a result for was executed by a majority, and the
    killed replica resumed after its last executed slot (it re-executed nothing and
    skipped nothing: its durable log survived the SIGKILL)."""
    executed = {}
    for r in ("r0", "r1", "r2"):
        evs = events(os.path.join(d, f"{r}.jsonl"))
        executed[r] = {(e["cmd"]["client"], e["cmd"]["req"]) for e in evs
                       if e["kind"] == "execute" and e["cmd"]}
        kinds = [e["kind"] for e in evs]
        if "restart" in kinds:
            cut = kinds.index("restart")
            before = [e["slot"] for e in evs[:cut] if e["kind"] == "execute"]
            after = [e["slot"] for e in evs[cut:] if e["kind"] == "execute"]
            if before and after:
                assert after[0] == before[-1] + 1
    for c in ("c0", "c1"):
        for e in events(os.path.join(d, f"{c}.jsonl")):
            if e["kind"] == "result":
                assert sum((c, e["req"]) in ex for ex in executed.values()) >= 2


def test_multipaxos_bug_run_is_rejected(tmp_path):
    d = str(tmp_path / "t")
    p = run_cli("run", "multipaxos", "--requests", "200", "--bug", "minority-quorums",
                "--trace-dir", d, "--json")
    assert p.returncode == 0, p.stderr
    v = run_cli("validate", d, "--json")
    assert v.returncode == 1
    assert "MP-QUORUM-CERT" in {x["property"] for x in json.loads(v.stdout)["violations"]}


def test_pbft_with_a_byzantine_primary_and_faults_validates(tmp_path, validate_dir):
    d = str(tmp_path / "t")
    p = run_cli("run", "pbft", "-n", "4", "--requests", "120", "--clients", "2",
                "--faults", "drop=0.01,dup=0.02,delay=0.005", "--byzantine", "r0=equivocate",
                "--seed", "2", "--time-limit", "40", "--trace-dir", d, "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["committed"] == 120
    result = validate_dir(d)
    assert result.exit_code == 0, result.to_json()


def test_pbft_bug_run_is_rejected(tmp_path):
    d = str(tmp_path / "t")
    p = run_cli("run", "pbft", "--requests", "60", "--bug", "committed-with-2f", "--trace-dir", d)
    assert p.returncode == 0, p.stderr
    v = run_cli("validate", d, "--json")
    assert v.returncode == 1
    assert "PBFT-COMMIT-CERT" in {x["property"] for x in json.loads(v.stdout)["violations"]}


@pytest.mark.parametrize("args, says", [
    (["run", "raft", "--trace-dir", "X"], "allowed: multipaxos, pbft"),
    (["run", "multipaxos", "--bug", "nope", "--trace-dir", "X"], "allowed: ignore-promised-values"),
    (["run", "multipaxos", "--faults", "drop=2", "--trace-dir", "X"], "probabilities"),
    (["run", "multipaxos", "--faults", "flood=1", "--trace-dir", "X"], "allowed: drop=VALUE"),
    (["run", "multipaxos", "-n", "2", "-f", "1", "--trace-dir", "X"], "2f+1"),
    (["run", "multipaxos", "--byzantine", "r1=silent", "--trace-dir", "X"], "pbft only"),
    (["run", "pbft", "--byzantine", "r1=lie", "--trace-dir", "X"], "allowed: silent"),
    (["run", "pbft", "--byzantine", "r1=silent,r2=silent", "--trace-dir", "X"], "at most f=1"),
    (["run", "pbft", "-n", "3", "-f", "1", "--trace-dir", "X"], "3f+1"),
])
def test_bad_flags_exit_2_with_one_line(args, says, capsys, tmp_path):
    args = [a if a != "X" else str(tmp_path / "x") for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and "\n" not in err and "Traceback" not in err


def test_interrupted_run_stops_every_process(tmp_path):
    import signal
    import time

    d = str(tmp_path / "t")
    p = subprocess.Popen([*SMRCHECK, "run", "multipaxos", "--requests", "1000000", "--trace-dir", d],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # A loaded machine (the whole suite on 2 cores) once took over 30 s to start the
        # clients; a run that died instead says why.
        deadline = time.monotonic() + 90
        while not (os.path.isdir(d) and any(f.startswith("c") for f in os.listdir(d))):
            assert p.poll() is None, p.communicate()[1]
            assert time.monotonic() < deadline, "no client trace after 90 s"
            time.sleep(0.1)
        time.sleep(1.0)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130 and "interrupted" in err
    left = subprocess.run(["pgrep", "-f", f"smrcheck.impl.runtime.proc.*{d}"], capture_output=True)
    assert left.stdout == b""
