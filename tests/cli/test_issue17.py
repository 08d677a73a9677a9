"""What a new user hit (issue #17): a vacuity hole, silent runs, ignored options, and
errors that were not one line or not JSON."""

from __future__ import annotations

import json
import subprocess
import sys

from smrcheck.checker.cli import main
from smrcheck.checker.search import Options, check
from smrcheck.models.paxos.spec import PaxosModel


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    code = main([*argv, "--json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out)


# -- the vacuity hole ----------------------------------------------------------------------

def test_naming_an_invariant_keeps_the_goals(capsys):
    """strict-promise can choose nothing: naming AGREEMENT alone must not make it OK."""
    code, out = run_json(capsys, "check", "paxos", "--mutant", "strict-promise",
                         "--property", "PAXOS-AGREEMENT")
    assert code == 1 and out["result"] == "violation"
    assert out["violation"]["property"] == "PAXOS-CHOSEN"
    assert out["properties"] == ["PAXOS-AGREEMENT", "PAXOS-CHOSEN"]


def test_naming_a_goal_checks_only_what_is_named():
    r = check(PaxosModel(3, 2, 1), Options(properties=["PAXOS-CHOSEN"]))
    assert r.properties == ["PAXOS-CHOSEN"] and r.result == "ok"


def test_no_goals_passes_a_vacuous_model_and_says_so(capsys):
    code, out = run_json(capsys, "check", "paxos", "--mutant", "strict-promise",
                         "--property", "PAXOS-AGREEMENT", "--no-goals")
    assert code == 0 and out["result"] == "ok"
    assert out["properties"] == ["PAXOS-AGREEMENT"]
    assert any("vacuity was not checked" in w for w in out["warnings"])
    assert main(["check", "paxos", "--mutant", "strict-promise", "--no-goals"]) == 0
    assert "vacuity was not checked" in capsys.readouterr().err


# -- progress when stderr is not a terminal ------------------------------------------------

def cli(*argv: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "smrcheck.checker.cli", *argv],
                          capture_output=True, text=True, check=False, **kwargs)


LONG_ENOUGH = ["check", "multipaxos", "--max-states", "20000", "--json"]


def test_plain_progress_lines_on_a_piped_stderr():
    proc = cli(*LONG_ENOUGH, "--progress-every", "0.1")
    assert proc.returncode == 3, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("smrcheck: progress:")]
    assert lines, proc.stderr
    for word in ("distinct", "generated", "depth", "queue", "states/s", "memory"):
        assert word in lines[-1]
    assert json.loads(proc.stdout)["distinct_states"] == 20000  # stdout stays JSON


def test_quiet_stops_progress():
    proc = cli(*LONG_ENOUGH, "--progress-every", "0.1", "--quiet")
    assert proc.returncode == 3 and "progress" not in proc.stderr
