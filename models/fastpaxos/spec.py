"""Fast Paxos (Lamport, "Fast Paxos", Distributed Computing 19(2), 2006; MSR-TR-2005-112).

Fast Paxos lets a value be chosen in two message delays from its client instead of
three. Rounds are classic or fast. A classic round is Paxos's ballot (Phase1a ... 2b,
as models/paxos transcribes Paxos.tla). In a fast round whose coordinator is free to
pick any value, it sends an "any" message instead of a value; each acceptor then votes
for the first client proposal that reaches it, and a value is chosen when a fast
quorum votes for it. Clients that propose different values at once can make the
acceptors' votes collide, so that no fast quorum agrees.

Recovery is coordinated (§3, "Collision Recovery"): a collision is recovered by a
later classic round, whose coordinator learns the votes of a classic quorum Q and
picks the value with the fast-round rule: with k the highest round in which an
acceptor of Q voted and V the values they voted in k, pick V's value if it has one,
else the v with O4(v), "some fast quorum R has every acceptor of R ∩ Q voting v in k"
(v may have been chosen by R), else any proposed value. It learns the votes by phase
1, or, when the collision was in the round just before (fast round i, classic round
i + 1), from round i's 2b messages themselves, which serve as round i + 1's 1b
messages (one message delay shorter). Uncoordinated recovery, in which the acceptors
apply the rule to each other's round-i votes and vote in round i + 1 with no
coordinator, is not modelled.

Safety needs the Quorum Requirement (§3): any two classic quorums meet, and any
classic quorum and two fast quorums have an acceptor in common (classic quorums of
c and fast quorums of f acceptors out of n: 2c > n and c + 2f > 2n;
`smrcheck quorums --system fast` proves it for given sizes, `--symbolic` for all).

Constants, made finite: `acceptors` acceptors a1..an, `values` values v1..vk that the
clients may propose, rounds 1..len(rounds) with `rounds` saying which are fast (f) and
which classic (c), and the `quorums` system `fast:classic=C,fast=F` (defaults: majority
classic quorums, fast quorums of ceil(3n/4)). Round 1 needs no phase 1: every value is
safe at the lowest round, so its coordinator sends its 2a at once ("any" if it is
fast), the fast path of the paper's normal case. The default `-p rounds=fc` is a fast
round and the classic round that recovers from its collisions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...checker.errors import UsageError
from ...checker.model import ModelSpec, Param
from ..common.ids import acceptor_name, node_set
from ..common.properties import ids
from ..common.quorums import FAST_EXAMPLE, QuorumSystem, parse
from . import actions as act
from .invariants import PROPERTIES, make_properties
from .mutants import MUTANTS, rules_for
from .state import FastPaxosState, describe, initial, value_text
from .symmetry import make_canonical

MAX_ROUNDS = 5


def parse_rounds(text: str) -> tuple[bool, ...]:
    """`fc` -> (unused, True, False): whether each round 1.. is fast."""
    kinds = text.strip().lower()
    if not 1 <= len(kinds) <= MAX_ROUNDS or set(kinds) - {"f", "c"}:
        raise UsageError(f"parameter rounds: one letter per round, f (fast) or c (classic), "
                         f"1 to {MAX_ROUNDS} rounds, e.g. fc or fcc; got {text!r}")
    return (False, *(k == "f" for k in kinds))


class FastPaxosModel:
    """Fast Paxos as a `Model`: states are `FastPaxosState`s, actions tuples."""

    def __init__(self, acceptors: int = 4, values: int = 2, rounds: str = "fc",
                 mutant: str | None = None, quorums: str = "fast",
                 symmetry: bool = True) -> None:
        self.n = acceptors
        self.n_values = values
        self.fast = parse_rounds(rounds)
        self.rules = rules_for(mutant)
        try:
            system = parse(quorums, acceptors, fast=True)
        except UsageError as err:
            raise UsageError(f"parameter quorums: {err}") from None
        if system.fast is None:
            raise UsageError(f"parameter quorums: fastpaxos needs classic and fast quorums, "
                             f"e.g. fast or {FAST_EXAMPLE}; got {quorums!r}")
        if not self.rules.full_fast_quorums:
            classic, fast = system.phase1.threshold, system.fast.threshold
            system = QuorumSystem.fast_paxos(acceptors, classic, max(1, fast - 1))
        self.quorum_system = system
        self.quorums = system.minimal_quorums(1)
        fast_quorums = system.minimal_fast_quorums()
        self.quorums_of = tuple(fast_quorums if f else self.quorums for f in self.fast)
        self._properties = make_properties(self.fast, self.quorums_of, values)
        self.canonical = make_canonical(acceptors, values) if symmetry else None
        rules = self.rules
        self._step = {
            "Propose": lambda s, a: act.propose(s, a[1]),
            "Phase1a": lambda s, a: act.phase1a(s, a[1]),
            "Phase1b": lambda s, a: act.phase1b(s, a[1], a[2]),
            "Phase2a": lambda s, a: act.phase2a(s, a[1], a[2]),
            "Phase2b": lambda s, a: act.phase2b(s, a[1], a[2], a[3]),
            "Phase2bAny": lambda s, a: act.phase2b(s, a[1], a[2], a[3]),
        }
        self._enabled = lambda s: act.enabled_actions(s, self.fast, values, self.quorums,
                                                      self.quorums_of, rules)

    def init_states(self) -> list[FastPaxosState]:
        return [initial(self.n)]

    def actions(self, s: FastPaxosState) -> list[tuple]:
        return self._enabled(s)

    def next_state(self, s: FastPaxosState, a: tuple) -> FastPaxosState:
        return self._step[a[0]](s, a)

    def properties(self):
        return self._properties

    def describe(self, s: FastPaxosState) -> dict[str, Any]:
        return describe(s)

    def format_action(self, a: tuple) -> str:
        name = a[0]
        if name == "Propose":
            return f"Propose(v={value_text(a[1])})"
        if name == "Phase1a":
            return f"Phase1a(i={a[1]})"
        if name == "Phase1b":
            return f"Phase1b(a={acceptor_name(a[1])}, on 1a rnd={a[2]})"
        if name == "Phase2a":
            kind = "fast" if self.fast[a[1]] else "classic"
            return f"Phase2a(i={a[1]} {kind}, v={value_text(a[2])}, Q={node_set(a[3])})"
        return (f"{name}(a={acceptor_name(a[1])}, on 2a rnd={a[2]}"
                + (f" val={value_text(a[3])})" if name == "Phase2b"
                   else f", proposal {value_text(a[3])})"))


def build(params: Mapping[str, Any], mutant: str | None) -> FastPaxosModel:
    return FastPaxosModel(params["acceptors"], params["values"], params["rounds"], mutant,
                          params["quorums"])


SPEC = ModelSpec(
    name="fastpaxos",
    summary="Lamport's Fast Paxos: fast rounds, collisions, coordinated recovery",
    params=(
        Param("acceptors", 4, "number of acceptors a1..an", minimum=1, maximum=7),
        Param("values", 2, "number of values v1..vk clients may propose", minimum=1,
              maximum=4),
        Param("rounds", "fc", "rounds 1, 2, ...: f fast, c classic, one letter each",
              text=f"1 to {MAX_ROUNDS} letters f or c, e.g. fc, fcc, ffc"),
        Param("quorums", "fast", "classic and fast quorum sizes (Fast Paxos)",
              text=f"fast (majority classic, ceil(3n/4) fast quorums) or {FAST_EXAMPLE}"),
    ),
    mutants=MUTANTS.infos(),
    build=build,
    property_ids=ids(PROPERTIES),
    notes=("Coordinated recovery: a collision in a fast round is recovered by a later "
           "classic round whose coordinator picks the value by the fast-round rule "
           "(O4), from phase 1 or, for the round right after the fast one, from the "
           "fast round's 2b messages; uncoordinated recovery is not modelled. Round 1 "
           "skips phase 1. Symmetry over acceptors and values is on by default "
           "(--no-symmetry for plain counts)."),
    tolerates=("crash and omission faults (the sent set: loss, duplication, reordering); "
               "classic rounds progress with E and fast rounds with F acceptors down when "
               "n > 2E and n > 2F + E (default quorums, n = 4: E = F = 1); not Byzantine"),
)
