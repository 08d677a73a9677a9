"""Fast Paxos's correctness conditions and the invariants of Lamport's proof, each a
property.

Lamport ("Fast Paxos", 2006, §2.1) requires Nontriviality (only a proposed value may
be chosen) and Consistency (at most one value is chosen), where a value is chosen in
a round when a quorum of that round voted for it in it: a classic quorum in a classic
round, a fast quorum in a fast round. His proof (§2 and §3) rests on every vote
being for a value safe at its round, v being safe at round i when no value other than
v has been or might yet be chosen in any round below i. We check those and the
facts they rest on, split so that a failure names the rule that broke:

- FASTPAXOS-AGREEMENT (Consistency): at most one value is chosen.
- FASTPAXOS-VALIDITY (Nontriviality): every chosen value was proposed by a client.
- FASTPAXOS-VOTES-SAFE: every vote is for a value safe at its round.
- FASTPAXOS-2A-SAFE: a 2a message's value is safe at its round, and an "any" message
  is sent only where every value is (the coordinator's side of VOTES-SAFE).
- FASTPAXOS-ONE-2A-PER-ROUND: a coordinator sends one 2a message per round, so a
  classic round has one value.
- FASTPAXOS-ONE-VOTE-PER-ROUND: an acceptor votes at most once in a round (in a fast
  round, for the first proposal it receives).
- FASTPAXOS-CHOSEN-FAST (sometimes): a value is chosen in a fast round, by a fast
  quorum, without a coordinator picking it.
- FASTPAXOS-CHOSEN-AFTER-COLLISION (sometimes): acceptors voted for different values
  in a fast round, and a later classic round chose a value (collision recovery).

"Might yet be chosen" reads the acceptors alone, as Voting.tla's SafeAt does: w is
choosable at round j if some j-quorum's members each voted w in j or have not voted in
j and can still (rnd <= j). Every property uses the model's own quorums, so a mutant
with smaller fast quorums also has learners that count a value chosen on them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ...checker.model import Property
from ..common.ids import acceptor_name, node_set, value_name
from ..common.properties import PropertySpec, bind, first_of, last_state, none_of
from .state import ANY, T2A, FastPaxosState, Votes, proposed, value_text, votes

Quorums = tuple[tuple[int, ...], ...]


@dataclass(frozen=True, slots=True)
class Consts:
    """What the properties read besides the state: whether each round 1.. is fast
    (`fast[0]` is unused), each round's quorums, the number of values, and the state's
    votes (computed once per state)."""

    fast: tuple[bool, ...]
    quorums_of: tuple[Quorums, ...]
    n_values: int
    votes: Callable[[FastPaxosState], Votes]


def chosen(c: Consts, s: FastPaxosState) -> list[tuple[int, int, tuple[int, ...]]]:
    """Every (round, value, quorum) such that the quorum of that round voted the value
    in it (one quorum per round and value)."""
    vts = c.votes(s)
    out = []
    for i, v in sorted(set().union(*vts)):
        for q in c.quorums_of[i]:
            if all((i, v) in vts[a] for a in q):
                out.append((i, v, q))
                break
    return out


def _kind(c: Consts, i: int) -> str:
    return "fast" if c.fast[i] else "classic"


# -- FASTPAXOS-AGREEMENT: Consistency ------------------------------------------------


def agreement(c: Consts, s: FastPaxosState) -> bool:
    return len({v for _, v, _ in chosen(c, s)}) <= 1


def explain_agreement(c: Consts, s: FastPaxosState) -> str:
    parts = [f"{value_name(v)} in {_kind(c, i)} round {i} by {node_set(q)}"
             for i, v, q in chosen(c, s)]
    return "two values chosen: " + "; ".join(parts)


# -- FASTPAXOS-VALIDITY: Nontriviality -----------------------------------------------


def unproposed_chosen(c: Consts, s: FastPaxosState) -> list[str]:
    props = proposed(s.msgs)
    return [f"{value_name(v)} is chosen in round {i} by {node_set(q)} but no client "
            f"proposed it" for i, v, q in chosen(c, s) if v not in props]


# -- FASTPAXOS-VOTES-SAFE and FASTPAXOS-2A-SAFE -------------------------------------


def choosable(c: Consts, vts: Votes, rnd: tuple[int, ...], j: int, w: int) -> bool:
    """w has been or might yet be chosen in round j: some j-quorum's members each
    voted w in j, or have not voted in j and may still (rnd <= j)."""
    return any(
        all((j, w) in vts[a] or (rnd[a] <= j and not any(b == j for b, _ in vts[a]))
            for a in q)
        for q in c.quorums_of[j]
    )


def safe_at(c: Consts, vts: Votes, rnd: tuple[int, ...], i: int, v: int) -> bool:
    """Lamport's "v is safe at i": no value other than v has been or might yet be
    chosen in any round below i."""
    return not any(choosable(c, vts, rnd, j, w)
                   for j in range(1, i) for w in range(c.n_values) if w != v)


def unsafe_votes(c: Consts, s: FastPaxosState) -> list[str]:
    vts = c.votes(s)
    return [f"{acceptor_name(a)} voted for {value_name(v)} in round {i}, but "
            f"{value_name(v)} is not safe at {i}: another value is chosen or choosable "
            "in a lower round"
            for a in range(len(vts)) for i, v in sorted(vts[a])
            if not safe_at(c, vts, s.rnd, i, v)]


def unsafe_2a(c: Consts, s: FastPaxosState) -> list[str]:
    vts = c.votes(s)
    out = []
    for _, i, v in sorted(m for m in s.msgs if m[0] == T2A):
        if v == ANY:
            bad = [w for w in range(c.n_values) if not safe_at(c, vts, s.rnd, i, w)]
            if bad:
                out.append(f"round {i}'s coordinator sent \"any\", but {value_name(bad[0])} "
                           f"is not safe at {i}")
        elif not safe_at(c, vts, s.rnd, i, v):
            out.append(f"the 2a of round {i} proposes {value_name(v)}, which is not safe "
                       f"at {i}")
    return out


# -- FASTPAXOS-ONE-2A-PER-ROUND and FASTPAXOS-ONE-VOTE-PER-ROUND ----------------------


def split_2a(c: Consts, s: FastPaxosState) -> list[str]:
    per_round: dict[int, list[int]] = {}
    for m in sorted(s.msgs):
        if m[0] == T2A:
            per_round.setdefault(m[1], []).append(m[2])
    return [f"two 2a messages in round {i}: {value_text(vs[0])} and {value_text(vs[1])}"
            for i, vs in sorted(per_round.items()) if len(vs) > 1]


def double_votes(c: Consts, s: FastPaxosState) -> list[str]:
    out = []
    for a, vs in enumerate(c.votes(s)):
        per_round: dict[int, list[int]] = {}
        for i, v in sorted(vs):
            per_round.setdefault(i, []).append(v)
        out.extend(f"{acceptor_name(a)} voted twice in {_kind(c, i)} round {i}: "
                   f"{value_name(ws[0])} and {value_name(ws[1])}"
                   for i, ws in per_round.items() if len(ws) > 1)
    return out


# -- the goals ------------------------------------------------------------------------


def chosen_fast(c: Consts, s: FastPaxosState) -> bool:
    return any(c.fast[i] for i, _, _ in chosen(c, s))


def chosen_after_collision(c: Consts, s: FastPaxosState) -> bool:
    per_round: dict[int, set[int]] = {}
    for vs in c.votes(s):
        for i, v in vs:
            per_round.setdefault(i, set()).add(v)
    collisions = [k for k, vs in per_round.items() if c.fast[k] and len(vs) > 1]
    return bool(collisions) and any(not c.fast[i] and i > min(collisions)
                                    for i, _, _ in chosen(c, s))


PROPERTIES: tuple[PropertySpec[FastPaxosState], ...] = (
    PropertySpec("FASTPAXOS-AGREEMENT", "always",
                 "at most one value is chosen (Consistency)", agreement, explain_agreement),
    PropertySpec("FASTPAXOS-VALIDITY", "always",
                 "only a proposed value is chosen (Nontriviality)",
                 none_of(unproposed_chosen), first_of(unproposed_chosen)),
    PropertySpec("FASTPAXOS-VOTES-SAFE", "always",
                 "every vote is for a value safe at its round",
                 none_of(unsafe_votes), first_of(unsafe_votes)),
    PropertySpec("FASTPAXOS-2A-SAFE", "always",
                 "a 2a message's value is safe at its round; \"any\" only where every "
                 "value is", none_of(unsafe_2a), first_of(unsafe_2a)),
    PropertySpec("FASTPAXOS-ONE-2A-PER-ROUND", "always",
                 "a round's coordinator sends one 2a message (one value per classic round)",
                 none_of(split_2a), first_of(split_2a)),
    PropertySpec("FASTPAXOS-ONE-VOTE-PER-ROUND", "always",
                 "an acceptor votes at most once in a round",
                 none_of(double_votes), first_of(double_votes)),
    PropertySpec("FASTPAXOS-CHOSEN-FAST", "sometimes",
                 "a value is chosen in a fast round", chosen_fast),
    PropertySpec("FASTPAXOS-CHOSEN-AFTER-COLLISION", "sometimes",
                 "after a collision in a fast round, a later classic round chooses a value",
                 chosen_after_collision),
)


def make_properties(fast: tuple[bool, ...], quorums_of: tuple[Quorums, ...],
                    n_values: int) -> list[Property]:
    state_votes = last_state(lambda s: votes(s.msgs, len(s.rnd)))
    return bind(PROPERTIES, Consts(fast, quorums_of, n_values, state_votes))
