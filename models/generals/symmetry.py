"""Symmetry: interchangeable lieutenants.

Nothing in OM(m) or SM(m) tells one lieutenant from another: every loyal lieutenant
runs the same steps, the adversary may make any of them a traitor, and IC1 and IC2
ask the same of each. Renaming the lieutenants (the traitors with them) maps every
behaviour to a behaviour and every violation to a violation, so the explorer keeps
one state per class (Ip and Dill's symmetry reduction; TLC's SYMMETRY over the
lieutenants). The commander is never renamed: he is the one general who gives the
order.

OM: everything a state says about one lieutenant (whether he is a traitor, his place
on the call path, what he received, counted and ran in each call, his decision) is
his signature, and no part of the state relates two lieutenants otherwise, so the
sorted signatures are an exact representative: two lieutenants with equal signatures
are exchanged by no renaming that changes the state. The same signature orders the
sub-calls of a call (`om.next_relay`): an order by number would not commute with
renaming, an order by signature does (two lieutenants it cannot tell apart are
exchanged by a renaming that fixes the state).

SM: messages carry chains of signers, which relate lieutenants to one another, so the
representative is the least image over renamings of the lieutenants: those that
order them by a key renaming keeps, so only lieutenants with equal keys are tried in
each order (at most (n-1)!, 120 for six generals).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import permutations, product

from .state import OMState, SMState


def om_signature(s: OMState, i: int) -> tuple:
    """Everything `s` says about lieutenant i, his number left out."""
    return (s.traitors >> i & 1, s.path.index(i) if i in s.path else -1,
            tuple((f.received[i], f.attacks[i], f.done >> i & 1) for f in s.frames),
            s.decision[i])


def om_canonical(s: OMState) -> tuple:
    sigs = sorted(om_signature(s, i) for i in range(1, len(s.decision)))
    return (s.traitors & 1, s.order, len(s.path), s.decided, tuple(sigs))


def sm_canonical(n: int) -> Callable[[SMState], tuple]:
    """The least image over the renamings that list the lieutenants in the order of a
    key that renaming keeps (traitor or not, V_i, decision, how many messages to him
    and chains naming him): the same set of renamings' images for every state of a
    class, so its least is the same, and only ties of the key are tried both ways."""
    lieutenants = range(1, n)

    def key(s: SMState, i: int) -> tuple:
        return (s.traitors >> i & 1, s.values[i], s.decision[i],
                sum(1 for r, _, _ in s.inbox if r == i),
                sum(1 for _, _, c in s.inbox if i in c), sum(1 for _, c in s.known if i in c))

    def image(s: SMState, new: tuple[int, ...]) -> tuple:
        old = [0] * n
        for g in range(n):
            old[new[g]] = g
        traitors = sum(1 << new[g] for g in range(n) if s.traitors >> g & 1)
        return (traitors, s.round,
                tuple(s.values[old[g]] for g in range(n)),
                tuple(s.decision[old[g]] for g in range(n)),
                tuple(sorted((new[r], v, tuple(new[x] for x in c)) for r, v, c in s.inbox)),
                tuple(sorted((v, tuple(new[x] for x in c)) for v, c in s.known)))

    def renamings(s: SMState):
        """new[g] for each general: lieutenants numbered 1.. in key order, every order
        of each group of equal keys."""
        groups: dict[tuple, list[int]] = {}
        for i in sorted(lieutenants, key=lambda i: key(s, i)):
            groups.setdefault(key(s, i), []).append(i)
        for orders in product(*(permutations(g) for g in groups.values())):
            new = [0] * n
            for name, g in enumerate((g for order in orders for g in order), start=1):
                new[g] = name
            yield tuple(new)

    def canonical(s: SMState) -> tuple:
        return (s.order, min(image(s, new) for new in renamings(s)))

    return canonical
