"""The state of Lamport's Paxos.tla: maxBal, maxVBal, maxVal and msgs.

Paxos.tla's four variables, one to one: `maxBal[a]` is the highest ballot acceptor `a`
has promised or voted in, `<<maxVBal[a], maxVal[a]>>` the vote with the highest ballot
it cast (`<<-1, None>>` if none), and `msgs` the set of every message ever sent.
`msgs` only grows: as the spec's NOTE explains, for safety a lost message is the same
as one never received, so neither loss, duplication nor reordering needs an action.

Messages are int tuples whose first element is the type, so that states hash the same
in every process (TLA+'s records become `(type, field, ...)` in the field order of the
spec's `Message` set):

    1a: (T1A, bal)                    1b: (T1B, acc, bal, mbal, mval)
    2a: (T2A, bal, val)               2b: (T2B, acc, bal, val)

Ballots are 0..max_ballot; -1 stands for "no ballot" and `NONE` (-1) for None.
"""

from __future__ import annotations

from typing import NamedTuple

from ..common.ids import NONE, acceptor_name, value_name
from ...checker.model import FnMap, Record, TlaSet

T1A, T1B, T2A, T2B = 0, 1, 2, 3


class PaxosState(NamedTuple):
    max_bal: tuple[int, ...]
    max_vbal: tuple[int, ...]
    max_val: tuple[int, ...]
    msgs: frozenset[tuple[int, ...]]


def initial(n_acceptors: int) -> PaxosState:
    """Init: every acceptor at ballot -1 with no vote, and no message sent."""
    none = (NONE,) * n_acceptors
    return PaxosState(none, none, none, frozenset())


def votes(msgs: frozenset[tuple[int, ...]], n_acceptors: int) -> list[set[tuple[int, int]]]:
    """Paxos.tla's refinement mapping: votes[a] = {<<m.bal, m.val>> : 2b from a}."""
    out: list[set[tuple[int, int]]] = [set() for _ in range(n_acceptors)]
    for m in msgs:
        if m[0] == T2B:
            out[m[1]].add((m[2], m[3]))
    return out


def describe_message(m: tuple[int, ...]) -> Record:
    kind = m[0]
    if kind == T1A:
        return Record(type="1a", bal=m[1])
    if kind == T1B:
        return Record(
            type="1b", acc=acceptor_name(m[1]), bal=m[2], mbal=m[3], mval=value_name(m[4])
        )
    if kind == T2A:
        return Record(type="2a", bal=m[1], val=value_name(m[2]))
    return Record(type="2b", acc=acceptor_name(m[1]), bal=m[2], val=value_name(m[3]))


def describe(s: PaxosState) -> dict[str, object]:
    n = len(s.max_bal)
    return {
        "maxBal": FnMap((acceptor_name(a), s.max_bal[a]) for a in range(n)),
        "maxVBal": FnMap((acceptor_name(a), s.max_vbal[a]) for a in range(n)),
        "maxVal": FnMap((acceptor_name(a), value_name(s.max_val[a])) for a in range(n)),
        "msgs": TlaSet(describe_message(m) for m in sorted(s.msgs)),
    }
