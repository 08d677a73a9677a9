"""The Byzantine Generals model reaches the paper's verdicts (Lamport, Shostak and Pease,
TOPLAS 1982), and its OM(m) decides what the paper's recursion decides.

Evidence, from the strongest:
1. An independent transcription of OM(m) as the paper writes it (a recursive function,
   every message of every call sent, every traitor message a free choice, all choices
   enumerated) gives, for every small configuration, exactly the set of (traitors,
   order, decisions) outcomes that the model's decided states hold; so does one of
   SM(m) whose adversary sends any subset of what it can sign, received in any order.
2. The paper's results: OM(m) holds with more than 3m generals and fails with 3m
   (three generals and one traitor; six and two), and SM(m) holds for any number of
   generals. The three-general counterexamples are the paper's Figures 1 and 2.
3. Symmetry reduction is exact: the canonical forms of the unreduced space number the
   states of the reduced one.
"""

from __future__ import annotations

import json
from itertools import combinations, permutations, product

import pytest

from smrcheck.checker.cli import main
from smrcheck.checker.errors import UsageError
from smrcheck.checker.search import Options, check, reachable_states, replays
from smrcheck.models.generals.spec import SPEC, GeneralsOM, GeneralsSM
from smrcheck.models.generals.state import ATTACK, RETREAT, OMFrame, OMState, SMState
from smrcheck.models.generals.symmetry import om_canonical, sm_canonical

NONE = -1


def figures(model, **options) -> tuple:
    r = check(model, Options(**options))
    return r.result, r.distinct_states, r.generated_states, r.depth


# -- 1. an independent transcription of OM(m) ------------------------------------------


def majority(values: list[int]) -> int:
    return ATTACK if 2 * values.count(ATTACK) > len(values) else RETREAT


def om_decisions(n: int, traitors: set[int], order: int, m: int, choices) -> tuple:
    """The paper's OM(m), with each traitor message to a loyal lieutenant taken from
    `choices` in turn."""

    def call(path: tuple[int, ...], k: int, value: int) -> dict[int, int]:
        lieutenants = [i for i in range(1, n) if i not in path]
        got = {i: value if path[-1] not in traitors else next(choices)
               for i in lieutenants if i not in traitors}
        if k == 0:
            return got
        sub = {j: call(path + (j,), k - 1, got.get(j, NONE)) for j in lieutenants}
        return {i: majority([got[i]] + [sub[j][i] for j in lieutenants if j != i])
                for i in got}

    decided = call((0,), m, order)
    return tuple(decided.get(i, NONE) if i else NONE for i in range(n))


class Counting:
    """Choices that are all RETREAT, counted."""

    def __init__(self) -> None:
        self.taken = 0

    def __iter__(self):
        return self

    def __next__(self) -> int:
        self.taken += 1
        return RETREAT


def reference_outcomes(n: int, max_traitors: int, m: int) -> set[tuple]:
    out = set()
    for k in range(max_traitors + 1):
        for group in combinations(range(n), k):
            traitors = set(group)
            for order in ((NONE,) if 0 in traitors else (RETREAT, ATTACK)):
                counter = Counting()  # how many choices a run takes (the same for all)
                om_decisions(n, traitors, order, m, counter)
                for picks in product((RETREAT, ATTACK), repeat=counter.taken):
                    out.add((frozenset(traitors), order,
                             om_decisions(n, traitors, order, m, iter(picks))))
    return out


def model_outcomes(n: int, max_traitors: int, m: int, mutant: str | None = None
                   ) -> set[tuple]:
    states = reachable_states(GeneralsOM(n, max_traitors, m, mutant, symmetry=False))
    return {(frozenset(g for g in range(n) if s.traitors >> g & 1), s.order, s.decision)
            for s in states if s.decided}


@pytest.mark.parametrize("config", [(3, 1, 1), (3, 2, 1), (4, 1, 1), (4, 2, 1), (4, 1, 2),
                                    (5, 1, 1)])
def test_om_decides_what_the_papers_recursion_decides(config):
    assert model_outcomes(*config) == reference_outcomes(*config)


@pytest.mark.slow
@pytest.mark.parametrize("config,seconds", [((5, 2, 2), "4-10"), ((5, 1, 3), "45-90")])
def test_om_decides_what_the_recursion_decides_deeper(config, seconds, slow_size):
    if config[2] > 2 and slow_size != "full":
        pytest.skip(f"OM({config[2]}) on {config[0]} generals: the reference enumerates "
                    f"every traitor choice ({seconds} s); SMRCHECK_SLOW_SIZE=full")
    assert model_outcomes(*config) == reference_outcomes(*config)


@pytest.mark.parametrize("mutant", ["no-relay", "ignore-own-value"])
def test_the_om_comparison_can_fail(mutant):
    assert model_outcomes(4, 1, 1, mutant) != reference_outcomes(4, 1, 1)


def test_the_reference_sees_the_papers_failure():
    """The transcription is no copy of the model's mistakes: three generals split."""
    outcomes = reference_outcomes(3, 1, 1)
    assert (frozenset({2}), ATTACK, (NONE, RETREAT, NONE)) in outcomes


# -- and of SM(m) ---------------------------------------------------------------------


def sm_reference_outcomes(n: int, max_traitors: int, m: int) -> set[tuple]:
    """SM(m) as §4 writes it, with the adversary written differently from the model's:
    in each round the traitors send any subset of the messages they can sign (any
    chain, commander first and a traitor last, whose every loyal signer's prefix they
    hold, prefixes of what they hold included), and every lieutenant takes its
    messages in any order."""
    out = set()
    for k in range(max_traitors + 1):
        for group in combinations(range(n), k):
            traitors = frozenset(group)
            for order in ((NONE,) if 0 in traitors else (RETREAT, ATTACK)):
                out |= sm_runs(n, m, traitors, order)
    return out


def signable(n: int, traitors: frozenset, k: int, known: frozenset) -> list[tuple]:
    held = {(v, c[:j]) for v, c in known for j in range(1, len(c) + 1)}
    return [(v, chain) for rest in permutations(range(1, n), k) for chain in [(0,) + rest]
            if chain[-1] in traitors for v in (RETREAT, ATTACK)
            if all(g in traitors or (v, chain[:j + 1]) in held for j, g in enumerate(chain))]


def sm_runs(n: int, m: int, traitors: frozenset, order: int) -> set[tuple]:
    loyal = [i for i in range(1, n) if i not in traitors]
    out, seen = set(), set()
    signed0 = {(r, order, (0,)) for r in range(1, n)} if order != NONE else set()
    stack = [(0, (frozenset(),) * n,
              frozenset((v, c) for r, v, c in signed0 if r in traitors),
              frozenset(x for x in signed0 if x[0] not in traitors))]
    while stack:
        key = stack.pop()
        if key in seen:
            continue
        seen.add(key)
        k, sets, known, loyal_msgs = key
        if k > m:
            out.add((traitors, order, tuple(
                (min(sets[i]) if len(sets[i]) == 1 else RETREAT) if i in loyal else NONE
                for i in range(n))))
            continue
        options = [(r, v, c) for v, c in signable(n, traitors, k, known) for r in loyal
                   if r not in c]
        for size in range(len(options) + 1):
            for sent in combinations(options, size):
                inbox = set(loyal_msgs) | set(sent)
                for takes in product(*(permutations(sorted(x for x in inbox if x[0] == r))
                                       for r in loyal)):
                    new, relays = list(sets), []
                    for r, v, c in (x for take in takes for x in take):
                        if v not in new[r]:
                            new[r] |= {v}
                            if k < m:
                                relays += [(q, v, c + (r,)) for q in range(1, n)
                                           if q not in c + (r,)]
                    stack.append((k + 1, tuple(new),
                                  known | {(v, c) for q, v, c in relays if q in traitors},
                                  frozenset(x for x in relays if x[0] not in traitors)))
    return out


def sm_model_outcomes(n: int, max_traitors: int, m: int, mutant: str | None = None
                      ) -> set[tuple]:
    states = reachable_states(GeneralsSM(n, max_traitors, m, mutant, symmetry=False))
    return {(frozenset(g for g in range(n) if s.traitors >> g & 1), s.order, s.decision)
            for s in states if s.round == m + 2}


@pytest.mark.parametrize("config", [(3, 1, 1), (4, 1, 1), (3, 2, 1), (4, 2, 1), (4, 2, 2)])
def test_sm_decides_what_the_papers_algorithm_decides(config):
    assert sm_model_outcomes(*config) == sm_reference_outcomes(*config)


@pytest.mark.parametrize("mutant", ["sm-forged", "sm-no-relay"])
def test_the_sm_comparison_can_fail(mutant):
    assert sm_model_outcomes(4, 1, 1, mutant) != sm_reference_outcomes(4, 1, 1)


def test_the_sm_reference_sees_a_split():
    """SM(1) against two traitors: a lieutenant's late order splits the loyal ones."""
    assert any(len({d for d in dec if d != NONE}) == 2
               for _, _, dec in sm_reference_outcomes(4, 2, 1))


# -- 2. the paper's verdicts -----------------------------------------------------------


def test_default_configuration_holds_exhaustively():
    # OM(1), four generals, at most one traitor (pinned from runs of this model).
    assert figures(GeneralsOM()) == ("ok", 47, 63, 6)
    r = check(GeneralsOM(), Options())
    assert r.unreached == [] and set(r.reached) == {
        "GENERALS-DECIDED", "GENERALS-TRAITOR-COMMANDER-DECIDED",
        "GENERALS-TRAITOR-LIEUTENANT-DECIDED"}
    assert set(r.coverage) == {"Order", "Relay", "Decide"}


def test_three_generals_figure_1_a_traitor_lieutenant_breaks_ic2():
    """§2, Figure 1: the commander is loyal and orders attack; traitor L2 tells L1
    "he said retreat"; L1 holds attack and retreat, a tie, and retreats."""
    model = GeneralsOM(3, 1)
    r = check(model, Options(properties=["GENERALS-IC2"]))
    assert r.result == "violation" and r.violation.property == "GENERALS-IC2"
    trace = r.violation.trace
    assert len(trace) - 1 == 4
    assert replays(model, trace)
    first, last = trace[0].state, trace[-1].state
    assert list(first["traitors"]) == ["L2"] and first["order"] == "attack"
    assert [s.action for s in trace[1:]] == [
        "Order: the commander orders attack",
        "Relay(L1): L1 relays attack, the value it received",
        "Relay(L2): traitor L2 sends L1 retreat",
        "Decide: each loyal lieutenant obeys the majority"]
    assert dict(last["decision"]) == {"L1": "retreat"}
    assert r.violation.message == ("the loyal commander ordered attack but loyal L1 obeys "
                                   "retreat")


def test_three_generals_ic1_holds_only_by_the_common_default():
    """Figure 2 (a traitorous commander tells L1 attack and L2 retreat) does not split
    OM(1)'s lieutenants: both hold one attack and one retreat and both take the
    default. The mutant that breaks the tie by the commander's own message instead,
    the one way to make L1 obey in Figure 1, splits them
    (tests/mutants/test_generals_mutants.py)."""
    assert figures(GeneralsOM(3, 1), properties=["GENERALS-IC1"]) == ("ok", 35, 40, 5)


def test_seven_generals_two_traitors_om2_holds():
    assert figures(GeneralsOM(7, 2)) == ("ok", 1477, 4176, 39)


def test_six_generals_two_traitors_om2_fails():
    for prop in ("GENERALS-IC1", "GENERALS-IC2"):
        r = check(GeneralsOM(6, 2), Options(properties=[prop]))
        assert r.violation.property == prop
        assert len(r.violation.trace) - 1 == 27
        assert replays(GeneralsOM(6, 2), r.violation.trace)


def test_om_with_m_below_the_traitors_fails():
    """OM(1) with two traitors, even among seven generals."""
    r = check(GeneralsOM(7, 2, 1), Options())
    assert r.violation.property == "GENERALS-IC1" and len(r.violation.trace) - 1 == 8


@pytest.mark.parametrize("n,traitors,pinned", [
    (3, 1, ("ok", 48, 67, 6)),   # three generals: impossible orally, fine with signatures
    (4, 1, ("ok", 68, 143, 8)),
    (4, 2, ("ok", 246, 399, 9)),  # SM(2) with two traitors among four
    (5, 2, ("ok", 722, 1721, 11)),
])
def test_signed_messages_hold_for_any_number_of_generals(n, traitors, pinned):
    assert figures(GeneralsSM(n, traitors)) == pinned


def test_sm_with_m_below_the_traitors_fails():
    """SM(1) against a traitorous commander and a traitorous lieutenant: the
    lieutenant hands L1 a second order in the last round, too late to relay."""
    r = check(GeneralsSM(4, 2, 1), Options())
    assert r.violation.property == "GENERALS-IC1" and len(r.violation.trace) - 1 == 4
    assert replays(GeneralsSM(4, 2, 1), r.violation.trace)


# -- 3. symmetry -----------------------------------------------------------------------


@pytest.mark.parametrize("config", [(4, 1, 1), (5, 2, 2),
                                    pytest.param((6, 2, 2), marks=pytest.mark.slow)])
def test_om_symmetry_is_exact(config):
    plain = reachable_states(GeneralsOM(*config, symmetry=False))
    assert len({om_canonical(s) for s in plain}) == check(
        GeneralsOM(*config), Options()).distinct_states
    # Fingerprints do not collide on the full space (DESIGN.md).
    assert len({hash(s) for s in plain}) == len(plain)


@pytest.mark.parametrize("config", [(3, 1, 1), (4, 2, 2)])
def test_sm_symmetry_is_exact(config):
    plain = reachable_states(GeneralsSM(*config, symmetry=False))
    assert len({sm_canonical(config[0])(s) for s in plain}) == check(
        GeneralsSM(*config), Options()).distinct_states
    assert len({hash(s) for s in plain}) == len(plain)


def renamed(s, new: tuple[int, ...]):
    """`s` with general g renamed new[g] (the commander stays 0)."""
    n = len(s.decision)
    old = [new.index(g) for g in range(n)]
    traitors = sum(1 << new[g] for g in range(n) if s.traitors >> g & 1)
    decision = tuple(s.decision[old[g]] for g in range(n))
    if isinstance(s, OMState):
        frames = tuple(OMFrame(tuple(f.received[old[g]] for g in range(n)),
                               tuple(f.attacks[old[g]] for g in range(n)),
                               sum(1 << new[g] for g in range(n) if f.done >> g & 1))
                       for f in s.frames)
        return OMState(traitors, s.order, tuple(new[g] for g in s.path), frames, decision,
                       s.decided)
    return SMState(traitors, s.order, s.round, tuple(s.values[old[g]] for g in range(n)),
                   frozenset((new[r], v, tuple(new[g] for g in c)) for r, v, c in s.inbox),
                   frozenset((v, tuple(new[g] for g in c)) for v, c in s.known), decision)


@pytest.mark.parametrize("model", [GeneralsOM(5, 2, 2, symmetry=False),
                                   GeneralsSM(4, 2, 2, symmetry=False)],
                         ids=["om", "sm"])
def test_canonical_forms_are_the_same_for_renamed_states(model):
    n = model.setup.n
    canonical = om_canonical if isinstance(model, GeneralsOM) else sm_canonical(n)
    renamings = [(0, *p) for p in permutations(range(1, n))]
    for k, s in enumerate(sorted(reachable_states(model))):
        new = renamings[k % len(renamings)]
        assert canonical(renamed(s, new)) == canonical(s)


def test_unreduced_runs_agree():
    assert figures(GeneralsOM(4, 1, symmetry=False)) == ("ok", 101, 125, 6)
    assert figures(GeneralsSM(3, 1, symmetry=False)) == ("ok", 70, 99, 6)


@pytest.mark.slow
def test_seven_generals_unreduced(slow_size):
    if slow_size != "full":
        pytest.skip("OM(2) on seven generals without symmetry (87,223 states, 12-25 s) "
                    "runs with SMRCHECK_SLOW_SIZE=full")
    assert figures(GeneralsOM(7, 2, symmetry=False)) == ("ok", 87223, 246699, 39)


# -- parameters and the command line ---------------------------------------------------


@pytest.mark.parametrize("assignments,words", [
    (["traitors=4", "generals=4"], "traitors must be below generals"),
    (["m=3"], "parameter m must be an integer in 0..2"),
    (["m=two"], "parameter m must be an integer or traitors"),
    (["algorithm=paxos"], "parameter algorithm must be one of om, sm"),
    (["generals=2"], "parameter generals must be an integer in 3..10"),
    (["traitors=0"], "parameter traitors must be an integer in 1..4"),
])
def test_bad_parameters_are_usage_errors(assignments, words):
    with pytest.raises(UsageError, match=words):
        SPEC.build(SPEC.resolve_params(assignments), None)


def test_check_from_the_command_line(capsys):
    assert main(["check", "generals", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["result"], out["distinct_states"], out["generated_states"], out["depth"]) \
        == ("ok", 47, 63, 6)
    assert main(["check", "generals", "-p", "generals=3", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["violation"]["property"] == "GENERALS-IC2"
    assert main(["check", "generals", "-p", "traitors=4"]) == 2
    assert "traitors must be below generals" in capsys.readouterr().err
