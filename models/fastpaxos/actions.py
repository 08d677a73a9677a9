"""The steps of Fast Paxos, one function each (Lamport 2006: §2 for the classic steps,
§3 for the fast ones).

As in `models/paxos/actions.py`, each function is an action with its existential
witnesses as arguments: `enabled_actions` lists every witness that satisfies the
enabling condition, and the function computes the effect.

- Propose(v): a client sends its value v to the coordinators and the acceptors (§3:
  in a fast round proposers send straight to the acceptors).
- Phase1a(i): the coordinator of round i asks the acceptors to join it.
- Phase1b(a, i): on a 1a with i > rnd[a], acceptor a joins round i and reports its
  last vote <<vrnd[a], vval[a]>>.
- Phase2a(i, v, Q): with 1b messages of round i from a classic quorum Q, the
  coordinator sends v, a value its picking rule allows (`pick`; §3, "Picking a Value
  in Phase 2a"); where the rule allows any value it sends "any" in a fast round and a
  proposed value in a classic one. At most one 2a per round. The lowest round needs
  no phase 1: every value is safe at it, so Q is empty there. Coordinated recovery
  (§3, "Collision Recovery"): when round i - 1 is fast and round i classic, with one
  coordinator, an acceptor's round i - 1 2b message serves as its round i 1b message,
  so the coordinator can pick round i's value from the colliding votes themselves,
  without a phase 1. It may: the vote is the acceptor's last, and having voted in
  round i - 1 it votes in no lower round.
- Phase2b(a, i, v): on a 2a of round i with value v and i >= rnd[a], a votes v.
- Phase2bAny(a, i, v): on round i's "any" message, with i >= rnd[a] and no vote of a
  in round i yet, a votes for a proposal v it has received: any proposal may be the
  first to reach it, so every one is a witness.

Phase 1 of every round uses a classic quorum: what the picking rule needs of Q is to
meet every quorum of a lower round, and for a fast round k to meet any two of its
quorums together, which is the Quorum Requirement with Q classic (a fast quorum at
least as large as a classic one contains one, so waiting for it adds nothing). Howard
and Mortier's Fast Flexible Paxos (2020) makes the same observation: phase-1 quorums
need only meet each pair of fast quorums.
"""

from __future__ import annotations

from .mutants import Rules
from .state import ANY, T1A, T1B, T2A, T2B, TP, FastPaxosState

Quorums = tuple[tuple[int, ...], ...]
FREE = None  # the picking rule allows any value


def _set(t: tuple[int, ...], i: int, x: int) -> tuple[int, ...]:
    return t[:i] + (x,) + t[i + 1 :]


def propose(s: FastPaxosState, v: int) -> FastPaxosState:
    return s._replace(msgs=s.msgs | {(TP, v)})


def phase1a(s: FastPaxosState, i: int) -> FastPaxosState:
    return s._replace(msgs=s.msgs | {(T1A, i)})


def phase1b(s: FastPaxosState, a: int, i: int) -> FastPaxosState:
    return s._replace(rnd=_set(s.rnd, a, i),
                      msgs=s.msgs | {(T1B, a, i, s.vrnd[a], s.vval[a])})


def phase2a(s: FastPaxosState, i: int, v: int) -> FastPaxosState:
    return s._replace(msgs=s.msgs | {(T2A, i, v)})


def phase2b(s: FastPaxosState, a: int, i: int, v: int) -> FastPaxosState:
    """Phase2b and Phase2bAny have one effect: a votes v in round i."""
    return FastPaxosState(_set(s.rnd, a, i), _set(s.vrnd, a, i), _set(s.vval, a, v),
                          s.msgs | {(T2B, a, i, v)})


def pick(reports: dict[int, tuple[int, int]], q: tuple[int, ...],
         quorums_of: tuple[Quorums, ...], rules: Rules) -> tuple[int, ...] | None:
    """The values the coordinator may send on the 1b `reports` (acceptor -> its
    <<vrnd, vval>>) of classic quorum Q: Lamport's rule (§3), or FREE for any value.

    k is the highest round in which an acceptor of Q voted, V the values they voted in
    it. No vote: any value. One value: that value. Several (a collision in fast round
    k): the v with O4(v), some k-quorum R whose members in Q all voted v in k (v may
    have been chosen by R); the Quorum Requirement makes it unique. If there is none,
    no value can have been chosen below the round: any value."""
    k = max(reports[a][0] for a in q)
    if k == 0:
        return FREE
    voted = sorted({reports[a][1] for a in q if reports[a][0] == k})
    if len(voted) == 1 or not rules.fast_rule:
        return tuple(voted)
    qset = set(q)
    o4 = tuple(v for v in voted
               if any(all(reports[a] == (k, v) for a in r if a in qset)
                      for r in quorums_of[k]))
    return o4 or FREE


def enabled_actions(s: FastPaxosState, fast: tuple[bool, ...], n_values: int,
                    quorums: Quorums, quorums_of: tuple[Quorums, ...],
                    rules: Rules) -> list[tuple]:
    """Every (action, witnesses) tuple enabled in s. `fast[i]`: round i is fast (rounds
    are 1..len(fast) - 1); `quorums`: the classic quorums; `quorums_of[i]`: round i's."""
    props: list[int] = []
    one_a: list[int] = []
    one_b: dict[int, dict[int, tuple[int, int]]] = {}
    two_a: list[tuple[int, int]] = []
    two_b: dict[int, dict[int, tuple[int, int]]] = {}  # round -> acceptor -> its vote
    voted_in: set[tuple[int, int]] = set()
    for m in sorted(s.msgs):
        kind = m[0]
        if kind == TP:
            props.append(m[1])
        elif kind == T1A:
            one_a.append(m[1])
        elif kind == T1B:
            one_b.setdefault(m[2], {})[m[1]] = (m[3], m[4])
        elif kind == T2A:
            two_a.append((m[1], m[2]))
        else:
            voted_in.add((m[1], m[2]))
            two_b.setdefault(m[2], {}).setdefault(m[1], (m[2], m[3]))
    free_classic = props if rules.proposed_values_only else range(n_values)
    out: list[tuple] = [("Propose", v) for v in range(n_values)]
    sent_2a = {i for i, _ in two_a}
    for i in range(1, len(fast)):
        if i > 1:
            out.append(("Phase1a", i))
        if i in sent_2a and rules.one_2a_per_round:
            continue
        free = (ANY,) if fast[i] else free_classic
        if i == 1:
            out.extend(("Phase2a", i, v, ()) for v in free)
            continue
        reports = one_b.get(i, {})
        if fast[i - 1] and not fast[i]:
            # Coordinated recovery: round i - 1's votes stand in for missing 1b
            # messages (an acceptor that sent both reports the same vote in each).
            reports = {**two_b.get(i - 1, {}), **reports}
        if not reports:
            continue
        for q in quorums:
            if all(a in reports for a in q):
                picked = pick(reports, q, quorums_of, rules)
                for v in free if picked is FREE else picked:
                    out.append(("Phase2a", i, v, q))
    for a in range(len(s.rnd)):
        r = s.rnd[a]
        for i in one_a:
            if i > r:
                out.append(("Phase1b", a, i))
        for i, v in two_a:
            if i < r and rules.respect_promise:
                continue
            if v != ANY:
                out.append(("Phase2b", a, i, v))
            elif (a, i) not in voted_in or not rules.one_vote_per_round:
                out.extend(("Phase2bAny", a, i, p) for p in props)
    return out

