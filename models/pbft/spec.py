"""PBFT, Practical Byzantine Fault Tolerance (Castro and Liskov, OSDI 1999; TOCS 2002).

`replicas` replicas r0..r(n-1), `f` of them tolerated and the ones `byzantine` names
faulty; quorums of n - f (2f + 1 when n = 3f + 1); the primary of view v is r(v mod
n). Client c issues request c (`requests` clients, one request each, issued at the
start: issuing later only delays it). Views run 0..max_view and sequence numbers
1..max_seq. Messages are signed: a faulty replica has sent, from the start, every
well-formed message under its own name (see `actions`), which covers equivocation and
lies in VIEW-CHANGE and NEW-VIEW; it can never sign for a correct replica.

With n = 3f the quorums of n - f no longer intersect in a correct replica, and the
checker finds a faulty primary's equivocation committed two ways (the n >= 3f + 1
lower bound); with n = 3f + 1 the same bounds hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

from ...checker.errors import UsageError
from ...checker.model import ModelSpec, Param
from ..common.ids import replica_name
from ..common.properties import ids
from ..common.quorums import QuorumSystem
from . import actions as act
from .invariants import PROPERTIES, make_properties
from .mutants import MUTANTS, rules_for
from .messages import client_name, digest_name
from .state import PbftState, describe, initial
from .symmetry import interchangeable_replicas, make_canonical

BYZANTINE = ("primary", "new-primary", "backups", "none")
NETWORKS = ("sent-set",)


def faulty_replicas(n: int, f: int, byzantine: str) -> frozenset[int]:
    """Which replicas are faulty: `primary` r0..r(f-1) (view 0's primary among them),
    `new-primary` r1..rf (view 1's primary among them), `backups` the last f,
    `none` no one."""
    if byzantine == "none" or f == 0:
        return frozenset()
    if byzantine == "primary":
        return frozenset(range(f))
    if byzantine == "new-primary":
        return frozenset(range(1, f + 1))
    return frozenset(range(n - f, n))


class PbftModel:
    """PBFT with view changes as a `Model`: states are `PbftState`s, actions tuples."""

    def __init__(self, replicas: int = 4, f: int = 1, byzantine: str = "primary",
                 requests: int = 2, max_view: int = 1, max_seq: int = 1,
                 network: str = "sent-set", mutant: str | None = None) -> None:
        if f >= replicas:
            raise UsageError(f"f must be below replicas; got replicas={replicas}, f={f}")
        if network not in NETWORKS:
            raise UsageError(f"network must be one of {', '.join(NETWORKS)}; got {network!r}")
        self.setup = act.Setup(
            replicas, f, faulty_replicas(replicas, f, byzantine), requests, max_view,
            max_seq, rules_for(mutant),
        )
        self._properties = make_properties(self.setup)
        # The quorums of n - f as a QuorumSystem, so `smrcheck check` can ask z3 first
        # whether two of them always share a correct replica (they do iff n >= 3f + 1).
        self.quorum_system = QuorumSystem.bft(replicas, f)
        c = self.setup
        self._step = {
            "PRE-PREPARE": lambda s, a: act.pre_prepare(s, a[1], a[2], a[3]),
            "PREPARE": lambda s, a: act.prepare(s, a[1], a[2], a[3], a[4]),
            "COMMIT": lambda s, a: act.commit(s, a[1], a[2], a[3], a[4]),
            "EXECUTE": lambda s, a: act.execute(s, a[1], a[3]),
            "ACCEPT": lambda s, a: act.accept_reply(s, a[1], a[2]),
            "VIEW-CHANGE": lambda s, a: act.view_change(s, a[1], a[2], a[3]),
            "NEW-VIEW": lambda s, a: act.new_view(s, a[1], a[2], a[3]),
            "ENTER-VIEW": lambda s, a: act.enter_view(s, a[1], a[2], a[3]),
        }
        self._initial = initial(c.n, c.requests)

    @cached_property
    def canonical(self):
        """Symmetry reduction over the interchangeable requests and correct backups
        (see `symmetry`); the explorer uses it when Options(symmetry=True). Built on
        first use: requests! renamings, too many for the wide windows of trace
        conformance (trace_map.py), which never asks for it."""
        c = self.setup
        return make_canonical(c.n, c.requests,
                              interchangeable_replicas(c.n, c.faulty, c.max_view))

    def init_states(self) -> list[PbftState]:
        return [self._initial]

    def actions(self, s: PbftState) -> list[tuple]:
        return act.enabled_actions(self.setup, s)

    def actions_of(self, s: PbftState, replica: int | None = None,
                   client: int | None = None) -> list[tuple]:
        """The part of `actions(s)` one correct replica or one client takes, in the
        same order; cheaper when a trace event says who acts."""
        out: list[tuple] = []
        if replica is not None:
            act.replica_actions(self.setup, act.Index(s.msgs), s, replica, out)
        else:
            act.client_accepts(self.setup, s, client, out)
        return out

    def next_state(self, s: PbftState, a: tuple) -> PbftState:
        return self._step[a[0]](s, a)

    def properties(self):
        return self._properties

    def describe(self, s: PbftState) -> dict[str, Any]:
        return describe(s, self.setup.faulty, self.setup.requests)

    # -- presentation --------------------------------------------------------------

    def _d(self, d: int) -> str:
        return digest_name(d, self.setup.requests)

    def _o(self, o: tuple[int, ...]) -> str:
        return "[" + ", ".join(f"{n}:{self._d(d)}" for n, d in enumerate(o, 1)) + "]"

    def format_action(self, a: tuple) -> str:
        c, name = self.setup, a[0]
        if name == "PRE-PREPARE":
            _, v, n, d, p = a
            return f"{replica_name(p)} sends PRE-PREPARE(v={v}, n={n}, d={self._d(d)})"
        if name == "PREPARE":
            _, v, n, d, i = a
            p = c.primary(v)
            who = f"faulty {replica_name(p)}" if p in c.faulty else replica_name(p)
            return (
                f"{replica_name(i)} sends PREPARE(v={v}, n={n}, d={self._d(d)}, "
                f"i={replica_name(i)}), accepting {who}'s pre-prepare"
            )
        if name == "COMMIT":
            _, v, n, d, i = a
            return (
                f"{replica_name(i)} is prepared, sends COMMIT(v={v}, n={n}, "
                f"d={self._d(d)}, i={replica_name(i)})"
            )
        if name == "EXECUTE":
            _, i, n, d = a
            return (
                f"{replica_name(i)} is committed-local, executes n={n} ({self._d(d)}) "
                "and replies"
            )
        if name == "ACCEPT":
            _, client, res = a
            return f"client {client_name(client)} accepts result {res} for {self._d(client)}"
        if name == "VIEW-CHANGE":
            _, v, i, certs = a
            p = "{" + ", ".join(f"n={n}: v={pv} {self._d(d)}" for n, pv, d in certs) + "}"
            return (
                f"{replica_name(i)} suspects the primary, sends VIEW-CHANGE(v={v}, "
                f"i={replica_name(i)}, P={p})"
            )
        if name == "NEW-VIEW":
            _, v, p, o = a
            return f"{replica_name(p)} sends NEW-VIEW(v={v}, O={self._o(o)})"
        _, v, i, o = a
        p = c.primary(v)
        who = f"faulty {replica_name(p)}" if p in c.faulty else replica_name(p)
        return f"{replica_name(i)} accepts {who}'s NEW-VIEW(v={v}, O={self._o(o)}), enters view {v}"


def build(params: Mapping[str, Any], mutant: str | None) -> PbftModel:
    return PbftModel(
        params["replicas"], params["f"], params["byzantine"], params["requests"],
        params["max_view"], params["max_seq"], params["network"], mutant,
    )


SPEC = ModelSpec(
    name="pbft",
    summary="PBFT with view changes and Byzantine replicas (Castro & Liskov, OSDI 1999)",
    params=(
        Param("replicas", 4, "number of replicas r0..r(n-1); quorums have n - f",
              minimum=1, maximum=7),
        Param("f", 1, "faults tolerated: quorums of n - f, clients wait for f + 1 replies",
              minimum=0, maximum=3),
        Param("byzantine", "primary", "which f replicas are faulty: primary = r0.., "
              "new-primary = r1.., backups = the last f, none", choices=BYZANTINE),
        Param("requests", 2, "clients, one request each", minimum=1, maximum=3),
        Param("max_view", 1, "views 0..max_view (max_view view changes)", minimum=0, maximum=3),
        Param("max_seq", 1, "sequence numbers 1..max_seq", minimum=1, maximum=3),
        Param("network", "sent-set", "message semantics (sent-set: never lost for "
              "safety, covers loss, duplication and reordering)", choices=NETWORKS),
    ),
    mutants=MUTANTS.infos(),
    build=build,
    property_ids=ids(PROPERTIES),
    notes=(
        "Checkpoints and garbage collection are left out: the low water mark stays 0, "
        "max_seq replaces the high water mark, and NEW-VIEW's min-s is 0. Replies are "
        "derived from each replica's executed log, not kept as messages. A replica's "
        "prepared certificates are read off the COMMITs it sent (it commits the moment "
        "it is prepared); commits of an old view count towards committed-local even if "
        "they arrive after the replica left that view (an over-approximation, safe for "
        "checking safety). Clients issue their requests at the start. Only sent-set "
        "networks. Symmetry reduction renames the requests and the correct replicas "
        "that are the primary of no view (--no-symmetry turns it off)."
    ),
    tolerates=("Byzantine faults of f replicas with n >= 3f + 1 (quorums of n - f meet in a "
               "correct replica); with n = 3f a faulty primary's equivocation commits two ways"),
)
