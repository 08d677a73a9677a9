"""MultiPaxos state machine replication, after Lamport's "Paxos Made Simple" §3.

Replicas r0..r{n-1} (n = 2f+1) each collocate a proposer, an acceptor and a learner,
and agree on a log of client commands with one Paxos instance per slot. A replica
that wants to lead runs phase 1 once, for all slots; the new leader re-proposes what
its quorum reports, fills gaps with no-ops, and then, as a stable leader, sends each
new command straight to phase 2 in the next slot. Replicas execute chosen commands in
slot order, each at most once. `actions.py` explains each step against the paper,
`state.py` the variables, `invariants.py` the properties, `mutants.py` the broken
variants.

The constants are made finite as MCPaxos.tla does for Paxos.tla: `slots` log slots,
ballots (round, replica) with rounds 1..max_round, `commands` client commands, all
pending from the start, and a budget of `crashes` crash events (crash-stop, or with
recovery=durable a crashed replica may restart with its acceptor state intact).
The network is a parameter (`network.py`): sent-set (default, Lamport's grow-only
`msgs`), bag (a multiset of messages in flight, with explicit drop and a bounded
duplicate) or fifo (one ordered, lossy queue per channel).

So is the failure model (`models/common/faults.py`): `faults=crash -p faulty=K` is the
crash budget (the same as `crashes=K`); `faults=omission` lets the last K replicas
promise without their 1b reaching anyone; `faults=byzantine` makes the last K replicas' acceptors liars
that have sent every 1b and 2b of a bounded universe (`actions.py` explains both).
With 3 replicas MultiPaxos survives one crash or one omission-faulty replica, and
one Byzantine replica breaks MP-AGREEMENT: two quorums of two meet in the liar only.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

from ...checker.errors import UsageError
from ...checker.model import ModelSpec, Param, TlaSet
from ..common.faults import BYZANTINE, CRASH, OMISSION, fault_params, faulty_nodes
from ..common.ids import NONE, replica_name
from ..common.properties import ids
from ..common.quorums import EXAMPLES, QuorumSystem, Threshold, parse, threshold
from . import actions as act
from .invariants import PROPERTIES, make_properties
from .messages import describe_message, format_message, value_name
from .mutants import MUTANTS, rules_for
from .network import DUP_DEFAULT, NETWORKS, Network
from .state import MPState, canonical, canonical_in_flight, describe, initial, value_maps

RECOVERY = ("none", "durable")


def _size_quorums(text: str, n: int) -> QuorumSystem:
    """The quorum system of `-p quorums=...`; only systems defined by sizes, because the
    symmetry reduction treats replicas as interchangeable."""
    try:
        system = parse(text, n)
    except UsageError as err:
        raise UsageError(f"parameter quorums: {err}") from None
    sized = all(isinstance(m, Threshold) and set(m.weights) == {1}
                for m in (system.phase1, system.phase2))
    if system.byzantine or not sized:
        raise UsageError("parameter quorums: multipaxos takes quorums defined by size "
                         "(majority, flexible:q1=..,q2=.., threshold:q=..), since its replicas "
                         f"are interchangeable; got {text!r}")
    return system


class MultiPaxosModel:
    """MultiPaxos as a `Model`: states are `MPState`s, actions tuples."""

    def __init__(self, replicas: int = 3, slots: int = 2, max_round: int = 2,
                 commands: int = 2, crashes: int = 0, recovery: str = "none",
                 network: str = "sent-set", mutant: str | None = None,
                 quorums: str = "majority", dup: int = DUP_DEFAULT,
                 faults: str = CRASH, faulty: int = 0) -> None:
        self.network = Network(network, replicas, dup)
        crashes, omitting, liars = _faults(faults, faulty, crashes, replicas, network)
        self.n = replicas
        self.rules = rules_for(mutant)
        if self.rules.majority_quorums:
            self.quorum_system = _size_quorums(quorums, replicas)
        else:
            small = max(1, replicas // 2)
            self.quorum_system = QuorumSystem.flexible(replicas, small, small)
        q1 = self.quorum_system.phase1.threshold
        q2 = self.quorum_system.phase2.threshold
        self.cfg = act.Config(replicas, slots, max_round, commands, crashes,
                              recovery == "durable", threshold(replicas, q1), self.rules, q2,
                              self.network, omitting, liars)
        self._properties = make_properties(replicas, slots, commands, q2, liars)

    def init_states(self) -> list[MPState]:
        s = initial(self.n, self.cfg.slots, self.cfg.max_round, self.network.initial())
        return [s._replace(msgs=self.cfg.lies)]

    def actions(self, s: MPState) -> list[tuple]:
        return act.enabled_actions(s, self.cfg)

    def next_state(self, s: MPState, a: tuple) -> MPState:
        return act.step(s, a, self.cfg)

    def properties(self):
        return self._properties

    @cached_property
    def _maps(self) -> list:
        # Built on first use: commands! renamings, too many for the wide windows of
        # trace conformance (trace_map.py), which never asks for a canonical form.
        return value_maps(self.cfg.commands)

    def canonical(self, s: MPState) -> tuple:
        if self.network.sent_set:
            return canonical(s, self._maps, self.cfg.faulty)
        return canonical_in_flight(s, self._maps, self.network, self.cfg.faulty)

    def describe(self, s: MPState) -> dict[str, Any]:
        lies = self.cfg.lies
        if not lies:
            return describe(s, self.network)
        # A liar's messages, sent from the start, are shown apart and with ballots by
        # round alone, so that a counterexample's steps show only what changed.
        out = describe(s._replace(msgs=s.msgs - lies), self.network)
        out["lies"] = self._lies
        return out

    @cached_property
    def _lies(self) -> TlaSet:
        unowned = (NONE,) * self.cfg.max_round
        return TlaSet(describe_message(m, unowned) for m in sorted(self.cfg.lies))

    def format_action(self, a: tuple) -> str:
        name = a[0]
        if name in ("Prepare", "Promise"):
            return f"{name}({replica_name(a[1])}, b={a[2] + 1})"
        if name == "Lead":
            vals = ", ".join(value_name(v) for v in a[3])
            quorum = "{" + ", ".join(replica_name(r) for r in a[2]) + "}"
            return f"Lead({replica_name(a[1])}, Q={quorum}, re-propose=[{vals}])"
        if name in ("Propose", "Execute"):
            return f"{name}({replica_name(a[1])}, {value_name(a[2])})"
        if name == "PromiseLost":
            return self.format_action(("Promise",) + a[1:]) + " (its 1b lost)"
        if name == "Accept":
            return (f"Accept({replica_name(a[1])}, b={a[2] + 1}, slot={a[3]}, "
                    f"{value_name(a[4])})")
        if name in ("Drop", "Duplicate"):
            return f"{name}(to {replica_name(a[1])}, {format_message(a[2])})"
        return f"{name}({replica_name(a[1])})"


def _faults(faults: str, faulty: int, crashes: int, n: int, network: str
            ) -> tuple[int, frozenset[int], frozenset[int]]:
    """(crash budget, omission-faulty replicas, Byzantine replicas) of the parameters."""
    nodes = "replicas"
    if faults == CRASH:
        if faulty and crashes and faulty != crashes:
            raise UsageError(f"faults=crash -p faulty={faulty} is the crash budget, as "
                             f"crashes is; got crashes={crashes}: give one of them")
        if faulty > n:
            faulty_nodes(n, faulty, nodes)  # the usage error
        return max(faulty, crashes), frozenset(), frozenset()
    if faults == OMISSION:
        return crashes, faulty_nodes(n, faulty, nodes), frozenset()
    if faults == BYZANTINE:
        if network != "sent-set" and faulty:
            raise UsageError("faults=byzantine needs network=sent-set: a liar's messages "
                             "are all sent from the start, which only the sent set holds")
        return crashes, frozenset(), faulty_nodes(n, faulty, nodes)
    raise UsageError(f"parameter faults must be one of crash, omission, byzantine; "
                     f"got {faults!r}")


def build(params: Mapping[str, Any], mutant: str | None) -> MultiPaxosModel:
    return MultiPaxosModel(
        params["replicas"], params["slots"], params["max_round"], params["commands"],
        params["crashes"], params["recovery"], params["network"], mutant, params["quorums"],
        faults=params["faults"], faulty=params["faulty"],
    )


SPEC = ModelSpec(
    name="multipaxos",
    summary="MultiPaxos state machine replication (Paxos Made Simple §3)",
    params=(
        Param("replicas", 3, "number of replicas r0..r{n-1}, n = 2f+1", minimum=1, maximum=5),
        Param("slots", 2, "log slots, one Paxos instance each", minimum=1, maximum=4),
        Param("max_round", 2, "ballots are (round, replica) with rounds 1..max_round",
              minimum=1, maximum=4),
        Param("commands", 2, "client commands c0..c{k-1}", minimum=1, maximum=4),
        Param("crashes", 0, "crash events allowed", minimum=0, maximum=3),
        Param("recovery", "none", "none: crash-stop; durable: a crashed replica may "
              "restart with its acceptor state", choices=RECOVERY),
        Param("network", "sent-set", "sent-set: every message ever sent stays "
              "deliverable (covers loss, duplication, reordering); bag: a multiset in "
              f"flight with drop and at most {DUP_DEFAULT} duplicate; fifo: a lossy ordered "
              "queue per channel", choices=NETWORKS),
        Param("quorums", "majority", "quorum sizes (Flexible Paxos: phase-1 q1, phase-2 q2)",
              text=", ".join(EXAMPLES[k] for k in ("majority", "flexible", "threshold"))),
        *fault_params("replicas", 5),
    ),
    mutants=MUTANTS.infos(),
    build=build,
    property_ids=ids(PROPERTIES),
    notes="networks: sent-set (default), bag, fifo; bag and fifo learners read 2b "
          "messages from the sent set. Their spaces are far larger (copies in flight are "
          "state): with -p slots=1 and symmetry, sent-set has 1,784 states, fifo 49,779, "
          "bag over 360,000 (depth 13 after two minutes); use them on small "
          "configurations",
    tolerates="crash and omission faults of f replicas with n = 2f + 1 (majority quorums); "
              "not Byzantine: one liar among 3 breaks MP-AGREEMENT (see -p faults=byzantine)",
)
