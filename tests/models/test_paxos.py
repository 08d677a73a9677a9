"""The paxos model reaches exactly the states TLC reaches on Paxos.tla.

Three kinds of evidence, from the strongest:
1. TLC's own figures. tlaplus/Examples publishes, in specifications/Paxos/manifest.json,
   TLC's result on MCPaxos.cfg (one acceptor, one value, ballots 0..1, the only quorum
   {a1}): 25 distinct states, 82 states generated, depth 9. Our model with the same
   constants must give the same three numbers.
2. A count derived by hand (ballot 0 only, one acceptor, one value): the run is a chain
   Init -> 1a -> 1b -> 2a -> 2b, so 5 distinct states at depth 5; every state has
   Phase1a(0) enabled (a stutter once sent), and 1b, 2a and 2b each add one step, so the
   generated count is 1 (init) + 1 + 2 + 2 + 2 + 2 = 10.
3. For the default constants (3 acceptors, 2 values, ballots 0..1), which have no
   published TLC run, a second transcription of Paxos.tla written here independently
   (records as dicts, `msgs` as a set of records, every quorum enumerated as TLC
   enumerates \\E Q \\in Quorum, whole states kept in a set) must agree on all counts.
"""

from __future__ import annotations

from itertools import combinations

import pytest

from smrcheck.checker.search import Options, check, reachable_states
from smrcheck.models.paxos.spec import PaxosModel


def counts(acceptors: int, values: int, max_ballot: int) -> tuple[int, int, int]:
    r = check(PaxosModel(acceptors, values, max_ballot), Options())
    assert r.result == "ok", r.violation
    return r.distinct_states, r.generated_states, r.depth


def test_matches_tlc_on_mcpaxos():
    assert counts(1, 1, 1) == (25, 82, 9)


def test_matches_hand_derivation_ballot_zero():
    assert counts(1, 1, 0) == (5, 10, 5)


# --- an independent transcription of Paxos.tla, for the counts TLC has not published ---


def reference_counts(n_acc: int, n_val: int, max_ballot: int) -> tuple[int, int, int]:
    acceptors = [f"a{i}" for i in range(n_acc)]
    values = [f"v{i}" for i in range(n_val)]
    ballots = range(max_ballot + 1)
    quorums = [set(q) for q in combinations(acceptors, n_acc // 2 + 1)]

    def rec(**fields):
        return tuple(sorted(fields.items()))

    def freeze(max_bal, max_vbal, max_val, msgs):
        return (tuple(sorted(max_bal.items())), tuple(sorted(max_vbal.items())),
                tuple(sorted(max_val.items())), frozenset(msgs))

    def successors(state):
        max_bal, max_vbal, max_val = (dict(x) for x in state[:3])
        msgs = state[3]
        ms = [dict(m) for m in msgs]
        out = []
        for b in ballots:
            out.append(freeze(max_bal, max_vbal, max_val, msgs | {rec(type="1a", bal=b)}))
            for v in values:
                if any(m["type"] == "2a" and m["bal"] == b for m in ms):
                    continue
                for q in quorums:
                    q1b = [m for m in ms if m["type"] == "1b" and m["acc"] in q and m["bal"] == b]
                    q1bv = [m for m in q1b if m["mbal"] >= 0]
                    if not all(any(m["acc"] == a for m in q1b) for a in q):
                        continue
                    if q1bv and not any(
                        m["mval"] == v and all(m["mbal"] >= mm["mbal"] for mm in q1bv) for m in q1bv
                    ):
                        continue
                    out.append(freeze(max_bal, max_vbal, max_val, msgs | {rec(type="2a", bal=b, val=v)}))
        for a in acceptors:
            for m in ms:
                if m["type"] == "1a" and m["bal"] > max_bal[a]:
                    one_b = rec(type="1b", acc=a, bal=m["bal"], mbal=max_vbal[a], mval=max_val[a])
                    out.append(freeze({**max_bal, a: m["bal"]}, max_vbal, max_val, msgs | {one_b}))
            for m in ms:
                if m["type"] == "2a" and m["bal"] >= max_bal[a]:
                    two_b = rec(type="2b", acc=a, bal=m["bal"], val=m["val"])
                    out.append(freeze({**max_bal, a: m["bal"]}, {**max_vbal, a: m["bal"]},
                                      {**max_val, a: m["val"]}, msgs | {two_b}))
        return out

    init = freeze({a: -1 for a in acceptors}, {a: -1 for a in acceptors},
                  {a: "None" for a in acceptors}, frozenset())
    seen, level, generated, depth = {init}, [init], 1, 1
    while True:
        nxt = []
        for s in level:
            for t in successors(s):
                generated += 1
                if t not in seen:
                    seen.add(t)
                    nxt.append(t)
        if not nxt:
            return len(seen), generated, depth
        level, depth = nxt, depth + 1


def test_reference_transcription_agrees_with_tlc():
    assert reference_counts(1, 1, 1) == (25, 82, 9)


@pytest.mark.parametrize("config", [(2, 1, 1), (2, 2, 1), (3, 1, 1), (3, 2, 1)])
def test_matches_independent_transcription(config):
    assert counts(*config) == reference_counts(*config)


def test_default_configuration_counts():
    # Pinned from the two transcriptions above; a change here changes the semantics.
    assert counts(3, 2, 1) == (3921, 23467, 17)


def test_correct_model_holds_and_is_not_vacuous():
    r = check(PaxosModel(3, 2, 1), Options())
    assert r.result == "ok"
    assert r.reached == ["PAXOS-CHOSEN"] and r.unreached == []
    assert set(r.coverage) == {"Phase1a", "Phase1b", "Phase2a", "Phase2b"}
    assert all(c.distinct > 0 for c in r.coverage.values())


def test_fingerprints_do_not_collide_on_full_space():
    """Fingerprint count equals the exact count of distinct states (DESIGN.md)."""
    seen = reachable_states(PaxosModel(3, 2, 1))
    assert len({hash(s) for s in seen}) == len(seen) == counts(3, 2, 1)[0]


@pytest.mark.slow
def test_max_ballot_two():
    r = check(PaxosModel(3, 2, 2), Options())
    assert (r.result, r.distinct_states, r.generated_states, r.depth) == (
        "ok", 185369, 1350916, 25)
