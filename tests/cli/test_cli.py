"""The `smrcheck` command's contracts: exit codes, --json fields, ITF, error messages."""

from __future__ import annotations

import ast
import json
import os
import pathlib
import subprocess
import sys

import pytest

from smrcheck.checker.cli import main

CHECK_FIELDS = {
    "model", "params", "mutant", "result", "distinct_states", "generated_states", "depth",
    "seconds", "states_per_second", "peak_rss_mb", "violation",
}


ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_only_checker_render_imports_rich():
    """Results are data; drawing them is checker/render/'s job alone (DESIGN.md)."""
    found = []
    for folder in ("checker", "models", "impl", "traces"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.parent.relative_to(ROOT).parts[:2] == ("checker", "render"):
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom)
                         and node.level == 0 else [])
                found += [f"{path.relative_to(ROOT)}: {n}" for n in names
                          if n.split(".")[0] == "rich"]
    assert not found


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    code = main([*argv, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_models_json_lists_params_properties_mutants(capsys):
    code, models = run_json(capsys, "models")
    assert code == 0
    paxos = next(m for m in models if m["name"] == "paxos")
    assert [p["name"] for p in paxos["params"]] == ["acceptors", "values", "max_ballot", "quorums",
                                                    "faults", "faulty"]
    assert {p["name"]: p["default"] for p in paxos["params"]} == {
        "acceptors": 3, "values": 2, "max_ballot": 1, "quorums": "majority",
        "faults": "crash", "faulty": 0}
    assert "PAXOS-AGREEMENT" in paxos["properties"]
    names = {m["name"] for m in paxos["mutants"]}
    assert {"ignore-1b-values", "minority-quorums", "vote-below-promise"} <= names
    assert all(m["breaks"] for m in paxos["mutants"])


def test_models_table(capsys):
    assert main(["models"]) == 0
    assert "max_ballot" in capsys.readouterr().out


def test_check_default_paxos_ok(capsys):
    code, data = run_json(capsys, "check", "paxos")
    assert code == 0
    assert CHECK_FIELDS <= set(data)
    assert data["result"] == "ok" and data["violation"] is None
    assert data["distinct_states"] == 3921 and data["generated_states"] == 23467
    assert data["params"] == {"acceptors": 3, "values": 2, "max_ballot": 1, "quorums": "majority",
                              "faults": "crash", "faulty": 0}


def test_check_mutant_violation_json_and_itf(capsys, tmp_path):
    itf = tmp_path / "cex.itf.json"
    code, data = run_json(capsys, "check", "paxos", "--mutant", "minority-quorums",
                          "--itf", str(itf))
    assert code == 1 and data["result"] == "violation"
    v = data["violation"]
    assert v["property"] == "PAXOS-AGREEMENT" and "two values chosen" in v["message"]
    assert len(v["trace"]) == 9
    assert {"action", "state"} <= set(v["trace"][1])
    assert v["trace"][0]["action"] is None and v["trace"][1]["action"] == "Phase1a(b=0)"
    doc = json.loads(itf.read_text())
    assert doc["vars"] == ["maxBal", "maxVBal", "maxVal", "msgs"]
    assert len(doc["states"]) == 9
    first = doc["states"][0]
    assert first["#meta"]["index"] == 0
    assert first["maxBal"] == {"#map": [["a1", {"#bigint": "-1"}], ["a2", {"#bigint": "-1"}],
                                        ["a3", {"#bigint": "-1"}]]}
    assert first["msgs"] == {"#set": []}
    assert doc["states"][1]["msgs"] == {"#set": [{"type": "1a", "bal": {"#bigint": "0"}}]}


def test_human_output_shows_numbered_steps_with_changes(capsys):
    assert main(["check", "paxos", "--mutant", "minority-quorums"]) == 1
    out = capsys.readouterr().out
    assert "VIOLATION" in out and "counterexample, 8 steps" in out
    assert "  1. Phase1a(b=0)" in out
    assert "maxBal[a1]: -1 -> 0" in out


def test_workers_flag(capsys):
    code, data = run_json(capsys, "check", "paxos", "--workers", "2")
    assert code == 0 and data["distinct_states"] == 3921
    assert main(["check", "paxos", "--workers", "2", "--strategy", "dfs"]) == 2
    assert "needs --strategy bfs" in capsys.readouterr().err


def test_bound_gives_incomplete_exit_3(capsys):
    code, data = run_json(capsys, "check", "paxos", "--max-states", "50")
    assert code == 3 and data["result"] == "incomplete" and data["bound"] == "max-states"


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["check", "nope"], "unknown model 'nope'; allowed: paxos"),
        (["check", "paxos", "-p", "ballots=2"], "allowed: acceptors, values, max_ballot, quorums"),
        (["check", "paxos", "-p", "quorums=flexible:q1=9,q2=1"], "parameter quorums: quorum size q1"),
        (["check", "paxos", "-p", "max_ballot=x"], "must be an integer in 0..9"),
        (["check", "paxos", "-p", "acceptors=0"], "must be an integer in 1..7"),
        (["check", "paxos", "-p", "acceptors"], "-p takes NAME=VALUE"),
        (["check", "paxos", "--mutant", "zz"], "allowed: ignore-1b-values"),
        (["check", "paxos", "--strategy", "bogo"], "allowed: bfs, dfs, simulate"),
        (["check", "paxos", "--max-states", "-3"], "must be at least 1"),
        (["check", "paxos", "--property", "NOPE"], "allowed: PAXOS-AGREEMENT"),
        (["check", "paxos", "--itf", "/no/such/dir/x.json"], "folder does not exist"),
        (["frobnicate"], "invalid choice"),
        (["check", "paxos", "--checkpoint", "/dev/null"], "cannot write there"),
        (["check", "paxos", "--strategy", "dfs", "--checkpoint", "/tmp/x"], "need --strategy bfs"),
        (["check", "paxos", "--workers", "2", "--checkpoint", "/dev/null"], "cannot write there"),
        (["quorums", "--system", "weighted", "-n", "4", "--weights=1,1,1,-1", "--threshold", "3"],
         "must be non-negative"),
        ([], "a command is required"),
    ],
)
def test_usage_errors_exit_2_with_one_line(capsys, argv, needle):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err
    assert err.count("\n") == 1 and "Traceback" not in err


def _cli(*argv: str, hashseed: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    return subprocess.run([sys.executable, "-m", "smrcheck.checker.cli", *argv],
                          capture_output=True, text=True, env=env, check=False)


def test_same_results_in_two_processes():
    """Counts and counterexample do not depend on the process (string hash salt)."""
    runs = []
    for seed in ("1", "987"):
        proc = _cli("check", "paxos", "--mutant", "ignore-1b-values", "--json", hashseed=seed)
        assert proc.returncode == 1, proc.stderr
        data = json.loads(proc.stdout)
        for volatile in ("seconds", "states_per_second", "peak_rss_mb"):
            data.pop(volatile)
        runs.append(data)
    assert runs[0] == runs[1]


def test_console_script_exit_code():
    proc = _cli("check", "paxos", "-p", "max_ballot=0", hashseed="0")
    assert proc.returncode == 0, proc.stderr
    assert "OK" in proc.stdout


def test_damaged_checkpoint_and_bad_quorum_file_exit_2(capsys, tmp_path):
    (tmp_path / "current").mkdir()
    (tmp_path / "current" / "meta.json").write_text("{bad")
    assert main(["check", "paxos", "--resume", str(tmp_path)]) == 2
    assert "damaged" in capsys.readouterr().err
    bad = tmp_path / "q.json"
    bad.write_bytes(b"\xff\xfe")
    assert main(["quorums", "--system", "explicit", "--file", str(bad)]) == 2
    assert "not UTF-8" in capsys.readouterr().err


def test_closed_pipe_keeps_the_exit_code():
    for argv, code in ((["check", "paxos", "--mutant", "minority-quorums"], 1),
                       (["check", "paxos", "--mutant", "minority-quorums", "--json"], 1),
                       (["models"], 0)):
        proc = subprocess.Popen([sys.executable, "-m", "smrcheck.checker.cli", *argv],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        proc.stdout.read(1)
        proc.stdout.close()
        assert proc.wait() == code
