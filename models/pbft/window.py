"""A window onto an unbounded PBFT run: forgetting what no future step can read.

The model is finite (sequence numbers 1..max_seq, a few requests), a real run is
not. Trace conformance follows a long run with a bounded model by letting each model
state stand for a *window* of the run: model sequence number n is trace number
`base + n`, and the model's requests are the client requests still mentioned
somewhere. `compact` slides the window in every state of the conformance frontier
alike, and may forget only what no future step of Castro and Liskov (OSDI 1999 §4)
can read:

- Sequence numbers up to k, where every correct replica has executed them. §4.3
  garbage-collects the log below a stable checkpoint for the same reason: a replica
  executes each number once, in order (`last executed`), so the pre-prepares,
  prepares and commits of a number it has passed are read by no later step of its
  own, except to build VIEW-CHANGE certificates and the NEW-VIEW set O, which are
  per sequence number: what they say about numbers up to k bears only on numbers up
  to k, which nobody executes again. (impl/ takes no checkpoints, so its view
  changes re-run those numbers; the trace map checks each such event against the
  digest executed there, which is all the model would then let a correct replica
  send: see `trace_map`.) A correct replica that has not executed them yet (it was
  down) will execute exactly those digests, so its log is filled in (`catch_up`) and
  the trace map checks its execute events against the recorded digests.
- VIEW-CHANGE and NEW-VIEW messages for a view v once every correct replica is in v
  or above and none still waits for v's NEW-VIEW: only the new primary of v (to
  build NEW-VIEW) and replicas changing to v (to accept it) read them, and a
  replica's view only rises.
- Views below every view the state mentions (replicas' views, messages,
  certificates), n at a time: the model compares views by order and reads a view's
  primary as v mod n, both of which subtracting a multiple of n keeps, and a view
  nothing mentions is read by no step (VIEW-CHANGE only moves a replica up).
- Requests that no message, log or certificate mentions any more: the model compares
  digests only for equality, so renaming the ones left, the same way in every state,
  changes no enabled step; a freed request's client has accepted its result or the
  trace map remembers that it may (every correct replica executed it).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..common.ids import NONE
from .actions import Setup
from .messages import CM, NV, PP, PR, VC
from .state import PbftState


def prune(s: PbftState, c: Setup) -> PbftState:
    """s without the VIEW-CHANGE and NEW-VIEW messages no replica can read again."""
    low = min(s.view[i] for i in c.correct)
    waiting = {s.view[i] for i in c.correct if s.changing[i]}
    keep = [m for m in s.msgs if m[0] not in (VC, NV) or m[1] > low or m[1] in waiting]
    if len(keep) == len(s.msgs):
        return s
    return s._replace(msgs=frozenset(keep))


def slack(s: PbftState, c: Setup, behind: frozenset[int] = frozenset()) -> int:
    """How many leading sequence numbers every correct replica (but those `behind`)
    has executed."""
    return min(len(s.executed[i]) for i in c.correct if i not in behind)


def catch_up(s: PbftState, c: Setup, behind: frozenset[int], k: int) -> PbftState:
    """s with the logs of the correct replicas in `behind` filled up to k numbers from
    the longest log: those digests are committed, so each of these replicas will
    execute exactly them, in order (the trace map checks its execute events)."""
    full = max((s.executed[i] for i in c.correct), key=len)
    log = tuple(lg + full[len(lg):k] if i in behind and len(lg) < k else lg
                for i, lg in enumerate(s.executed))
    return s if log == s.executed else s._replace(executed=log)


def mentioned(s: PbftState, c: Setup, k: int) -> set[int]:
    """The client requests s mentions once numbers up to k are dropped."""
    out: set[int] = set()
    for m in s.msgs:
        kind = m[0]
        if kind in (PP, PR, CM):
            if m[2] > k:
                out.add(m[3])
        elif kind == VC:
            out.update(d for n, _, d in m[3] if n > k)
        else:
            out.update(m[2][k:])
    for lg in s.executed:
        out.update(lg[k:])
    return {d for d in out if d < c.requests}


def lowest_view(s: PbftState, c: Setup, k: int) -> int:
    """The lowest view s mentions once numbers up to k are dropped: a correct
    replica's, or one in a message or certificate. Views below it are nobody's."""
    low = min(s.view[i] for i in c.correct)
    for m in s.msgs:
        kind = m[0]
        if kind in (PP, PR, CM):
            if m[2] > k:
                low = min(low, m[1])
        elif kind == VC:
            low = min([low, m[1], *(v for n, v, _ in m[3] if n > k)])
        else:
            low = min(low, m[1])
    return low


def compact(s: PbftState, c: Setup, k: int, dmap: Mapping[int, int],
            into: Setup | None = None, w: int = 0) -> PbftState:
    """s with numbers up to k dropped (n becomes n - k), request d renamed dmap[d] and
    view v renamed v - w, as a state of the model `into` (c, or one with more
    requests: the null and forged requests are renamed to its own). dmap covers
    `mentioned(s, c, k)`, and a request it renames nothing to is free: its client's
    accepted result is cleared for the request that takes its place. w is a multiple
    of n at most `lowest_view`, so every view keeps its primary (v mod n)."""
    into = into or c
    named = {**dmap, c.null: into.null, c.forged: into.forged}

    def dig(d: int) -> int:
        return named[d]

    msgs = set()
    for m in s.msgs:
        kind = m[0]
        if kind == PP:
            if m[2] > k:
                msgs.add((PP, m[1] - w, m[2] - k, dig(m[3])))
        elif kind in (PR, CM):
            if m[2] > k:
                msgs.add((kind, m[1] - w, m[2] - k, dig(m[3]), m[4]))
        elif kind == VC:
            msgs.add((VC, m[1] - w, m[2], tuple(sorted((n - k, v - w, dig(d))
                                                       for n, v, d in m[3] if n > k))))
        else:
            msgs.add((NV, m[1] - w, tuple(dig(d) for d in m[2][k:])))
    accepted = [NONE] * into.requests
    for d, e in dmap.items():
        accepted[e] = s.accepted[d]
    # Faulty replicas' entries are never read and stay at 0 (`state`).
    view = tuple(v - w if i in c.correct else v for i, v in enumerate(s.view))
    return PbftState(view, s.changing, tuple(tuple(dig(d) for d in lg[k:]) for lg in s.executed),
                     tuple(accepted), frozenset(msgs))
