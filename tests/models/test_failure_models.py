"""The failure model as a parameter (`-p faults=crash|omission|byzantine -p faulty=K`).

What the ladder of failure models predicts, pinned: Paxos and MultiPaxos with three
acceptors (n = 2f + 1, f = 1) keep agreement under one crash and under one
omission-faulty acceptor, and lose it with one Byzantine acceptor, whose vote counts
in two quorums of two that meet in it alone. Each verdict is checked through the CLI
(exit codes 1, 0, 0, as the issue asks) and through `check`, with the shortest
counterexample's length and its explanation pinned; the defaults (faults=crash,
faulty=0) change no count; the symmetry reductions keep faulty and correct acceptors
apart and give the same verdicts and lengths as the plain runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from itertools import permutations

import pytest

from smrcheck.checker.errors import UsageError
from smrcheck.checker.search import Options, check, reachable_states, replays
from smrcheck.models.multipaxos.messages import NOOP
from smrcheck.models.multipaxos.spec import SPEC as MP_SPEC
from smrcheck.models.multipaxos.spec import MultiPaxosModel
from smrcheck.models.multipaxos.state import MPState, rename
from smrcheck.models.paxos.faults import TOP
from smrcheck.models.paxos.spec import PaxosModel
from smrcheck.models.paxos.symmetry import rename as paxos_rename

NONE = -1


def cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "smrcheck.checker.cli", *argv],
                          capture_output=True, text=True, timeout=120)


def steps(r) -> int:
    return len(r.violation.trace) - 1


# --- Paxos (Paxos.tla, 3 acceptors, 2 values, ballots 0..1) --------------------------

# faults -> (result, distinct, generated, depth) with faulty=1, no symmetry; the
# fault-free model has TLC's 3,921 distinct states, 23,467 generated, depth 17.
PAXOS = {
    "crash": ("ok", 15684, 91468, 18),
    "omission": ("ok", 4737, 28617, 17),
    "byzantine": ("violation", 521, 2019, 9),
}

# The shortest counterexample with one Byzantine acceptor (a3): two quorums of two,
# {a2, a3} in ballot 0 and {a1, a3} in ballot 1, meet only in the liar, whose 2bs
# count in both and whose 1b for ballot 1 reports a vote for v2 in ballot 0.
BYZANTINE_TRACE = [
    "Phase1a(b=0)",
    "Phase1a(b=1)",
    "Phase1b(a=a1, on 1a bal=0)",
    "Phase2a(b=0, v=v1, Q={a1, a3})",
    "Phase1b(a=a1, on 1a bal=1)",
    "Phase2a(b=1, v=v2, Q={a1, a3})",
    "Phase2b(a=a1, on 2a bal=1 val=v2)",
    "Phase2b(a=a2, on 2a bal=0 val=v1)",
]


def paxos(faults: str = "crash", faulty: int = 0, **kw) -> PaxosModel:
    return PaxosModel(3, 2, 1, faults=faults, faulty=faulty, symmetry=True, **kw)


@pytest.mark.parametrize("faults", sorted(PAXOS))
def test_paxos_verdicts_via_check(faults):
    result, distinct, generated, depth = PAXOS[faults]
    r = check(paxos(faults, 1), Options(symmetry=False))
    assert (r.result, r.distinct_states, r.generated_states, r.depth) == PAXOS[faults]
    if result == "ok":
        assert r.reached == ["PAXOS-CHOSEN"]
    else:
        assert (r.violation.property, steps(r)) == ("PAXOS-AGREEMENT", 8)


@pytest.mark.parametrize("faults,code", [("byzantine", 1), ("omission", 0), ("crash", 0)])
def test_paxos_verdicts_via_the_cli(faults, code):
    r = cli("check", "paxos", "-p", f"faults={faults}", "-p", "faulty=1", "--json")
    assert r.returncode == code, r.stderr
    out = json.loads(r.stdout)
    assert out["params"]["faults"] == faults
    if code:
        assert out["violation"]["property"] == "PAXOS-AGREEMENT"
        assert len(out["violation"]["trace"]) - 1 == 8
        assert "meet only in a3, which is Byzantine" in out["violation"]["message"]


def test_paxos_crash_alone_is_the_default():
    r = cli("check", "paxos", "-p", "faults=crash")
    assert r.returncode == 0, r.stderr
    assert "3,921 distinct" in r.stdout


def test_the_byzantine_counterexample_names_the_lie_and_the_quorums():
    r = check(paxos("byzantine", 1), Options(symmetry=False))
    assert [s.action for s in r.violation.trace[1:]] == BYZANTINE_TRACE
    assert replays(paxos("byzantine", 1), r.violation.trace)
    assert r.violation.message == (
        "two values chosen: v1 in ballot 0 by {a2, a3}; v2 in ballot 1 by {a1, a3}. "
        "The quorums meet only in a3, which is Byzantine: its 2bs count for v1 in "
        "ballot 0 and for v2 in ballot 1, and its 1b for ballot 1 reported <<0, v2>>, "
        "a vote for v2 in ballot 0 that no 2a proposed (a correct acceptor would have "
        "reported its vote for v1 in ballot 0, and ballot 1 could then only propose v1)")
    # Checking agreement alone finds the same counterexample.
    alone = check(paxos("byzantine", 1), Options(symmetry=False, properties=["PAXOS-AGREEMENT"]))
    assert [s.action for s in alone.violation.trace[1:]] == BYZANTINE_TRACE
    # The liar's messages are shown once, apart; its maxBal says what it is.
    first = r.violation.trace[0].state
    assert first["msgs"] == () and len(first["lies"]) == 4 + 4
    assert first["maxBal"]["a3"] == "byzantine"


def test_four_acceptors_do_not_make_paxos_byzantine_tolerant():
    # n = 3f + 1 makes two quorums of three meet in a correct acceptor, but Paxos's
    # leader trusts the highest report: the liar claims a vote for v2 in ballot 0
    # beside a2's real vote for v1 there, and ballot 1 may propose v2. A correct
    # acceptor's vote is then unsafe (VotesSafe, 10 steps), then two values are chosen.
    model = PaxosModel(4, 2, 1, faults="byzantine", faulty=1)
    r = check(model, Options())
    assert (r.violation.property, steps(r)) == ("PAXOS-VOTES-SAFE", 10)
    r = check(model, Options(properties=["PAXOS-AGREEMENT"]))
    assert (r.violation.property, steps(r)) == ("PAXOS-AGREEMENT", 12)
    assert r.violation.message == (
        "two values chosen: v1 in ballot 0 by {a2, a3, a4}; v2 in ballot 1 by "
        "{a1, a2, a4}. The quorums meet in {a2, a4}, and Byzantine a4's 1b for ballot 1 "
        "reported <<0, v2>>, a vote for v2 in ballot 0 that no 2a proposed: ballot 1's "
        "leader read it beside correct a2's report of its vote for v1, a vote no higher, "
        "so it could propose v2")


@pytest.mark.parametrize("faults", ["crash", "omission", "byzantine"])
def test_no_faulty_acceptor_changes_nothing(faults):
    r = check(paxos(faults, 0), Options(symmetry=False))
    assert (r.result, r.distinct_states, r.generated_states, r.depth) == ("ok", 3921, 23467, 17)


@pytest.mark.parametrize("faults", sorted(PAXOS))
def test_paxos_symmetry_gives_the_same_verdict_and_length(faults):
    plain = check(paxos(faults, 1), Options(symmetry=False))
    reduced = check(paxos(faults, 1), Options(symmetry=True))
    assert reduced.result == plain.result
    assert reduced.distinct_states < plain.distinct_states
    if plain.violation:
        assert (reduced.violation.property, steps(reduced)) == ("PAXOS-AGREEMENT", 8)


def paxos_orbit(s, fixed: frozenset[int]):
    return min(
        (t.max_bal, t.max_vbal, t.max_val, tuple(sorted(t.msgs)))
        for acc in permutations(range(3)) if {acc[a] for a in fixed} == fixed
        for val in permutations(range(2))
        for t in [paxos_rename(s, acc, val)]
    )


@pytest.mark.parametrize("faults", sorted(PAXOS))
def test_paxos_symmetry_counts_the_classes_that_keep_the_faulty_apart(faults):
    # Crashes are a budget (any acceptor), so every renaming is a symmetry; omission
    # and Byzantine faults are a3's, which no renaming may move.
    # Two ballots where a liar has lies to tell (the crash space is larger: one).
    model = PaxosModel(3, 2, 0 if faults == "crash" else 1, faults=faults, faulty=1,
                       symmetry=True)
    states = reachable_states(model)
    fixed = frozenset() if faults == "crash" else frozenset({2})
    classes = {paxos_orbit(s, fixed) for s in states}
    # Exhaustive (agreement breaks under byzantine): a property that holds throughout.
    whole = Options(symmetry=True, properties=["PAXOS-INV2"], goals=False)
    assert check(model, whole).distinct_states == len(classes)


def test_a_liar_takes_no_step_and_every_invariant_holds_at_the_start():
    model = paxos("byzantine", 1)
    s = model.init_states()[0]
    assert all(m[1] == 2 for m in s.msgs)  # every lie under its own name
    assert all(a[1] != 2 for a in model.actions(s) if a[0] in ("Phase1b", "Phase2b"))
    assert all(p.holds(s) for p in model.properties() if p.kind == "always")
    assert s.max_bal[2] == TOP


def test_a_crashed_acceptor_takes_no_step():
    model = paxos("crash", 1)
    s = model.init_states()[0]
    s = model.next_state(s, ("Phase1a", 0))
    assert ("Crash", 0) in model.actions(s)
    t = model.next_state(s, ("Crash", 0))
    acts = model.actions(t)
    assert not any(a[0] in ("Phase1b", "Phase2b", "Crash") and a[1] == 0 for a in acts)
    assert not any(a[0] == "Crash" for a in acts)  # the budget is spent
    assert model.format_action(("Crash", 0)) == "Crash(a=a1)"
    assert model.describe(t)["maxBal"]["a1"] == "crashed"


def test_omission_loses_only_the_faulty_acceptors_1b():
    model = paxos("omission", 1)
    s = model.next_state(model.init_states()[0], ("Phase1a", 0))
    acts = model.actions(s)
    assert ("Phase1bLost", 2, 0) in acts and ("Phase1bLost", 1, 0) not in acts
    t = model.next_state(s, ("Phase1bLost", 2, 0))
    assert t.max_bal[2] == 0 and t.msgs == s.msgs
    assert model.format_action(("Phase1bLost", 2, 0)) == "Phase1b(a=a3, on 1a bal=0), its 1b lost"
    # Every fault-free state is one where nothing was lost.
    assert reachable_states(paxos()) < reachable_states(model)


# property -> (mutant, max_ballot, steps alone with one Byzantine acceptor): the
# invariants restricted to the correct acceptors still catch a correct acceptor or
# leader that breaks a rule (the restriction leaves out only the liar's messages).
RESTRICTED = {
    "PAXOS-ONE-VALUE-PER-BALLOT": ("duplicate-2a", 1, 6),
    "PAXOS-VOTES-SAFE": ("ignore-1b-values", 1, 8),
    "PAXOS-INV3-1B": ("1b-reports-promise", 1, 4),
    "PAXOS-INV2": ("forget-vote-ballot", 2, 4),
}


@pytest.mark.parametrize("prop", sorted(RESTRICTED))
def test_restricted_invariants_still_catch_a_correct_acceptors_lie(prop):
    mutant, max_ballot, n = RESTRICTED[prop]
    model = PaxosModel(3, 2, max_ballot, mutant=mutant, faults="byzantine", faulty=1)
    r = check(model, Options(properties=[prop]))
    assert (r.violation.property, steps(r)) == (prop, n)


def test_paxos_bad_fault_parameters_are_usage_errors():
    r = cli("check", "paxos", "-p", "faults=foo")
    assert r.returncode == 2
    assert "must be one of crash, omission, byzantine" in r.stderr
    r = cli("check", "paxos", "-p", "faults=byzantine", "-p", "faulty=4")
    assert r.returncode == 2
    assert "at most the number of acceptors (3)" in r.stderr
    assert "Traceback" not in r.stderr


# --- MultiPaxos ------------------------------------------------------------------

# (replicas, slots, max_round, commands, crashes, recovery): one slot, two ballots,
# two commands, the smallest configuration where a second ballot can undo a choice.
SMALL = (3, 1, 2, 2, 0, "none")

# faults -> (distinct states with symmetry, depth), on SMALL with faulty=1.
MP_HOLDS = {
    "crash": (8965, 17),
    "omission": (6039, 16),
}


def mp(faults: str = "crash", faulty: int = 0, cfg=SMALL, **kw) -> MultiPaxosModel:
    return MultiPaxosModel(*cfg, faults=faults, faulty=faulty, **kw)


@pytest.mark.parametrize("faults", sorted(MP_HOLDS))
def test_multipaxos_survives_one_crash_or_one_omission_faulty_replica(faults):
    distinct, depth = MP_HOLDS[faults]
    r = check(mp(faults, 1), Options(symmetry=True))
    assert r.result == "ok", r.violation
    assert r.reached == ["MP-ALL-EXECUTED"]
    assert (r.distinct_states, r.depth) == (distinct, depth)


def test_faulty_crash_is_the_crash_budget():
    a = check(mp("crash", 1), Options(symmetry=True))
    b = check(MultiPaxosModel(*SMALL[:4], crashes=1), Options(symmetry=True))
    assert (a.distinct_states, a.generated_states) == (b.distinct_states, b.generated_states)


@pytest.mark.parametrize("faults", ["crash", "omission", "byzantine"])
def test_no_faulty_replica_changes_nothing(faults):
    r = check(mp(faults, 0), Options(symmetry=True))
    assert (r.result, r.distinct_states, r.depth) == ("ok", 1784, 16)


@pytest.mark.parametrize("symmetry", [True, False])
def test_one_byzantine_replica_breaks_multipaxos(symmetry):
    # A liar misleads a new leader first (MP-CHOSEN-STABLE, at the 2a), then a
    # correct replica's accept completes a second quorum with the liar's vote.
    r = check(mp("byzantine", 1), Options(symmetry=symmetry))
    assert (r.violation.property, steps(r)) == ("MP-CHOSEN-STABLE", 6)
    r = check(mp("byzantine", 1), Options(symmetry=symmetry, properties=["MP-AGREEMENT"]))
    assert (r.violation.property, steps(r)) == ("MP-AGREEMENT", 7)
    assert replays(mp("byzantine", 1), r.violation.trace)
    msg = r.violation.message
    assert msg.startswith("two values chosen in slot 0: c0 in ballot (1,r0) by {r1, r2}; "
                          "c1 in ballot (2,r0) by {r0, r2}.")
    assert "meet only in Byzantine r2" in msg


def test_the_byzantine_counterexample_reads_like_the_paper():
    r = check(mp("byzantine", 1), Options(symmetry=True, properties=["MP-AGREEMENT"]))
    assert [s.action for s in r.violation.trace[1:]] == [
        "Prepare(r0, b=1)",
        "Lead(r0, Q={r0, r2}, re-propose=[])",
        "Propose(r0, c0)",
        "Prepare(r0, b=2)",
        "Lead(r0, Q={r0, r2}, re-propose=[c1])",  # r2's 1b reports a vote for c1
        "Accept(r0, b=2, slot=0, c1)",
        "Accept(r1, b=1, slot=0, c0)",
    ]
    # The lies are shown once, apart from what the correct replicas send.
    first = r.violation.trace[0].state
    assert first["msgs"] == () and len(first["lies"]) == 5 + 6


def test_a_liar_takes_no_step_and_keeps_no_promise():
    model = mp("byzantine", 1)
    s = model.init_states()[0]
    assert all(m[1] == 2 for m in s.msgs)  # every lie is under its own name
    seen = {a[1] for t in [s] for a in model.actions(t)}
    assert 2 not in seen
    # MP-PROMISE speaks of the correct replicas: the liar "promised" every ballot.
    assert all(p.holds(s) for p in model.properties() if p.kind == "always")


def test_omission_loses_only_the_faulty_replicas_messages():
    model = mp("omission", 1)
    s = model.init_states()[0]
    s = model.next_state(s, ("Prepare", 0, 0))
    acts = model.actions(s)
    assert ("PromiseLost", 2, 0) in acts and ("Promise", 2, 0) in acts
    assert ("PromiseLost", 1, 0) not in acts and ("Promise", 1, 0) in acts
    t = model.next_state(s, ("PromiseLost", 2, 0))
    assert t.max_bal[2] == 0 and t.msgs == s.msgs
    assert model.format_action(("PromiseLost", 2, 0)) == "Promise(r2, b=1) (its 1b lost)"


def test_omission_contains_the_fault_free_space():
    # Every fault-free behaviour is one where the faulty replica loses nothing.
    cfg = (3, 1, 1, 2, 0, "none")
    plain = reachable_states(mp("crash", 0, cfg))
    lossy = reachable_states(mp("omission", 1, cfg))
    assert plain < lossy


def orbit_key(s: MPState, network, fixed: frozenset[int]):
    """A symmetry class by brute force: the least image under the renamings of the
    commands and of the replicas that keep the faulty ones faulty."""
    return min(
        tuple(t[:9]) + (tuple(sorted(t.msgs)), t.net)
        for rho in permutations(range(3)) if {rho[r] for r in fixed} == fixed
        for pi in permutations(range(2))
        for t in [rename(s, rho, (NOOP, NONE) + pi, network)]
    )


@pytest.mark.parametrize("faults,network", [("omission", "sent-set"), ("byzantine", "sent-set"),
                                            ("omission", "fifo")])
def test_symmetry_keeps_faulty_replicas_apart(faults, network):
    # Two ballots where the liar has lies to tell; one where omission's space is small.
    cfg = SMALL if faults == "byzantine" else (3, 1, 1, 2, 0, "none")
    model = mp(faults, 1, cfg, network=network)
    states = reachable_states(model)
    # Exhaustive (agreement breaks under byzantine): a property that holds throughout.
    whole = dict(properties=["MP-VALIDITY"], goals=False)
    assert check(model, Options(symmetry=False, **whole)).distinct_states == len(states)
    classes = {orbit_key(s, model.network, frozenset({2})) for s in states}
    assert check(model, Options(symmetry=True, **whole)).distinct_states == len(classes)


def test_multipaxos_bad_fault_parameters_are_usage_errors():
    with pytest.raises(UsageError, match="crash, omission, byzantine"):
        MP_SPEC.resolve_params(["faults=foo"])
    with pytest.raises(UsageError, match="at most the number of replicas"):
        mp("omission", 4)
    with pytest.raises(UsageError, match="crash budget"):
        MultiPaxosModel(*SMALL[:4], crashes=2, faults="crash", faulty=1)
    with pytest.raises(UsageError, match="sent-set"):
        mp("byzantine", 1, network="bag")


# --- smrcheck models ------------------------------------------------------------------


def test_models_says_which_failures_each_protocol_tolerates():
    r = cli("models", "--json")
    assert r.returncode == 0, r.stderr
    tolerates = {m["name"]: m["tolerates"] for m in json.loads(r.stdout)}
    assert tolerates["paxos"].startswith("crash and omission faults of f acceptors with "
                                         "n = 2f + 1")
    assert "not Byzantine" in tolerates["paxos"]
    assert tolerates["multipaxos"].startswith("crash and omission faults of f replicas")
    assert tolerates["pbft"].startswith("Byzantine faults of f replicas with n >= 3f + 1")
    text = cli("models").stdout
    assert "tolerates: Byzantine faults of f replicas" in text
