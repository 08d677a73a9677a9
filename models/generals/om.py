"""Algorithm OM(m), the oral messages algorithm (Lamport, Shostak, Pease 1982, §3).

The paper defines it by recursion on m:

    OM(0): (1) the commander sends his value to every lieutenant; (2) each lieutenant
    uses the value he receives, or RETREAT if he receives none.
    OM(m), m > 0: (1) the commander sends his value to every lieutenant; (2) for each
    i, let v_i be the value lieutenant i receives (RETREAT if none); lieutenant i
    acts as the commander in OM(m-1) to send v_i to each of the n-2 other
    lieutenants; (3) for each i and each j != i, let v_j be the value lieutenant i
    received from lieutenant j in step (2) (using OM(m-1)), or RETREAT if none;
    lieutenant i uses majority(v_1, ..., v_n-1).

Oral messages (A1-A3) are delivered correctly, the receiver knows the sender, and a
missing message is detected; the paper's algorithm is synchronous. Its sub-calls of
step (2) are independent of one another: a loyal general's messages depend only on
what it received in the call above, and a traitor may send anything at any time. So
the model runs them one at a time and folds a finished call's results into its
caller at once: the orders the loyal lieutenants end with are those of the
synchronous algorithm, and a state holds one chain of calls, not every call's
messages at once. The sub-calls of one call commute and no property reads a state
before Decide, so one order of them is enough (a partial-order reduction):
`next_relay` takes the waiting lieutenant with the least signature (what the state
says about him, as the symmetry reduction compares lieutenants; his number breaks
only ties between lieutenants the state cannot tell apart), an order that commutes
with renaming the lieutenants, as the symmetry reduction needs.

Steps, one function each:
- Order: the commander of OM(m) sends his order to every lieutenant (a traitor: any
  order to each, independently).
- Relay(j): in the innermost call in progress, lieutenant j (`next_relay`) runs its
  sub-call: as commander it sends the value it received (a traitor: anything) to
  every general not on the call path. If the sub-call is OM(0), its receivers keep
  that value as its result at once; otherwise it becomes the innermost call. A call
  whose every lieutenant has run its sub-call is finished: each of its loyal
  lieutenants takes the majority (step 3), which is that call's result for it in the
  caller.
- Decide: when every sub-call of OM(m) has run, each loyal lieutenant obeys the
  majority of step (3).
"""

from __future__ import annotations

from ..common.ids import NONE
from .setup import Setup
from .state import ATTACK, COMMANDER, RETREAT, OMFrame, OMState, is_traitor
from .symmetry import om_signature


def initial_states(c: Setup) -> list[OMState]:
    undecided = (NONE,) * c.n
    out = []
    for traitors in c.traitor_sets():
        orders = (NONE,) if is_traitor(traitors, COMMANDER) else (RETREAT, ATTACK)
        out.extend(OMState(traitors, v, (), (), undecided, 0) for v in orders)
    return out


def lieutenants_of(c: Setup, path: tuple[int, ...]) -> tuple[int, ...]:
    """The lieutenants of the call at the end of `path`: every general not on it."""
    return tuple(i for i in range(1, c.n) if i not in path)


def depth(c: Setup) -> int:
    """m, or 0 for the no-relay mutant: a lieutenant obeys the commander's message."""
    return c.m if c.rules.relay else 0


def majority(c: Setup, frame: OMFrame, i: int, lieutenants: int) -> int:
    """Step (3): majority(v_1, ..., v_n-1) for lieutenant i, RETREAT on a tie (the
    paper's choice of a default). With two orders, the count of ATTACKs decides."""
    own = c.rules.count_own_value
    votes = frame.attacks[i] + (frame.received[i] == ATTACK if own else 0)
    count = lieutenants - 1 + own
    if 2 * votes == count and not c.rules.tie_retreat:
        return frame.received[i]
    return ATTACK if 2 * votes > count else RETREAT


def _fold(frames: tuple[OMFrame, ...], results: tuple[int, ...]) -> tuple[OMFrame, ...]:
    """Give the innermost call's lieutenants one sub-call's results (`results[i]`)."""
    top = frames[-1]
    attacks = tuple(a + (r == ATTACK) for a, r in zip(top.attacks, results))
    return frames[:-1] + (top._replace(attacks=attacks),)


def _mask(generals) -> int:
    return sum(1 << g for g in generals)


# -- Order -----------------------------------------------------------------------


def order(c: Setup, s: OMState, sent: tuple[int, ...]) -> OMState:
    frame = OMFrame(sent, (0,) * c.n, 0)
    return s._replace(path=(COMMANDER,), frames=(frame,))


# -- Relay(j) --------------------------------------------------------------------


def relay(c: Setup, s: OMState, j: int, sent: tuple[int, ...]) -> OMState:
    top = s.frames[-1]
    frames = s.frames[:-1] + (top._replace(done=top.done | 1 << j),)
    path = s.path
    if len(path) < depth(c):  # j's call is OM(k-1) with k-1 > 0: it runs next
        return s._replace(path=path + (j,), frames=frames + (OMFrame(sent, (0,) * c.n, 0),))
    # j's call is OM(0): its receivers use the value j sent (step 2 of OM(0)).
    frames = _fold(frames, sent)
    # Finish every call whose lieutenants have all run their sub-calls.
    while len(path) > 1:
        lieutenants = lieutenants_of(c, path)
        top = frames[-1]
        if top.done != _mask(lieutenants):
            break
        results = [NONE] * c.n
        for i in c.loyal(s.traitors, lieutenants):
            results[i] = majority(c, top, i, len(lieutenants))
        frames, path = _fold(frames[:-1], tuple(results)), path[:-1]
    return s._replace(path=path, frames=frames)


# -- Decide ----------------------------------------------------------------------


def decide(c: Setup, s: OMState) -> OMState:
    root = s.frames[0]
    lieutenants = lieutenants_of(c, (COMMANDER,))
    decision = [NONE] * c.n
    for i in c.loyal(s.traitors, lieutenants):
        decision[i] = (majority(c, root, i, len(lieutenants)) if depth(c) > 0
                       else root.received[i])
    return OMState(s.traitors, s.order, (), (), tuple(decision), 1)


def enabled_actions(c: Setup, s: OMState) -> list[tuple]:
    if not s.path:
        if s.decided:
            return []
        return [("Order", s.order, sent) for sent in
                c.sends(s.traitors, COMMANDER, s.order, lieutenants_of(c, (COMMANDER,)))]
    path, top = s.path, s.frames[-1]
    lieutenants = lieutenants_of(c, path)
    j = next_relay(s, lieutenants) if len(path) <= depth(c) else None
    if j is None:
        return [("Decide",)] if len(path) == 1 else []
    receivers = tuple(i for i in lieutenants if i != j)
    # The action names the value a loyal j relays (NONE for a traitor), for the reader.
    value = top.received[j]
    return [("Relay", j, value, sent) for sent in c.sends(s.traitors, j, value, receivers)]


def next_relay(s: OMState, lieutenants: tuple[int, ...]) -> int | None:
    """The lieutenant whose sub-call of the innermost call runs next (see above), or
    None when all have run."""
    top = s.frames[-1]
    waiting = [(om_signature(s, j), j) for j in lieutenants if not top.done >> j & 1]
    return min(waiting)[1] if waiting else None
