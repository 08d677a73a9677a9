"""A window onto an unbounded MultiPaxos run: forgetting what no future step can read.

The model is finite (a few slots, ballots and commands), a real run is not. Trace
conformance follows a long run with a bounded model by letting each model state stand
for a *window* of the run: model slot 0 is some trace slot `base`, the model's ballots
are the ballots still live, renumbered in their order, and its commands are the
client requests still mentioned somewhere. After enough events the window slides:
`compact` drops a prefix of slots and renumbers ballots and commands, in every state
of the conformance frontier alike. It may forget only what no future step of Paxos
Made Simple §3 can read; each rule below says why that holds.

- Slots below k, where every replica's log already holds k entries (every replica
  has executed them, so its learner never reads those slots again). In Paxos each
  slot is a separate instance (§3): its acceptors' votes, 2a and 2b messages are
  read by that instance alone (Accept reads its own 2a, a learner the 2bs of the
  slot it executes next, a new leader the 1b reports of a slot to re-propose
  there), so a slot every learner has passed changes no later log. What a dropped
  slot's events can still change is the acceptors' promises (an Accept raises its
  acceptor's), and the trace map applies that effect to late votes; a new leader
  re-proposing in a dropped slot re-proposes its chosen value (§2.2, P2c), which the
  map checks against what was executed there (`trace_map`); a stale leader's 2as in
  its lower ballot there are checked against the 2as kept for the slot (below).
  A replica that lags (down, or catching up after a restart) need not hold the
  window back: the values of the slots it misses are chosen, so it will execute
  exactly those, in order; `catch_up` fills its log with them (nothing else it does
  reads its own log) and the trace map checks its execute events against them.
  A leader whose next free slot is below k (a stale one, whose ballot was passed
  before it proposed there) moves to slot k: its proposals below k could reach only
  instances every replica has executed, and it may propose in as many slots as it
  likes first (clients' requests are unbounded), so from the window's view it can
  propose at k at once, which is what `next_slot` = 0 allows.
- A 1a or 1b message of a ballot whose owner no longer collects promises for it.
  Promise and Lead read them only while the owner is in that ballot's phase 1
  (`actions.collecting`), and an owner that left it never returns: its `lead` only
  moves to a higher ballot (Prepare) or is cleared (Crash).
- A 2a message whose ballot is below every acceptor's promise and is no replica's
  own ballot: Accept needs ballot >= promise (§2.2 P1a), promises only rise, and a
  proposer reads only the 2as of its own ballot (to find the slots its phase 1 left
  free). Durable promises of crashed acceptors count, since they may restart.
- Ballots and commands that no part of the state mentions any more: the model only
  compares ballots by order (and reads their owners) and commands by equality, so
  renumbering the ones left in order, with the same renaming in every state,
  changes no enabled step. A command's at-most-once execution, the one fact a
  compacted log prefix still carries, is kept in `done` (see `trace_map`).

`compact` applies these to one state; the trace map computes the shared numbering.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..common.ids import NONE
from .actions import collecting
from .messages import P1A, P1B, P2A
from .state import MPState


def prune(s: MPState) -> MPState:
    """s without the 1a, 1b and 2a messages no step can read again (see above)."""
    floor = min(s.max_bal)
    leads = set(s.lead)
    keep = []
    for m in s.msgs:
        kind = m[0]
        if kind == P1A:
            alive = collecting(s, m[1])
        elif kind == P1B:
            alive = collecting(s, m[2])
        elif kind == P2A:
            alive = m[1] >= floor or m[1] in leads
        else:
            alive = True
        if alive:
            keep.append(m)
    if len(keep) == len(s.msgs):
        return s
    return s._replace(msgs=frozenset(keep))


def slack(s: MPState, behind: frozenset[int] = frozenset()) -> int:
    """How many leading slots s can drop: those every log holds. The logs of replicas
    in `behind` are not waited for: `catch_up` fills them in first. No proposer reads
    its 2as there again: the trace map lets a leader propose a command again in its
    ballot (a client retried), so nothing needs to remember which it proposed, and a
    slot every replica executed is no free slot to fill."""
    return min(len(lg) for r, lg in enumerate(s.log) if r not in behind)


def catch_up(s: MPState, behind: frozenset[int], k: int) -> MPState:
    """s with the logs of the replicas in `behind` filled up to k slots from the longest
    log. The values of those slots are chosen, so each of these replicas will execute
    exactly them, in order, whatever it does meanwhile (the trace map checks its
    execute events against them); nothing else it does reads its own log."""
    full = max(s.log, key=len)
    log = tuple(lg + full[len(lg):k] if r in behind and len(lg) < k else lg
                for r, lg in enumerate(s.log))
    return s if log == s.log else s._replace(log=log)


def mentioned(s: MPState, k: int) -> tuple[set[int], set[int]]:
    """The ballots and commands s mentions once its first k slots are dropped."""
    ballots = {b for b in s.max_bal} | {b for b in s.lead}
    values: set[int] = set()
    for acc in s.accepted:
        for vb, vv in acc[k:]:
            ballots.add(vb)
            values.add(vv)
    for lg in s.log:
        values.update(lg[k:])
    for m in s.msgs:
        kind = m[0]
        if kind == P1A:
            ballots.add(m[1])
        elif kind == P1B:
            ballots.add(m[2])
            for vb, vv in m[3][k:]:
                ballots.add(vb)
                values.add(vv)
        elif kind == P2A:
            if m[2] >= k:
                ballots.add(m[1])
                values.add(m[3])
        elif m[3] >= k:
            ballots.add(m[2])
            values.add(m[4])
    ballots.discard(NONE)
    return ballots, {v for v in values if v >= 0}


def compact(s: MPState, k: int, bmap: Mapping[int, int], vmap: Mapping[int, int],
            rounds: int, slots: int) -> MPState:
    """s with its first k slots dropped, ballot b renamed bmap[b] and command v
    renamed vmap[v], in a model of `slots` slots and `rounds` ballots (at least what
    s has left); both maps cover everything `mentioned(s, k)` returns."""
    def bal(b: int) -> int:
        return NONE if b == NONE else bmap[b]

    def val(v: int) -> int:
        return v if v < 0 else vmap[v]

    pad = ((NONE, NONE),) * (slots - len(s.accepted[0]) + k)

    def acc(a: tuple) -> tuple:
        return tuple((bal(vb), val(vv)) for vb, vv in a[k:]) + pad

    owner = [NONE] * rounds
    for b, w in enumerate(s.owner):
        if w != NONE and b in bmap:
            owner[bmap[b]] = w
    msgs = set()
    for m in s.msgs:
        kind = m[0]
        if kind == P1A:
            msgs.add((P1A, bal(m[1])))
        elif kind == P1B:
            msgs.add((P1B, m[1], bal(m[2]), acc(m[3])))
        elif kind == P2A:
            if m[2] >= k:
                msgs.add((P2A, bal(m[1]), m[2] - k, val(m[3])))
        elif m[3] >= k:
            msgs.add((m[0], m[1], bal(m[2]), m[3] - k, val(m[4])))
    return MPState(
        s.up, s.crashes, tuple(bal(b) for b in s.max_bal), tuple(acc(a) for a in s.accepted),
        tuple(bal(b) for b in s.lead),
        tuple(x if x == NONE else max(0, x - k) for x in s.next_slot),
        tuple(x if x == NONE else max(0, x - k) for x in s.fresh),
        tuple(tuple(val(x) for x in lg[k:]) for lg in s.log), tuple(owner), frozenset(msgs),
        s.net,
    )
