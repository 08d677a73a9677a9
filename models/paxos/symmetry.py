"""Symmetry: interchangeable acceptors and interchangeable values.

Nothing in Paxos.tla tells acceptor a1 from a2, or value v1 from v2: MCPaxos.tla makes
both constants sets of model values, and TLC can be told (its SYMMETRY option, over
`Permutations(Acceptor) \\cup Permutations(Value)`) to store one state of each class
of states equal up to renaming them. Renaming maps every behaviour to a behaviour and
every violation to a violation, because the actions and the invariants treat every
acceptor and every value alike (Ip and Dill's symmetry reduction). Ballots are never
renamed: they are ordered, and the algorithm compares them. `None` (-1, also "no
ballot") is a fixed point of every renaming.

Acceptors are alike only as far as the quorums treat them alike. Majorities and every
threshold (the minority quorums of a mutant too) are unchanged by any renaming, but a
grid's rows and columns, a weighted system or an explicit list of quorums are not:
there only the renamings that map the phase-1 quorums onto themselves and the phase-2
quorums onto themselves are symmetries (a grid's row swaps and column swaps, say).
`acceptor_group` finds that group once per model; `make_canonical` uses it, and the
model offers no canonical form at all where neither acceptors nor values can be
renamed.

The representative must be exact, one per class, so that our count of distinct states
is TLC's (17,153 for three acceptors, two values, ballots 0..2): a form that merely
often agrees would count some classes twice. It is computed without trying the n!
renamings of the acceptors when they are all allowed: everything a state says about
one acceptor (its maxBal, maxVBal, maxVal and the 1b and 2b messages it sent, its
own name left out) is its signature, and sorting the signatures is a canonical choice
of names, since two acceptors with equal signatures are exchanged by no renaming that
changes the state. Values are renamed by trying each way to give the u values present
in the state the names v1..vu: the image depends only on the names the present values
get, and a renamed state has the same set of such namings, so the least of them is
the same for every state of a class; the 1a and 2a messages, which name no acceptor,
rule most namings out before any signature is built. The explorer asks for the form of
every new successor (remembered by the successor's own hash), so its cost matters:
about 9 microseconds a state for the defaults, a tenth of what a state costs in all.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import permutations
from math import factorial

from .state import T1A, T1B, T2A, T2B, PaxosState

Quorums = tuple[tuple[int, ...], ...]


def acceptor_group(n: int, quorums: Quorums, quorums2: Quorums, uniform: bool,
                   faulty: frozenset[int] = frozenset()
                   ) -> tuple[tuple[int, ...], ...] | None:
    """The renamings of acceptors 0..n-1 that keep both phases' quorums and the set
    of `faulty` acceptors (omission or Byzantine faults: a renaming that swapped a
    faulty acceptor with a correct one would map a behaviour to one that is not),
    each as the tuple `p` with acceptor a renamed p[a]; None when every renaming does.

    `uniform`: the quorum system is a threshold with equal weights (majority,
    threshold, flexible, the minority mutant), which every renaming keeps, so with
    no faulty acceptor the n! renamings need not be tried."""
    if uniform and not faulty:
        return None
    q1 = frozenset(frozenset(q) for q in quorums)
    q2 = frozenset(frozenset(q) for q in quorums2)
    group = tuple(
        p for p in permutations(range(n))
        if all(p[a] in faulty for a in faulty)
        and frozenset(frozenset(p[a] for a in q) for q in q1) == q1
        and frozenset(frozenset(p[a] for a in q) for q in q2) == q2
    )
    return None if len(group) == factorial(n) else group


def rename(s: PaxosState, acc: tuple[int, ...], val: tuple[int, ...]) -> PaxosState:
    """s with acceptor a renamed acc[a] and value v renamed val[v]; None (-1) stays.

    The plain definition of a renaming, for tests and for the reader: `make_canonical`
    never builds renamed states."""
    n = len(s.max_bal)
    src = [0] * n
    for a in range(n):
        src[acc[a]] = a

    def v(x: int) -> int:
        return x if x < 0 else val[x]

    def msg(m: tuple[int, ...]) -> tuple[int, ...]:
        kind = m[0]
        if kind == T1A:
            return m
        if kind == T1B:
            return (T1B, acc[m[1]], m[2], m[3], v(m[4]))
        if kind == T2A:
            return (T2A, m[1], v(m[2]))
        return (T2B, acc[m[1]], m[2], v(m[3]))

    return PaxosState(
        tuple(s.max_bal[src[i]] for i in range(n)),
        tuple(s.max_vbal[src[i]] for i in range(n)),
        tuple(v(s.max_val[src[i]]) for i in range(n)),
        frozenset(msg(m) for m in s.msgs),
    )


def make_canonical(
    n: int, n_values: int, group: tuple[tuple[int, ...], ...] | None
) -> Callable[[PaxosState], tuple] | None:
    """The function from a state to the representative of its class (a tuple, not a
    state: only its hash is kept), or None when no renaming is a symmetry.

    `group`: the acceptor renamings allowed (`acceptor_group`), None for all of them.
    The representative is the least image (1a and 2a messages, then the acceptors'
    signatures in the order of their new names) over the renamings of the values
    present and the allowed renamings of the acceptors."""
    acceptors_move = len(group) > 1 if group is not None else n > 1
    if n_values < 2 and not acceptors_move:
        return None
    # tables[names]: for the present values `names` (sorted), every way to name them
    # 0..u-1 (see the module text), as a table `val` with val[v + 1] the new name of v
    # and val[0] = -1 keeping None. Built once per set of present values.
    tables: dict[tuple[int, ...], list[tuple[int, ...]]] = {}

    def tables_for(names: tuple[int, ...]) -> list[tuple[int, ...]]:
        out = []
        for p in permutations(range(len(names))):
            val = [-1] * (n_values + 1)
            for old, new in zip(names, p):
                val[old + 1] = new
            out.append(tuple(val))
        tables[names] = out
        return out

    # Acceptor renamings as the old acceptor given each new name, in order.
    sources = None if group is None else tuple(
        tuple(sorted(range(n), key=p.__getitem__)) for p in group)
    acceptors = range(n)

    def canonical(s: PaxosState) -> tuple:
        max_bal, max_vbal, max_val, msgs = s
        sent: list[list[tuple[int, ...]]] = [[] for _ in acceptors]
        one_a: list[int] = []
        two_a: list[tuple[int, int]] = []
        present = set(max_val)
        for m in msgs:
            kind = m[0]
            if kind == T1B:
                sent[m[1]].append(m)
                present.add(m[4])
            elif kind == T2B:
                sent[m[1]].append(m)
                present.add(m[3])
            elif kind == T2A:
                two_a.append((m[1], m[2]))
                present.add(m[2])
            else:
                one_a.append(m[1])
        one_a.sort()
        present.discard(-1)
        names = tuple(sorted(present))
        maps = tables.get(names) or tables_for(names)
        # Keep only the namings under which the 2a messages are least.
        if len(maps) == 1:
            val = maps[0]
            candidates = [(val, sorted([(b, val[v + 1]) for b, v in two_a]))]
        else:
            candidates = []
            best_2a = None
            for val in maps:
                renamed = sorted([(b, val[v + 1]) for b, v in two_a])
                if best_2a is None or renamed < best_2a:
                    best_2a, candidates = renamed, [(val, renamed)]
                elif renamed == best_2a:
                    candidates.append((val, renamed))
        head = tuple(one_a)
        best = None
        for val, renamed in candidates:
            sigs = []
            for a in acceptors:
                mine = [(T1B, m[2], m[3], val[m[4] + 1]) if m[0] == T1B
                        else (T2B, m[2], val[m[3] + 1]) for m in sent[a]]
                mine.sort()
                sigs.append((max_bal[a], max_vbal[a], val[max_val[a] + 1], tuple(mine)))
            if sources is None:
                sigs.sort()
                body = tuple(sigs)
            else:
                body = min(tuple(sigs[a] for a in src) for src in sources)
            image = (head, tuple(renamed), body)
            if best is None or image < best:
                best = image
        return best

    return canonical
