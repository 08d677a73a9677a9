"""The PBFT model: exhaustive runs with pinned counts, the n >= 3f + 1 lower bound,
the adversary's universe, NEW-VIEW's set O, and the Model contract."""

from __future__ import annotations


import pytest

from smrcheck.checker.search import Options, check, reachable_states
from smrcheck.checker.report import to_itf_value
from smrcheck.models.pbft import actions as act
from smrcheck.models.pbft.spec import SPEC, PbftModel
from smrcheck.models.pbft.messages import CM, NV, PP, PR, VC
from smrcheck.models.pbft.state import initial

PROPERTIES = (
    "PBFT-AGREEMENT",
    "PBFT-PREPARED-UNIQUE",
    "PBFT-VALIDITY",
    "PBFT-CLIENT",
    "PBFT-ACCEPTED",
    "PBFT-VIEW-CHANGE",
)


def run(options: Options = Options(), mutant: str | None = None, **params):
    values = SPEC.resolve_params([f"{k}={v}" for k, v in params.items()])
    model = SPEC.build(values, mutant)
    return check(model, options, name="pbft", params=values, mutant=mutant)


def test_spec_lists_parameters_properties_and_notes():
    assert [p.name for p in SPEC.params] == [
        "replicas", "f", "byzantine", "requests", "max_view", "max_seq", "network",
    ]
    defaults = {p.name: p.default for p in SPEC.params}
    assert defaults == {
        "replicas": 4, "f": 1, "byzantine": "primary", "requests": 2, "max_view": 1,
        "max_seq": 1, "network": "sent-set",
    }
    assert SPEC.property_ids == PROPERTIES
    assert "Checkpoints" in SPEC.notes


def test_default_bounds_exhaust_with_every_goal_reached():
    """n = 4, f = 1, faulty primary, 2 requests, one view change."""
    result = run()
    assert result.result == "ok"
    assert result.symmetry
    assert (result.distinct_states, result.generated_states, result.depth) == (
        11_088, 29_572, 21)
    assert sorted(result.reached) == ["PBFT-ACCEPTED", "PBFT-VIEW-CHANGE"]
    # Every step of the protocol happens: the model is not vacuous.
    assert set(result.coverage) == {
        "PRE-PREPARE", "PREPARE", "COMMIT", "EXECUTE", "ACCEPT", "VIEW-CHANGE",
        "NEW-VIEW", "ENTER-VIEW",
    }


@pytest.mark.parametrize(
    "byzantine, states, generated, depth",
    [
        ("new-primary", 5_223, 15_484, 21),
        ("backups", 4_910, 13_802, 21),
        ("none", 15_042, 49_709, 27),
    ],
)
def test_other_faulty_replicas_hold(byzantine, states, generated, depth):
    result = run(byzantine=byzantine)
    assert result.result == "ok"
    assert (result.distinct_states, result.generated_states, result.depth) == (
        states, generated, depth)
    assert not result.unreached


def test_symmetry_halves_the_default_space_and_changes_no_verdict():
    """Without symmetry reduction every renaming of the requests is its own state."""
    result = run(Options(symmetry=False))
    assert result.result == "ok"
    assert (result.distinct_states, result.generated_states, result.depth) == (
        40_769, 108_051, 21)


def _renamed(s, digest, replica):
    """s with request d renamed digest[d] and replica i renamed replica[i]: a second,
    brute-force transcription of the renaming, for the test below."""
    n, back = len(s.view), {new: old for old, new in enumerate(replica)}
    src = [back[j] for j in range(n)]
    msgs = set()
    for m in s.msgs:
        if m[0] in (PR, CM):
            msgs.add((m[0], m[1], m[2], digest[m[3]], replica[m[4]]))
        elif m[0] == PP:
            msgs.add((PP, m[1], m[2], digest[m[3]]))
        elif m[0] == VC:
            msgs.add((VC, m[1], replica[m[2]], tuple(sorted((k, v, digest[d]) for k, v, d in m[3]))))
        else:
            msgs.add((m[0], m[1], tuple(digest[d] for d in m[2])))
    return type(s)(
        tuple(s.view[j] for j in src),
        tuple(s.changing[j] for j in src),
        tuple(tuple(digest[d] for d in s.executed[j]) for j in src),
        tuple(s.accepted[digest.index(c)] for c in range(len(s.accepted))),
        frozenset(msgs),
    )


def test_canonical_maps_each_orbit_to_one_of_its_states():
    """Every reachable state with view 1's primary faulty; r2 and r3 and the two
    requests are interchangeable, so an orbit has up to 4 states. The canonical
    state must be a renaming of the state, and two states share it iff some
    renaming relates them."""
    from itertools import permutations

    model = PbftModel(byzantine="new-primary")
    states = reachable_states(model)
    assert len(states) == 19_747
    renamings = [
        (dp + (2, 3), (0, 1) + rp)
        for dp in permutations(range(2))
        for rp in permutations((2, 3))
    ]

    def orbit(s):
        return frozenset(_renamed(s, d, r) for d, r in renamings)

    orbits, all_orbits = {}, set()
    for s in states:
        c, o = model.canonical(s), orbit(s)
        assert c in o
        assert orbits.setdefault(c, o) == o
        all_orbits.add(o)
    assert len(orbits) == len(all_orbits) == 5_223


def test_view_change_carries_prepared_requests_into_the_new_view():
    """Not vacuous: some run commits a request in view 0, carries it through a
    NEW-VIEW whose O holds it, commits it again in view 1 and executes it there."""
    states = reachable_states(PbftModel(byzantine="backups"))
    carried = [
        s for s in states
        if any(m[0] == NV and m[2] and m[2][0] < 2 for m in s.msgs)
        and any(m[0] == CM and m[1] == 0 for m in s.msgs)
        and any(m[0] == CM and m[1] == 1 for m in s.msgs)
    ]
    assert carried
    assert any(s.executed[i] for s in carried for i in (1, 2) if s.view[i] == 1)


def test_fingerprints_count_exactly_the_distinct_states():
    """Whole states kept in a set: the explorer's fingerprint count must match."""
    seen = reachable_states(PbftModel(byzantine="backups"))
    assert len({hash(s) for s in seen}) == len(seen) == 9_804


def test_three_replicas_one_fault_break_agreement():
    """The lower bound: with n = 3f quorums of n - f = 2 share only the faulty
    primary, which pre-prepares req1 to r1 and req2 to r2."""
    result = run(Options(properties=["PBFT-AGREEMENT"]), replicas=3, f=1)
    assert result.result == "violation"
    assert result.violation.message == (
        "sequence number 1 committed with different requests: req1 at r1 (view 0); "
        "req2 at r2 (view 0)"
    )
    assert [s.action for s in result.violation.trace[1:]] == [
        "r1 sends PREPARE(v=0, n=1, d=req1, i=r1), accepting faulty r0's pre-prepare",
        "r1 is prepared, sends COMMIT(v=0, n=1, d=req1, i=r1)",
        "r2 sends PREPARE(v=0, n=1, d=req2, i=r2), accepting faulty r0's pre-prepare",
        "r2 is prepared, sends COMMIT(v=0, n=1, d=req2, i=r2)",
    ]


def test_three_replicas_break_agreement_with_every_property_checked():
    """`smrcheck check pbft -p replicas=3 -p f=1`: agreement is reported (the same
    state also breaks prepared uniqueness, which is checked after it)."""
    result = run(replicas=3, f=1)
    assert result.violation.property == "PBFT-AGREEMENT"
    assert len(result.violation.trace) == 5
    alone = run(Options(properties=["PBFT-PREPARED-UNIQUE"]), replicas=3, f=1)
    assert len(alone.violation.trace) == 5


def test_three_replicas_break_agreement_across_a_view_change_too():
    """With a correct primary, a faulty backup lets r0 commit req1 in view 0 and
    then leaves it out of the view change, so view 1 orders req2 at number 1."""
    result = run(Options(properties=["PBFT-AGREEMENT"]), replicas=3, f=1, byzantine="backups")
    assert [s.action for s in result.violation.trace[1:]] == [
        "r0 sends PRE-PREPARE(v=0, n=1, d=req1)",
        "r0 is prepared, sends COMMIT(v=0, n=1, d=req1, i=r0)",
        "r1 suspects the primary, sends VIEW-CHANGE(v=1, i=r1, P={})",
        "r1 sends NEW-VIEW(v=1, O=[])",
        "r1 sends PRE-PREPARE(v=1, n=1, d=req2)",
        "r1 is prepared, sends COMMIT(v=1, n=1, d=req2, i=r1)",
    ]
    faulty_new_primary = run(
        Options(properties=["PBFT-AGREEMENT"]), replicas=3, f=1, byzantine="new-primary"
    )
    assert len(faulty_new_primary.violation.trace) - 1 == 6


def test_faulty_primary_offers_every_signed_digest_but_forged():
    model = PbftModel()
    prepares = [a for a in model.actions(model.init_states()[0]) if a[0] == "PREPARE"]
    # r1..r3 each may accept req1, req2 or the null request from faulty r0; the
    # forged request carries no client signature.
    assert prepares == [("PREPARE", 0, 1, d, i) for i in (1, 2, 3) for d in (0, 1, 2)]


def test_correct_primary_orders_each_request_once_at_the_next_number():
    model = PbftModel(byzantine="backups", max_seq=2)
    s = model.init_states()[0]
    assert [a for a in model.actions(s) if a[0] == "PRE-PREPARE"] == [
        ("PRE-PREPARE", 0, 1, 0, 0), ("PRE-PREPARE", 0, 1, 1, 0),
    ]
    s = model.next_state(s, ("PRE-PREPARE", 0, 1, 1, 0))
    assert [a for a in model.actions(s) if a[0] == "PRE-PREPARE"] == [("PRE-PREPARE", 0, 2, 0, 0)]


def _setup(**kw) -> act.Setup:
    base = dict(n=4, f=1, faulty=frozenset({0}), requests=2, max_view=1, max_seq=2)
    base.update(kw)
    return act.Setup(**base)


def test_new_view_keeps_highest_certificate_and_fills_gaps_with_null():
    c = _setup(faulty=frozenset({3}))  # views 0 and 1 have correct primaries
    msgs = {(PP, 0, 2, 1)} | {(PR, 0, 2, 1, i) for i in (1, 2)}
    msgs |= {(VC, 1, i, ((2, 0, 1),)) for i in (1, 2)}
    # r1, the new primary, and r2 report req2 prepared at number 2; nothing at 1.
    options = act.new_view_options(c, act.Index(frozenset(msgs)), 1)
    # V = {r1, r2, r3}: the faulty r3 may add nothing (no other valid certificate).
    assert options == [(c.null, 1)]


def test_new_view_lets_a_faulty_member_of_v_add_valid_certificates_only():
    c = _setup()
    # View 0's faulty primary r0 pre-prepared req1 at 1; r1 and r2 prepared it.
    msgs = {(PR, 0, 1, 0, i) for i in (1, 2)} | {(VC, 1, 1, ())}
    ix = act.Index(frozenset(msgs))
    # V = {r1, r0 (faulty), one more}: only r1 and r3... r3 sent nothing, so no V.
    assert act.new_view_options(c, ix, 1) == []
    ix = act.Index(frozenset(msgs | {(VC, 1, 3, ())}))
    # V = {r1, r3, r0}: r0 may include the valid certificate for req1, or omit it.
    assert act.new_view_options(c, ix, 1) == [(), (0,)]


def test_certificates_are_the_commits_a_replica_sent_highest_view_first():
    msgs = {(PR, 0, 1, 0, i) for i in (1, 2, 3)} | {(PR, 1, 1, 1, i) for i in (2, 3)}
    msgs |= {(PP, 1, 1, 1), (CM, 0, 1, 0, 2), (CM, 1, 1, 1, 2), (CM, 0, 1, 0, 1)}
    ix = act.Index(frozenset(msgs))
    # r2 was prepared for req1 in view 0 and for req2 in view 1: it reports view 1.
    assert act.certificates(ix, 2, 2) == ((1, 1, 1),)
    # Leaving view 0 for view 1, only view 0's certificates count.
    assert act.certificates(ix, 2, 1) == ((1, 0, 0),)
    assert act.certificates(ix, 1, 2) == ((1, 0, 0),)
    # r3 sent prepares but no COMMIT: it never received enough prepares.
    assert act.certificates(ix, 3, 2) == ()


def test_committed_needs_two_f_plus_one_commits():
    c = _setup()
    ix = act.Index(frozenset({(CM, 0, 1, 0, 1)}))
    assert not act.committed(c, ix, 0, 1, 0)  # r1 and faulty r0: 2 < 3
    ix = act.Index(frozenset({(CM, 0, 1, 0, 1), (CM, 0, 1, 0, 2)}))
    assert act.committed(c, ix, 0, 1, 0)


def test_actions_are_deterministic_and_states_hash_stably():
    model = PbftModel()
    s = model.init_states()[0]
    for _ in range(6):
        acts = model.actions(s)
        assert acts == model.actions(s)
        s = model.next_state(s, acts[-1] if acts[-1][0] != "ACCEPT" else acts[0])
    assert hash(s) == hash(type(s)(*s))
    assert s == initial(4, 2)._replace(**s._asdict())


def test_describe_is_itf_ready():
    model = PbftModel()
    result = run(Options(properties=["PBFT-AGREEMENT"]), replicas=3, f=1)
    for step in result.violation.trace:
        to_itf_value(step.state)
    state = result.violation.trace[-1].state
    assert list(state) == ["faulty", "view", "viewChanging", "executed", "accepted", "msgs"]
    assert model.describe(model.init_states()[0])["faulty"] == ("r0",)
    # VIEW-CHANGE and NEW-VIEW messages, with their P and O, are described too.
    trace = run(Options(properties=["PBFT-AGREEMENT"]), "new-view-ignores-certificates").violation.trace
    for step in trace:
        to_itf_value(step.state)
    kinds = {m["type"] for m in trace[-1].state["msgs"]}
    assert kinds == {"PRE-PREPARE", "PREPARE", "COMMIT", "VIEW-CHANGE", "NEW-VIEW"}
    vc = next(m for m in trace[-1].state["msgs"] if m["type"] == "VIEW-CHANGE" and m["P"])
    assert vc["P"] == ({"seq": 1, "view": 0, "digest": "req1"},)


def test_bad_parameters_are_usage_errors():
    from smrcheck.checker.errors import UsageError

    with pytest.raises(UsageError):
        SPEC.resolve_params(["byzantine=everyone"])
    with pytest.raises(UsageError):
        PbftModel(replicas=2, f=2)



# Pushed bounds, exhaustive, behind the `slow` marker. The larger ones take a minute
# or more each on one core and run only with SMRCHECK_SLOW_SIZE=full (tests/conftest.py).


@pytest.mark.slow
@pytest.mark.parametrize(
    "params, states, depth, large",
    [
        ({"requests": 3}, 11_967, 21, False),
        ({"replicas": 5}, 38_259, 27, True),
        ({"max_view": 2, "requests": 1}, 468_301, 31, True),
        ({"max_view": 2}, 892_858, 31, True),
    ],
)
def test_pushed_bounds_hold(params, states, depth, large, slow_size):
    if large and slow_size != "full":
        pytest.skip("set SMRCHECK_SLOW_SIZE=full to run")
    result = run(**params)
    assert result.result == "ok"
    assert (result.distinct_states, result.depth) == (states, depth)
    assert not result.unreached
