"""What a new user hit (issue #17): a vacuity hole, silent runs, ignored options, and
errors that were not one line or not JSON."""

from __future__ import annotations

import json
import pathlib
import signal
import subprocess
import sys

import pytest

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


ROOT = pathlib.Path(__file__).resolve().parents[2]
LONG_ENOUGH = ["check", "multipaxos", "--max-states", "20000", "--json"]


def test_plain_progress_lines_on_a_piped_stderr():
    proc = cli(*LONG_ENOUGH, "--progress-every", "0.1")
    assert proc.returncode == 3, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("smrcheck: progress:")]
    assert lines, proc.stderr
    for word in ("distinct", "generated", "depth", "queue", "states/s", "memory"):
        assert word in lines[-1]
    assert json.loads(proc.stdout)["distinct_states"] == 20000  # stdout stays JSON


@pytest.mark.parametrize("strategy", ["bfs", "dfs", "simulate", "swarm"])
def test_every_strategy_shows_progress_on_a_user_model(strategy):
    """Issue #16: a user's model may run for hours under any strategy."""
    walks = ["--walks", "100000"] if strategy in ("simulate", "swarm") else []
    proc = cli("check", "examples/twophase.py:SPEC", "-p", "rms=8", "--strategy", strategy,
               *walks, "--time-limit", "1.5", "--progress-every", "0.2", "--json", cwd=ROOT)
    assert proc.returncode == 3, proc.stderr
    assert json.loads(proc.stdout)["bound"] == "time-limit"
    assert any(ln.startswith("smrcheck: progress:") for ln in proc.stderr.splitlines())


def test_quiet_stops_progress():
    proc = cli(*LONG_ENOUGH, "--progress-every", "0.1", "--quiet")
    assert proc.returncode == 3 and "progress" not in proc.stderr


# -- Ctrl-C and SIGTERM --------------------------------------------------------------------

def interrupted(sig: int, *extra: str) -> tuple[int, dict]:
    """A long check, signalled once its first progress line shows it is exploring."""
    proc = subprocess.Popen([sys.executable, "-m", "smrcheck.checker.cli", "check",
                             "multipaxos", "--json", "--progress-every", "0.1", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "smrcheck: progress:" in proc.stderr.readline()
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, json.loads(out)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_ends_check_as_incomplete_with_the_counts(sig):
    code, out = interrupted(sig)
    assert code == 3 and out["result"] == "incomplete" and out["bound"] == "interrupted"
    assert out["distinct_states"] > 0 and out["generated_states"] >= out["distinct_states"]


def test_a_signal_with_checkpoint_saves_one_that_resumes(tmp_path):
    code, out = interrupted(signal.SIGTERM, "--checkpoint", str(tmp_path),
                            "--checkpoint-every", "3600")
    assert code == 3 and out["bound"] == "interrupted"
    # The one checkpoint of the hour was the first level's; the signal saved the level
    # start it stopped at, which holds every state counted.
    meta = json.loads((tmp_path / "current" / "meta.json").read_text())
    assert meta["depth"] == out["depth"] > 1 and meta["distinct"] == out["distinct_states"]
    resumed = cli("check", "multipaxos", "--resume", str(tmp_path), "--max-depth",
                  str(out["depth"] + 1), "--json")
    assert json.loads(resumed.stdout)["distinct_states"] > out["distinct_states"]


# -- one-line errors, ignored options, JSON errors -----------------------------------------

def test_run_trace_dir_that_is_a_file_is_a_usage_error(tmp_path, capsys):
    existing = tmp_path / "a-file"
    existing.write_text("")
    assert main(["run", "multipaxos", "--trace-dir", str(existing)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a file" in err


@pytest.mark.parametrize("argv,warned", [
    (["--walks", "5"], "--walks is ignored"),
    (["--strategy", "dfs", "--walks", "5"], "--walks is ignored"),
    (["--checkpoint-every", "3"], "--checkpoint-every is ignored"),
])
def test_ignored_options_are_warned(capsys, argv, warned):
    code, out = run_json(capsys, "check", "paxos", *argv)
    assert code == 0 and any(warned in w for w in out["warnings"])


def test_used_options_are_not_warned(capsys, tmp_path):
    code, out = run_json(capsys, "check", "paxos", "--strategy", "simulate", "--walks", "5",
                         "--checkpoint-every", "0", "--max-depth", "3")
    assert code == 3 and [w for w in out["warnings"] if "ignored" in w] == [
        "--checkpoint-every is ignored without --checkpoint DIR"]
    code, out = run_json(capsys, "check", "paxos", "--checkpoint", str(tmp_path),
                         "--checkpoint-every", "0")
    assert code == 0 and out["warnings"] == []


@pytest.mark.parametrize("argv", [
    ["check", "BADMODEL"],
    ["check", "paxos", "--property", "NOPE"],
    ["check", "paxos", "--strategy", "nope"],
    ["check", "paxos", "--max-states", "0"],
    ["quorums"],
    ["models", "--nope"],
])
def test_json_errors_are_json(capsys, argv):
    code, out = run_json(capsys, *argv)
    assert code == 2 and out["exit_code"] == 2 and out["result"] == "invalid-input"
    assert out["error"]


# -- help and echoed settings --------------------------------------------------------------

def help_of(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit):
        main([*argv, "--help"])
    return capsys.readouterr().out


def test_check_help_lists_the_models_and_explains_every_bound(capsys):
    text = help_of(capsys, "check")
    assert "models: paxos, multipaxos, pbft" in text
    for option in ("--max-states N ", "--time-limit S ", "--seed S "):
        line = next(ln for ln in text.splitlines() if ln.strip().startswith(option.strip()))
        assert len(line.split(None, 2)) == 3, line  # help follows on the same line


def test_run_help_lists_the_bug_names(capsys):
    from smrcheck.impl.launch import bugs_for

    text = help_of(capsys, "run")
    for protocol in ("multipaxos", "pbft"):
        assert f"  {protocol}: " + ", ".join(bugs_for(protocol)) in text
    for option in ("--requests R", "--clients C"):
        line = next(ln for ln in text.splitlines() if ln.strip().startswith(option))
        assert line.strip() != option, line


def test_incomplete_says_its_verdict_once(capsys):
    assert main(["check", "paxos", "--max-states", "100", "--workers", "1"]) == 3
    out = capsys.readouterr().out
    assert "INCOMPLETE: a bound was reached" in out and "incomplete:" not in out
    assert "workers=1" in out


def test_run_echoes_byzantine_and_bug(tmp_path, capsys):
    assert main(["run", "pbft", "--requests", "3", "--clients", "1", "--byzantine",
                 "r1=silent", "--bug", "client-first-reply",
                 "--trace-dir", str(tmp_path / "t")]) == 0
    out = capsys.readouterr().out
    assert "r1=silent" in out and "client-first-reply" in out


def test_symmetry_asked_of_a_model_without_one_is_said(capsys, tmp_path):
    """A model with no canonical form: --symmetry there is a warning, not silence;
    the default (no flag) says nothing, and a model with symmetry says nothing."""
    model = tmp_path / "counter.py"
    model.write_text(
        "import smrcheck\n"
        "\n"
        "class Counter:\n"
        "    def init_states(self):\n"
        "        return [0]\n"
        "\n"
        "    def actions(self, s):\n"
        "        return [('Inc',)] if s < 3 else []\n"
        "\n"
        "    def next_state(self, s, a):\n"
        "        return s + 1\n"
        "\n"
        "    def properties(self):\n"
        "        return [smrcheck.always('BOUNDED', lambda s: s <= 3, 'never above 3')]\n"
    )
    target = f"{model}:Counter"
    assert main(["check", target, "--symmetry", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert any("--symmetry is ignored" in w for w in out["warnings"])
    assert out["symmetry"] is False
    assert main(["check", target, "--json"]) == 0
    assert not any("symmetry" in w for w in json.loads(capsys.readouterr().out)["warnings"])
    assert main(["check", "pbft", "--symmetry", "--json", "--max-states", "200"]) in (0, 3)
    out = json.loads(capsys.readouterr().out)
    assert not any("symmetry" in w for w in out["warnings"]) and out["symmetry"] is True
