"""Mutants of MultiPaxos: each breaks exactly one rule of Paxos Made Simple §3.

A mutant is a `Rules` value with one switch flipped; the actions consult the switches,
so the correct protocol and every mutant run the same code. Each mutant is named after
the rule it breaks; `tests/mutants/test_multipaxos_mutants.py` pins the property it
violates and the length of the shortest counterexample breadth-first search finds.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...checker.model import Mutants


@dataclass(frozen=True, slots=True)
class Rules:
    # Lead: in each slot re-propose the value a quorum's promises report (§3: the new
    # leader runs phase 2 for the instances whose value phase 1 shows determined).
    respect_promised_values: bool = True
    # Lead: of the reported values, take the one accepted in the highest ballot
    # (§2.2 P2c); an older report may be for a value that was never chosen.
    highest_ballot_value: bool = True
    # Prepare: a new leader runs phase 1 before proposing; only a stable leader, whose
    # phase 1 already covers every slot, may skip it.
    run_phase1: bool = True
    # Quorums are majorities; with n // 2 two quorums can be disjoint.
    majority_quorums: bool = True
    # Accept: accept only if the ballot is >= the acceptor's promise (§2.2 P1a).
    respect_promise: bool = True
    # Restart: the acceptor's promise and accepted values survive a crash (§2.2: an
    # acceptor must remember what it promised and accepted, even across a restart,
    # so it keeps them in stable storage).
    durable_acceptor: bool = True
    # Execute: learn a value only from a quorum of acceptances in one ballot.
    learn_one_ballot: bool = True
    # Execute: a command chosen in two slots runs once; the second is a no-op (§3
    # leaves duplicate proposals possible, so replicas must filter them).
    skip_executed: bool = True
    # Promise: report, for each slot, the ballot of the accepted value, not the
    # ballot just promised.
    report_vote_ballot: bool = True


MUTANTS = Mutants(Rules())
_mutant = MUTANTS.add


_mutant(
    "ignore-promised-values",
    "a new leader ignores the values its quorum's promises report and treats every "
    "slot as free",
    respect_promised_values=False,
)
_mutant(
    "lowest-ballot-value",
    "a new leader re-proposes the reported value with the lowest ballot, not the "
    "highest",
    # Two ballots cannot tell lowest from highest: a third leader must find votes of
    # two earlier ballots. One slot keeps that run to seconds.
    exposed_by={"slots": 1, "max_round": 3},
    highest_ballot_value=False,
)
_mutant(
    "skip-phase-1",
    "a new leader proposes without phase 1, as if it were already the stable leader",
    run_phase1=False,
)
_mutant(
    "minority-quorums",
    "quorums have n // 2 replicas, so two quorums need not intersect",
    majority_quorums=False,
)
_mutant(
    "accept-below-promise",
    "an acceptor accepts an Accept whose ballot is below its promise",
    respect_promise=False,
)
_mutant(
    "amnesiac-restart",
    "a replica restarts with its acceptor state (promise and accepted values) lost",
    # Without a crash and a restart there is nothing to forget.
    exposed_by={"crashes": 1, "recovery": "durable"},
    durable_acceptor=False,
)
_mutant(
    "learn-across-ballots",
    "a learner counts acceptances of a value in different ballots toward a quorum",
    learn_one_ballot=False,
)
_mutant(
    "execute-duplicates",
    "a replica executes a command again when it is chosen in a second slot",
    skip_executed=False,
)
_mutant(
    "promise-reports-promised-ballot",
    "a promise reports the ballot being promised as the ballot of every slot's "
    "accepted value, empty slots included",
    report_vote_ballot=False,
)


rules_for = MUTANTS.rules_for
