"""The state of the PBFT model: each correct replica's view, its executed log, the
clients' accepted results, and the set of every message a correct replica has sent.

Castro and Liskov (OSDI 1999, §4; TOCS 2002, §2-3) describe each replica by its view,
its message log and its service state. Under sent-set semantics (Lamport's `msgs`)
a replica's log need not be kept apart: a message that has been sent can be received
at any later time, and a lost message is one never received, so for safety the log
of replica i is "every message in `msgs` that i has acted on", which the enabling
conditions read off `msgs` itself. What is left per replica is:

- `view[i]`: its current view; `changing[i]`: 1 between sending VIEW-CHANGE for
  `view[i]` and accepting the NEW-VIEW for it (the paper's "view change in
  progress"), else 0;
- `executed[i]`: the digests it has executed, in sequence-number order, so
  `len(executed[i])` is the paper's last executed sequence number. A replica's REPLY
  is derived from this log (it is sent on execution and, under sent-set semantics,
  never lost), so replies are not kept as messages;
- `accepted[c]`: the result client c accepted for its request, or NONE.

Faulty replicas have no state: their messages are a constant universe (every
well-formed message they could sign), consulted by the enabling conditions and never
stored, as BPConProof.tla (tlaplus/Examples, byzpaxos) treats fake acceptors. Their
entries in `view`, `changing` and `executed` stay at their initial values.

Messages, requests and their names are in `messages`.
"""

from __future__ import annotations

from typing import NamedTuple

from ...checker.model import FnMap, TlaSet
from ..common.ids import NONE, replica_name
from .messages import client_name, describe_message, digest_name


class PbftState(NamedTuple):
    view: tuple[int, ...]
    changing: tuple[int, ...]
    executed: tuple[tuple[int, ...], ...]
    accepted: tuple[int, ...]
    msgs: frozenset[tuple]


def initial(n_replicas: int, n_requests: int) -> PbftState:
    """Every replica active in view 0 with nothing executed; no message sent."""
    zeros = (0,) * n_replicas
    return PbftState(zeros, zeros, ((),) * n_replicas, (NONE,) * n_requests, frozenset())


def result_of(log: tuple[int, ...], request: int, null: int) -> int:
    """The reply to `request` after executing `log`: its position in the service's
    history of distinct requests (1 for the first), or NONE if not executed.

    The service is an append-only history; a request executed again (a faulty
    primary may assign it two sequence numbers) is answered from the first execution,
    as PBFT's last-reply cache answers a retransmission.
    """
    seen: list[int] = []
    for d in log:
        if d != null and d not in seen:
            seen.append(d)
            if d == request:
                return len(seen)
    return NONE


def describe(s: PbftState, faulty: frozenset[int], n_requests: int) -> dict[str, object]:
    n = len(s.view)
    correct = [i for i in range(n) if i not in faulty]
    return {
        "faulty": TlaSet(replica_name(i) for i in sorted(faulty)),
        "view": FnMap((replica_name(i), s.view[i]) for i in correct),
        "viewChanging": FnMap((replica_name(i), bool(s.changing[i])) for i in correct),
        "executed": FnMap(
            (replica_name(i), tuple(digest_name(d, n_requests) for d in s.executed[i]))
            for i in correct
        ),
        "accepted": FnMap(
            (client_name(c), "None" if r == NONE else r) for c, r in enumerate(s.accepted)
        ),
        "msgs": TlaSet(describe_message(m, n_requests) for m in sorted(s.msgs)),
    }
