"""The safety properties of PBFT (Castro and Liskov, OSDI 1999 §4.1, TOCS 2002 §2.3),
each a property, and two reachability goals that keep the model honest.

- PBFT-AGREEMENT: no two correct replicas are committed-local for different requests
  at one sequence number, in any views (the paper's invariant that committed-local
  requests are the same at all correct replicas, §4.2 and §4.4).
- PBFT-PREPARED-UNIQUE: within one view, correct replicas never prepare two digests
  for one sequence number (the invariant of §4.2: prepared(m, v, n, i) and
  prepared(m', v, n, j) imply D(m) = D(m')).
- PBFT-VALIDITY: correct replicas execute only requests a client issued (or the null
  request): a faulty primary cannot forge a client's signature.
- PBFT-CLIENT: a result a client accepts is the one the sequential execution of the
  committed requests gives: some correct replica executed the request with that
  result, and none with another (linearizability of replies, §4.1).
- PBFT-ACCEPTED and PBFT-VIEW-CHANGE (sometimes): a client does accept a result, and
  a correct replica does enter a later view. A model in which backups could never
  prepare, or a NEW-VIEW never be accepted, would satisfy every invariant vacuously;
  these goals fail such a model.

A correct replica is prepared for (v, n, d) when it has sent COMMIT(v, n, d) (it
sends one the moment it is prepared, see `actions.prepared_at`), and committed-local
when, besides, 2f + 1 matching COMMITs exist.
"""

from __future__ import annotations

from ...checker.model import Property
from ..common.ids import NONE, replica_name
from .actions import Index, Setup, committed_local, prepared_at
from .messages import CM, client_name, digest_name
from .state import PbftState, result_of


def make_properties(c: Setup) -> list[Property]:
    # The explanations run one after another on a violating state; they share its
    # Index. The checks themselves (below) read `msgs` directly.
    last: list = [None, None]

    def index(s: PbftState) -> Index:
        if last[0] is not s:
            last[0], last[1] = s, Index(s.msgs)
        return last[1]

    def dn(d: int) -> str:
        return digest_name(d, c.requests)

    def decisions(s: PbftState, want_commit: bool) -> dict[tuple, dict[int, list]]:
        """(n,) or (v, n) -> digest -> [(replica, view)] of correct replicas that are
        committed-local (want_commit) or prepared for it."""
        ix = index(s)
        out: dict[tuple, dict[int, list]] = {}
        for i in c.correct:
            held = committed_local(c, ix, i) if want_commit else prepared_at(ix, i)
            for v, n, d in held:
                key = (n,) if want_commit else (v, n)
                out.setdefault(key, {}).setdefault(d, []).append((i, v))
        return out

    def split(s: PbftState, want_commit: bool) -> list[tuple]:
        return sorted(k for k, ds in decisions(s, want_commit).items() if len(ds) > 1)

    # The hot path: every COMMIT in `msgs` is a correct replica's, so its sender is
    # prepared for it, and committed-local once 2f + 1 matching commits exist.
    need = c.commit_need - c.nf

    def agreement(s: PbftState) -> bool:
        count: dict[tuple, int] = {}
        for m in s.msgs:
            if m[0] == CM:
                key = m[1:4]
                count[key] = count.get(key, 0) + 1
        decided: dict[int, int] = {}
        for (_, n, d), k in count.items():
            if k >= need and decided.setdefault(n, d) != d:
                return False
        return True

    def prepared_unique(s: PbftState) -> bool:
        seen: dict[tuple[int, int], int] = {}
        for m in s.msgs:
            if m[0] == CM and seen.setdefault(m[1:3], m[3]) != m[3]:
                return False
        return True

    def explain_split(s: PbftState, want_commit: bool) -> str:
        key = split(s, want_commit)[0]
        ds = decisions(s, want_commit)[key]
        parts = [
            f"{dn(d)} at {', '.join(f'{replica_name(i)} (view {v})' for i, v in who)}"
            for d, who in sorted(ds.items())
        ]
        if want_commit:
            head = f"sequence number {key[0]} committed with different requests: "
        else:
            head = f"view {key[0]}, sequence number {key[1]} prepared with different digests: "
        return head + "; ".join(parts)

    def invalid_executions(s: PbftState) -> list[tuple[int, int, int]]:
        return [
            (i, n, d)
            for i in c.correct
            for n, d in enumerate(s.executed[i], 1)
            if d == c.forged
        ]

    def explain_validity(s: PbftState) -> str:
        i, n, d = invalid_executions(s)[0]
        return (
            f"{replica_name(i)} executed {dn(d)} at sequence number {n}, a request no "
            "client issued"
        )

    def bad_replies(s: PbftState) -> list[str]:
        out = []
        for client, res in enumerate(s.accepted):
            if res == NONE:
                continue
            got = {i: result_of(s.executed[i], client, c.null) for i in c.correct}
            others = sorted((i, r) for i, r in got.items() if r not in (NONE, res))
            if others:
                i, r = others[0]
                out.append(
                    f"client {client_name(client)} accepted result {res}, but "
                    f"{replica_name(i)}'s execution gives {r}"
                )
            elif res not in got.values():
                out.append(
                    f"client {client_name(client)} accepted result {res} for "
                    f"{dn(client)}, which no correct replica has executed with that result"
                )
        return out

    return [
        Property(
            "PBFT-AGREEMENT",
            "always",
            agreement,
            "no two correct replicas commit different requests at one sequence number, "
            "in any views",
            lambda s: explain_split(s, True),
        ),
        Property(
            "PBFT-PREPARED-UNIQUE",
            "always",
            prepared_unique,
            "within one view, correct replicas never prepare two digests for one "
            "sequence number",
            lambda s: explain_split(s, False),
        ),
        Property(
            "PBFT-VALIDITY",
            "always",
            lambda s: not invalid_executions(s),
            "correct replicas execute only requests some client issued",
            explain_validity,
        ),
        Property(
            "PBFT-CLIENT",
            "always",
            lambda s: not bad_replies(s),
            "no client accepts a result that disagrees with the sequential execution "
            "of the committed requests",
            lambda s: bad_replies(s)[0],
        ),
        Property(
            "PBFT-ACCEPTED",
            "sometimes",
            lambda s: any(r != NONE for r in s.accepted),
            "a request is executed and its client accepts the result",
        ),
        Property(
            "PBFT-VIEW-CHANGE",
            "sometimes",
            lambda s: any(s.view[i] > 0 and not s.changing[i] for i in c.correct),
            "a view change completes: a correct replica enters a view after view 0",
        ),
    ]
