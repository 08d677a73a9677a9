"""The multipaxos model: pinned state counts, a faithful symmetry reduction, sane states.

No published TLC run covers this model, so the evidence is of three kinds:
1. Pinned counts (distinct states, depth) for small configurations, so that any
   change to the transition relation shows up as a changed number.
2. The symmetry reduction is checked, not assumed: renaming replicas and commands in
   any reachable state leaves its canonical form unchanged, and an independent
   breadth-first search over whole states (no fingerprints) finds exactly as many
   states, and as many symmetry classes, as the explorer does.
3. States hold only ints, tuples and frozensets (stable hashes), every invariant
   holds on the correct model, and the `sometimes` goal is reached.
"""

from __future__ import annotations

import random
from itertools import permutations

import pytest

from smrcheck.checker.search import Options, check, reachable_states
from smrcheck.models.multipaxos.messages import NOOP, P1B, P2A, P2B
from smrcheck.models.multipaxos.spec import SPEC, MultiPaxosModel
from smrcheck.models.multipaxos.state import MPState

NONE = -1

# (replicas, slots, max_round, commands, crashes, recovery) ->
#     (distinct states with symmetry, without symmetry, depth with symmetry)
PINNED = {
    (3, 1, 1, 1, 0, "none"): (20, 94, 9),
    (3, 2, 1, 2, 0, "none"): (124, 1318, 13),
    (3, 2, 2, 1, 0, "none"): (6988, 41605, 20),
    (3, 2, 1, 2, 1, "none"): (710, 8071, 14),
    (3, 2, 1, 2, 1, "durable"): (1196, 13505, 15),
    (3, 2, 1, 3, 0, "none"): (124, 3694, 13),
}


def run(cfg, symmetry=True, **kw):
    return check(MultiPaxosModel(*cfg), Options(symmetry=symmetry, **kw))


@pytest.mark.parametrize("cfg", sorted(PINNED))
def test_pinned_counts(cfg):
    sym, nosym, depth = PINNED[cfg]
    r = run(cfg)
    assert r.result == "ok", r.violation
    assert r.reached == ["MP-ALL-EXECUTED"]
    assert (r.distinct_states, r.depth) == (sym, depth)
    r2 = run(cfg, symmetry=False)
    assert r2.result == "ok"
    assert r2.distinct_states == nosym


# --- an independent search over whole states --------------------------------------


def rename(s: MPState, rho: tuple[int, ...], pi: tuple[int, ...]) -> MPState:
    """s with replica r renamed rho[r] and command c renamed pi[c]."""
    n = len(s.up)
    inv = [rho.index(i) for i in range(n)]

    def v(x):
        return pi[x] if x >= 0 else x

    def acc(a):
        return tuple((b, v(x)) for b, x in a)

    msgs = set()
    for m in s.msgs:
        if m[0] == P1B:
            msgs.add((P1B, rho[m[1]], m[2], acc(m[3])))
        elif m[0] == P2B:
            msgs.add((P2B, rho[m[1]], m[2], m[3], v(m[4])))
        elif m[0] == P2A:
            msgs.add((P2A, m[1], m[2], v(m[3])))
        else:
            msgs.add(m)
    return MPState(
        tuple(s.up[inv[i]] for i in range(n)),
        s.crashes,
        tuple(s.max_bal[inv[i]] for i in range(n)),
        tuple(acc(s.accepted[inv[i]]) for i in range(n)),
        tuple(s.lead[inv[i]] for i in range(n)),
        tuple(s.next_slot[inv[i]] for i in range(n)),
        tuple(s.fresh[inv[i]] for i in range(n)),
        tuple(tuple(v(x) for x in s.log[inv[i]]) for i in range(n)),
        tuple(NONE if w == NONE else rho[w] for w in s.owner),
        frozenset(msgs),
    )


def orbit_key(s: MPState, n: int, commands: int):
    """A symmetry class named by brute force: its least member (msgs sorted)."""
    return min(
        (t.up, t.crashes, t.max_bal, t.accepted, t.lead, t.next_slot, t.fresh, t.log,
         t.owner, tuple(sorted(t.msgs)))
        for rho in permutations(range(n))
        for pi in permutations(range(commands))
        for t in [rename(s, rho, pi)]
    )


@pytest.mark.parametrize("cfg", [(3, 2, 1, 2, 0, "none"), (3, 1, 2, 1, 0, "none"),
                                 (3, 2, 1, 2, 1, "durable"), (3, 2, 1, 3, 0, "none")])
def test_counts_match_an_independent_search(cfg):
    model = MultiPaxosModel(*cfg)
    states = reachable_states(model)
    assert run(cfg, symmetry=False).distinct_states == len(states)
    classes = {orbit_key(s, cfg[0], cfg[3]) for s in states}
    assert run(cfg).distinct_states == len(classes)


def test_canonical_form_is_invariant_under_renaming():
    model = MultiPaxosModel(3, 2, 2, 2, 0)
    rng = random.Random(7)
    states = list(reachable_states(MultiPaxosModel(3, 2, 1, 2, 1, "durable")))
    # Reachable states of a larger space, by random walks.
    for _ in range(200):
        s = model.init_states()[0]
        for _ in range(rng.randrange(1, 20)):
            acts = model.actions(s)
            if not acts:
                break
            s = model.next_state(s, rng.choice(acts))
        states.append(s)
    # The canonical form depends only on the number of commands (2 in both spaces).
    for s in states:
        c = model.canonical(s)
        for rho in permutations(range(3)):
            for pi in permutations(range(2)):
                assert model.canonical(rename(s, rho, pi)) == c


# --- sanity of states and of the spec ---------------------------------------------


def only_ints(x) -> bool:
    if isinstance(x, bool):
        return False
    if isinstance(x, int):
        return True
    if isinstance(x, (tuple, frozenset)):
        return all(only_ints(y) for y in x)
    return False


def test_states_hold_only_ints():
    for s in reachable_states(MultiPaxosModel(3, 2, 1, 2, 1, "durable")):
        assert type(s) is MPState and all(only_ints(f) for f in s)


def test_actions_are_deterministic():
    a = run((3, 2, 2, 1, 0, "none"))
    b = run((3, 2, 2, 1, 0, "none"))
    assert (a.distinct_states, a.generated_states) == (b.distinct_states, b.generated_states)
    model = MultiPaxosModel(3, 2, 2, 2, 0)
    s = model.init_states()[0]
    for _ in range(12):
        acts = model.actions(s)
        assert acts == model.actions(s)
        if not acts:
            break
        s = model.next_state(s, acts[len(acts) // 2])


def test_spec_lists_parameters_with_defaults():
    assert SPEC.name == "multipaxos"
    params = {p.name: p.default for p in SPEC.params}
    assert params == {"replicas": 3, "slots": 2, "max_round": 2, "commands": 2,
                      "crashes": 0, "recovery": "none", "network": "sent-set",
                      "quorums": "majority", "faults": "crash", "faulty": 0}
    assert SPEC.property_ids == (
        "MP-AGREEMENT", "MP-VALIDITY", "MP-LOG-PREFIX", "MP-AT-MOST-ONCE", "MP-PROMISE",
        "MP-CHOSEN-STABLE", "MP-EXECUTED-CHOSEN", "MP-ALL-EXECUTED",
    )
    model = SPEC.build(SPEC.resolve_params(["slots=1", "max_round=1", "commands=1"]), None)
    assert check(model, Options()).result == "ok"


def test_a_counterexample_reads_like_the_paper():
    r = check(MultiPaxosModel(3, 1, 2, 2, 0, mutant="skip-phase-1"), Options())
    steps = [s.action for s in r.violation.trace[1:]]
    assert steps[0] == "Prepare(r0, b=1)"
    assert any(a.startswith("Accept(") for a in steps)
    state = r.violation.trace[-1].state
    assert set(state) == {"up", "crashes", "maxBal", "accepted", "lead", "nextSlot",
                          "fresh", "log", "owner", "msgs"}


def test_noop_fills_gaps():
    """A new leader that finds slot 1 accepted but slot 0 empty proposes no-op in 0."""
    model = MultiPaxosModel(3, 2, 2, 2, 0)
    s = model.init_states()[0]
    script = [("Prepare", 0, 0), ("Promise", 1, 0)]
    for a in script:
        assert a in model.actions(s)
        s = model.next_state(s, a)
    lead = next(a for a in model.actions(s) if a[0] == "Lead")
    s = model.next_state(s, lead)
    for a in [("Propose", 0, 0), ("Propose", 0, 1), ("Accept", 1, 0, 1, 1),
              ("Prepare", 2, 1), ("Promise", 1, 1)]:
        assert a in model.actions(s), (a, model.actions(s))
        s = model.next_state(s, a)
    leads = [a for a in model.actions(s) if a[0] == "Lead" and a[1] == 2]
    assert ("Lead", 2, (1, 2), (NOOP, 1)) in leads


@pytest.mark.slow
def test_default_configuration_exhausts():
    values = SPEC.resolve_params([])
    r = check(SPEC.build(values, None), Options())
    assert r.result == "ok" and r.reached == ["MP-ALL-EXECUTED"]
    assert (r.distinct_states, r.generated_states, r.depth) == (111513, 362616, 23)


@pytest.mark.slow
def test_two_slots_two_rounds_two_commands_one_crash_exhausts(slow_size):
    if slow_size != "full":
        pytest.skip("660,576 states (about a minute) run with SMRCHECK_SLOW_SIZE=full")
    r = run((3, 2, 2, 2, 1, "none"))
    assert r.result == "ok" and r.reached == ["MP-ALL-EXECUTED"]
    assert (r.distinct_states, r.generated_states, r.depth) == (660576, 1781320, 24)


# --- the bag and fifo networks ----------------------------------------------------

# (replicas, slots, max_round, commands) -> network -> (distinct with symmetry,
#     without symmetry, depth with symmetry). Two replicas keep bag small enough.
NET_CFG = (2, 1, 2, 2)
NET_PINNED = {
    "sent-set": (108, None, 12),
    "fifo": (476, 1667, 13),
    "bag": (5869, 21733, 15),
}


@pytest.mark.parametrize("network", ["sent-set", "bag", "fifo"])
def test_correct_model_holds_under_each_network(network):
    sym, nosym, depth = NET_PINNED[network]
    model = MultiPaxosModel(*NET_CFG, network=network)
    r = check(model, Options())
    assert r.result == "ok", r.violation
    assert r.reached == ["MP-ALL-EXECUTED"]
    assert (r.distinct_states, r.depth) == (sym, depth)
    if nosym is not None:
        assert check(model, Options(symmetry=False)).distinct_states == nosym


def test_bag_is_at_least_as_large_as_fifo_and_sent_set():
    # Pinned above; a lossy, duplicating multiset has every interleaving fifo has
    # and more, and both keep msgs as sent-set does, plus what is in flight.
    assert NET_PINNED["sent-set"][0] <= NET_PINNED["fifo"][0] <= NET_PINNED["bag"][0]


# mutant -> (property, trace length): the same under every network here.
NET_MUTANTS = {"skip-phase-1": ("MP-CHOSEN-STABLE", 7),
               "minority-quorums": ("MP-CHOSEN-STABLE", 8)}


@pytest.mark.parametrize("network", ["bag", "fifo"])
@pytest.mark.parametrize("mutant", sorted(NET_MUTANTS))
def test_mutants_are_caught_under_bag_and_fifo(network, mutant):
    r = check(MultiPaxosModel(*NET_CFG, network=network, mutant=mutant), Options())
    assert r.result == "violation"
    assert (r.violation.property, len(r.violation.trace)) == NET_MUTANTS[mutant]


def rename_net(s: MPState, rho, pi, network: str) -> tuple:
    """s.net with replicas and commands renamed, written apart from the model's."""
    n = len(s.up)

    def v(x):
        return pi[x] if x >= 0 else x

    def msg(m):
        if m[0] == P1B:
            return (P1B, rho[m[1]], m[2], tuple((b, v(x)) for b, x in m[3]))
        if m[0] == P2A:
            return (P2A, m[1], m[2], v(m[3]))
        if m[0] == P2B:
            return (P2B, rho[m[1]], m[2], m[3], v(m[4]))
        return m

    if network == "bag":
        return (s.net[0], tuple(sorted(((rho[d], msg(m)), c) for (d, m), c in s.net[1])))
    queues = {(rho[c // n], rho[c % n]): tuple(msg(m) for m in q)
              for c, q in enumerate(s.net)}
    return tuple(queues[(i, j)] for i in range(n) for j in range(n))


def orbit(s: MPState, n: int, commands: int, network: str) -> frozenset:
    return frozenset(
        rename(s, rho, pi)._replace(net=rename_net(s, rho, pi, network))
        for rho in permutations(range(n)) for pi in permutations(range(commands)))


@pytest.mark.parametrize("network", ["fifo", "bag"])
def test_network_symmetry_matches_an_independent_search(network):
    cfg = (2, 1, 2, 2) if network == "fifo" else (2, 1, 1, 2)
    model = MultiPaxosModel(*cfg, network=network)
    states = reachable_states(model)
    assert check(model, Options(symmetry=False)).distinct_states == len(states)
    classes = {orbit(s, cfg[0], cfg[3], network) for s in states}
    assert check(model, Options()).distinct_states == len(classes)
    for s in list(states)[:300]:
        c = model.canonical(s)
        for t in orbit(s, cfg[0], cfg[3], network):
            assert model.canonical(t) == c


@pytest.mark.parametrize("network", ["bag", "fifo"])
def test_network_states_hold_only_ints_and_actions_are_deterministic(network):
    model = MultiPaxosModel(2, 1, 1, 2, network=network)
    for s in reachable_states(model):
        assert type(s) is MPState and all(only_ints(f) for f in s)
        assert model.actions(s) == model.actions(s)


def test_network_steps_receive_and_send():
    bag = MultiPaxosModel(3, 1, 1, 1, network="bag")
    s = bag.init_states()[0]
    s = bag.next_state(s, ("Prepare", 0, 0))
    # 1a to r1 and r2, r0's own 1b on its loopback; nothing else receivable yet.
    assert s.net == (0, (((0, (P1B, 0, 0, ((NONE, NONE),))), 1),
                         ((1, (0, 0)), 1), ((2, (0, 0)), 1)))
    assert ("Promise", 1, 0) in bag.actions(s)
    t = bag.next_state(s, ("Drop", 1, (0, 0)))
    assert ("Promise", 1, 0) not in bag.actions(t)  # the 1a to r1 is lost
    t = bag.next_state(s, ("Duplicate", 1, (0, 0)))
    assert t.net[0] == 1 and not any(a[0] == "Duplicate" for a in bag.actions(t))
    fifo = MultiPaxosModel(3, 1, 2, 1, network="fifo")
    s = fifo.init_states()[0]
    s = fifo.next_state(s, ("Prepare", 0, 0))
    s = fifo.next_state(s, ("Prepare", 0, 1)) if ("Prepare", 0, 1) in fifo.actions(s) else s
    # Only the head of each channel is receivable.
    assert fifo.network.inbox(s.net, 1) == [(0, 0)]


def test_spec_lists_network_choices():
    net = next(p for p in SPEC.params if p.name == "network")
    assert tuple(net.choices) == ("sent-set", "bag", "fifo")
    model = SPEC.build(SPEC.resolve_params(["replicas=2", "slots=1", "max_round=1",
                                            "commands=1", "network=fifo"]), None)
    assert check(model, Options()).result == "ok"



@pytest.mark.parametrize("network", ["bag", "fifo"])
def test_in_flight_canonical_form_partitions_as_brute_force_does(network):
    """Three replicas, where replicas with equal signatures can still differ in what is
    in flight between them: on the first 2,000 states breadth first, the fast form and
    the every-renaming form split the states into the same classes."""
    from smrcheck.models.multipaxos.state import canonical_brute

    model = MultiPaxosModel(3, 1, 1, 2, network=network)
    seen = list(model.init_states())
    known = set(seen)
    for s in seen:
        if len(seen) >= 2000:
            break
        for a in model.actions(s):
            t = model.next_state(s, a)
            if t not in known:
                known.add(t)
                seen.append(t)
    assert any(s.net[1] if network == "bag" else any(s.net) for s in seen)

    def classes(form) -> set[frozenset]:
        out: dict = {}
        for s in seen:
            out.setdefault(form(s), set()).add(s)
        return {frozenset(c) for c in out.values()}

    fast = classes(model.canonical)
    assert fast == classes(lambda s: canonical_brute(s, model.network, 2))
    assert len(fast) < len(seen)
