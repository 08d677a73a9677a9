"""The visited set and the frontier, kept compact.

Whole states are not kept once explored (TLC's design): a state is represented by a
64-bit fingerprint and the fingerprint of the state it was first reached from. A
counterexample is the chain of fingerprints back to an initial state, which the
explorer turns into states by replaying actions forward from that initial state.

The fingerprint is CPython's `hash` of the state. States are built only from ints,
tuples and frozensets (see `checker.model`), whose hashes are deterministic across
processes and machines of the same word size, so a fingerprint names the same state
in every run. Two distinct states that share a fingerprint are silently merged: the
explorer reports the probability of that, and a test checks on a full state space that
the fingerprint count equals the exact count of distinct states.

Layout. A Python dict of ints costs about 100 bytes a state; here the visited set is a
log-structured set of sorted runs: each run is two flat int64 numpy arrays, the
fingerprints in ascending order and the parent fingerprints beside them, 16 bytes a
state. New fingerprints arrive in batches (the explorer expands a chunk of states, then
asks which successors are new); a batch becomes a run, and runs are merged whenever a
run is not smaller than the one before it, as in a binary counter, so there are
O(log n) runs and each fingerprint is merged O(log n) times. Membership of a batch is
one vectorised `searchsorted` per run.

The frontier (whole states of the current BFS level) spills to a temporary file, in
pickled blocks, once it holds more than `spill_at` states, so a wide level does not
need to fit in memory.
"""

from __future__ import annotations

import itertools
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable, Hashable, Iterator

import numpy as np

_EMPTY = np.empty(0, dtype=np.int64)


def path_to(parent: Callable[[int], int], fp: int) -> list[int]:
    """Fingerprints from an initial state to `fp`, both included, following `parent`
    (a root is its own parent): a store's, or, with parallel workers, a call on the
    worker that owns each fingerprint."""
    chain = [fp]
    while (up := parent(fp)) != fp:
        fp = up
        chain.append(fp)
    chain.reverse()
    return chain


class FingerprintStore:
    """fingerprint -> parent fingerprint, in sorted int64 runs; a root is its own parent.

    Runs grow by merging up to `max_run` entries and are then frozen: merging never
    touches more than `max_run` entries at once, so the temporary memory of a merge is
    bounded (about 40 bytes x max_run), not proportional to the states seen. With
    `spill_dir`, frozen runs move to memory-mapped files there, and the process keeps
    only the pages the lookups touch.
    """

    __slots__ = ("_fps", "_parents", "_count", "_frozen", "max_run", "spill_dir", "_spills", "_dir")

    def __init__(self, max_run: int = 1 << 20, spill_dir: str | None = None) -> None:
        self._fps: list[np.ndarray] = []
        self._parents: list[np.ndarray] = []
        self._count = 0
        self._frozen = 0  # runs[:_frozen] are full and never merged again
        self.max_run = max_run
        self.spill_dir = spill_dir
        self._spills = 0
        self._dir: str | None = None  # this store's own folder under spill_dir

    def __len__(self) -> int:
        return self._count

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self._fps) + sum(a.nbytes for a in self._parents)

    def member(self, fps: np.ndarray) -> np.ndarray:
        """Per fingerprint of `fps`, whether the store holds it."""
        found = np.zeros(len(fps), dtype=bool)
        for run in self._fps:
            pos = np.searchsorted(run, fps)
            pos[pos == len(run)] = 0
            found |= run[pos] == fps
        return found

    def __contains__(self, fp: int) -> bool:
        return bool(self.member(np.array([fp], dtype=np.int64))[0])

    def add_batch(self, fps: np.ndarray, parents: np.ndarray, limit: int | None = None) -> np.ndarray:
        """Insert the fingerprints not seen before; return the batch positions inserted.

        Within the batch the first occurrence of a fingerprint wins, so the order of
        discovery (and with it BFS's choice of parent) is that of the batch. With
        `limit`, only the first `limit` new ones (in batch order) are inserted.
        """
        if not len(fps):
            return np.empty(0, dtype=np.intp)
        uniq, first = np.unique(fps, return_index=True)
        fresh = ~self.member(uniq)
        keep = np.sort(first[fresh])
        if limit is not None:
            keep = keep[: max(0, limit)]
        if len(keep):
            new_fps = fps[keep]
            order = np.argsort(new_fps, kind="stable")
            self._push(new_fps[order], parents[keep][order])
        return keep

    def add_root(self, fp: int) -> bool:
        arr = np.array([fp], dtype=np.int64)
        return len(self.add_batch(arr, arr)) == 1

    def _push(self, fps: np.ndarray, parents: np.ndarray) -> None:
        # `fps` arrive sorted with their parents aligned.
        self._fps.append(fps)
        self._parents.append(parents)
        self._count += len(fps)
        runs = self._fps
        while len(runs) - self._frozen > 1 and len(runs[-1]) >= len(runs[-2]):
            f2, p2 = runs.pop(), self._parents.pop()
            f1, p1 = runs.pop(), self._parents.pop()
            f = np.concatenate((f1, f2))
            p = np.concatenate((p1, p2))
            del f1, f2, p1, p2
            order = np.argsort(f, kind="stable")
            runs.append(f[order])
            self._parents.append(p[order])
        if len(runs) > self._frozen and 2 * len(runs[-1]) >= self.max_run:
            self._freeze(len(runs) - 1)

    def _freeze(self, i: int) -> None:
        self._frozen += 1
        if self.spill_dir is None:
            return
        if self._dir is None:
            # A folder per store: parallel workers share spill_dir.
            self._dir = tempfile.mkdtemp(prefix="smrcheck-store-", dir=self.spill_dir)
        for arrays, kind in ((self._fps, "fps"), (self._parents, "parents")):
            path = os.path.join(self._dir, f"run{self._spills:05d}-{kind}.npy")
            np.save(path, arrays[i])
            arrays[i] = np.load(path, mmap_mode="r")
        self._spills += 1

    def close(self) -> None:
        """Remove the spilled runs (the store is unusable afterwards)."""
        if self._dir is not None:
            self._fps, self._parents = [], []
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def parent(self, fp: int) -> int:
        for run, parents in zip(self._fps, self._parents):
            i = int(np.searchsorted(run, fp))
            if i < len(run) and run[i] == fp:
                return int(parents[i])
        raise KeyError(fp)

    # -- checkpoints -----------------------------------------------------------------

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Everything, as one sorted run (for checkpoints)."""
        if not self._fps:
            return _EMPTY, _EMPTY
        f = np.concatenate(self._fps)
        p = np.concatenate(self._parents)
        order = np.argsort(f, kind="stable")
        return f[order], p[order]

    @classmethod
    def from_arrays(cls, fps: np.ndarray, parents: np.ndarray) -> FingerprintStore:
        store = cls()
        if len(fps):
            store._fps, store._parents, store._count = [fps], [parents], len(fps)
        return store


class DictStore:
    """The same map in a Python dict: for depth-first search, which inserts one state
    at a time, where a batch interface does not fit."""

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

    def parent(self, fp: int) -> int:
        return self.parents[fp]

    def close(self) -> None:
        pass


class Frontier:
    """One BFS level of whole states with their fingerprints, spilling to disk."""

    def __init__(self, spill_at: int = 1_000_000, spill_dir: str | None = None) -> None:
        self.spill_at = spill_at
        self.spill_dir = spill_dir
        self._mem: list[tuple[int, Hashable]] = []
        self._file: tempfile._TemporaryFileWrapper | None = None
        self._spilled = 0

    def __len__(self) -> int:
        return self._spilled + len(self._mem)

    def __bool__(self) -> bool:
        return len(self) > 0

    @property
    def spilled(self) -> int:
        return self._spilled

    def extend(self, items: list[tuple[int, Hashable]]) -> None:
        self._mem.extend(items)
        if len(self._mem) >= self.spill_at:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="smrcheck-frontier-", dir=self.spill_dir)
            pickle.dump(self._mem, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self._spilled += len(self._mem)
            self._mem = []

    def __iter__(self) -> Iterator[tuple[int, Hashable]]:
        if self._file is not None:
            yield from _read_spilled(self._file)
        yield from self._mem

    def split_tail(self, counts: list[int]) -> list[list[tuple[int, Hashable]]]:
        """Remove the last sum(counts) states, returned as consecutive lists of those
        sizes (parallel BFS hands them to other workers). A spilled frontier is copied
        once into a new file; one still in memory is only sliced."""
        total = sum(counts)
        if total > len(self):
            raise ValueError(f"cannot take {total} of {len(self)} states")
        if total <= len(self._mem):
            tail = self._mem[len(self._mem) - total:]
            del self._mem[len(self._mem) - total:]
        else:
            keep, tail = len(self) - total, []
            old_file, old_mem = self._file, self._mem
            self._file, self._mem, self._spilled = None, [], 0
            buf: list[tuple[int, Hashable]] = []
            for k, item in enumerate(itertools.chain(_read_spilled(old_file), old_mem)):
                if k < keep:
                    buf.append(item)
                    if len(buf) >= 1 << 16:
                        self.extend(buf)
                        buf = []
                else:
                    tail.append(item)
            self.extend(buf)
            old_file.close()
        out, at = [], 0
        for k in counts:
            out.append(tail[at:at + k])
            at += k
        return out

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _read_spilled(f) -> Iterator[tuple[int, Hashable]]:
    f.flush()
    f.seek(0)
    try:
        while True:
            yield from pickle.load(f)
    except EOFError:
        pass


def collision_probability(distinct: int, generated: int) -> float:
    """TLC's optimistic estimate of a fingerprint collision having merged two states.

    Each of the `generated - distinct` lookups that found a fingerprint already stored
    could have been a different state with the same fingerprint; each such lookup
    collides with probability about distinct / 2**64.
    """
    return min(1.0, distinct * max(0, generated - distinct) / 2.0**64)
