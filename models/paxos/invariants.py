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

With Byzantine acceptors (`faults.py`) a liar's 2bs count towards `chosen`: that is
how one liar breaks agreement when two quorums meet in it alone. The invariants keep
speaking of the correct acceptors: a liar's maxBal is above every ballot and it voted
for everything, so Inv!2, Inv!3 and SafeAt's quorums count it as a member that
satisfies whatever is asked of it, and VotesSafe and OneValuePerBallot judge only the
votes of correct acceptors. So they still catch a correct acceptor or leader that
breaks a rule, and the first violation the liar causes is PAXOS-AGREEMENT itself.
Every property uses the model's own quorums: a mutant with smaller quorums also has
learners that consider a value chosen on a smaller quorum. With Flexible Paxos
quorums, `chosen` counts votes on phase-2 quorums and Voting's NoneOtherChoosableAt
and ShowsSafeAt use phase-1 quorums, which reduces to Paxos.tla when both are equal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from ...checker.model import Property
from ..common.ids import NONE, acceptor_name, node_set, value_name
from ..common.properties import PropertySpec, bind, first_of, last_state, none_of
from .state import T1B, T2A, T2B, PaxosState, votes

Quorums = tuple[tuple[int, ...], ...]
Votes = list[set[tuple[int, int]]]  # votes[a]: the <<bal, val>> pairs acceptor a voted for


class Facts(NamedTuple):
    """What the properties read off `msgs`, gathered in one pass per state: every
    property of a new state is checked, and each used to walk the messages again."""

    votes: Votes  # Paxos.tla's refinement mapping, votes[a]
    voters: dict[tuple[int, int], int]  # <<bal, val>> -> bit set of its voters
    one_b: list[tuple[int, ...]]  # the 1b messages, sorted
    two_a: list[tuple[int, int]]  # <<bal, val>> of the 2a messages, sorted
    voted_in: dict[int, int]  # ballot -> bit set of the acceptors that voted in it


def facts(s: PaxosState) -> Facts:
    vts: Votes = [set() for _ in s.max_bal]
    voters: dict[tuple[int, int], int] = {}
    voted_in: dict[int, int] = {}
    one_b = []
    two_a = []
    for m in s.msgs:
        kind = m[0]
        if kind == T2B:
            vote = (m[2], m[3])
            vts[m[1]].add(vote)
            bit = 1 << m[1]
            voters[vote] = voters.get(vote, 0) | bit
            voted_in[m[2]] = voted_in.get(m[2], 0) | bit
        elif kind == T1B:
            one_b.append(m)
        elif kind == T2A:
            two_a.append((m[1], m[2]))
    one_b.sort()
    two_a.sort()
    return Facts(vts, voters, one_b, two_a, voted_in)


@dataclass(frozen=True, slots=True)
class Consts:
    """What the properties read besides the state. Votes choose a value on a phase-2
    quorum (`quorums2`). Safety is shown, and "no other value choosable" witnessed, on
    a phase-1 quorum (`quorums`): it meets every phase-2 quorum, so one of its members
    blocks any other value's phase-2 quorum. Paxos.tla is the case Q1 = Q2.

    `has_q1[mask]` / `has_q2[mask]`: whether the acceptors of bit set `mask` include a
    phase-1 / phase-2 quorum. SafeAt and chosen ask "does some quorum satisfy P" for
    every vote of every state; one pass over the acceptors builds the mask of those
    that satisfy P and a table lookup answers, instead of a pass per quorum."""

    quorums: Quorums
    quorums2: Quorums
    facts: Callable[[PaxosState], Facts]  # once per state
    has_q1: tuple[bool, ...] = ()
    has_q2: tuple[bool, ...] = ()
    # Byzantine acceptors (faults=byzantine), as a bit set: their votes count towards
    # `chosen`, but VotesSafe and OneValuePerBallot speak of the correct acceptors'
    # votes only (a liar voted for everything; see `faults.py`).
    liars: int = 0


def quorum_table(n: int, quorums: Quorums) -> tuple[bool, ...]:
    """table[mask]: the acceptors in bit set `mask` include one of `quorums`."""
    qmasks = [sum(1 << a for a in q) for q in quorums]
    return tuple(any(mask & qm == qm for qm in qmasks) for mask in range(1 << n))


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


def chosen_values(c: Consts, s: PaxosState) -> set[int]:
    """The values some phase-2 quorum voted for in one ballot (`chosen`'s keys)."""
    has_q2 = c.has_q2
    return {v for (_, v), mask in c.facts(s).voters.items() if has_q2[mask]}


def agreement(c: Consts, s: PaxosState) -> bool:
    return len(chosen_values(c, s)) <= 1


def explain_agreement(c: Consts, s: PaxosState) -> str:
    ch = chosen(s, c.quorums2, c.facts(s).votes)
    parts = [f"{value_name(v)} in ballot {b} by {node_set(q)}" for v, (b, q) in sorted(ch.items())]
    text = "two values chosen: " + "; ".join(parts)
    lie = explain_lie(c, s, ch) if c.liars else ""
    return f"{text}. {lie}" if lie else text


def explain_lie(c: Consts, s: PaxosState, ch: dict[int, tuple[int, tuple[int, ...]]]) -> str:
    """With Byzantine acceptors: which acceptors the two quorums share, and the lie
    that let the later ballot's leader propose another value."""
    (b1, q1, v1), (b2, q2, v2) = sorted((b, q, v) for v, (b, q) in ch.items())[:2]
    both = sorted(set(q1) & set(q2))
    liars = [a for a in both if c.liars >> a & 1] or [
        a for a in q2 if c.liars >> a & 1]
    if not liars:  # a mutant broke agreement without the liars' help
        return ""
    who = ", ".join(acceptor_name(a) for a in liars)
    # The liars' highest report of a vote for v2 to ballot b2's leader (Phase2a reads
    # every 1b of its quorum): what let it propose v2.
    told = max(((m[3], m[1]) for m in c.facts(s).one_b if m[2] == b2 and m[1] in liars
                and m[4] == v2), default=None)
    if told is None:
        lie = "reported no vote, hiding its vote for " + value_name(v1)
    else:
        proposed = (told[0], v2) in c.facts(s).two_a
        lie = (f"reported <<{told[0]}, {value_name(v2)}>>, a vote for {value_name(v2)} "
               f"in ballot {told[0]}" + ("" if proposed else " that no 2a proposed"))
    if all(c.liars >> a & 1 for a in both):
        return (f"The quorums meet only in {who}, which is Byzantine: its 2bs count for "
                f"{value_name(v1)} in ballot {b1} and for {value_name(v2)} in ballot {b2}, "
                f"and its 1b for ballot {b2} {lie} (a correct acceptor would have "
                f"reported its vote for {value_name(v1)} in ballot {b1}, and ballot {b2} "
                f"could then only propose {value_name(v1)})")
    honest = ", ".join(acceptor_name(a) for a in both if not c.liars >> a & 1)
    return (f"The quorums meet in {node_set(tuple(both))}, and Byzantine {who}'s 1b for "
            f"ballot {b2} {lie}: ballot {b2}'s leader read it beside correct {honest}'s "
            f"report of its vote for {value_name(v1)}, a vote no higher, so it could "
            f"propose {value_name(v2)}")


# -- PAXOS-INV2: <<maxVBal[a], maxVal[a]>> is a vote a cast, or <<-1, None>> ---------


def inv2_breakers(c: Consts, s: PaxosState) -> list[int]:
    vts = c.facts(s).votes
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
    vts = c.facts(s).votes
    max_bal = s.max_bal
    return [
        m
        for m in c.facts(s).one_b
        if max_bal[m[1]] < m[2] or (m[3] >= 0 and (m[3], m[4]) not in vts[m[1]])
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
    """Voting.tla's ShowsSafeAt(Q, b, v) under Paxos's refinement mapping.

    The spec asks for a c in -1..b-1 such that no member of Q voted in a ballot
    strictly between c and b, and (c = -1 or some member voted for v in c). With m
    the highest ballot below b in which a member of Q voted (-1 if none), the first
    condition is c >= m, and no vote of Q lies in m+1..b-1, so the witness can only
    be c = m: v is shown safe iff m = -1 or some member of Q voted for v in m."""
    max_bal = s.max_bal
    top = -1
    for a in q:
        if max_bal[a] < b:
            return False
        for vb, _ in vts[a]:
            if top < vb < b:
                top = vb
    return top == -1 or any((top, v) in vts[a] for a in q)


def bad_2a(c: Consts, s: PaxosState) -> list[str]:
    vts, _, _, two_a, _ = c.facts(s)
    out = []
    for b, v in two_a:
        if not any(shows_safe_at(s, vts, q, b, v) for q in c.quorums):
            out.append(f"2a for ballot {b} proposes {value_name(v)}, which is not safe")
        others = [w for bb, w in two_a if bb == b and w != v]
        if others:
            out.append(
                f"two 2a messages in ballot {b}: {value_name(v)} and {value_name(others[0])}"
            )
    return out


# -- PAXOS-VOTES-SAFE: Voting.tla's VotesSafe (Inv!4) ---------------------------------


def unsafe_votes(c: Consts, s: PaxosState) -> list[tuple[int, int, int]]:
    """The votes <<a, b, v>> for a value not safe at their ballot: SafeAt(b, v) needs,
    for every ballot cb below b, a phase-1 quorum whose every member voted for v in
    cb or moved past cb (maxBal > cb) without voting in it (Voting.tla's
    NoneOtherChoosableAt). Each <<b, v>> is judged once, however many voted for it."""
    vts, voters, _, _, voted_in = c.facts(s)
    max_bal, has_q1 = s.max_bal, c.has_q1
    past: dict[int, int] = {}  # cb -> the acceptors past cb that did not vote in it
    bad = set()
    for b, v in cast_by_correct(c, voters):
        for cb in range(b):
            moved = past.get(cb)
            if moved is None:
                moved = 0
                for a, mb in enumerate(max_bal):
                    if mb > cb:
                        moved |= 1 << a
                moved = past[cb] = moved & ~voted_in.get(cb, 0)
            if not has_q1[voters.get((cb, v), 0) | moved]:
                bad.add((b, v))
                break
    if not bad:
        return []
    return [(a, b, v) for a in range(len(vts)) if not c.liars >> a & 1
            for b, v in sorted(vts[a]) if (b, v) in bad]


def explain_votes_safe(c: Consts, s: PaxosState) -> str:
    a, b, v = unsafe_votes(c, s)[0]
    return (
        f"{acceptor_name(a)} voted for {value_name(v)} in ballot {b}, but "
        f"{value_name(v)} is not safe at {b}: another value is chosen or choosable "
        "in a lower ballot"
    )


# -- PAXOS-ONE-VALUE-PER-BALLOT: Voting.tla's OneValuePerBallot (Inv!4) ---------------


def cast_by_correct(c: Consts, voters: dict[tuple[int, int], int]
                    ) -> dict[tuple[int, int], int]:
    """The votes some correct acceptor cast: all of them without Byzantine acceptors.
    A liar voted for everything, so VotesSafe and OneValuePerBallot judge only the
    correct acceptors' votes; SafeAt still counts the liar in every quorum, as one
    that voted for the value (a wildcard: the liar may claim anything)."""
    if not c.liars:
        return voters
    return {vote: who for vote, who in voters.items() if who & ~c.liars}


def split_ballots(c: Consts, s: PaxosState) -> list[int]:
    seen: dict[int, int] = {}
    split = set()
    for b, v in cast_by_correct(c, c.facts(s).voters):
        if seen.setdefault(b, v) != v:
            split.add(b)
    return sorted(split)


def explain_split(c: Consts, s: PaxosState) -> str:
    b = split_ballots(c, s)[0]
    vts = c.facts(s).votes
    who = sorted(
        f"{acceptor_name(a)}:{value_name(v)}" for a in range(len(vts)) for bb, v in vts[a]
        if bb == b and not c.liars >> a & 1
    )
    return f"acceptors voted for different values in ballot {b}: {', '.join(who)}"


# -- PAXOS-CHOSEN (sometimes): the checks are not vacuous -----------------------------


def some_value_chosen(c: Consts, s: PaxosState) -> bool:
    return bool(chosen_values(c, s))


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


def make_properties(quorums: Quorums, quorums2: Quorums, n: int | None = None,
                    liars: frozenset[int] = frozenset()) -> list[Property]:
    """The properties over phase-1 `quorums` and phase-2 `quorums2` (equal in Paxos.tla;
    Flexible Paxos lets them differ as long as every phase-1 quorum meets every phase-2
    quorum)."""
    state_facts = last_state(facts)
    if n is None:  # the acceptors the quorums name
        n = 1 + max(a for q in quorums + quorums2 for a in q)
    return bind(PROPERTIES, Consts(quorums, quorums2, state_facts,
                                   quorum_table(n, quorums), quorum_table(n, quorums2),
                                   sum(1 << a for a in liars)))
