"""The messages of PBFT as int tuples whose first element is the type, and the names
of requests and clients.

Castro and Liskov (OSDI 1999 §4) sign every message; the model keeps only the
fields the protocol reads, each an int so that states hash the same in every
process. Only correct replicas' messages are stored (faulty ones are a universe the
enabling conditions consult, see `actions`):

    PRE-PREPARE (PP, v, n, d)          from the primary of view v
    PREPARE     (PR, v, n, d, i)       COMMIT (CM, v, n, d, i)
    VIEW-CHANGE (VC, v, i, P)          P: sorted ((n, v', d), ...) prepared certificates
    NEW-VIEW    (NV, v, O)             O: (d1, ..., d_max-s), the pre-prepares of view v

REPLY is not a message of the model: a correct replica's reply is derived from its
executed log (see `state`). Requests are ints: client c issues request c, whose
digest is c. `requests` (the count) is the null request of the paper's NEW-VIEW gaps
and `requests + 1` a forged request no client issued, which only a faulty replica
could name.
"""

from __future__ import annotations

from ...checker.model import Record, TlaSet
from ..common.ids import replica_name

PP, PR, CM, VC, NV = 0, 1, 2, 3, 4
TYPE_NAMES = ("PRE-PREPARE", "PREPARE", "COMMIT", "VIEW-CHANGE", "NEW-VIEW")


def digest_name(d: int, n_requests: int) -> str:
    """req1, req2, ... for the clients' requests; null; forged."""
    if d == n_requests:
        return "null"
    if d == n_requests + 1:
        return "forged"
    return f"req{d + 1}"


def client_name(c: int) -> str:
    return f"c{c + 1}"


def describe_message(m: tuple, n_requests: int) -> Record:
    """A message as a TLA+ record, its fields named as in the paper."""
    kind = m[0]

    def dn(d: int) -> str:
        return digest_name(d, n_requests)

    if kind == PP:
        return Record(type=TYPE_NAMES[PP], view=m[1], seq=m[2], digest=dn(m[3]))
    if kind in (PR, CM):
        return Record(
            type=TYPE_NAMES[kind], view=m[1], seq=m[2], digest=dn(m[3]),
            replica=replica_name(m[4]),
        )
    if kind == VC:
        return Record(
            type=TYPE_NAMES[VC],
            view=m[1],
            replica=replica_name(m[2]),
            P=TlaSet(Record(seq=n, view=v, digest=dn(d)) for n, v, d in m[3]),
        )
    return Record(type=TYPE_NAMES[NV], view=m[1], O=tuple(dn(d) for d in m[2]))
