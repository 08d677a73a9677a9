"""The visited set: one 64-bit fingerprint and one parent pointer per distinct state.

Whole states are not kept once explored (TLC's design): a state is represented by its
fingerprint, and the fingerprint of the state it was first reached from. A
counterexample is the chain of fingerprints back to an initial state, which the
explorer turns into states by replaying actions forward from that initial state.

The fingerprint is CPython's `hash` of the state. States are built only from ints,
tuples and frozensets (see `checker.model`), whose hashes are deterministic across
processes and machines of the same word size, so a fingerprint names the same state
in every run. Two distinct states that share a fingerprint are silently merged: the
explorer reports the probability of that, and a test checks on a full state space that
the fingerprint count equals the exact count of distinct states.
"""

from __future__ import annotations

from collections.abc import Hashable


def fingerprint(state: Hashable) -> int:
    return hash(state)


class FingerprintStore:
    """fingerprint -> parent fingerprint; an initial state is its own parent.

    A plain dict: about 100 bytes per state in CPython. The explorer binds `parents`
    to a local name in its hot loop, so the store adds no call per state.
    """

    __slots__ = ("parents",)

    def __init__(self) -> None:
        self.parents: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self.parents)

    def __contains__(self, fp: int) -> bool:
        return fp in self.parents

    def add_root(self, fp: int) -> bool:
        if fp in self.parents:
            return False
        self.parents[fp] = fp
        return True

    def path_to(self, fp: int) -> list[int]:
        """Fingerprints from an initial state to `fp`, both included."""
        chain = [fp]
        parents = self.parents
        while parents[fp] != fp:
            fp = parents[fp]
            chain.append(fp)
        chain.reverse()
        return chain


def collision_probability(distinct: int, generated: int) -> float:
    """TLC's optimistic estimate of a fingerprint collision having merged two states.

    Each of the `generated - distinct` lookups that found a fingerprint already stored
    could have been a different state with the same fingerprint; each such lookup
    collides with probability about distinct / 2**64.
    """
    return min(1.0, distinct * max(0, generated - distinct) / 2.0**64)
