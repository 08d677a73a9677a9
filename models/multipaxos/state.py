"""The state of MultiPaxos: every replica's acceptor, proposer and learner, and msgs.

Each replica collocates the three roles of Paxos Made Simple §3:

- acceptor: `max_bal[r]`, the highest ballot it has promised or accepted in (one
  promise covers every slot, because phase 1 runs once for all instances), and
  `accepted[r][slot] = (vbal, vval)`, the highest-ballot value it accepted in each
  slot, `(NONE, NONE)` if none;
- proposer: `lead[r]`, the ballot it leads (`NONE` if it never tried), and
  `next_slot[r]`, `NONE` while its phase 1 is in progress, else the first slot it has
  not yet proposed in; a leader with a `next_slot` is the paper's stable leader;
  `fresh[r]`, the first slot above those its phase 1 recovered (where its own
  client commands start), `NONE` while not leading;
- learner and state machine: `log[r]`, what it has executed, slot by slot (a no-op,
  or a command it had already executed, is logged as `NOOP`).

`owner[b]` is the replica that claimed ballot b (its round; see `messages`), `NONE`
while unclaimed. `up[r]` is `DOWN` once r has crashed (and not restarted),
`CATCHING_UP` after a restart while its learner has values left to learn, else `UP`;
`crashes` counts crash events against the budget. `msgs` is the set of every message
ever sent, as in Lamport's Paxos.tla: with the default sent-set network a lost,
duplicated or reordered message is the same, for safety, as one never or repeatedly
received, so no network action is needed. With the bag and fifo networks `net` holds
the copies in flight (see `network`); with sent-set it is always `()`.

Symmetry: commands are interchangeable (every command is pending at the start and a
leader may propose any of them), and so are replicas once ballot ownership is renamed
with them (a ballot's order is its round, its owner is data in `owner`). `canonical`
maps a state to the least of its images under every renaming of replicas and of
commands, so symmetric states are stored once. With bag and fifo,
`canonical_in_flight` does the same with the in-flight messages renamed too;
`canonical_brute` tries every renaming, the reference the tests hold both to.
"""

from __future__ import annotations

from itertools import permutations, product
from typing import NamedTuple

from ...checker.model import FnMap, Record, TlaSet
from ..common.ids import NONE, replica_name
from .messages import NOOP, P1B, P2A, P2B, ballot_name, describe_message, value_name
from .network import BAG, FIFO, Network

Accepted = tuple[tuple[int, int], ...]  # per slot: (vbal, vval)

DOWN, UP, CATCHING_UP = 0, 1, 2
UP_NAMES = ("down", "up", "catching-up")


class MPState(NamedTuple):
    up: tuple[int, ...]
    crashes: int
    max_bal: tuple[int, ...]
    accepted: tuple[Accepted, ...]
    lead: tuple[int, ...]
    next_slot: tuple[int, ...]
    fresh: tuple[int, ...]
    log: tuple[tuple[int, ...], ...]
    owner: tuple[int, ...]
    msgs: frozenset[tuple]
    # What is in flight, owned by `network`: always () with the sent-set network.
    net: tuple = ()


def initial(n: int, slots: int, ballots: int, net: tuple = ()) -> MPState:
    """Every replica up, no promise, nothing accepted, leading nothing, empty log."""
    none = (NONE,) * n
    empty: Accepted = ((NONE, NONE),) * slots
    return MPState(
        (UP,) * n, 0, none, (empty,) * n, none, none, none, ((),) * n, (NONE,) * ballots,
        frozenset(), net,
    )


def set_at(t: tuple, i: int, x) -> tuple:
    return t[:i] + (x,) + t[i + 1 :]


# -- symmetry -------------------------------------------------------------------------

UNOWNED = 1 << 30  # sorts replicas that own no ballot after those that do


class ValueMap(NamedTuple):
    """A renaming of the commands: `val[v + 2]` is v's new name (NOOP, NONE fixed)."""

    val: tuple[int, ...]
    identity: bool
    # Renamed per-slot `accepted` tuples, memoised: there are few distinct ones.
    memo: dict


def value_maps(commands: int) -> list[ValueMap]:
    """Every renaming of the commands, the identity first."""
    return [
        ValueMap((NOOP, NONE) + p, p == tuple(range(commands)), {})
        for p in permutations(range(commands))
    ]


def _renamed(acc: Accepted, vm: ValueMap) -> Accepted:
    out = vm.memo.get(acc)
    if out is None:
        val = vm.val
        out = vm.memo[acc] = tuple((vb, val[vv + 2]) for vb, vv in acc)
    return out


def _parts(s: MPState) -> tuple[list[list[tuple]], list[tuple], list[tuple], list[int]]:
    """What both canonical forms start from: each replica's sent 1b/2b messages, the
    1a messages (sorted), the 2a messages, and each replica's first owned ballot."""
    n = len(s.up)
    sent: list[list[tuple]] = [[] for _ in range(n)]
    one_a: list[tuple] = []
    two_a: list[tuple] = []
    for m in s.msgs:
        kind = m[0]
        if kind == P1B or kind == P2B:
            sent[m[1]].append(m)
        elif kind == P2A:
            two_a.append(m)
        else:
            one_a.append(m)
    one_a.sort()
    first = [UNOWNED] * n
    owner = s.owner
    for b in range(len(owner) - 1, -1, -1):
        if owner[b] != NONE:
            first[owner[b]] = b
    return sent, one_a, two_a, first


def canonical(s: MPState, maps: list[ValueMap], faulty: frozenset[int] = frozenset()) -> tuple:
    """One representative of s's class under renaming replicas and commands.

    For each renaming of the commands, every replica gets a signature: the first
    ballot it owns, its local state and the messages it sent, with commands renamed
    and its own id left out. Sorting the signatures renames the replicas: owners come
    first, in the order of their ballots (which a renaming cannot change), and
    replicas that own nothing in the order of their signatures; two with equal
    signatures are identical, so the order between them does not matter. The
    representative is the least result over the command renamings. This costs one
    pass per command renaming instead of one per pair of renamings.

    `faulty` replicas (omission or Byzantine faults) are renamed only into one
    another: their signatures start with a mark, so they sort apart."""
    n = len(s.up)
    owner = s.owner
    sent, one_a, two_a, first = _parts(s)
    # The image starts (crashes, owner, others): owners are ordered by their ballots
    # whatever the command names, so `owner` is the same under every renaming and
    # the 1a/2a messages (`others`, few and cheap) already rule most renamings out.
    # Commands enter a state only through 2a messages: with none, every renaming
    # gives the same image.
    if len(maps) == 1 or not two_a:
        candidates = [(maps[0], tuple(one_a) + tuple(sorted(two_a)))]
    else:
        renamed = []
        for vm in maps:
            val = vm.val
            others = tuple(one_a) + tuple(sorted(
                [(P2A, m[1], m[2], val[m[3] + 2]) for m in two_a]))
            renamed.append((vm, others))
        least = min(o for _, o in renamed)
        candidates = [(vm, o) for vm, o in renamed if o == least]
    best = None
    for vm, others in candidates:
        val = vm.val
        sigs = []
        for r in range(n):
            if vm.identity:
                mine = [m[:1] + m[2:] for m in sent[r]]
                acc, log = s.accepted[r], s.log[r]
            else:
                mine = [
                    (P1B, m[2], _renamed(m[3], vm)) if m[0] == P1B
                    else (P2B, m[2], m[3], val[m[4] + 2])
                    for m in sent[r]
                ]
                acc = _renamed(s.accepted[r], vm)
                log = tuple(val[x + 2] for x in s.log[r])
            mine.sort()
            sigs.append((
                first[r], s.up[r], s.max_bal[r], s.lead[r], s.next_slot[r], s.fresh[r],
                acc, log, tuple(mine), r,
            ))
        if faulty:
            sigs = [(sig[-1] in faulty,) + sig for sig in sigs]
        sigs.sort()
        rho = [0] * n
        for new, sig in enumerate(sigs):
            rho[sig[-1]] = new
        image = (
            s.crashes,
            tuple(NONE if w == NONE else rho[w] for w in owner),
            others,
            tuple(sig[:-1] for sig in sigs),
        )
        if best is None or image < best:
            best = image
    return best


def canonical_in_flight(s: MPState, maps: list[ValueMap], network: Network,
                        faulty: frozenset[int] = frozenset()) -> tuple:
    """`canonical` for the bag and fifo networks: the least image of s under every
    renaming, its in-flight copies renamed too.

    A copy in flight names two replicas (its destination, and for a 1b or 2b its
    sender), so it cannot sit in one replica's signature with the ids left out the
    way `canonical` treats what a replica sent: two replicas with equal signatures
    need no longer be interchangeable. So the signatures only narrow the renamings
    down: each holds, besides the replica's state and what it sent, the copies in
    flight to and from it with every replica id left out. The renamings that sort
    the signatures are the candidates (replicas with equal signatures in every
    order), and the representative is the least whole image, in-flight part
    included, among them. The candidates of a renamed state are the renamed
    candidates, so two states get the same form exactly when one renames into the
    other, as with `canonical_brute`; but where that tries n! * commands! renamings
    per state, this tries the few that tie (all of them only in the initial state,
    where the replicas are alike)."""
    n = len(s.up)
    owner = s.owner
    sent, one_a, two_a, first = _parts(s)
    # The image starts (crashes, owner, others) as in `canonical`, so only the command
    # renamings with the least `others` can give the least image.
    renamed = [(vm, tuple(one_a) + tuple(sorted(
        [(P2A, m[1], m[2], vm.val[m[3] + 2]) for m in two_a]))) for vm in maps]
    least = min(o for _, o in renamed)
    best = None
    for vm, others in renamed:
        if others != least:
            continue
        val = vm.val
        flight_in, flight_out = _flight(s.net, network, n, vm)
        sigs = []
        for r in range(n):
            mine = sorted(_id_free(m, vm) for m in sent[r])
            sigs.append((
                first[r], s.up[r], s.max_bal[r], s.lead[r], s.next_slot[r], s.fresh[r],
                _renamed(s.accepted[r], vm), tuple(val[x + 2] for x in s.log[r]),
                tuple(mine), flight_in[r], flight_out[r], r,
            ))
        if faulty:  # renamed only into one another, as in `canonical`
            sigs = [(sig[-1] in faulty,) + sig for sig in sigs]
        sigs.sort()
        head = (s.crashes, None, others, tuple(sig[:-1] for sig in sigs))
        for order in _tie_orders(sigs):
            rho = [0] * n
            for new, r in enumerate(order):
                rho[r] = new
            image = (head[0], tuple(NONE if w == NONE else rho[w] for w in owner),
                     head[2], head[3], rename_net(s.net, rho, val, network, n))
            if best is None or image < best:
                best = image
    return best


def _id_free(m: tuple, vm: ValueMap) -> tuple:
    """m with commands renamed and the replica it names (a 1b's or 2b's sender) left
    out: what a signature may hold before the replicas are renamed."""
    kind = m[0]
    if kind == P1B:
        return (P1B, m[2], _renamed(m[3], vm))
    if kind == P2B:
        return (P2B, m[2], m[3], vm.val[m[4] + 2])
    if kind == P2A:
        return (P2A, m[1], m[2], vm.val[m[3] + 2])
    return m


def _flight(net: tuple, network: Network, n: int, vm: ValueMap
            ) -> tuple[list[tuple], list[tuple]]:
    """Per replica, the copies in flight to it and from it, id-free and sorted (with
    fifo, as whole queues, whose order matters)."""
    into: list[list] = [[] for _ in range(n)]
    out: list[list] = [[] for _ in range(n)]
    if network.kind == BAG:
        for (d, m), c in net[1]:
            free = (_id_free(m, vm), c)
            into[d].append(free)
            if m[0] == P1B or m[0] == P2B:
                out[m[1]].append(free)
    else:
        for c, q in enumerate(net):
            if q:
                free = tuple(_id_free(m, vm) for m in q)
                out[c // n].append(free)
                into[c % n].append(free)
    return [tuple(sorted(x)) for x in into], [tuple(sorted(x)) for x in out]


def _tie_orders(sigs: list[tuple]):
    """The orders of the replicas that sort `sigs` (each ends with its replica):
    replicas whose signatures tie, in every order among themselves."""
    groups: list[list[int]] = []
    for i, sig in enumerate(sigs):
        if i and sig[:-1] == sigs[i - 1][:-1]:
            groups[-1].append(sig[-1])
        else:
            groups.append([sig[-1]])
    for choice in product(*(permutations(g) for g in groups)):
        yield [r for g in choice for r in g]


def rename_net(net: tuple, rho, val, network: Network, n: int) -> tuple:
    """The in-flight copies with replica r renamed rho[r] and value x val[x + 2]."""
    if network.kind == BAG:
        return (net[0], tuple(sorted(((rho[d], rename_message(m, rho, val)), c)
                                     for (d, m), c in net[1])))
    if network.kind == FIFO:
        queues = [()] * (n * n)
        for c, q in enumerate(net):
            queues[rho[c // n] * n + rho[c % n]] = tuple(
                rename_message(m, rho, val) for m in q)
        return tuple(queues)
    return net


def rename_message(m: tuple, rho, val) -> tuple:
    """m with replica r renamed rho[r] and value x renamed val[x + 2]."""
    kind = m[0]
    if kind == P1B:
        return (P1B, rho[m[1]], m[2], tuple((vb, val[vv + 2]) for vb, vv in m[3]))
    if kind == P2B:
        return (P2B, rho[m[1]], m[2], m[3], val[m[4] + 2])
    if kind == P2A:
        return (P2A, m[1], m[2], val[m[3] + 2])
    return m


def rename(s: MPState, rho, val, network: Network) -> MPState:
    """s with replica r renamed rho[r], value x renamed val[x + 2], in flight too."""
    n = len(s.up)
    inv = [0] * n
    for r in range(n):
        inv[rho[r]] = r

    def acc(a):
        return tuple((b, val[x + 2]) for b, x in a)

    def per(t):
        return tuple(t[inv[i]] for i in range(n))

    net = rename_net(s.net, rho, val, network, n)
    return MPState(
        per(s.up), s.crashes, per(s.max_bal), tuple(acc(a) for a in per(s.accepted)),
        per(s.lead), per(s.next_slot), per(s.fresh),
        tuple(tuple(val[x + 2] for x in lg) for lg in per(s.log)),
        tuple(NONE if w == NONE else rho[w] for w in s.owner),
        frozenset(rename_message(m, rho, val) for m in s.msgs), net,
    )


def canonical_brute(s: MPState, network: Network, commands: int) -> tuple:
    """The least image of s under every renaming of replicas and of commands.

    Exact (two states get the same form iff one renames into the other) and simple;
    it costs n! * commands! renamings per state, fine for the small configurations
    the bag and fifo networks are meant for."""
    best = None
    n = len(s.up)
    for rho in permutations(range(n)):
        for p in permutations(range(commands)):
            t = rename(s, rho, (NOOP, NONE) + p, network)
            image = t._replace(msgs=tuple(sorted(t.msgs)))
            if best is None or image < best:
                best = image
    return tuple(best)


# -- presentation ---------------------------------------------------------------------


def describe(s: MPState, network: Network | None = None) -> dict[str, object]:
    n, own = len(s.up), s.owner
    out = _describe(s, n, own)
    if network is not None and network.kind == BAG:
        out["dups"] = s.net[0]
        out["inFlight"] = tuple(
            Record(to=replica_name(d), count=c, msg=describe_message(m, own))
            for (d, m), c in s.net[1])
    elif network is not None and network.kind == FIFO:
        out["channels"] = FnMap(
            (f"{replica_name(c // n)}->{replica_name(c % n)}",
             tuple(describe_message(m, own) for m in q))
            for c, q in enumerate(s.net))
    return out


def _describe(s: MPState, n: int, own: tuple[int, ...]) -> dict[str, object]:
    names = [replica_name(r) for r in range(n)]
    return {
        "up": FnMap((names[r], UP_NAMES[s.up[r]]) for r in range(n)),
        "crashes": s.crashes,
        "maxBal": FnMap((names[r], ballot_name(s.max_bal[r], own)) for r in range(n)),
        "accepted": FnMap(
            (
                names[r],
                tuple(
                    Record(vbal=ballot_name(vb, own), vval=value_name(vv))
                    for vb, vv in s.accepted[r]
                ),
            )
            for r in range(n)
        ),
        "lead": FnMap((names[r], ballot_name(s.lead[r], own)) for r in range(n)),
        "nextSlot": FnMap((names[r], s.next_slot[r]) for r in range(n)),
        "fresh": FnMap((names[r], s.fresh[r]) for r in range(n)),
        "log": FnMap((names[r], tuple(value_name(x) for x in s.log[r])) for r in range(n)),
        "owner": FnMap((b + 1, replica_name(w) if w != NONE else "none")
                       for b, w in enumerate(own)),
        "msgs": TlaSet(describe_message(m, own) for m in sorted(s.msgs)),
    }
