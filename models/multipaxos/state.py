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
received, so no network action is needed.

Symmetry: commands are interchangeable (every command is pending at the start and a
leader may propose any of them), and so are replicas once ballot ownership is renamed
with them (a ballot's order is its round, its owner is data in `owner`). `canonical`
maps a state to the least of its images under every renaming of replicas and of
commands, so symmetric states are stored once.
"""

from __future__ import annotations

from itertools import permutations
from typing import NamedTuple

from ...checker.model import FnMap, Record, TlaSet
from ..common.ids import NONE, replica_name
from .messages import NOOP, P1B, P2A, P2B, ballot_name, describe_message, value_name

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


def initial(n: int, slots: int, ballots: int) -> MPState:
    """Every replica up, no promise, nothing accepted, leading nothing, empty log."""
    none = (NONE,) * n
    empty: Accepted = ((NONE, NONE),) * slots
    return MPState(
        (UP,) * n, 0, none, (empty,) * n, none, none, none, ((),) * n, (NONE,) * ballots,
        frozenset(),
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


def canonical(s: MPState, maps: list[ValueMap]) -> tuple:
    """One representative of s's class under renaming replicas and commands.

    For each renaming of the commands, every replica gets a signature: the first
    ballot it owns, its local state and the messages it sent, with commands renamed
    and its own id left out. Sorting the signatures renames the replicas: owners come
    first, in the order of their ballots (which a renaming cannot change), and
    replicas that own nothing in the order of their signatures; two with equal
    signatures are identical, so the order between them does not matter. The
    representative is the least result over the command renamings. This costs one
    pass per command renaming instead of one per pair of renamings."""
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


# -- presentation ---------------------------------------------------------------------


def describe(s: MPState) -> dict[str, object]:
    n, own = len(s.up), s.owner
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
