"""Paxos's symmetry reduction is exact, and changes no verdict.

The reduction is checked, not assumed:
1. TLC's figure. With SYMMETRY over the acceptors and the values, TLC explores 17,153
   distinct states on MCPaxos with three acceptors, two values and ballots 0..2; our
   explorer with `--symmetry` must count the same.
2. A brute-force orbit count. Over every reachable state (kept whole by the reference
   explorer), applying every allowed renaming of acceptors and values by hand gives the
   classes; the explorer must count exactly as many, and the canonical form must be
   the same on a class and differ between classes. Quorum systems that only some
   renamings keep (a grid, a weighted system) are counted with just those renamings,
   found here independently from the quorums.
3. Verdicts. For every mutant, the verdict, the property violated first and the length
   of the shortest counterexample are the same with and without symmetry, and the
   symmetric counterexample replays on the concrete model.
4. The default stays TLC's plain count (`check paxos` prints 3,921 states): only
   `--symmetry` reduces.
"""

from __future__ import annotations

import json
from itertools import permutations

import pytest

import smrcheck
from smrcheck.checker.cli import main
from smrcheck.checker.search import Options, check, reachable_states, replays
from smrcheck.models.paxos.mutants import MUTANTS
from smrcheck.models.paxos.spec import SPEC, PaxosModel
from smrcheck.models.paxos.state import T1A, T1B, T2A, T2B, PaxosState
from smrcheck.models.paxos.symmetry import make_canonical, rename


def renamings(model: PaxosModel) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Every (acceptor renaming, value renaming) that keeps both phases' quorums."""
    n, k = model.n, model.n_values

    def keeps(p, quorums):
        sets = {frozenset(q) for q in quorums}
        return {frozenset(p[a] for a in q) for q in sets} == sets

    accs = [p for p in permutations(range(n))
            if keeps(p, model.quorums) and keeps(p, model.quorums2)]
    return [(p, v) for p in accs for v in permutations(range(k))]


def orbits(model: PaxosModel, states) -> set[frozenset[PaxosState]]:
    maps = renamings(model)
    return {frozenset(rename(s, p, v) for p, v in maps) for s in states}


def assert_exact(args: tuple, **kw) -> None:
    plain = PaxosModel(*args, **kw)
    sym = PaxosModel(*args, symmetry=True, **kw)
    seen = reachable_states(plain)
    classes = orbits(plain, seen)
    canon = sym.canonical
    # The same form on every member of a class, a different one for every class.
    forms = {}
    for orbit in classes:
        fs = {canon(s) for s in orbit}
        assert len(fs) == 1, "a class has two canonical forms"
        forms[fs.pop()] = orbit
    assert len(forms) == len(classes), "two classes share a canonical form"
    if sym.rules == MUTANTS.correct:
        r = check(sym, Options(symmetry=True))
        assert r.result == "ok" and r.symmetry
        assert r.distinct_states == len(classes)


# -- 1. TLC's symmetric figure ---------------------------------------------------------


def test_matches_tlc_symmetric_run_ballots_0_to_2():
    r = smrcheck.check("paxos", options=Options(symmetry=True), max_ballot=2)
    assert r.symmetry and r.result == "ok"
    assert r.distinct_states == 17153
    assert r.depth == 25  # as the plain run's: a class is reached as soon as any member


# -- 2. brute-force orbit counts -------------------------------------------------------


@pytest.mark.parametrize("args", [
    (3, 2, 1), (2, 2, 1), (3, 1, 1), (2, 2, 2),
    pytest.param((3, 3, 1), marks=pytest.mark.slow),  # 36 renamings of 6,801 states
], ids=str)
def test_orbit_count_majority(args):
    assert_exact(args)


def test_default_orbit_count_pinned():
    plain = PaxosModel(3, 2, 1)
    assert len(orbits(plain, reachable_states(plain))) == 443
    assert check(PaxosModel(3, 2, 1, symmetry=True), Options(symmetry=True)).distinct_states == 443


@pytest.mark.parametrize("quorums,size", [
    ("weighted:weights=2/1/1,threshold=3", 2),  # a1 in every quorum: only a2 <-> a3
    ("flexible:q1=3,q2=1", 6),  # thresholds: every renaming
])
def test_orbit_count_when_quorums_allow_some_renamings(quorums, size):
    model = PaxosModel(3, 2, 1, quorums=quorums)
    assert len(renamings(model)) == size * 2
    assert_exact((3, 2, 1), quorums=quorums)


@pytest.mark.slow
def test_orbit_count_grid():
    """A 2x2 grid: rows are phase-1 quorums, columns phase-2 ones, so only swapping
    rows and swapping columns keep them (4 of the 24 renamings); a transposition
    (rows <-> columns) does not."""
    model = PaxosModel(4, 1, 1, quorums="grid:rows=2,cols=2")
    assert len(renamings(model)) == 4
    assert_exact((4, 1, 1), quorums="grid:rows=2,cols=2")


# Sizes whose whole reachable space is small: two values need two acceptors at most,
# three acceptors one value (vote-below-promise's three-acceptor space is 29,449).
MUTANT_SIZES = [
    pytest.param(m, args, id=f"{m}-{args}", marks=[pytest.mark.slow]
                 if m == "vote-below-promise" and args == (3, 1, 1) else [])
    for m in sorted(MUTANTS) for args in ((2, 2, 1), (3, 1, 1))
] + [pytest.param(m, (3, 2, 1), id=f"{m}-(3, 2, 1)")
     for m in ("1b-reports-promise", "forget-vote-ballot", "ignore-1b-values",
               "strict-promise")]


@pytest.mark.parametrize("mutant,args", MUTANT_SIZES)
def test_canonical_form_exact_on_mutant_spaces(mutant, args):
    # Mutants reach states the correct model cannot (two values in a ballot, votes
    # below a promise): the form must stay exact there too.
    assert_exact(args, mutant=mutant)


def test_none_is_never_renamed():
    canon = PaxosModel(3, 2, 1, symmetry=True).canonical
    # a2 promised ballot 0 and reports no vote; a1 voted v2 in ballot 0.
    s = PaxosState((0, 0, -1), (0, -1, -1), (1, -1, -1),
                   frozenset({(T1A, 0), (T1B, 1, 0, -1, -1), (T2A, 0, 1), (T2B, 0, 0, 1)}))
    t = rename(s, (1, 0, 2), (1, 0))
    assert t.max_val == (-1, 0, -1) and (T1B, 0, 0, -1, -1) in t.msgs
    assert canon(s) == canon(t)


def test_no_symmetry_offered_where_nothing_can_be_renamed():
    assert PaxosModel(1, 1, 1, symmetry=True).canonical is None
    assert PaxosModel(1, 2, 1, symmetry=True).canonical is not None  # values still can
    assert make_canonical(3, 1, ((0, 1, 2),)) is None
    assert PaxosModel(3, 2, 1).canonical is None  # built directly: TLC's plain counts


# -- 3. the same verdicts with and without symmetry ------------------------------------


def _params(mutant: str | None) -> dict:
    params = SPEC.resolve_params([])
    if mutant is not None:
        info = next(m for m in SPEC.mutants if m.name == mutant)
        params.update(dict(info.exposed_by))
    return params


@pytest.mark.parametrize("mutant", [None, *sorted(MUTANTS)])
def test_symmetry_changes_no_verdict_nor_length(mutant):
    params = _params(mutant)
    on = smrcheck.check("paxos", mutant=mutant, options=Options(symmetry=True), **params)
    off = smrcheck.check("paxos", mutant=mutant, options=Options(symmetry=False), **params)
    assert on.symmetry and not off.symmetry
    assert on.result == off.result
    if mutant is None:
        assert on.result == off.result == "ok"
        assert on.distinct_states < off.distinct_states
        return
    assert on.result == "violation"
    assert on.violation.property == off.violation.property
    assert on.violation.kind == off.violation.kind
    assert len(on.violation.trace) == len(off.violation.trace)
    if on.violation.kind == "always":
        assert replays(SPEC.build(params, mutant), on.violation.trace)


@pytest.mark.parametrize("mutant", ["duplicate-2a", "forget-vote-ballot", "ignore-1b-values",
                                    "minority-quorums", "vote-below-promise"])
def test_agreement_alone_same_length_with_symmetry(mutant):
    """The deepest counterexamples (agreement broken, 8 to 12 steps) are shortest too."""
    lengths = []
    for sym in (True, False):
        r = check(PaxosModel(3, 2, 1, mutant, symmetry=sym),
                  Options(symmetry=sym, properties=["PAXOS-AGREEMENT"]))
        assert r.violation is not None and r.violation.property == "PAXOS-AGREEMENT"
        lengths.append(len(r.violation.trace))
    assert lengths[0] == lengths[1]


def test_grid_quorums_same_verdict():
    for quorums in ("grid:rows=2,cols=2",):
        on = check(PaxosModel(4, 1, 1, quorums=quorums, symmetry=True), Options(symmetry=True))
        off = check(PaxosModel(4, 1, 1, quorums=quorums), Options(symmetry=False))
        assert on.result == off.result == "ok" and on.depth == off.depth


# -- 4. the CLI: plain by default, reduced on request ------------------------------------


def test_default_is_tlc_plain_count_and_symmetry_opts_in(capsys):
    assert main(["check", "paxos", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["distinct_states"] == 3921 and out["symmetry"] is False
    assert main(["check", "paxos", "--symmetry", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["distinct_states"] == 443 and out["symmetry"] is True
    assert not any("symmetry" in w for w in out["warnings"])


def test_symmetry_declined_is_said(capsys):
    """One acceptor and one value: nothing to rename, so --symmetry is ignored aloud."""
    assert main(["check", "paxos", "-p", "acceptors=1", "-p", "values=1", "--symmetry",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert any("--symmetry is ignored" in w for w in out["warnings"])
    assert out["symmetry"] is False and out["distinct_states"] == 25
