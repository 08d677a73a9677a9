"""Omission and Byzantine replicas in MultiPaxos (`-p faults=... -p faulty=K`).

The last K replicas are faulty (`models/common/faults.py`); crash faults are the
crash budget that `actions` already has (Crash, Restart).

- omission: a faulty replica follows the protocol but may fail to send or receive.
  A receive omission is a step not taken, which every run may already do. With the
  sent-set network a message that no one receives is already a behaviour, and a 1a
  or 2a the faulty leader fails to send is exactly that (its own record of having
  proposed, kept in msgs, stays: it remembers what it proposed). A 2b is read only
  by the learners and the properties, for which the 2bs in msgs are the record of
  what each acceptor accepted (as in Paxos.tla, where `chosen` is defined on them);
  a learner that misses one lags, which recovery=durable models. What is new is a
  promise whose 1b is lost, the acceptor's promise raised all the same:
  PromiseLost(a, b). Such a state is a fault-free state with one 1b fewer in msgs,
  and the guards of the correct steps only ever need messages to be present, so
  omission adds states but no way to break agreement. (With bag and fifo, Drop
  already loses any copy in flight.)
- byzantine: a faulty replica's acceptor has sent, from the start, every 1b and 2b
  of the bounded universe under its own name (`lies`): a 1b for any ballot reporting
  any value per slot at any lower ballot (or none), a 2b for any ballot, slot and
  value (a command or the no-op). In the sent-set network, where nothing forces a
  receiver to read a message, an acceptor that sent more is never weaker, so this is
  the strongest adversary of the universe, with no state of its own: the liar takes
  no step, leads no ballot and learns nothing. A leader that leads on a quorum with
  a liar in it may read any of its 1bs for the ballot (Lead enumerates them).
"""

from __future__ import annotations

from itertools import product

from ..common.ids import NONE
from .messages import NOOP, P1B, P2B


def lies(a: int, max_round: int, slots: int, commands: int) -> list[tuple]:
    """Every 1b and 2b a Byzantine acceptor a can send: well formed (a 1b reports
    votes at ballots below its own), under its own name, any values (a command or
    the no-op)."""
    values = (NOOP, *range(commands))
    out: list[tuple] = []
    for b in range(max_round):
        per_slot = [(NONE, NONE)] + [(vb, v) for vb in range(b) for v in values]
        out += [(P1B, a, b, acc) for acc in product(per_slot, repeat=slots)]
        out += [(P2B, a, b, slot, v) for slot in range(slots) for v in values]
    return out
