"""The Byzantine Generals Problem (Lamport, Shostak and Pease, TOPLAS 4(3), 1982).

A commander sends an order to n-1 lieutenants; some generals, perhaps the commander,
are traitors. An algorithm must make (IC1) all loyal lieutenants obey the same order
and (IC2) every loyal lieutenant obey the commander's order if he is loyal. With oral
messages, OM(m) (§3, `om.py`) achieves this for at most m traitors iff there are more
than 3m generals. Three generals cannot cope with one traitor (§2): the checker finds
OM(1) breaking IC2 in the paper's Figure 1 (a traitorous lieutenant's lie ties the
loyal one, who retreats), and the tie-break that would mend it, obeying the
commander's own message (the tie-own-value mutant), breaking IC1 in Figure 2 (a
traitorous commander). With signed messages, SM(m) (§4, `sm.py`) achieves IC1 and
IC2 for any number of generals and at most m traitors.

Parameters: `generals` n, `traitors` (the adversary makes any set of at most that
many generals traitors, the commander included, as the initial choice), `algorithm`
om or sm, and the depth `m` of OM(m) or SM(m), by default the number of traitors.
Orders are retreat and attack; retreat is the default of the paper's majority and
choice functions. Traitors send any order in any message (OM), or any chain of
signatures they can build from what they hold (SM); `describe` shows each state in
the paper's terms, and counterexamples read as its scenarios.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...checker.errors import UsageError
from ...checker.model import ModelSpec, Param
from ..common.ids import NONE
from ..common.properties import bind, ids
from . import om, sm
from .invariants import PROPERTIES
from .mutants import MUTANTS, rules_for
from .setup import Setup
from .state import (COMMANDER, OMState, SMState, chain_text, describe_om, describe_sm,
                    general_name, order_name)
from .symmetry import om_canonical, sm_canonical

ALGORITHMS = ("om", "sm")


def _setup(generals: int, traitors: int, m: int | None, mutant: str | None) -> Setup:
    if traitors >= generals:
        raise UsageError(f"traitors must be below generals; got generals={generals}, "
                         f"traitors={traitors}")
    m = traitors if m is None else m
    if not 0 <= m <= generals - 2:
        raise UsageError(f"parameter m must be an integer in 0..{generals - 2} (generals "
                         f"- 2: a call path of m+1 generals leaves a lieutenant to send "
                         f"to) or traitors; got {m}")
    return Setup(generals, traitors, m, rules_for(mutant))


def _sent_text(sent: tuple[int, ...]) -> str:
    got = [f"{general_name(i)} {order_name(v)}" for i, v in enumerate(sent) if v != NONE]
    return ", ".join(got) if got else "no loyal lieutenant"


class GeneralsOM:
    """OM(m) as a `Model`: states are `OMState`s, actions tuples."""

    def __init__(self, generals: int = 4, traitors: int = 1, m: int | None = None,
                 mutant: str | None = None, symmetry: bool = True) -> None:
        self.setup = _setup(generals, traitors, m, mutant)
        self._properties = bind(PROPERTIES, self.setup)
        self.canonical = om_canonical if symmetry else None

    def init_states(self) -> list[OMState]:
        return om.initial_states(self.setup)

    def actions(self, s: OMState) -> list[tuple]:
        return om.enabled_actions(self.setup, s)

    def next_state(self, s: OMState, a: tuple) -> OMState:
        if a[0] == "Order":
            return om.order(self.setup, s, a[2])
        if a[0] == "Relay":
            return om.relay(self.setup, s, a[1], a[3])
        return om.decide(self.setup, s)

    def properties(self):
        return self._properties

    def describe(self, s: OMState) -> dict[str, Any]:
        return describe_om(s)

    def format_action(self, a: tuple) -> str:
        if a[0] == "Order":
            if a[1] != NONE:
                return f"Order: the commander orders {order_name(a[1])}"
            return f"Order: the traitorous commander sends {_sent_text(a[2])}"
        if a[0] == "Relay":
            who = general_name(a[1])
            if a[2] != NONE:
                return f"Relay({who}): {who} relays {order_name(a[2])}, the value it received"
            return f"Relay({who}): traitor {who} sends {_sent_text(a[3])}"
        return "Decide: each loyal lieutenant obeys the majority"


class GeneralsSM:
    """SM(m) as a `Model`: states are `SMState`s, actions tuples."""

    def __init__(self, generals: int = 4, traitors: int = 1, m: int | None = None,
                 mutant: str | None = None, symmetry: bool = True) -> None:
        self.setup = _setup(generals, traitors, m, mutant)
        self._properties = bind(PROPERTIES, self.setup)
        self.canonical = sm_canonical(generals) if symmetry else None

    def init_states(self) -> list[SMState]:
        return sm.initial_states(self.setup)

    def actions(self, s: SMState) -> list[tuple]:
        return sm.enabled_actions(self.setup, s)

    def next_state(self, s: SMState, a: tuple) -> SMState:
        name = a[0]
        if name == "Sign":
            return sm.sign(self.setup, s)
        if name == "Traitor":
            return sm.traitor(self.setup, s, a[1], a[2], a[3])
        if name == "Deliver":
            return sm.deliver(self.setup, s, a[2])
        return sm.decide(self.setup, s)

    def properties(self):
        return self._properties

    def describe(self, s: SMState) -> dict[str, Any]:
        return describe_sm(s)

    def format_action(self, a: tuple) -> str:
        name = a[0]
        if name == "Sign":
            return (f"Sign: the commander sends {chain_text(a[1], (COMMANDER,))} to every "
                    "lieutenant")
        if name == "Traitor":
            _, i, v, chain = a
            return (f"Traitor: {general_name(chain[-1])} sends {chain_text(v, chain)} to "
                    f"{general_name(i)}")
        if name == "Deliver":
            taken = ", ".join(f"{general_name(i)} takes {chain_text(v, chain)}"
                              for i, v, chain in a[2])
            return f"Deliver({a[1]}): " + (taken or "no new order")
        return "Decide: each loyal lieutenant obeys choice(V)"


def _depth(raw: Any) -> int | None:
    if raw == "traitors":
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise UsageError(f"parameter m must be an integer or traitors; got {raw!r}") from None


def build(params: Mapping[str, Any], mutant: str | None) -> GeneralsOM | GeneralsSM:
    model = GeneralsOM if params["algorithm"] == "om" else GeneralsSM
    return model(params["generals"], params["traitors"], _depth(params["m"]), mutant)


SPEC = ModelSpec(
    name="generals",
    summary="the Byzantine Generals: oral messages OM(m) and signed messages SM(m) "
            "(Lamport, Shostak & Pease, TOPLAS 1982)",
    params=(
        Param("generals", 4, "number of generals: the commander C and lieutenants "
              "L1..L(n-1)", minimum=3, maximum=10),
        Param("traitors", 1, "at most this many traitors, chosen by the adversary "
              "(the commander may be one); must be below generals", minimum=1, maximum=4),
        Param("algorithm", "om", "om = oral messages OM(m), sm = signed messages SM(m)",
              choices=ALGORITHMS),
        Param("m", "traitors", "depth of OM(m) / SM(m); traitors (default) means m = "
              "the number of traitors", text="an integer 0..generals-2, or traitors"),
    ),
    mutants=MUTANTS.infos(),
    build=build,
    property_ids=ids(PROPERTIES),
    notes=(
        "OM's sub-calls (step 2) run one at a time in any order, each folded into its "
        "caller when it ends: the loyal lieutenants' decisions are those of the "
        "synchronous algorithm, and a state holds one chain of calls. SM runs in "
        "synchronous rounds, round k carrying k+1 signatures; traitors collude, sign "
        "for one another and reuse any signed message they hold, never a loyal "
        "signature they were not sent. Traitors omitting a message is covered by their "
        "sending RETREAT (OM) or nothing (SM). Symmetry renames the lieutenants "
        "(--no-symmetry turns it off)."
    ),
    tolerates=("OM(m): m traitors among n > 3m generals, the commander included; with "
               "n = 3m (three generals and one traitor) loyal lieutenants are led astray. "
               "SM(m): m traitors among any number of generals"),
)
