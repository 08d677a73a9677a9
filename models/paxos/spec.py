"""Single-decree Paxos, transcribed from Lamport's Paxos.tla (tlaplus/Examples).

The algorithm of "Paxos Made Simple" §2 without explicit leaders or learners:
proposers are the ballots (any ballot's leader may run Phase1a and Phase2a), acceptors
promise and vote, and a value is chosen when a quorum votes for it in one ballot. The
constants are Paxos.tla's, made finite as MCPaxos.tla does: `acceptors` acceptors
a1..an, `values` values v1..vk, ballots 0..max_ballot, and Quorum the minimal
majorities. With these constants the reachable state space is exactly TLC's on
MCPaxos (the test pins TLC's published counts), which is our evidence the
transcription is faithful.

Faults are a parameter (`faults.py`): `-p faults=crash|omission|byzantine -p faulty=K`
adds crashes (a budget of K), lost 1b messages (the last K acceptors) or lying
acceptors (the last K) to Paxos.tla, which has none; the defaults add nothing. With
three acceptors Paxos keeps agreement under one crash or one omission-faulty
acceptor and loses it with one Byzantine acceptor (with four too: its leader trusts
the highest vote reported).

Symmetry (`symmetry.py`) is offered but not applied by default: MCPaxos.cfg names no
symmetry set, so TLC's plain counts (which the README quotes) are the ones to compare
with; `check paxos --symmetry` opts in, as TLC's SYMMETRY option does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...checker.errors import UsageError
from ...checker.model import ModelSpec, Param
from ..common.faults import CRASH, fault_params
from ..common.ids import acceptor_name, node_set, value_name
from ..common.properties import ids
from ..common.quorums import EXAMPLES, QuorumSystem, Threshold, parse
from . import actions as act
from .faults import Faults
from .invariants import PROPERTIES, make_properties
from .mutants import MUTANTS, rules_for
from .state import PaxosState, describe
from .symmetry import acceptor_group, make_canonical


class PaxosModel:
    """Paxos.tla as a `Model`: states are `PaxosState`s, actions tuples.

    `symmetry=True` gives the model a `canonical` form (renaming acceptors, as far as
    the quorums allow, and values); without it the model has none, so that a model
    built directly and checked with a plain `Options()` counts TLC's plain states, as
    `check paxos` does through the spec (whose `build` offers the form and whose
    `symmetry=False` leaves it unused unless `--symmetry` is given)."""

    def __init__(self, acceptors: int = 3, values: int = 2, max_ballot: int = 1,
                 mutant: str | None = None, quorums: str = "majority",
                 symmetry: bool = False, faults: str = CRASH, faulty: int = 0) -> None:
        self.n = acceptors
        self.n_values = values
        self.ballots = range(max_ballot + 1)
        self.faults = Faults(faults, faulty, acceptors, self.ballots, values)
        self.rules = rules_for(mutant)
        if self.rules.majority_quorums:
            try:
                self.quorum_system = parse(quorums, acceptors)
            except UsageError as err:
                raise UsageError(f"parameter quorums: {err}") from None
        else:
            small = max(1, acceptors // 2)
            self.quorum_system = QuorumSystem.flexible(acceptors, small, small)
        if self.quorum_system.byzantine:
            raise UsageError("paxos tolerates crashes only: give it a crash quorum system "
                             "(majority, flexible, grid, weighted, threshold), not bft")
        # Flexible Paxos: Phase2a waits for 1b messages from a phase-1 quorum; a value
        # is chosen by votes of a phase-2 quorum. Paxos.tla is the case Q1 = Q2.
        self.quorums = self.quorum_system.minimal_quorums(1)
        self.quorums2 = self.quorum_system.minimal_quorums(2)
        self._properties = make_properties(self.quorums, self.quorums2, acceptors,
                                           self.faults.liars)
        # None where no renaming is a symmetry: the CLI then says --symmetry is ignored.
        self.canonical = make_canonical(
            acceptors, values,
            acceptor_group(acceptors, self.quorums, self.quorums2,
                           _uniform(self.quorum_system),
                           self.faults.omitting | self.faults.liars),
        ) if symmetry else None

    def init_states(self) -> list[PaxosState]:
        return [self.faults.initial(self.n)]

    def actions(self, s: PaxosState) -> list[tuple]:
        out = act.enabled_actions(s, self.ballots, self.n_values, self.quorums, self.rules)
        return self.faults.actions(s, out) if self.faults.any else out

    def next_state(self, s: PaxosState, a: tuple) -> PaxosState:
        # An if-chain, not a table of lambdas: one Python frame less per generated state.
        name = a[0]
        if name == "Phase2b":
            return act.phase2b(s, a[1], a[2], a[3], self.rules)
        if name == "Phase1b":
            return act.phase1b(s, a[1], a[2], self.rules)
        if name == "Phase1a":
            return act.phase1a(s, a[1])
        if name == "Phase2a":
            return act.phase2a(s, a[1], a[2])
        return self.faults.step(s, a, self.next_state)

    def properties(self):
        return self._properties

    def describe(self, s: PaxosState) -> dict[str, Any]:
        lies = self.faults.lies
        if not lies:
            return self.faults.describe(describe(s), s)
        # The liars' messages, there from the start, are shown once and apart.
        out = self.faults.describe(describe(s._replace(msgs=s.msgs - lies)), s)
        out["lies"] = describe(s._replace(msgs=lies))["msgs"]
        return out

    def format_action(self, a: tuple) -> str:
        name = a[0]
        if name == "Phase1a":
            return f"Phase1a(b={a[1]})"
        if name == "Phase1b":
            return f"Phase1b(a={acceptor_name(a[1])}, on 1a bal={a[2]})"
        if name == "Phase2a":
            return f"Phase2a(b={a[1]}, v={value_name(a[2])}, Q={node_set(a[3])})"
        if name not in ("Phase1b", "Phase2b"):
            return self.faults.format_action(a, self.format_action)
        return f"Phase2b(a={acceptor_name(a[1])}, on 2a bal={a[2]} val={value_name(a[3])})"


def _uniform(qs: QuorumSystem) -> bool:
    """Whether both phases count acceptors alike (equal weights), so that every
    renaming of the acceptors keeps the quorums."""
    return all(isinstance(m, Threshold) and len(set(m.weights)) <= 1
               for m in (qs.phase1, qs.phase2))


def build(params: Mapping[str, Any], mutant: str | None) -> PaxosModel:
    return PaxosModel(params["acceptors"], params["values"], params["max_ballot"], mutant,
                      params["quorums"], symmetry=True, faults=params["faults"],
                      faulty=params["faulty"])


SPEC = ModelSpec(
    name="paxos",
    summary="single-decree Paxos, transcribed from Lamport's Paxos.tla",
    params=(
        Param("acceptors", 3, "number of acceptors a1..an", minimum=1, maximum=7),
        Param("values", 2, "number of proposable values v1..vk", minimum=1, maximum=5),
        Param("max_ballot", 1, "ballots are 0..max_ballot", minimum=0, maximum=9),
        Param("quorums", "majority", "quorum system (Flexible Paxos: phase-1/phase-2 sizes)",
              text=", ".join(v for k, v in EXAMPLES.items() if k != "bft")),
        *fault_params("acceptors", 7),
    ),
    mutants=MUTANTS.infos(),
    build=build,
    property_ids=ids(PROPERTIES),
    notes=("--symmetry reduces by renaming the values and the acceptors (only the "
           "renamings that keep the quorums, for grid, weighted and other uneven quorum "
           "systems); off by default, so that counts are TLC's on MCPaxos.cfg."),
    # MCPaxos.cfg declares no SYMMETRY, so TLC's published and README counts (3,921
    # states for the defaults) are plain ones: reduce only when --symmetry asks.
    symmetry=False,
    tolerates=("crash and omission faults of f acceptors with n = 2f + 1 (majority "
               "quorums); not Byzantine, with any n: one liar among 3 or 4 acceptors breaks "
               "PAXOS-AGREEMENT (see -p faults=byzantine)"),
)
