"""`smrcheck prove`: the verdicts and exit codes of the README (0 proved, 1 a
counterexample to induction, 2 usage, 3 unknown), its JSON, its text and its ITF."""

from __future__ import annotations

import json

import pytest

from smrcheck.checker.cli import main


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["prove", *argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_paxos_is_proved_json(capsys):
    code, doc = run_json(capsys, "paxos")
    assert code == 0 and doc["exit_code"] == 0
    assert doc["result"] == "proved" and doc["model"] == "paxos" and doc["mutant"] is None
    assert doc["cti"] is None and doc["seconds"] < 30
    assert {tuple(q) for q in doc["queries"]} == {
        ("name", "action", "conjunct", "result", "seconds")}
    assert all(q["result"] == "proved" for q in doc["queries"])
    assert doc["queries"][-1] == {**doc["queries"][-1], "name": "Inv => PAXOS-AGREEMENT",
                                  "action": None, "conjunct": "PAXOS-AGREEMENT"}
    assert "PAXOS-2A-SAFE" in [c["name"] for c in doc["conjuncts"]]


def test_paxos_is_proved_text(capsys):
    assert main(["prove", "paxos"]) == 0
    out = capsys.readouterr().out
    assert "proved for all acceptors, values and ballots" in out
    assert "PAXOS-INV2" in out and "Inv /\\ Phase2a => PAXOS-2A-SAFE'" in out
    assert "Inv => PAXOS-AGREEMENT" in out


def test_mutant_gives_a_cti_text_and_itf(capsys, tmp_path):
    itf = tmp_path / "cti.itf.json"
    assert main(["prove", "paxos", "--mutant", "duplicate-2a", "--itf", str(itf)]) == 1
    out = capsys.readouterr().out
    assert "VIOLATION" in out and "counterexample to induction" in out
    assert "a state where Inv holds" in out and "Phase2a(b=" in out
    assert "PAXOS-ONE-2A does not hold after it" in out
    assert f"ITF trace written to {itf}" in out
    doc = json.loads(itf.read_text())
    assert doc["#meta"]["format"] == "ITF" and doc["#meta"]["mutant"] == "duplicate-2a"
    assert [s["#meta"]["index"] for s in doc["states"]] == [0, 1]
    assert doc["states"][1]["#meta"]["action"].startswith("Phase2a(")
    assert {"maxBal", "maxVBal", "maxVal", "msgs"} <= set(doc["vars"])


def test_mutant_cti_json(capsys):
    code, doc = run_json(capsys, "paxos", "--mutant", "forget-vote-ballot")
    assert code == 1 and doc["result"] == "violation"
    cti = doc["cti"]
    assert cti["query"] == "Inv /\\ Phase2b => PAXOS-INV2'"
    assert cti["action"].startswith("Phase2b(") and cti["before"] and cti["after"]
    assert any(q["result"] == "violation" and q["conjunct"] == "PAXOS-INV2"
               for q in doc["queries"])


@pytest.mark.parametrize("model", ["pbft", "examples/twophase.py:SPEC"])
def test_a_model_without_a_proof_is_a_usage_error(capsys, model):
    assert main(["prove", model]) == 2
    err = capsys.readouterr().err
    assert (f"prove: no inductive invariant for model {model} yet; models with one: "
            "paxos, multipaxos") in err


def test_usage_errors_json(capsys):
    code, doc = run_json(capsys, "pbft")
    assert code == 2 and doc["result"] == "invalid-input"
    assert main(["prove", "paxos", "--mutant", "no-such-mutant"]) == 2
    assert main(["prove", "paxos", "--itf", "/no/such/folder/x.json"]) == 2


def test_no_answer_in_time_is_unknown_never_proved(capsys):
    code, doc = run_json(capsys, "paxos", "--timeout", "0.001")
    assert code == 3 and doc["result"] == "unknown"
    assert any(q["result"] == "unknown" for q in doc["queries"])


def test_multipaxos_is_proved_json(capsys):
    code, doc = run_json(capsys, "multipaxos")
    assert code == 0 and doc["result"] == "proved" and doc["model"] == "multipaxos"
    assert doc["cti"] is None and doc["seconds"] < 30 and len(doc["queries"]) == 52
    assert all(q["result"] == "proved" for q in doc["queries"])
    assert doc["queries"][-1]["name"] == "Inv => MP-AGREEMENT"
    assert "MP-2A-SAFE" in [c["name"] for c in doc["conjuncts"]]


def test_multipaxos_mutant_cti_names_a_slot(capsys):
    assert main(["prove", "multipaxos", "--mutant", "skip-phase-1"]) == 1
    out = capsys.readouterr().out
    assert "Inv /\\ Phase2a => MP-2A-SAFE'" in out and "Phase2a(b=" in out
    assert "slot=" in out and "MP-2A-SAFE does not hold after it" in out
