"""Quorum systems as explicit lists of node sets, shared by models and replicas.

Paxos needs only that any two quorums intersect (Lamport, Paxos Made Simple §2.2);
a majority system is the smallest that guarantees it. Models take the list of
*minimal* quorums, since any superset of a quorum is redundant as an enabling
condition: "some quorum Q has answered" holds iff some minimal quorum has. Nodes are
ints 0..n-1, so quorums can sit inside hashed model states.
"""

from __future__ import annotations

from itertools import combinations


def threshold(n: int, size: int) -> tuple[tuple[int, ...], ...]:
    """Every set of exactly `size` of the nodes 0..n-1, in lexicographic order."""
    if not 0 < size <= n:
        raise ValueError(f"quorum size must be in 1..{n}, got {size}")
    return tuple(combinations(range(n), size))


def majority(n: int) -> tuple[tuple[int, ...], ...]:
    """Minimal majorities: any two share a node because 2(n//2 + 1) > n."""
    return threshold(n, n // 2 + 1)
