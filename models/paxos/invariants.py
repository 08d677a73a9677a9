"""Agreement and the conjuncts of Paxos.tla's inductive invariant, each a property.

Paxos.tla proves `Spec => V!Spec` (Paxos refines Voting) with the invariant `Inv`;
MCPaxos.cfg checks its conjuncts separately as Inv1..Inv4 "to help locate an error".
We do the same, and split the message part and Voting's part further, so a failure
names the rule that broke:

- PAXOS-AGREEMENT (Consensus.tla): at most one value is chosen, where v is chosen when
  a quorum voted for it in one ballot (Voting's `chosen`).
- PAXOS-INV2 (Inv!2): an acceptor's <<maxVBal, maxVal>> is a vote it cast, or
  <<-1, None>>.
- PAXOS-INV3-1B (Inv!3, 1b part): a 1b message's sender has promised its ballot, and
  the vote it reports was cast.
- PAXOS-INV3-2A (Inv!3, 2a part): a 2a's value is safe (ShowsSafeAt for some quorum)
  and no other 2a has its ballot.
- PAXOS-VOTES-SAFE and PAXOS-ONE-VALUE-PER-BALLOT (Inv!4 = Voting's Inv): every vote
  is for a value safe at its ballot; two votes in one ballot agree.
- PAXOS-CHOSEN (sometimes): some value does get chosen, so the checks are not vacuous.

Inv!1 is TypeOK: our state types enforce it by construction, so it is not checked.
Every property uses the model's own quorums: a mutant with smaller quorums also has
learners that consider a value chosen on a smaller quorum. With Flexible Paxos
quorums, `chosen` counts votes on phase-2 quorums and Voting's NoneOtherChoosableAt
and ShowsSafeAt use phase-1 quorums, which reduces to Paxos.tla when both are equal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ...checker.model import Property
from ..common.ids import NONE, acceptor_name, node_set, value_name
from ..common.properties import PropertySpec, bind, first_of, last_state, none_of
from .state import T1B, T2A, PaxosState, votes

Quorums = tuple[tuple[int, ...], ...]
Votes = list[set[tuple[int, int]]]  # votes[a]: the <<bal, val>> pairs acceptor a voted for


@dataclass(frozen=True, slots=True)
class Consts:
    """What the properties read besides the state. Votes choose a value on a phase-2
    quorum (`quorums2`). Safety is shown, and "no other value choosable" witnessed, on
    a phase-1 quorum (`quorums`): it meets every phase-2 quorum, so one of its members
    blocks any other value's phase-2 quorum. Paxos.tla is the case Q1 = Q2."""

    quorums: Quorums
    quorums2: Quorums
    votes: Callable[[PaxosState], Votes]  # the state's votes, once per state


def chosen(
    s: PaxosState, quorums: Quorums, vts: Votes | None = None
) -> dict[int, tuple[int, tuple[int, ...]]]:
    """value -> (ballot, quorum) of a ballot in which a quorum voted for it."""
    if vts is None:
        vts = votes(s.msgs, len(s.max_bal))
    out: dict[int, tuple[int, tuple[int, ...]]] = {}
    for b, v in sorted(set().union(*vts)):
        if v in out:
            continue
        for q in quorums:
            if all((b, v) in vts[a] for a in q):
                out[v] = (b, q)
                break
    return out


# -- PAXOS-AGREEMENT: Consensus.tla's Inv, at most one value chosen ------------------


def agreement(c: Consts, s: PaxosState) -> bool:
    return len(chosen(s, c.quorums2, c.votes(s))) <= 1


def explain_agreement(c: Consts, s: PaxosState) -> str:
    parts = [
        f"{value_name(v)} in ballot {b} by {node_set(q)}"
        for v, (b, q) in sorted(chosen(s, c.quorums2, c.votes(s)).items())
    ]
    return "two values chosen: " + "; ".join(parts)


# -- PAXOS-INV2: <<maxVBal[a], maxVal[a]>> is a vote a cast, or <<-1, None>> ---------


def inv2_breakers(c: Consts, s: PaxosState) -> list[int]:
    vts = c.votes(s)
    bad = []
    for a, (vb, vv) in enumerate(zip(s.max_vbal, s.max_val)):
        ok = vv == NONE if vb == -1 else (vb, vv) in vts[a]
        if not ok:
            bad.append(a)
    return bad


def explain_inv2(c: Consts, s: PaxosState) -> str:
    a = inv2_breakers(c, s)[0]
    return (
        f"acceptor {acceptor_name(a)} has <<maxVBal, maxVal>> = "
        f"<<{s.max_vbal[a]}, {value_name(s.max_val[a])}>>, which is not a vote it cast"
    )


# -- PAXOS-INV3-1B: a 1b's sender promised its ballot; the vote it reports was cast --


def bad_1b(c: Consts, s: PaxosState) -> list[tuple[int, ...]]:
    vts = c.votes(s)
    return [
        m
        for m in sorted(s.msgs)
        if m[0] == T1B
        and (s.max_bal[m[1]] < m[2] or (m[3] >= 0 and (m[3], m[4]) not in vts[m[1]]))
    ]


def explain_1b(c: Consts, s: PaxosState) -> str:
    _, a, b, mbal, mval = bad_1b(c, s)[0]
    if s.max_bal[a] < b:
        return (
            f"{acceptor_name(a)} sent a 1b promising ballot {b} but its maxBal is "
            f"{s.max_bal[a]}: it broke its promise"
        )
    return (
        f"{acceptor_name(a)}'s 1b for ballot {b} reports a vote <<{mbal}, "
        f"{value_name(mval)}>> it never cast"
    )


# -- PAXOS-INV3-2A: a 2a's value is safe (ShowsSafeAt), and alone in its ballot ------


def shows_safe_at(s: PaxosState, vts: Votes, q: tuple[int, ...], b: int, v: int) -> bool:
    """Voting.tla's ShowsSafeAt(Q, b, v) under Paxos's refinement mapping."""
    if any(s.max_bal[a] < b for a in q):
        return False
    for c in range(-1, b):
        if c != -1 and not any((c, v) in vts[a] for a in q):
            continue
        if all(vb[0] <= c or vb[0] >= b for a in q for vb in vts[a]):
            return True
    return False


def bad_2a(c: Consts, s: PaxosState) -> list[str]:
    vts = c.votes(s)
    two_a = sorted(m for m in s.msgs if m[0] == T2A)
    out = []
    for _, b, v in two_a:
        if not any(shows_safe_at(s, vts, q, b, v) for q in c.quorums):
            out.append(f"2a for ballot {b} proposes {value_name(v)}, which is not safe")
        others = [w for _, bb, w in two_a if bb == b and w != v]
        if others:
            out.append(
                f"two 2a messages in ballot {b}: {value_name(v)} and {value_name(others[0])}"
            )
    return out


# -- PAXOS-VOTES-SAFE: Voting.tla's VotesSafe (Inv!4) ---------------------------------


def safe_at(c: Consts, vts: Votes, max_bal: tuple[int, ...], b: int, v: int) -> bool:
    """Voting.tla's SafeAt(b, v): no other value chosen or choosable below b."""
    for cb in range(b):
        if not any(
            all(
                (cb, v) in vts[a]
                or (max_bal[a] > cb and not any(vb[0] == cb for vb in vts[a]))
                for a in q
            )
            for q in c.quorums
        ):
            return False
    return True


def unsafe_votes(c: Consts, s: PaxosState) -> list[tuple[int, int, int]]:
    vts = c.votes(s)
    return [
        (a, b, v)
        for a in range(len(vts))
        for b, v in sorted(vts[a])
        if not safe_at(c, vts, s.max_bal, b, v)
    ]


def explain_votes_safe(c: Consts, s: PaxosState) -> str:
    a, b, v = unsafe_votes(c, s)[0]
    return (
        f"{acceptor_name(a)} voted for {value_name(v)} in ballot {b}, but "
        f"{value_name(v)} is not safe at {b}: another value is chosen or choosable "
        "in a lower ballot"
    )


# -- PAXOS-ONE-VALUE-PER-BALLOT: Voting.tla's OneValuePerBallot (Inv!4) ---------------


def split_ballots(c: Consts, s: PaxosState) -> list[int]:
    per_ballot: dict[int, set[int]] = {}
    for vs in c.votes(s):
        for b, v in vs:
            per_ballot.setdefault(b, set()).add(v)
    return sorted(b for b, vs in per_ballot.items() if len(vs) > 1)


def explain_split(c: Consts, s: PaxosState) -> str:
    b = split_ballots(c, s)[0]
    vts = c.votes(s)
    who = sorted(
        f"{acceptor_name(a)}:{value_name(v)}" for a in range(len(vts)) for bb, v in vts[a] if bb == b
    )
    return f"acceptors voted for different values in ballot {b}: {', '.join(who)}"


# -- PAXOS-CHOSEN (sometimes): the checks are not vacuous -----------------------------


def some_value_chosen(c: Consts, s: PaxosState) -> bool:
    return bool(chosen(s, c.quorums2, c.votes(s)))


PROPERTIES: tuple[PropertySpec[PaxosState], ...] = (
    PropertySpec("PAXOS-AGREEMENT", "always",
                 "at most one value is chosen (Consensus.tla)", agreement, explain_agreement),
    PropertySpec("PAXOS-INV2", "always",
                 "each acceptor's <<maxVBal, maxVal>> is a vote it cast (Paxos.tla Inv!2)",
                 none_of(inv2_breakers), explain_inv2),
    PropertySpec("PAXOS-INV3-1B", "always",
                 "a 1b message's ballot is promised and the vote it reports was cast (Inv!3)",
                 none_of(bad_1b), explain_1b),
    PropertySpec("PAXOS-INV3-2A", "always",
                 "a 2a message's value is safe at its ballot, and it is the only 2a of its "
                 "ballot (Inv!3)", none_of(bad_2a), first_of(bad_2a)),
    PropertySpec("PAXOS-VOTES-SAFE", "always",
                 "every vote is for a value safe at its ballot (Voting.tla VotesSafe, Inv!4)",
                 none_of(unsafe_votes), explain_votes_safe),
    PropertySpec("PAXOS-ONE-VALUE-PER-BALLOT", "always",
                 "votes cast in one ballot are for one value (Voting.tla OneValuePerBallot)",
                 none_of(split_ballots), explain_split),
    PropertySpec("PAXOS-CHOSEN", "sometimes", "some value is chosen", some_value_chosen),
)


def make_properties(quorums: Quorums, quorums2: Quorums) -> list[Property]:
    """The properties over phase-1 `quorums` and phase-2 `quorums2` (equal in Paxos.tla;
    Flexible Paxos lets them differ as long as every phase-1 quorum meets every phase-2
    quorum)."""
    state_votes = last_state(lambda s: votes(s.msgs, len(s.max_bal)))
    return bind(PROPERTIES, Consts(quorums, quorums2, state_votes))
