"""The fastpaxos model: its counts against a second transcription, its picking rule,
its symmetry, and z3's verdict on its quorums against the model checker's.

1. A second transcription of the algorithm written here independently (records as
   dicts, the picking rule written from Lamport's §3 with sets, coordinated recovery
   as extra 1b records, whole states kept) must reach the same states and generate
   the same successors, without symmetry.
2. Symmetry reduction is exact: the reduced count is the number of classes of the
   full state space under the model's canonical form.
3. For every classic/fast quorum size pair over 3 to 5 acceptors, z3 says whether the
   Fast Paxos Quorum Requirement holds (two classic quorums meet: the model with two
   classic rounds; a classic and two fast quorums share an acceptor: the model with a
   fast round and a recovery round), and the model must then hold exhaustively or
   break agreement.
"""

from __future__ import annotations

import json
from itertools import combinations

import pytest

from smrcheck.checker.cli import main
from smrcheck.checker.errors import UsageError
from smrcheck.checker.quorums import check_fast_intersection, check_intersection
from smrcheck.checker.search import Options, check, reachable_states, replays
from smrcheck.models.common.quorums import QuorumSystem
from smrcheck.models.fastpaxos.actions import FREE, pick
from smrcheck.models.fastpaxos.mutants import Rules
from smrcheck.models.fastpaxos.spec import FastPaxosModel
from smrcheck.models.paxos.spec import PaxosModel


def counts(**kw) -> tuple[int, int, int]:
    # The goals are the default run's test: a configuration without a classic round
    # after a fast one cannot reach the recovery goal.
    r = check(FastPaxosModel(**kw), Options(goals=False))
    assert r.result == "ok", r.violation
    return r.distinct_states, r.generated_states, r.depth


# --- 1. an independent transcription ------------------------------------------------


def reference_counts(n_acc: int, n_val: int, rounds: str, classic: int,
                     fast: int) -> tuple[int, int, int]:
    acceptors = [f"a{i}" for i in range(n_acc)]
    values = [f"v{i}" for i in range(n_val)]
    kinds = {i + 1: k for i, k in enumerate(rounds)}
    cq = [set(q) for q in combinations(acceptors, classic)]
    fq = [set(q) for q in combinations(acceptors, fast)]

    def quorums(i):
        return fq if kinds[i] == "f" else cq

    def rec(**fields):
        return tuple(sorted(fields.items()))

    def freeze(rnd, vrnd, vval, msgs):
        return (tuple(sorted(rnd.items())), tuple(sorted(vrnd.items())),
                tuple(sorted(vval.items())), frozenset(msgs))

    def pickable(q1b, i, props):
        """Lamport's rule for the 1b messages `q1b` of quorum Q, as a set of values
        (or "any")."""
        k = max(m["vrnd"] for m in q1b)
        free = {"any"} if kinds[i] == "f" else set(props)
        if k == 0:
            return free
        voted_k = {m["acc"]: m["vval"] for m in q1b if m["vrnd"] == k}
        big_v = set(voted_k.values())
        if len(big_v) == 1:
            return big_v
        q = {m["acc"] for m in q1b}
        o4 = {v for v in big_v
              if any(all(voted_k.get(a) == v for a in r & q) for r in quorums(k))}
        return o4 or free

    def successors(state):
        rnd, vrnd, vval = (dict(x) for x in state[:3])
        msgs = state[3]
        ms = [dict(m) for m in msgs]
        props = sorted(m["val"] for m in ms if m["type"] == "propose")
        out = [freeze(rnd, vrnd, vval, msgs | {rec(type="propose", val=v)}) for v in values]
        for i in kinds:
            if i > 1:
                out.append(freeze(rnd, vrnd, vval, msgs | {rec(type="1a", rnd=i)}))
            if any(m["type"] == "2a" and m["rnd"] == i for m in ms):
                continue
            if i == 1:
                choices = [({"any"} if kinds[i] == "f" else set(props))]
            else:
                choices = []
                # Coordinated recovery: after a fast round, its 2b messages count as
                # the next classic round's 1b messages.
                recovery = kinds[i - 1] == "f" and kinds[i] == "c"
                for q in cq:
                    q1b = [m for m in ms if m["type"] == "1b" and m["rnd"] == i and m["acc"] in q]
                    answered = {m["acc"] for m in q1b}
                    if recovery:
                        q1b += [{"acc": m["acc"], "vrnd": i - 1, "vval": m["val"]} for m in ms
                                if m["type"] == "2b" and m["rnd"] == i - 1
                                and m["acc"] in q - answered]
                    if {m["acc"] for m in q1b} == q:
                        choices.append(pickable(q1b, i, props))
            for vs in choices:
                for v in vs:
                    out.append(freeze(rnd, vrnd, vval, msgs | {rec(type="2a", rnd=i, val=v)}))
        for a in acceptors:
            for m in ms:
                if m["type"] == "1a" and m["rnd"] > rnd[a]:
                    one_b = rec(type="1b", acc=a, rnd=m["rnd"], vrnd=vrnd[a], vval=vval[a])
                    out.append(freeze({**rnd, a: m["rnd"]}, vrnd, vval, msgs | {one_b}))
            for m in ms:
                if m["type"] != "2a" or m["rnd"] < rnd[a]:
                    continue
                i = m["rnd"]
                if m["val"] == "any":
                    if any(x["type"] == "2b" and x["acc"] == a and x["rnd"] == i for x in ms):
                        continue
                    votes = props
                else:
                    votes = [m["val"]]
                for v in votes:
                    two_b = rec(type="2b", acc=a, rnd=i, val=v)
                    out.append(freeze({**rnd, a: i}, {**vrnd, a: i}, {**vval, a: v},
                                      msgs | {two_b}))
        return out

    init = freeze({a: 0 for a in acceptors}, {a: 0 for a in acceptors},
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


@pytest.mark.parametrize("n,values,rounds", [(3, 2, "fc"), (3, 1, "fcc"), (3, 2, "cf"),
                                             (2, 2, "cfc"), (2, 2, "ffc")])
def test_matches_independent_transcription(n, values, rounds):
    classic, fast = n // 2 + 1, -(-3 * n // 4)
    assert counts(acceptors=n, values=values, rounds=rounds, symmetry=False) == \
        reference_counts(n, values, rounds, classic, fast)


def test_matches_independent_transcription_with_unsafe_quorums():
    # Fast quorums of 2 of 3 break the requirement: the check stops at a violation,
    # so compare whole state spaces.
    model = FastPaxosModel(3, 2, "fc", quorums="fast:classic=2,fast=2", symmetry=False)
    assert len(reachable_states(model)) == reference_counts(3, 2, "fc", 2, 2)[0]


@pytest.mark.slow
def test_default_plain_counts_match_the_transcription():
    # Four acceptors, classic 3, fast 3, rounds fast then classic, two values.
    assert counts(symmetry=False) == reference_counts(4, 2, "fc", 3, 3) == (34646, 285663, 18)


def test_default_configuration_counts_and_goals():
    r = check(FastPaxosModel(), Options())
    assert r.result == "ok"
    # Measured with symmetry (the spec's default); the plain space is 34,646 states.
    assert (r.distinct_states, r.generated_states, r.depth) == (1248, 10161, 18)
    assert sorted(r.reached) == ["FASTPAXOS-CHOSEN-AFTER-COLLISION", "FASTPAXOS-CHOSEN-FAST"]
    assert r.unreached == []
    assert set(r.coverage) == {"Propose", "Phase1a", "Phase1b", "Phase2a", "Phase2b",
                               "Phase2bAny"}
    assert all(c.distinct > 0 for c in r.coverage.values())


# --- 2. symmetry -------------------------------------------------------------------


@pytest.mark.parametrize("n,values", [(3, 2), (4, 2), (3, 3)])
def test_symmetry_reduction_is_exact(n, values):
    plain = FastPaxosModel(n, values, symmetry=False)
    reduced = FastPaxosModel(n, values)
    states = reachable_states(plain)
    classes = {reduced.canonical(s) for s in states}
    r = check(reduced, Options())
    assert r.result == "ok" and r.distinct_states == len(classes)
    assert len({hash(s) for s in states}) == len(states)


# --- the picking rule (§3) ----------------------------------------------------------

FOUR = QuorumSystem.fast_paxos(4, 3, 3)
QUORUMS_OF = (FOUR.minimal_quorums(1), FOUR.minimal_fast_quorums(), FOUR.minimal_quorums(1))


def test_pick_no_vote_is_free_and_one_value_is_forced():
    q = (0, 1, 2)
    assert pick({0: (0, -1), 1: (0, -1), 2: (0, -1)}, q, QUORUMS_OF, Rules()) is FREE
    assert pick({0: (1, 0), 1: (0, -1), 2: (0, -1)}, q, QUORUMS_OF, Rules()) == (0,)


def test_pick_after_a_collision_follows_o4():
    # Fast round 1: a1, a2 voted v1, a3 voted v2. Fast quorum {a1, a2, a4} may have
    # chosen v1 (its members in Q voted v1): O4(v1), so v1 is the only pick.
    q = (0, 1, 2)
    reports = {0: (1, 0), 1: (1, 0), 2: (1, 1)}
    assert pick(reports, q, QUORUMS_OF, Rules()) == (0,)
    # Ignoring the rule, either voted value may be picked (mutant).
    assert pick(reports, q, QUORUMS_OF, Rules(fast_rule=False)) == (0, 1)
    # a1 v1, a2 v2, a3 not voted: every fast quorum has a member of Q that voted
    # otherwise or not at all, so nothing can have been chosen: any value.
    assert pick({0: (1, 0), 1: (1, 1), 2: (0, -1)}, q, QUORUMS_OF, Rules()) is FREE


# --- 3. z3 and the model checker agree on the quorum sizes ---------------------------


def assert_agree(n: int, classic: int, fast: int) -> None:
    system = QuorumSystem.fast_paxos(n, classic, fast)
    classic_ok = check_intersection(system).holds
    fast_ok = check_fast_intersection(system).holds
    assert classic_ok == (2 * classic > n)
    assert fast_ok == (classic + 2 * fast > 2 * n)
    quorums = f"fast:classic={classic},fast={fast}"
    agreement = Options(properties=["FASTPAXOS-AGREEMENT"], goals=False)
    # Two classic rounds: the second's phase-1 quorum must meet the first's voters.
    two_classic = check(FastPaxosModel(n, 2, "cc", quorums=quorums), agreement)
    # A fast round and its recovery: the recovery's phase-1 quorum must tell which
    # value a fast quorum may have chosen.
    recovery = check(FastPaxosModel(n, 2, "fc", quorums=quorums),
                     Options() if fast_ok else agreement)
    for safe, r in ((classic_ok, two_classic), (fast_ok, recovery)):
        if safe:
            assert r.result == "ok", r.violation
        else:
            assert (r.result, r.violation.property) == ("violation", "FASTPAXOS-AGREEMENT")


@pytest.mark.parametrize("n,classic,fast", [(n, c, f) for n in (3, 4)
                                            for c in range(1, n + 1) for f in range(1, n + 1)])
def test_z3_and_model_agree_three_and_four_acceptors(n, classic, fast):
    assert_agree(n, classic, fast)


@pytest.mark.slow
@pytest.mark.parametrize("classic,fast", [(c, f) for c in range(1, 6) for f in range(1, 6)])
def test_z3_and_model_agree_five_acceptors(classic, fast):
    assert_agree(5, classic, fast)


# --- the command line ----------------------------------------------------------------


def run_json(capsys, *argv):
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_check_default_json(capsys):
    code, data = run_json(capsys, "check", "fastpaxos")
    assert code == 0 and data["result"] == "ok" and data["warnings"] == []
    assert (data["distinct_states"], data["generated_states"], data["depth"]) == (1248, 10161, 18)
    assert data["params"] == {"acceptors": 4, "values": 2, "rounds": "fc", "quorums": "fast"}


def test_mutant_json_and_itf(capsys, tmp_path):
    itf = tmp_path / "cex.itf.json"
    code, data = run_json(capsys, "check", "fastpaxos", "--mutant",
                          "recovery-ignores-fast-rule", "--itf", str(itf))
    assert code == 1 and data["violation"]["property"] == "FASTPAXOS-2A-SAFE"
    doc = json.loads(itf.read_text())
    assert doc["vars"] == ["rnd", "vrnd", "vval", "msgs"]
    assert len(doc["states"]) == len(data["violation"]["trace"]) == 8
    model = FastPaxosModel(mutant="recovery-ignores-fast-rule")
    r = check(model, Options())
    assert replays(model, r.violation.trace)


def test_unsafe_quorums_warn_before_exploring(capsys):
    code = main(["check", "fastpaxos", "-p", "quorums=fast:classic=3,fast=2", "--json",
                 "--property", "FASTPAXOS-AGREEMENT"])
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert code == 1 and data["violation"]["property"] == "FASTPAXOS-AGREEMENT"
    assert "cannot be safe" in err
    assert [w for w in data["warnings"] if "two fast quorums" in w]
    code, data = run_json(capsys, "check", "fastpaxos", "-p", "quorums=fast:classic=3,fast=4")
    assert code == 0 and data["warnings"] == []


@pytest.mark.parametrize("argv,words", [
    (["-p", "rounds=fx"], "f (fast) or c (classic)"),
    (["-p", "rounds="], "f (fast) or c (classic)"),
    (["-p", "quorums=majority"], "fastpaxos needs classic and fast quorums"),
    (["-p", "quorums=fast:classic=9"], "quorum size classic must be in 1..4"),
    (["-p", "quorums=fast:slow=2"], "expected classic=N and/or fast=N"),
    (["-p", "values=0"], "parameter values"),
])
def test_bad_parameters_exit_2(capsys, argv, words):
    assert main(["check", "fastpaxos", *argv]) == 2
    assert words in capsys.readouterr().err


def test_paxos_refuses_fast_quorums():
    with pytest.raises(UsageError, match="only a model with fast rounds"):
        PaxosModel(3, 2, 1, quorums="fast")


def test_counts_do_not_depend_on_the_hash_seed():
    """States hold only ints, so fingerprints (and the counts) are the same in every
    process, whatever its string-hash salt."""
    import os
    import subprocess
    import sys

    code = ("from smrcheck.checker.search import Options, check\n"
            "from smrcheck.models.fastpaxos.spec import FastPaxosModel\n"
            "r = check(FastPaxosModel(), Options())\n"
            "print(r.distinct_states, r.generated_states, r.depth)")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
            for seed in ("1", "2")}
    assert outs == {"1248 10161 18\n"}
