"""Mutants that the default parameters cannot expose declare the smallest that do
(issue #17): the declared parameters catch the bug, the defaults pass it as OK (which
is why the declaration exists), and `check --mutant` on parameters short of them warns,
naming them. Mutants without a declaration are caught at the defaults' sizes by the
tables in the other files of this folder."""

from __future__ import annotations

import pytest

from smrcheck.checker.search import Options, check
from smrcheck.models.registry import MODELS

DECLARED = [(spec.name, m.name) for spec in MODELS.values() for m in spec.mutants
            if m.exposed_by]


def run(model: str, mutant: str, assignments: list[str]):
    spec = MODELS[model]
    params = spec.resolve_params(assignments)
    return spec, params, check(spec.build(params, mutant), Options(), name=model,
                               params=params, mutant=mutant)


def exposing(model: str, mutant: str) -> list[str]:
    info = next(m for m in MODELS[model].mutants if m.name == mutant)
    return [f"{k}={v}" for k, v in info.exposed_by]


def test_the_three_issue_17_mutants_declare_parameters():
    assert sorted(DECLARED) == [("generals", "sm-forged"), ("generals", "sm-no-relay"),
                                ("generals", "tie-own-value"),
                                ("multipaxos", "amnesiac-restart"),
                                ("multipaxos", "lowest-ballot-value"),
                                ("pbft", "unchecked-new-view")]


@pytest.mark.parametrize("model,mutant", DECLARED)
def test_declared_parameters_expose_the_mutant_without_a_warning(model, mutant):
    spec, params, r = run(model, mutant, exposing(model, mutant))
    assert r.result == "violation", r
    # (The correct model holds on these parameters: test_multipaxos_mutants.py's
    # THREE_ROUNDS and RESTART, test_pbft.py's new-primary runs.)
    assert spec.mutant_warnings(mutant, params) == []


@pytest.mark.parametrize("model,mutant", DECLARED)
def test_defaults_warn_naming_the_parameters(model, mutant):
    spec = MODELS[model]
    warnings = spec.mutant_warnings(mutant, spec.resolve_params([]))
    assert len(warnings) == 1
    assert all(f"-p {a}" in warnings[0] for a in exposing(model, mutant))


def test_larger_numbers_than_declared_do_not_warn():
    spec = MODELS["multipaxos"]
    params = spec.resolve_params(["slots=2", "max_round=4"])
    assert spec.mutant_warnings("lowest-ballot-value", params) == []
    assert spec.mutant_warnings("skip-phase-1", spec.resolve_params([])) == []


@pytest.mark.slow
@pytest.mark.parametrize("model,mutant", DECLARED)
def test_defaults_cannot_expose_the_mutant(model, mutant, slow_size):
    if model == "multipaxos" and slow_size != "full":
        pytest.skip("the multipaxos default space (111,513 states) per mutant runs with "
                    "SMRCHECK_SLOW_SIZE=full")
    _, _, r = run(model, mutant, [])
    assert r.result == "ok"


def test_models_json_has_the_parameters(capsys):
    import json

    from smrcheck.checker.cli import main

    assert main(["models", "--json"]) == 0
    models = {m["name"]: m for m in json.loads(capsys.readouterr().out)}
    mutants = {m["name"]: m for m in models["pbft"]["mutants"]}
    assert mutants["unchecked-new-view"]["exposed_by"] == {"byzantine": "new-primary"}
    assert mutants["client-first-reply"]["exposed_by"] == {}
