"""Mutants of Fast Paxos: each breaks exactly one rule of Lamport's algorithm.

A mutant is a `Rules` value with one switch flipped; the actions consult the switches,
so the correct protocol and every mutant run the same code. Each mutant names the rule
it breaks; `tests/mutants/test_fastpaxos_mutants.py` holds the property it violates
and the length of the shortest counterexample breadth-first search finds.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...checker.model import Mutants


@dataclass(frozen=True, slots=True)
class Rules:
    # Fast quorums as the quorum system gives them; one acceptor fewer breaks the
    # Quorum Requirement (a classic and two fast quorums share an acceptor).
    full_fast_quorums: bool = True
    # Phase2a after a collision (several values voted in round k): pick v only if
    # O4(v), some fast quorum R has every acceptor of R ∩ Q voting v in round k (§3).
    fast_rule: bool = True
    # Phase2b in a round with an "any" message: an acceptor votes once per round, for
    # the first proposal it receives.
    one_vote_per_round: bool = True
    # Phase2a: the coordinator sends at most one 2a message per round.
    one_2a_per_round: bool = True
    # Phase2a: a coordinator free to pick any value picks a proposed one.
    proposed_values_only: bool = True
    # Phase2b: vote only in a round >= rnd[a] (keep the promise made in Phase1b).
    respect_promise: bool = True


MUTANTS = Mutants(Rules())
_mutant = MUTANTS.add


_mutant(
    "small-fast-quorums",
    "fast quorums have one acceptor fewer than the quorum system says, so a classic "
    "quorum and two fast quorums need not share an acceptor",
    full_fast_quorums=False,
)
_mutant(
    "recovery-ignores-fast-rule",
    "after a collision the recovery round's coordinator picks any value voted in the "
    "highest round, without checking O4 (that some fast quorum may have chosen it)",
    # Not with three acceptors: a fast quorum is then all of them, so a value chosen in
    # a fast round is the only one any classic quorum reports and O4 never matters
    # (the default, four, exposes it).
    fast_rule=False,
)
_mutant(
    "vote-twice-in-fast-round",
    "an acceptor votes again in a fast round, for a second proposal it receives",
    one_vote_per_round=False,
)
_mutant(
    "duplicate-2a",
    "Phase2a may send a second 2a message with another value in the same round",
    one_2a_per_round=False,
)
_mutant(
    "invent-value",
    "a coordinator free to pick any value picks one no client proposed",
    proposed_values_only=False,
)
_mutant(
    "vote-below-promise",
    "Phase2b votes in a round lower than the acceptor's rnd (its phase-1 promise)",
    respect_promise=False,
)


rules_for = MUTANTS.rules_for
