"""The state of Fast Paxos: each acceptor's rnd, vrnd and vval, and the messages sent.

The variables are those of Lamport's "Fast Paxos" (Distributed Computing 19(2), 2006;
MSR-TR-2005-112), §2 and §3: `rnd[a]`, the highest round acceptor `a` has taken part
in; `vrnd[a]` and `vval[a]`, the round and value of its last vote (0 and None if it
never voted). Rounds are numbered 1, 2, ... as in the paper, so 0 means "no round".
As in Paxos.tla, `msgs` is the set of every message ever sent and only grows: for
safety a lost message is one never received, so neither loss, duplication nor
reordering needs an action.

Messages are int tuples whose first element is the type (states then hash the same in
every process):

    proposal: (TP, val)                     a client's value, sent to the acceptors
    1a: (T1A, rnd)                          1b: (T1B, acc, rnd, vrnd, vval)
    2a: (T2A, rnd, val)                     2b: (T2B, acc, rnd, val)

A fast round's coordinator may send the 2a value `ANY` (-2): Lamport's "any" message,
which lets each acceptor vote for the first proposal it receives in that round.
"""

from __future__ import annotations

from typing import NamedTuple

from ...checker.model import FnMap, Record, TlaSet
from ..common.ids import NONE, acceptor_name, value_name

T1A, T1B, T2A, T2B, TP = 0, 1, 2, 3, 4
ANY = -2  # the 2a value of Lamport's "any" message; never a vote


class FastPaxosState(NamedTuple):
    rnd: tuple[int, ...]
    vrnd: tuple[int, ...]
    vval: tuple[int, ...]
    msgs: frozenset[tuple[int, ...]]


def initial(n_acceptors: int) -> FastPaxosState:
    """Init: every acceptor in round 0 with no vote, and no message sent."""
    zero = (0,) * n_acceptors
    return FastPaxosState(zero, zero, (NONE,) * n_acceptors, frozenset())


Votes = list[set[tuple[int, int]]]  # votes[a]: the <<rnd, val>> pairs acceptor a voted for


def votes(msgs: frozenset[tuple[int, ...]], n_acceptors: int) -> Votes:
    """votes[a] = {<<m.rnd, m.val>> : m a 2b message from a}, as Paxos.tla's mapping."""
    out: Votes = [set() for _ in range(n_acceptors)]
    for m in msgs:
        if m[0] == T2B:
            out[m[1]].add((m[2], m[3]))
    return out


def proposed(msgs: frozenset[tuple[int, ...]]) -> frozenset[int]:
    return frozenset(m[1] for m in msgs if m[0] == TP)


def value_text(v: int) -> str:
    return "any" if v == ANY else value_name(v)


def describe_message(m: tuple[int, ...]) -> Record:
    kind = m[0]
    if kind == TP:
        return Record(type="propose", val=value_name(m[1]))
    if kind == T1A:
        return Record(type="1a", rnd=m[1])
    if kind == T1B:
        return Record(type="1b", acc=acceptor_name(m[1]), rnd=m[2], vrnd=m[3],
                      vval=value_name(m[4]))
    if kind == T2A:
        return Record(type="2a", rnd=m[1], val=value_text(m[2]))
    return Record(type="2b", acc=acceptor_name(m[1]), rnd=m[2], val=value_name(m[3]))


def describe(s: FastPaxosState) -> dict[str, object]:
    n = len(s.rnd)
    return {
        "rnd": FnMap((acceptor_name(a), s.rnd[a]) for a in range(n)),
        "vrnd": FnMap((acceptor_name(a), s.vrnd[a]) for a in range(n)),
        "vval": FnMap((acceptor_name(a), value_name(s.vval[a])) for a in range(n)),
        "msgs": TlaSet(describe_message(m) for m in sorted(s.msgs)),
    }
