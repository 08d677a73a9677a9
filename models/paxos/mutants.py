"""Mutants of single-decree Paxos: each breaks exactly one rule of Paxos.tla.

A mutant is a `Rules` value with one switch flipped; the actions consult the switches,
so the correct protocol and every mutant run the same code. Each mutant names the
rule it breaks; `tests/mutants/` holds the property it violates and the length of the
shortest counterexample breadth-first search finds.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...checker.model import Mutants


@dataclass(frozen=True, slots=True)
class Rules:
    # Phase2a: v must be the value of the highest-ballot vote reported in the 1b
    # messages of a quorum (or any value if none voted). The heart of Paxos.
    respect_1b_values: bool = True
    # Quorums are majorities; with n // 2 two quorums can be disjoint.
    majority_quorums: bool = True
    # Phase2b: vote only if m.bal >= maxBal[a] (keep the promise made in Phase1b).
    respect_promise: bool = True
    # Phase2b: vote also when m.bal = maxBal[a]; `>` would make the promise block the
    # very ballot it was made for.
    vote_at_promised_ballot: bool = True
    # Phase1b: report <<maxVBal[a], maxVal[a]>>, the last vote, not maxBal[a].
    report_last_vote: bool = True
    # Phase2b: record the ballot of the vote in maxVBal[a] along with its value.
    record_vote_ballot: bool = True
    # Phase2a: at most one 2a message per ballot.
    one_2a_per_ballot: bool = True


MUTANTS = Mutants(Rules())
_mutant = MUTANTS.add


_mutant(
    "ignore-1b-values",
    "Phase2a proposes any value once a quorum has promised, ignoring the votes the "
    "1b messages report",
    respect_1b_values=False,
)
_mutant(
    "minority-quorums",
    "quorums have n // 2 acceptors, so two quorums need not intersect",
    majority_quorums=False,
)
_mutant(
    "vote-below-promise",
    "Phase2b votes in a ballot lower than the acceptor's promise (maxBal)",
    respect_promise=False,
)
_mutant(
    "strict-promise",
    "Phase2b requires m.bal > maxBal[a], so an acceptor never votes in the ballot it "
    "promised: no value can ever be chosen",
    vote_at_promised_ballot=False,
)
_mutant(
    "1b-reports-promise",
    "Phase1b reports the promised ballot maxBal[a] as the ballot of its last vote",
    report_last_vote=False,
)
_mutant(
    "forget-vote-ballot",
    "Phase2b records the voted value but not its ballot in maxVBal[a]",
    record_vote_ballot=False,
)
_mutant(
    "duplicate-2a",
    "Phase2a may send a second 2a message with another value in the same ballot",
    one_2a_per_ballot=False,
)


rules_for = MUTANTS.rules_for
