"""The states of the two algorithms of "The Byzantine Generals Problem" (Lamport,
Shostak and Pease, TOPLAS 4(3), 1982), and the vocabulary both share.

General 0 is the commander, generals 1..n-1 the lieutenants (the paper's C and
L1..Ln-1). An order is RETREAT (0) or ATTACK (1): the paper's two orders, RETREAT
being the default a lieutenant uses for a missing message (assumption A3) and for a
majority tie. Which generals are traitors is a bitmask fixed by the initial state, so
the adversary's choice of traitors, the commander included, is part of the explored
nondeterminism. `order` is the loyal commander's order (NONE when the commander is a
traitor: a traitorous commander has no order, only the messages it sends), and
`decision[i]` the order loyal lieutenant i obeys, NONE until it decides (traitors'
entries stay NONE: what a traitor "decides" is not part of IC1 or IC2).

OM(m) (§3) is a recursion: in OM(k) with commander c on the path p of the calls
that led to it, c sends a value to every general not on p, and for k > 0 each of them
runs OM(k-1) as commander with the value it received; a lieutenant then takes the
majority of the value it received and the values the sub-calls gave it. `OMState`
keeps the chain of calls in progress: `path` (C, then the lieutenant of each
nested call) and one `OMFrame` per call on it. A frame holds, for each loyal
lieutenant of the call, the value it received from the call's commander and how many
of the sub-calls it has run gave it ATTACK (with two orders the majority needs only
that count), and the lieutenants whose sub-call has run (`done`). Traitors' entries
are NONE and 0: in OM a traitor may send any value whatever it received, so what it
received constrains nothing and is not kept.

SM(m) (§4) runs in rounds: a message of round k is an order with k+1 signatures,
the commander's first (`chain`, the signers in order: the paper's v:0:j1:...:jk).
`SMState` keeps each loyal lieutenant's set V_i (a bitmask of orders), the messages
delivered to loyal lieutenants in the current round (`inbox`: receiver, order,
chain), and every signed message the traitors hold (`known`: order, chain), which is
all the traitors can build on: they cannot forge a loyal general's signature.
"""

from __future__ import annotations

from typing import NamedTuple

from ...checker.model import FnMap, Record, TlaSet
from ..common.ids import NONE

RETREAT, ATTACK = 0, 1
ORDERS = (RETREAT, ATTACK)
COMMANDER = 0


class OMFrame(NamedTuple):
    received: tuple[int, ...]  # per general: the value this call's commander sent it
    attacks: tuple[int, ...]   # per general: sub-calls run so far that gave it ATTACK
    done: int                  # bitmask: lieutenants whose sub-call OM(k-1) has run


class OMState(NamedTuple):
    traitors: int               # bitmask over generals 0..n-1
    order: int                  # the loyal commander's order, NONE for a traitor
    path: tuple[int, ...]       # the calls in progress: () before the order, (0,) OM(m)
    frames: tuple[OMFrame, ...]  # one per call on `path`
    decision: tuple[int, ...]   # per general: the order it obeys, NONE until it decides
    decided: int                # 1 once Decide has run (some runs have no loyal lieutenant)


class SMState(NamedTuple):
    traitors: int
    order: int
    round: int                  # -1 before a loyal commander signs; m + 1 after the last
    values: tuple[int, ...]     # V_i per general, a bitmask of orders
    inbox: frozenset[tuple[int, int, tuple[int, ...]]]  # (receiver, order, chain)
    known: frozenset[tuple[int, tuple[int, ...]]]       # (order, chain) traitors hold
    decision: tuple[int, ...]


def is_traitor(traitors: int, g: int) -> bool:
    return bool(traitors >> g & 1)


def general_name(g: int) -> str:
    return "C" if g == COMMANDER else f"L{g}"


def order_name(v: int) -> str:
    return "None" if v == NONE else ("attack" if v == ATTACK else "retreat")


def chain_text(v: int, chain: tuple[int, ...]) -> str:
    """The paper's notation for a signed message: attack:C:L2."""
    return ":".join((order_name(v), *map(general_name, chain)))


def names(generals) -> TlaSet:
    return TlaSet(general_name(g) for g in sorted(generals))


def members(mask: int, n: int) -> list[int]:
    return [g for g in range(n) if mask >> g & 1]


def _common(s, n: int) -> dict[str, object]:
    loyal = [i for i in range(1, n) if not is_traitor(s.traitors, i)]
    return {
        "traitors": names(members(s.traitors, n)),
        "order": order_name(s.order),
        "decision": FnMap((general_name(i), order_name(s.decision[i])) for i in loyal),
    }


def describe_om(s: OMState) -> dict[str, object]:
    """Per lieutenant, one entry per call in progress (outermost first): the value
    the call's commander sent him and how many of its finished sub-calls gave him
    ATTACK; and per call, the lieutenants whose sub-call has run."""
    n = len(s.decision)
    out = _common(s, n)
    loyal = [i for i in range(1, n) if not is_traitor(s.traitors, i)]
    out["path"] = tuple(general_name(g) for g in s.path)
    out["received"] = FnMap((general_name(i), tuple(order_name(f.received[i])
                                                    for f in s.frames)) for i in loyal)
    out["attacks"] = FnMap((general_name(i), tuple(f.attacks[i] for f in s.frames))
                           for i in loyal)
    out["ran"] = tuple(names(members(f.done, n)) for f in s.frames)
    return out


def describe_sm(s: SMState) -> dict[str, object]:
    n = len(s.decision)
    out = _common(s, n)
    loyal = [i for i in range(1, n) if not is_traitor(s.traitors, i)]
    out["round"] = s.round
    out["V"] = FnMap((general_name(i), TlaSet(order_name(v) for v in ORDERS
                                               if s.values[i] >> v & 1)) for i in loyal)
    # Messages as records with src and dst, so `smrcheck show` draws them as arrows;
    # what the traitors hold as a sequence, a note rather than a lane per message.
    out["inbox"] = TlaSet(Record(type="signed", src=general_name(c[-1]), dst=general_name(r),
                                 order=order_name(v), sigs=":".join(map(general_name, c)))
                          for r, v, c in sorted(s.inbox))
    out["traitorsHold"] = tuple(chain_text(v, c) for v, c in sorted(s.known))
    return out
