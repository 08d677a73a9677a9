"""examples/twophase.py, a user's model of TwoPhase.tla, reaches exactly TLC's states.

Where each figure comes from:
- rms=3: TLC's own result on TwoPhase.cfg (RM = {r1, r2, r3}), published in
  tlaplus/Examples specifications/transaction_commit/manifest.json: 288 distinct
  states, 1146 states generated ("totalStates"), depth 11 ("stateDepth").
- rms=6: the comment that closes TwoPhase.tla ("checked with TLC for six RMs, a
  configuration with 50816 reachable states"): the distinct count only.
- rms=1, 2, 4, 5: no published TLC run. `reference` below is a second transcription
  of TwoPhase.tla, written independently of the example in another style (states as
  dicts of strings, messages as records, TPNext as guarded updates tried in turn), a
  plain BFS over whole states with TLC's counting: initial states are generated and
  at depth 1, and every enabled disjunct instance is a generated state, even one that
  leaves the state unchanged. It reproduces the published rms=3 figures, and REFERENCE
  holds what it computed for the others: 1: 12/20/5, 2: 56/154/8, 4: 1568/8258/14,
  5: 8832/58146/17 (distinct/generated/depth).
- With symmetry the count is the number of orbits of the reachable states under
  renamings of the RMs, which `orbits` computes by brute force over every permutation
  (ORBITS: 2: 34, 3: 80, 4: 166, 5: 314).
- The shortest counterexamples of the mutants are derived by hand at MUTANT_STEPS.
"""

from __future__ import annotations

import subprocess
import sys
from itertools import permutations
from pathlib import Path

import pytest

import smrcheck
from smrcheck import Options

ROOT = Path(__file__).resolve().parents[2]
MODEL = f"{ROOT / 'examples' / 'twophase.py'}:SPEC"
NO_SYMMETRY = Options(symmetry=False)


def counts(rms: int, **kw):
    r = smrcheck.check(MODEL, rms=rms, options=Options(**kw))
    assert r.result == "ok", r.violation
    return r.distinct_states, r.generated_states, r.depth


# --- an independent transcription of TwoPhase.tla -----------------------------------


def reference(n: int):
    """Every reachable state of TwoPhase.tla with n RMs, the generated count and the
    depth, by a plain BFS over whole states."""
    rms = [f"r{i}" for i in range(1, n + 1)]

    def freeze(st):
        return (tuple(sorted(st["rmState"].items())), st["tmState"],
                frozenset(st["tmPrepared"]), frozenset(st["msgs"]))

    def thaw(fz):
        return {"rmState": dict(fz[0]), "tmState": fz[1], "tmPrepared": set(fz[2]),
                "msgs": set(fz[3])}

    def prepared_msg(rm):
        return (("rm", rm), ("type", "Prepared"))

    commit_msg, abort_msg = (("type", "Commit"),), (("type", "Abort"),)

    def nxt(st):
        out = []

        def upd(**changes):
            s2 = {k: (v.copy() if hasattr(v, "copy") else v) for k, v in st.items()}
            for k, v in changes.items():
                s2[k] = v(s2[k]) if callable(v) else v
            out.append(freeze(s2))

        def with_rm(rm, value):
            return lambda f: {**f, rm: value}

        if st["tmState"] == "init" and st["tmPrepared"] == set(rms):  # TMCommit
            upd(tmState="committed", msgs=lambda m: m | {commit_msg})
        if st["tmState"] == "init":  # TMAbort
            upd(tmState="aborted", msgs=lambda m: m | {abort_msg})
        for rm in rms:
            if st["tmState"] == "init" and prepared_msg(rm) in st["msgs"]:
                upd(tmPrepared=lambda p, rm=rm: p | {rm})
            if st["rmState"][rm] == "working":
                upd(rmState=with_rm(rm, "prepared"), msgs=lambda m, rm=rm: m | {prepared_msg(rm)})
                upd(rmState=with_rm(rm, "aborted"))
            if commit_msg in st["msgs"]:
                upd(rmState=with_rm(rm, "committed"))
            if abort_msg in st["msgs"]:
                upd(rmState=with_rm(rm, "aborted"))
        return out

    init = freeze({"rmState": {rm: "working" for rm in rms}, "tmState": "init",
                   "tmPrepared": set(), "msgs": set()})
    seen, frontier, generated, depth = {init}, [init], 1, 1
    while True:
        new = []
        for fz in frontier:
            succ = nxt(thaw(fz))
            generated += len(succ)
            for t in succ:
                if t not in seen:
                    seen.add(t)
                    new.append(t)
        if not new:
            return seen, generated, depth
        frontier, depth = new, depth + 1


def orbits(states, n: int) -> int:
    """The number of classes of `states` under every renaming of the RMs."""
    rms = [f"r{i}" for i in range(1, n + 1)]

    def rename(fz, perm):
        mp = dict(zip(rms, perm))
        rm_state = tuple(sorted((mp[r], x) for r, x in fz[0]))
        msgs = sorted(tuple((k, mp[v] if k == "rm" else v) for k, v in m) for m in fz[3])
        # Sorted tuples, not frozensets: `<` on sets is inclusion, so `min` needs these.
        return rm_state, fz[1], tuple(sorted(mp[r] for r in fz[2])), tuple(msgs)

    return len({min(rename(fz, p) for p in permutations(rms)) for fz in states})


# (distinct, generated, depth) as `reference` computes them; rms=3 is also TLC's.
REFERENCE = {
    1: (12, 20, 5),
    2: (56, 154, 8),
    3: (288, 1146, 11),
    4: (1568, 8258, 14),
    5: (8832, 58146, 17),
}
# Orbits of the reachable states under renamings of the RMs, as `orbits` computes them.
ORBITS = {2: 34, 3: 80, 4: 166, 5: 314}


def test_reference_reproduces_tlc_published_figures():
    states, generated, depth = reference(3)
    assert (len(states), generated, depth) == (288, 1146, 11)


@pytest.mark.parametrize("rms", [1, 2, 4])
def test_reference_counts_are_the_pinned_ones(rms):
    states, generated, depth = reference(rms)
    assert (len(states), generated, depth) == REFERENCE[rms]


def test_matches_tlc_published_figures():
    assert counts(3, symmetry=False) == (288, 1146, 11)


@pytest.mark.parametrize("rms", [1, 2, 4])
def test_matches_second_transcription(rms):
    assert counts(rms, symmetry=False) == REFERENCE[rms]


@pytest.mark.slow
def test_matches_second_transcription_rms5():
    states, generated, depth = reference(5)
    assert (len(states), generated, depth) == REFERENCE[5]
    assert counts(5, symmetry=False) == REFERENCE[5]


@pytest.mark.slow
def test_matches_lamports_six_rm_figure():
    assert counts(6, symmetry=False)[0] == 50816


@pytest.mark.parametrize("rms", [2, 3, 4])
def test_orbits_are_the_pinned_ones(rms):
    assert orbits(reference(rms)[0], rms) == ORBITS[rms]


@pytest.mark.parametrize("rms", [2, 3, 4, 5])
def test_symmetry_counts_each_orbit_once(rms):
    distinct, _, depth = counts(rms, symmetry=True)
    assert distinct == ORBITS[rms] < REFERENCE[rms][0]
    assert depth == REFERENCE[rms][2]


# --- mutants: each breaks TCConsistent, and BFS finds the shortest run that shows it --


# Shortest counterexamples, in steps after the initial state, derived by hand:
# - commit-without-votes: TMCommit, one RM chooses to abort, another receives Commit.
# - abort-after-prepare: an RM must prepare and be counted before it takes its vote
#   back, and every RM must be counted for TMCommit: 3 prepares + 3 receipts + commit
#   + one RM receiving it + the abort = 9 (with the abort anywhere after its receipt).
# - tm-changes-its-mind: the TM must commit first (3 prepares + 3 receipts + commit),
#   then abort, then one RM hears each decision: 10.
MUTANT_STEPS = {"commit-without-votes": 3, "abort-after-prepare": 9, "tm-changes-its-mind": 10}


@pytest.mark.parametrize("mutant", sorted(MUTANT_STEPS))
def test_mutant_breaks_tc_consistent(mutant):
    r = smrcheck.check(MODEL, mutant=mutant, rms=3, options=NO_SYMMETRY)
    assert r.result == "violation"
    assert r.violation.property == "TC-CONSISTENT"
    assert len(r.violation.trace) - 1 == MUTANT_STEPS[mutant]
    assert " committed while " in r.violation.message  # names the RMs on each side


def test_violation_names_the_rms():
    r = smrcheck.check(MODEL, mutant="commit-without-votes", rms=3, options=NO_SYMMETRY)
    assert r.violation.message == "r2 committed while r1 aborted (the TM's decision: committed)"
    assert [step.action for step in r.violation.trace] == [
        None, "TMCommit", "RMChooseToAbort(r1)", "RMRcvCommitMsg(r2)"]


def test_every_mutant_is_tested():
    assert set(MUTANT_STEPS) == {m.name for m in smrcheck.load(MODEL).mutants}


@pytest.mark.parametrize("mutant", sorted(MUTANT_STEPS))
def test_symmetry_keeps_the_mutants_verdict(mutant):
    plain = smrcheck.check(MODEL, mutant=mutant, rms=3, options=NO_SYMMETRY)
    reduced = smrcheck.check(MODEL, mutant=mutant, rms=3, options=Options(symmetry=True))
    assert reduced.result == "violation"
    assert reduced.violation.property == "TC-CONSISTENT"
    assert len(reduced.violation.trace) == len(plain.violation.trace)
    assert reduced.distinct_states < plain.distinct_states


def test_goals_are_reached_and_symmetry_is_off_by_default():
    # The spec says symmetry=False: TwoPhase.cfg declares no symmetry set, so a plain
    # check counts what TLC counts, and --symmetry asks for the reduction.
    r = smrcheck.check(MODEL, rms=3)
    assert r.result == "ok"
    assert r.distinct_states == 288
    assert set(r.reached) == {"TP-COMMITTED", "TP-ABORTED"}


def test_cli_prints_tlc_figures():
    # The command as it stands: no symmetry flag, TLC's figures.
    out = subprocess.run(
        [sys.executable, "-m", "smrcheck.checker.cli", "check",
         "examples/twophase.py:SPEC", "-p", "rms=3"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "288 distinct, 1,146 generated" in out.stdout
    assert "depth         11" in out.stdout


def test_cli_symmetry_opts_in():
    out = subprocess.run(
        [sys.executable, "-m", "smrcheck.checker.cli", "check",
         "examples/twophase.py:SPEC", "-p", "rms=3", "--symmetry"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert f"{ORBITS[3]} distinct" in out.stdout and "symmetry=on" in out.stdout


def test_cli_mutant_exits_one():
    out = subprocess.run(
        [sys.executable, "-m", "smrcheck.checker.cli", "check",
         "examples/twophase.py:SPEC", "--mutant", "commit-without-votes"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1, (out.returncode, out.stderr)
    assert "TC-CONSISTENT: r2 committed while r1 aborted" in out.stdout
