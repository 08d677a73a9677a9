"""Mutants of the Byzantine Generals algorithms: each breaks one rule of the paper.

A mutant is a `Rules` value with one switch flipped; OM's and SM's steps consult the
switches, so the correct algorithms and every mutant run the same code. Two OM
mutants show at the default size (4 generals, 1 traitor, OM(1)); tie-own-value needs
a majority over an even number of values, so 5 generals (or 3: the paper's Figure 2),
and the SM mutants `-p algorithm=sm`; they declare it (`exposed_by`). tests/mutants/
pins the property each breaks and the length of the shortest counterexample.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...checker.model import Mutants


@dataclass(frozen=True, slots=True)
class Rules:
    # OM(m) step 2: each lieutenant relays what it received as commander of OM(m-1);
    # without it every lieutenant obeys the commander's message alone (OM(0)).
    relay: bool = True
    # OM(m) step 3: the majority counts v_i, the value the lieutenant received from
    # the commander itself, besides the n-2 values its sub-calls gave it.
    count_own_value: bool = True
    # OM(m) step 3: a tie goes to RETREAT, the same default for every lieutenant. Any
    # function of the values works, since every loyal lieutenant ends with the same
    # values (the proof of Theorem 1); breaking the tie by v_i does not.
    tie_retreat: bool = True
    # SM(m) (A4): a lieutenant accepts a message only if every signature on it is
    # genuine, so traitors can only relay what loyal generals signed.
    check_signatures: bool = True
    # SM(m) step 2: a lieutenant who adds v to V_i relays v with its signature.
    sm_relay: bool = True


MUTANTS = Mutants(Rules())
_mutant = MUTANTS.add

_mutant(
    "no-relay",
    "OM: a lieutenant obeys the commander's direct message, with no relay round "
    "(OM(0) whatever m is), so a traitorous commander splits the lieutenants",
    relay=False,
)
_mutant(
    "ignore-own-value",
    "OM step 3: the majority leaves out v_i, the value the lieutenant received from "
    "the commander, so one traitor's relay ties it and the default RETREAT wins",
    count_own_value=False,
)
_mutant(
    "tie-own-value",
    "OM step 3: a tie is broken by v_i, the order the lieutenant received from the "
    "commander, not by the common default RETREAT (the rule that makes the loyal "
    "lieutenant of the paper's Figure 1 obey, and so splits the two of Figure 2)",
    exposed_by={"generals": 5},
    tie_retreat=False,
)
_mutant(
    "sm-forged",
    "SM: lieutenants accept a chain without checking its signatures, so a traitor "
    "can sign an order in a loyal general's name",
    exposed_by={"algorithm": "sm"},
    check_signatures=False,
)
_mutant(
    "sm-no-relay",
    "SM step 2: a lieutenant adds an order to V_i but does not sign and relay it, so "
    "an order a traitorous commander sent one lieutenant never reaches the others",
    exposed_by={"algorithm": "sm"},
    sm_relay=False,
)

rules_for = MUTANTS.rules_for
