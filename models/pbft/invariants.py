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

from collections.abc import Callable
from dataclasses import dataclass

from ...checker.model import Property
from ..common.ids import NONE, replica_name
from ..common.properties import PropertySpec, bind, first_of, last_state, none_of
from .actions import Index, Setup, committed_local, prepared_at
from .messages import CM, client_name, digest_name
from .state import PbftState, result_of


@dataclass(frozen=True, slots=True)
class Consts:
    """What the properties read besides the state: the model's constants, and the
    Index of the state at hand. The explanations run one after another on a violating
    state and share its Index; the checks themselves read `msgs` directly."""

    setup: Setup
    # COMMITs that make a correct replica committed-local besides the faulty
    # replicas' (see `agreement`).
    need: int
    index: Callable[[PbftState], Index]  # once per state


def dn(c: Consts, d: int) -> str:
    return digest_name(d, c.setup.requests)


# -- PBFT-AGREEMENT and PBFT-PREPARED-UNIQUE: the invariants of §4.2 -------------------


def agreement(c: Consts, s: PbftState) -> bool:
    """The hot path: every COMMIT in `msgs` is a correct replica's, so its sender is
    prepared for it, and committed-local once 2f + 1 matching commits exist."""
    count: dict[tuple, int] = {}
    for m in s.msgs:
        if m[0] == CM:
            key = m[1:4]
            count[key] = count.get(key, 0) + 1
    need = c.need
    decided: dict[int, int] = {}
    for (_, n, d), k in count.items():
        if k >= need and decided.setdefault(n, d) != d:
            return False
    return True


def prepared_unique(c: Consts, s: PbftState) -> bool:
    seen: dict[tuple[int, int], int] = {}
    for m in s.msgs:
        if m[0] == CM and seen.setdefault(m[1:3], m[3]) != m[3]:
            return False
    return True


def decisions(c: Consts, s: PbftState, want_commit: bool) -> dict[tuple, dict[int, list]]:
    """(n,) or (v, n) -> digest -> [(replica, view)] of correct replicas that are
    committed-local (want_commit) or prepared for it."""
    ix = c.index(s)
    setup = c.setup
    out: dict[tuple, dict[int, list]] = {}
    for i in setup.correct:
        held = committed_local(setup, ix, i) if want_commit else prepared_at(ix, i)
        for v, n, d in held:
            key = (n,) if want_commit else (v, n)
            out.setdefault(key, {}).setdefault(d, []).append((i, v))
    return out


def explain_split(c: Consts, s: PbftState, want_commit: bool) -> str:
    ds_by_key = decisions(c, s, want_commit)
    key = sorted(k for k, ds in ds_by_key.items() if len(ds) > 1)[0]
    parts = [
        f"{dn(c, d)} at {', '.join(f'{replica_name(i)} (view {v})' for i, v in who)}"
        for d, who in sorted(ds_by_key[key].items())
    ]
    if want_commit:
        head = f"sequence number {key[0]} committed with different requests: "
    else:
        head = f"view {key[0]}, sequence number {key[1]} prepared with different digests: "
    return head + "; ".join(parts)


def explain_agreement(c: Consts, s: PbftState) -> str:
    return explain_split(c, s, True)


def explain_prepared(c: Consts, s: PbftState) -> str:
    return explain_split(c, s, False)


# -- PBFT-VALIDITY: only requests a client signed are executed -------------------------


def invalid_executions(c: Consts, s: PbftState) -> list[tuple[int, int, int]]:
    forged = c.setup.forged
    return [
        (i, n, d)
        for i in c.setup.correct
        for n, d in enumerate(s.executed[i], 1)
        if d == forged
    ]


def explain_validity(c: Consts, s: PbftState) -> str:
    i, n, d = invalid_executions(c, s)[0]
    return (
        f"{replica_name(i)} executed {dn(c, d)} at sequence number {n}, a request no "
        "client issued"
    )


# -- PBFT-CLIENT: an accepted result is the sequential execution's (§4.1) --------------


def bad_replies(c: Consts, s: PbftState) -> list[str]:
    setup = c.setup
    out = []
    for client, res in enumerate(s.accepted):
        if res == NONE:
            continue
        got = {i: result_of(s.executed[i], client, setup.null) for i in setup.correct}
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
                f"{dn(c, client)}, which no correct replica has executed with that result"
            )
    return out


# -- PBFT-ACCEPTED and PBFT-VIEW-CHANGE (sometimes): the model is not vacuous ----------


def some_result_accepted(c: Consts, s: PbftState) -> bool:
    return any(r != NONE for r in s.accepted)


def view_change_completes(c: Consts, s: PbftState) -> bool:
    return any(s.view[i] > 0 and not s.changing[i] for i in c.setup.correct)


PROPERTIES: tuple[PropertySpec[PbftState], ...] = (
    PropertySpec("PBFT-AGREEMENT", "always",
                 "no two correct replicas commit different requests at one sequence number, "
                 "in any views", agreement, explain_agreement),
    PropertySpec("PBFT-PREPARED-UNIQUE", "always",
                 "within one view, correct replicas never prepare two digests for one "
                 "sequence number", prepared_unique, explain_prepared),
    PropertySpec("PBFT-VALIDITY", "always",
                 "correct replicas execute only requests some client issued",
                 none_of(invalid_executions), explain_validity),
    PropertySpec("PBFT-CLIENT", "always",
                 "no client accepts a result that disagrees with the sequential execution "
                 "of the committed requests", none_of(bad_replies), first_of(bad_replies)),
    PropertySpec("PBFT-ACCEPTED", "sometimes",
                 "a request is executed and its client accepts the result",
                 some_result_accepted),
    PropertySpec("PBFT-VIEW-CHANGE", "sometimes",
                 "a view change completes: a correct replica enters a view after view 0",
                 view_change_completes),
)


def make_properties(setup: Setup) -> list[Property]:
    index = last_state(lambda s: Index(s.msgs))
    return bind(PROPERTIES, Consts(setup, setup.commit_need - setup.nf, index))
