"""Small runs of the real replica code conform to the models event by event
(`smrcheck validate --conformance`): the replicas were written apart from the models,
so this checks one against the other."""

from __future__ import annotations

from smrcheck.impl.simrun import build, run_to_completion


def test_multipaxos_leader_crash_and_restart_conforms(tmp_path, validate_dir):
    c = build("multipaxos", n=3, clients=1, requests=3, seed=1, trace_dir=str(tmp_path))
    c.net.run(max_time=0.01)
    c.net.crash("r0")
    c.net.run(max_time=2)
    c.net.restart("r0")
    assert run_to_completion(c)
    c.close()
    result = validate_dir(str(tmp_path), conformance=True)
    assert result.exit_code == 0 and result.conformance == "conforms", result.to_json()


def test_pbft_view_change_conforms(tmp_path, validate_dir):
    c = build("pbft", n=4, clients=2, requests=1, seed=1, trace_dir=str(tmp_path),
              byzantine={"r0": "silent"})
    assert run_to_completion(c)
    c.close()
    assert all(c.replica(r).view == 1 for r in ("r1", "r2", "r3"))
    result = validate_dir(str(tmp_path), conformance=True)
    assert result.exit_code == 0 and result.conformance == "conforms", result.to_json()
