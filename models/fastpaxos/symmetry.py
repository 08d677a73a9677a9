"""Symmetry: interchangeable acceptors and interchangeable values.

Nothing in Fast Paxos tells acceptor a1 from a2, or value v1 from v2, when every
quorum is a threshold on the number of acceptors (the `fast` quorum system, and the
smaller fast quorums of the `small-fast-quorums` mutant): the actions and properties
treat them alike, so renaming maps every behaviour to a behaviour and every violation
to a violation (Ip and Dill's symmetry reduction). Rounds are never renamed: they are
ordered, and which are fast is fixed. None, "no round" (0) and "any" are fixed points.

The representative is exact, one per class, as in `models/paxos/symmetry.py`: for
each renaming of the values, everything a state says about one acceptor (its rnd,
vrnd, vval and the 1b and 2b messages it sent, its name left out) is its signature,
and the sorted signatures are a canonical choice of acceptor names; the least image
over the value renamings is the representative. With two or three values that is two
or six images per state.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import permutations

from .state import T1A, T1B, T2A, T2B, TP, FastPaxosState


def make_canonical(n: int, n_values: int) -> Callable[[FastPaxosState], tuple] | None:
    """The function from a state to its class's representative (a tuple: only its
    hash is kept), or None when there is nothing to rename."""
    if n < 2 and n_values < 2:
        return None
    # val[v + 2] is v's new name; "any" (-2) and None (-1) keep theirs.
    renamings = [(-2, -1, *p) for p in permutations(range(n_values))]
    acceptors = range(n)

    def canonical(s: FastPaxosState) -> tuple:
        rnd, vrnd, vval, msgs = s
        sent: list[list[tuple[int, ...]]] = [[] for _ in acceptors]
        shared: list[tuple[int, ...]] = []
        for m in msgs:
            if m[0] == T1B or m[0] == T2B:
                sent[m[1]].append(m)
            else:
                shared.append(m)
        best = None
        for val in renamings:
            head = sorted((TP, val[m[1] + 2]) if m[0] == TP
                          else m if m[0] == T1A else (T2A, m[1], val[m[2] + 2])
                          for m in shared)
            sigs = []
            for a in acceptors:
                mine = sorted((T1B, m[2], m[3], val[m[4] + 2]) if m[0] == T1B
                              else (T2B, m[2], val[m[3] + 2]) for m in sent[a])
                sigs.append((rnd[a], vrnd[a], val[vval[a] + 2], tuple(mine)))
            sigs.sort()
            image = (tuple(head), tuple(sigs))
            if best is None or image < best:
                best = image
        return best

    return canonical
