"""Symmetry: the clients, and so their requests, are interchangeable.

Nothing in the protocol tells request 1 from request 2: the correct primary may order
either first, a faulty replica may sign either, and the properties ask the same of
both. Renaming the requests by a permutation (and the clients' accepted results with
them) therefore maps every behaviour to a behaviour and every violation to a
violation, so the explorer needs only one state of each orbit (Ip and Dill's
symmetry reduction, as TLC's SYMMETRY over a model-value set). The null and the
forged request are not renamed: the one is a no-op, the other signed by no client.

The representative is the renaming whose (executed, accepted, sorted msgs) is least;
with `requests` clients there are requests! renamings, at most 6 under the bounds.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import permutations

from .state import CM, NV, PP, PR, VC, PbftState


def _rename(m: tuple, p: tuple[int, ...]) -> tuple:
    kind = m[0]
    if kind == PR or kind == CM:
        return (kind, m[1], m[2], p[m[3]], m[4])
    if kind == PP:
        return (PP, m[1], m[2], p[m[3]])
    if kind == VC:
        return (VC, m[1], m[2], tuple(sorted((n, v, p[d]) for n, v, d in m[3])))
    return (NV, m[1], tuple(p[d] for d in m[2]))


def make_canonical(requests: int) -> Callable[[PbftState], PbftState]:
    """The least renaming of a state, for `requests` interchangeable requests."""
    # Each renaming as a map of digests (null and forged fixed) and, for the
    # clients' accepted results, the client whose result lands at each position.
    renamings = [
        (p + (requests, requests + 1), tuple(p.index(c) for c in range(requests)))
        for p in permutations(range(requests))
    ][1:]

    def canonical(s: PbftState) -> PbftState:
        best, best_key = s, None
        for digest, source in renamings:
            t = PbftState(
                s.view,
                s.changing,
                tuple(tuple(digest[d] for d in log) for log in s.executed),
                tuple(s.accepted[c] for c in source),
                frozenset(_rename(m, digest) for m in s.msgs),
            )
            if best_key is None:
                best_key = (s.executed, s.accepted, tuple(sorted(s.msgs)))
            key = (t.executed, t.accepted, tuple(sorted(t.msgs)))
            if key < best_key:
                best, best_key = t, key
        return best

    return canonical
