"""Symmetry: interchangeable requests, and interchangeable correct backups.

Nothing in the protocol tells request 1 from request 2: the correct primary may order
either first, a faulty replica may sign either, and the properties ask the same of
both. Nor does anything tell apart two correct replicas that are the primary of no
view within the bounds (r2 and r3 when n = 4 and views are 0..1): they run the same
code in every view, and quorums count them alike. Renaming such requests or such
replicas maps every behaviour to a behaviour and every violation to a violation, so
the explorer needs only one state of each orbit (Ip and Dill's symmetry reduction,
as TLC's SYMMETRY over sets of model values). The null and the forged request are
never renamed (the one is a no-op, the other signed by no client), nor is a primary
or a faulty replica.

`make_canonical` finds a representative in requests! steps, not requests! x k!
for k interchangeable replicas: it sorts the replicas instead of trying their
renamings.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import permutations

from .messages import CM, NV, PP, PR, VC
from .state import PbftState

def _rename(m: tuple, digest: tuple[int, ...], replica: tuple[int, ...]) -> tuple:
    kind = m[0]
    if kind == PR or kind == CM:
        return (kind, m[1], m[2], digest[m[3]], replica[m[4]])
    if kind == PP:
        return (PP, m[1], m[2], digest[m[3]])
    if kind == VC:
        return (VC, m[1], replica[m[2]], tuple(sorted((n, v, digest[d]) for n, v, d in m[3])))
    return (NV, m[1], tuple(digest[d] for d in m[2]))


def interchangeable_replicas(n: int, faulty: frozenset[int], max_view: int) -> tuple[int, ...]:
    """Correct replicas that are the primary of no view 0..max_view."""
    primaries = {v % n for v in range(max_view + 1)}
    return tuple(i for i in range(n) if i not in faulty and i not in primaries)


def make_canonical(
    n: int, requests: int, replicas: tuple[int, ...]
) -> Callable[[PbftState], PbftState]:
    """The representative of a state's orbit.

    For each renaming of the requests, the interchangeable replicas are put in the
    order of their signatures: local state and the messages they sent, with the
    requests renamed and their own id left out. Two replicas with equal signatures
    are exchanged by no renaming that changes the state, so sorting is a canonical
    choice among the k! renamings of the replicas. Among the requests! candidates
    so found, the one with the least hash (the fingerprint the explorer stores) is
    the representative; a tie of two different candidates' 64-bit hashes would cost
    a missed reduction, never a wrong verdict, since every candidate is a renaming.
    """
    digest_maps = [
        (p + (requests, requests + 1), tuple(p.index(c) for c in range(requests)))
        for p in permutations(range(requests))
    ]
    if len(digest_maps) == 1 and len(replicas) < 2:
        return lambda s: s
    movable = frozenset(replicas)

    identity = tuple(range(n))

    def replica_order(s: PbftState, digest: tuple[int, ...]) -> tuple[int, ...]:
        """replica[i]: the new id of replica i, the movable ones sorted by signature."""
        if len(replicas) < 2:
            return identity
        sent: dict[int, list[tuple]] = {i: [] for i in replicas}
        for m in s.msgs:
            kind = m[0]
            if (kind == PR or kind == CM) and m[4] in movable:
                sent[m[4]].append((kind, m[1], m[2], digest[m[3]]))
            elif kind == VC and m[2] in movable:
                sent[m[2]].append((VC, m[1], tuple(sorted((k, v, digest[d]) for k, v, d in m[3]))))
        order = sorted(
            (s.view[i], s.changing[i], tuple(digest[d] for d in s.executed[i]),
             sorted(sent[i]), i)
            for i in replicas
        )
        replica = list(identity)
        for new, sig in zip(replicas, order):
            replica[sig[-1]] = new
        return tuple(replica)

    def candidate(s: PbftState, digest: tuple[int, ...], client_src: tuple[int, ...]) -> PbftState:
        replica = replica_order(s, digest)
        if replica == identity and client_src == digest_maps[0][1]:
            return s
        source = list(identity)
        for old in replicas:
            source[replica[old]] = old
        return PbftState(
            tuple(s.view[j] for j in source),
            tuple(s.changing[j] for j in source),
            tuple(tuple(digest[d] for d in s.executed[j]) for j in source),
            tuple(s.accepted[c] for c in client_src),
            frozenset([_rename(m, digest, replica) for m in s.msgs]),
        )

    def canonical(s: PbftState) -> PbftState:
        best, best_hash = None, 0
        for digest, client_src in digest_maps:
            t = candidate(s, digest, client_src)
            h = hash(t)
            if best is None or h < best_hash:
                best, best_hash = t, h
        return best

    return canonical
