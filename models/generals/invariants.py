"""The interactive consistency conditions of the paper (§1), each a property.

- GENERALS-IC1: all loyal lieutenants obey the same order. Checked over the loyal
  lieutenants that have decided (all of them decide in one step, so this is IC1 in
  every state where they have).
- GENERALS-IC2: if the commander is loyal, every loyal lieutenant obeys the order he
  sends.
- GENERALS-DECIDED (sometimes): every loyal lieutenant has decided.
- GENERALS-TRAITOR-COMMANDER-DECIDED and GENERALS-TRAITOR-LIEUTENANT-DECIDED
  (sometimes): the loyal lieutenants decide in a run with a traitorous commander, and
  in one with a traitorous lieutenant, so that IC1 and IC2 are not checked only where
  no traitor acts.

The properties read only `traitors`, `order` and `decision`, which both algorithms'
states have.
"""

from __future__ import annotations

from ..common.ids import NONE
from ..common.properties import PropertySpec, first_of, none_of
from .state import COMMANDER, general_name, is_traitor, order_name


def loyal_lieutenants(s) -> list[int]:
    return [i for i in range(1, len(s.decision)) if not is_traitor(s.traitors, i)]


def _decided(s) -> list[int]:
    return [i for i in loyal_lieutenants(s) if s.decision[i] != NONE]


# -- GENERALS-IC1: all loyal lieutenants obey the same order ---------------------------


def split_decisions(c, s) -> list[str]:
    decided = _decided(s)
    orders = {s.decision[i] for i in decided}
    if len(orders) < 2:
        return []
    who = ", ".join(f"{general_name(i)} {order_name(s.decision[i])}" for i in decided)
    commander = ("a traitorous commander" if is_traitor(s.traitors, COMMANDER)
                 else f"a loyal commander ordering {order_name(s.order)}")
    return [f"loyal lieutenants obey different orders ({who}) under {commander}"]


# -- GENERALS-IC2: a loyal commander's order is obeyed ---------------------------------


def disobeyers(c, s) -> list[str]:
    if is_traitor(s.traitors, COMMANDER):
        return []
    return [f"the loyal commander ordered {order_name(s.order)} but loyal "
            f"{general_name(i)} obeys {order_name(s.decision[i])}"
            for i in _decided(s) if s.decision[i] != s.order]


# -- goals -----------------------------------------------------------------------------


def all_decided(c, s) -> bool:
    return all(s.decision[i] != NONE for i in loyal_lieutenants(s)) and bool(_decided(s))


def traitor_commander_decided(c, s) -> bool:
    return is_traitor(s.traitors, COMMANDER) and all_decided(c, s)


def traitor_lieutenant_decided(c, s) -> bool:
    return s.traitors >> 1 != 0 and all_decided(c, s)


PROPERTIES: tuple[PropertySpec, ...] = (
    PropertySpec("GENERALS-IC1", "always",
                 "IC1: all loyal lieutenants obey the same order",
                 none_of(split_decisions), first_of(split_decisions)),
    PropertySpec("GENERALS-IC2", "always",
                 "IC2: if the commander is loyal, every loyal lieutenant obeys the order "
                 "he sends", none_of(disobeyers), first_of(disobeyers)),
    PropertySpec("GENERALS-DECIDED", "sometimes",
                 "every loyal lieutenant decides", all_decided),
    PropertySpec("GENERALS-TRAITOR-COMMANDER-DECIDED", "sometimes",
                 "the loyal lieutenants decide under a traitorous commander",
                 traitor_commander_decided),
    PropertySpec("GENERALS-TRAITOR-LIEUTENANT-DECIDED", "sometimes",
                 "the loyal lieutenants decide with a traitor among the lieutenants",
                 traitor_lieutenant_decided),
)
