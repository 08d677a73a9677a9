"""A run stopped and resumed from its checkpoint ends with the same counts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from smrcheck.checker.errors import UsageError
from smrcheck.checker.search import Bounds, Checkpointing, Distribution, Options, Storage, check
from smrcheck.models.paxos.spec import PaxosModel

PARAMS = {"acceptors": 3, "values": 2, "max_ballot": 1}


def run(model, **opts):
    return check(model, Options(**opts), name="paxos", params=PARAMS)


def save(directory) -> Checkpointing:
    """Checkpoints at every level, so a bounded run's last level is saved."""
    return Checkpointing(save_to=str(directory), every=0)


def resume(directory) -> Checkpointing:
    return Checkpointing(resume_from=str(directory))


def test_bounded_run_resumed_gives_same_counts(tmp_path):
    straight = run(PaxosModel(3, 2, 1))
    first = run(PaxosModel(3, 2, 1), bounds=Bounds(max_depth=8), checkpointing=save(tmp_path))
    assert first.result == "incomplete"
    meta = json.loads((tmp_path / "current" / "meta.json").read_text())
    assert meta["depth"] == 8 and meta["distinct"] == first.distinct_states
    resumed = run(PaxosModel(3, 2, 1), checkpointing=resume(tmp_path))
    assert (resumed.result, resumed.distinct_states, resumed.generated_states, resumed.depth) == (
        straight.result, straight.distinct_states, straight.generated_states, straight.depth)
    assert resumed.reached == ["PAXOS-CHOSEN"]


def test_resumed_violation_has_the_same_counterexample(tmp_path):
    mutant = "minority-quorums"

    def mutant_run(**opts):
        return check(PaxosModel(3, 2, 1, mutant), Options(**opts), name="paxos",
                     params=PARAMS, mutant=mutant)

    straight = mutant_run()
    first = mutant_run(bounds=Bounds(max_depth=4), checkpointing=save(tmp_path))
    assert first.result == "incomplete"
    resumed = mutant_run(checkpointing=resume(tmp_path))
    assert resumed.violation.property == straight.violation.property
    assert [s.action for s in resumed.violation.trace] == [
        s.action for s in straight.violation.trace]
    on_two = mutant_run(distribution=Distribution(2), checkpointing=resume(tmp_path))
    assert len(on_two.violation.trace) == len(straight.violation.trace)
    # The checkpoint belongs to the mutant run: resuming it as another run is refused.
    with pytest.raises(UsageError, match="belongs to paxos.*--mutant minority-quorums"):
        run(PaxosModel(3, 2, 1), checkpointing=resume(tmp_path))


def test_resume_needs_a_checkpoint(tmp_path):
    with pytest.raises(UsageError, match="no checkpoint there"):
        run(PaxosModel(3, 2, 1), checkpointing=resume(tmp_path))


@pytest.mark.slow
def test_killed_cli_run_resumes_to_same_counts(tmp_path):
    cp = tmp_path / "cp"
    argv = [sys.executable, "-m", "smrcheck.checker.cli", "check", "paxos", "-p", "max_ballot=2"]
    proc = subprocess.Popen([*argv, "--checkpoint", str(cp), "--checkpoint-every", "0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    meta = cp / "current" / "meta.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if meta.exists() and json.loads(meta.read_text())["depth"] >= 12:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert os.path.isdir(cp / "current")
    out = subprocess.run([*argv, "--resume", str(cp), "--json"], capture_output=True, text=True)
    data = json.loads(out.stdout)
    assert out.returncode == 0, out.stderr
    assert (data["distinct_states"], data["generated_states"], data["depth"]) == (185369, 1350916, 25)


@pytest.mark.parametrize(("saved_on", "resumed_on"), [(2, 1), (1, 3), (3, 2)])
def test_checkpoints_move_between_worker_counts(tmp_path, saved_on, resumed_on):
    """A checkpoint is parts of one search, not of one worker count."""
    straight = run(PaxosModel(3, 2, 1))
    first = run(PaxosModel(3, 2, 1), bounds=Bounds(max_depth=8),
                distribution=Distribution(saved_on), checkpointing=save(tmp_path))
    meta = json.loads((tmp_path / "current" / "meta.json").read_text())
    assert (meta["parts"], meta["depth"], meta["distinct"]) == (saved_on, 8, first.distinct_states)
    resumed = run(PaxosModel(3, 2, 1), distribution=Distribution(resumed_on),
                  checkpointing=resume(tmp_path))
    assert (resumed.result, resumed.distinct_states, resumed.generated_states, resumed.depth) == (
        straight.result, straight.distinct_states, straight.generated_states, straight.depth)
    assert resumed.reached == ["PAXOS-CHOSEN"]
    assert {k: c.generated for k, c in resumed.coverage.items()} == {
        k: c.generated for k, c in straight.coverage.items()}


def test_property_order_does_not_change_the_checkpoint(tmp_path):
    props = ["PAXOS-AGREEMENT", "PAXOS-CHOSEN"]
    run(PaxosModel(3, 2, 1), bounds=Bounds(max_depth=5), checkpointing=save(tmp_path),
        properties=props)
    resumed = run(PaxosModel(3, 2, 1), checkpointing=resume(tmp_path), properties=props[::-1])
    assert resumed.result == "ok"


@pytest.mark.parametrize("workers", [2, 3])
def test_resumed_on_as_many_workers_a_bounded_run_goes_on_exactly(tmp_path, workers):
    """Each worker takes back its own part, so even where max_states cuts the search
    (which states fill the store depends on who holds what) the counts are the same."""
    same = {"distribution": Distribution(workers), "storage": Storage(chunk=300)}
    straight = run(PaxosModel(3, 2, 2), bounds=Bounds(max_states=20_000), **same)
    run(PaxosModel(3, 2, 2), bounds=Bounds(max_depth=10), checkpointing=save(tmp_path), **same)
    resumed = run(PaxosModel(3, 2, 2), bounds=Bounds(max_states=20_000),
                  checkpointing=resume(tmp_path), **same)
    assert (resumed.bound, resumed.distinct_states, resumed.generated_states) == (
        "max-states", 20_000, straight.generated_states)
    assert {k: (c.generated, c.distinct) for k, c in resumed.coverage.items()} == {
        k: (c.generated, c.distinct) for k, c in straight.coverage.items()}


def test_a_hand_edited_checkpoint_is_a_usage_error_on_workers_too(tmp_path):
    run(PaxosModel(3, 2, 1), bounds=Bounds(max_depth=4), checkpointing=save(tmp_path))
    meta_path = tmp_path / "current" / "meta.json"
    meta = json.loads(meta_path.read_text())
    del meta["identity"]
    meta_path.write_text(json.dumps(meta))
    for workers in (1, 2):
        with pytest.raises(UsageError, match="damaged or unreadable"):
            run(PaxosModel(3, 2, 1), distribution=Distribution(workers),
                checkpointing=resume(tmp_path))
