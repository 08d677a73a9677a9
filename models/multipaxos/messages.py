"""The four messages of MultiPaxos, as int tuples whose first element is the type.

Paxos Made Simple §3 runs one instance of the §2 algorithm per log slot, with one
twist in phase 1: a new leader sends a single prepare request "for all instances" and
each acceptor answers with one promise that reports, for every slot, the
highest-ballot value it has accepted there. So a 1b carries a whole per-slot tuple,
while 2a and 2b messages name their slot:

    1a  prepare:  (P1A, bal)                    sent by the owner of ballot bal
    1b  promise:  (P1B, acc, bal, accepted)     accepted[slot] = (vbal, vval)
    2a  accept:   (P2A, bal, slot, val)         at most one per ballot and slot
    2b  accepted: (P2B, acc, bal, slot, val)

Everything is an int so that states hash the same in every process. A ballot is the
paper's pair (round, replica id), ordered lexicographically. The model numbers the
ballots a run actually uses, in that order, 0..max_round-1, and records each one's
owner in the state (`MPState.owner`): the ballot's int is its round, and a replica
that wants to lead claims any unclaimed round above every ballot it has seen. This
loses no behaviour (any run that uses k distinct ballots is a run of the model with k
rounds, its ballots renumbered in order) and it makes the replica id plain data, so
replicas are interchangeable once ownership is renamed with them (see
`state.canonical`). -1 (`NONE`) is "no ballot". Client commands are 0..commands-1
and the no-op is `NOOP`, a value no client can send.
"""

from __future__ import annotations

from ...checker.model import Record
from ..common.ids import NONE, replica_name

P1A, P1B, P2A, P2B = 0, 1, 2, 3
NOOP = -2  # the no-op a new leader fills gaps with; NONE (-1) is "no value"


def ballot_name(b: int, owner: tuple[int, ...]) -> str:
    """The paper's (round, id) pair, rounds counted from 1 as users count them."""
    if b == NONE:
        return "none"
    who = owner[b]
    return f"({b + 1},{replica_name(who) if who != NONE else '?'})"


def value_name(v: int) -> str:
    if v == NOOP:
        return "noop"
    if v == NONE:
        return "none"
    return f"c{v}"


def describe_message(m: tuple, owner: tuple[int, ...]) -> Record:
    kind = m[0]
    if kind == P1A:
        return Record(type="1a", bal=ballot_name(m[1], owner))
    if kind == P1B:
        return Record(
            type="1b",
            acc=replica_name(m[1]),
            bal=ballot_name(m[2], owner),
            accepted=tuple(
                Record(slot=i, vbal=ballot_name(vb, owner), vval=value_name(vv))
                for i, (vb, vv) in enumerate(m[3])
            ),
        )
    if kind == P2A:
        return Record(type="2a", bal=ballot_name(m[1], owner), slot=m[2], val=value_name(m[3]))
    return Record(
        type="2b", acc=replica_name(m[1]), bal=ballot_name(m[2], owner), slot=m[3],
        val=value_name(m[4]),
    )


def format_message(m: tuple) -> str:
    """A one-line name for a message in an action (rounds counted from 1)."""
    kind = m[0]
    if kind == P1A:
        return f"1a b={m[1] + 1}"
    if kind == P1B:
        acc = ",".join(f"({vb + 1 if vb != NONE else 'none'},{value_name(vv)})"
                       for vb, vv in m[3])
        return f"1b {replica_name(m[1])} b={m[2] + 1} [{acc}]"
    if kind == P2A:
        return f"2a b={m[1] + 1} slot={m[2]} {value_name(m[3])}"
    return f"2b {replica_name(m[1])} b={m[2] + 1} slot={m[3]} {value_name(m[4])}"
