"""Algorithm SM(m), the signed messages algorithm (Lamport, Shostak, Pease 1982, §4).

With assumption A4 (a loyal general's signature cannot be forged, any alteration of
a signed message is detected, and anyone can verify a signature), each lieutenant i
keeps the set V_i of orders it has seen (initially empty):

    (1) The commander signs and sends his value to every lieutenant.
    (2) For each i: (A) if lieutenant i receives v:0 and has received no order yet,
    he lets V_i = {v} and sends v:0:i to every other lieutenant; (B) if he receives
    v:0:j1:...:jk and v is not in V_i, he adds v to V_i and, if k < m, sends
    v:0:j1:...:jk:i to every lieutenant other than j1, ..., jk.
    (3) When he will receive no more messages, he obeys choice(V_i).

choice(V) is v when V = {v} and RETREAT otherwise (the empty set included), one of
the definitions the paper allows. The algorithm is synchronous, as the paper's
timeout for "will receive no more messages" requires: a message of round k carries
k+1 signatures, and round k's messages are all delivered at its end (`Deliver`), so a
lieutenant relays in round k+1 what it first learned in round k. (A message with k+1
signatures delivered in a later round would let a traitor hand a loyal lieutenant an
order after its last chance to relay it: the round is what a signature count vouches
for.) Step (2A) is (2B) with k = 0.

Steps:
- Sign: a loyal commander signs his order and sends it to every lieutenant.
- Traitor(i, v, chain): in round k a traitor sends loyal lieutenant i the order v
  with a chain of k+1 signatures that ends with its own. The traitors collude, so any
  of them signs for any other; but a loyal general's signature is genuine, so the part
  of the chain up to its last loyal signer is a message the traitors hold (one a loyal
  general signed and sent to a traitor, or a prefix of one: the signatures nest, so
  v:0:a:b carries v:0:a). A traitorous commander signs any order. Only messages that
  can change i's V_i are listed (an order i already has changes nothing: step 2B acts
  only on a new order), and one per lieutenant and order a round. Withholding a
  message is the absence of this step.
- Deliver(k, firsts): each loyal lieutenant adds round k's new orders to V_i and, if
  k < m, relays each with its signature to the lieutenants not on the chain; of two
  messages with one new order, the one it takes first (`firsts`, the adversary's
  choice of arrival order) is the one it signs. Traitors who receive a relay hold it
  from then on.
- Decide: after round m, each loyal lieutenant obeys choice(V_i).
"""

from __future__ import annotations

from itertools import permutations, product

from ..common.ids import NONE
from .setup import Setup
from .state import COMMANDER, ORDERS, RETREAT, SMState, is_traitor


def initial_states(c: Setup) -> list[SMState]:
    zeros, undecided = (0,) * c.n, (NONE,) * c.n
    out = []
    for traitors in c.traitor_sets():
        if is_traitor(traitors, COMMANDER):
            out.append(SMState(traitors, NONE, 0, zeros, frozenset(), frozenset(), undecided))
        else:
            out.extend(SMState(traitors, v, -1, zeros, frozenset(), frozenset(), undecided)
                       for v in ORDERS)
    return out


def choice(values: int) -> int:
    """The paper's choice(V): the one order in V, else RETREAT."""
    return values.bit_length() - 1 if values in (1, 2) else RETREAT


def _send(c: Setup, s: SMState, messages, inbox: set, known: set) -> None:
    """Deliver signed `messages` (receiver, order, chain): a loyal receiver gets it in
    its inbox unless it already has the order; a traitor holds it."""
    for r, v, chain in messages:
        if is_traitor(s.traitors, r):
            known.add((v, chain))
        elif not s.values[r] >> v & 1:
            inbox.add((r, v, chain))


# -- Sign ------------------------------------------------------------------------


def sign(c: Setup, s: SMState) -> SMState:
    inbox: set = set()
    known: set = set()
    _send(c, s, [(i, s.order, (COMMANDER,)) for i in range(1, c.n)], inbox, known)
    return s._replace(round=0, inbox=frozenset(inbox), known=frozenset(known))


# -- Traitor(i, v, chain) --------------------------------------------------------


def forgeable(c: Setup, s: SMState) -> list[tuple[int, tuple[int, ...]]]:
    """The (order, chain) messages of round `s.round` that traitors can sign and send:
    k+1 distinct signers, the commander first and a traitor last."""
    length = s.round + 1
    # A chain is signable when its part up to its last loyal signer is a message the
    # traitors hold (a `base`): after that signer come only traitors, who sign for one
    # another. Without signature checks (the sm-forged mutant) anyone "signs".
    signers = tuple(g for g in range(1, c.n) if is_traitor(s.traitors, g)
                    or not c.rules.check_signatures)
    bases: set[tuple[int, tuple[int, ...]]] = set()
    if is_traitor(s.traitors, COMMANDER) or not c.rules.check_signatures:
        bases.update((v, (COMMANDER,)) for v in ORDERS)
    for v, chain in s.known:
        for end in range(1, len(chain) + 1):
            if not is_traitor(s.traitors, chain[end - 1]):
                bases.add((v, chain[:end]))
    out = set()
    for v, base in bases:
        if len(base) > length:
            continue
        free = [g for g in signers if g not in base]
        for tail in permutations(free, length - len(base)):
            chain = base + tail
            if len(chain) == length and is_traitor(s.traitors, chain[-1]):
                out.add((v, chain))
    return sorted(out)


def traitor(c: Setup, s: SMState, i: int, v: int, chain: tuple[int, ...]) -> SMState:
    return s._replace(inbox=s.inbox | {(i, v, chain)})


# -- Deliver(k) ------------------------------------------------------------------


def deliver(c: Setup, s: SMState, firsts: tuple[tuple[int, int, tuple[int, ...]], ...]
            ) -> SMState:
    values = list(s.values)
    relays = []
    for i, v, chain in firsts:
        values[i] |= 1 << v
        if s.round < c.m and c.rules.sm_relay:
            signed = chain + (i,)
            relays.extend((r, v, signed) for r in range(1, c.n) if r not in signed)
    after = s._replace(round=s.round + 1, values=tuple(values), inbox=frozenset())
    inbox: set = set()
    known = set(s.known)
    _send(c, after, relays, inbox, known)
    return after._replace(inbox=frozenset(inbox), known=frozenset(known))


def firsts(s: SMState) -> list[tuple[tuple[int, int, tuple[int, ...]], ...]]:
    """Every choice, for each lieutenant and each new order in its inbox, of the message
    it takes first (the one it signs and relays): the network's, so the adversary's."""
    groups: dict[tuple[int, int], list] = {}
    for msg in sorted(s.inbox):
        groups.setdefault(msg[:2], []).append(msg)
    return list(product(*groups.values()))


# -- Decide ----------------------------------------------------------------------


def decide(c: Setup, s: SMState) -> SMState:
    decision = tuple(choice(s.values[i]) if i and not is_traitor(s.traitors, i) else NONE
                     for i in range(c.n))
    return s._replace(round=s.round + 1, decision=decision)


def enabled_actions(c: Setup, s: SMState) -> list[tuple]:
    if s.round == -1:
        return [("Sign", s.order)]
    if s.round > c.m + 1:
        return []
    if s.round == c.m + 1:
        return [("Decide",)]
    # One traitor message per lieutenant and order a round is enough: of two, the
    # lieutenant acts on the one it takes first only.
    forged = {(r, v) for r, v, chain in s.inbox if is_traitor(s.traitors, chain[-1])}
    out: list[tuple] = []
    loyal = c.loyal(s.traitors, range(1, c.n))
    for v, chain in forgeable(c, s):
        for i in loyal:
            if i not in chain and not s.values[i] >> v & 1 and (i, v) not in forged:
                out.append(("Traitor", i, v, chain))
    out.extend(("Deliver", s.round, picked) for picked in firsts(s))
    return out
