"""The compact visited set and the spilling frontier."""

from __future__ import annotations

import numpy as np
import pytest

from smrcheck.checker.search import Options, Storage, check
from smrcheck.checker.store import FingerprintStore, Frontier, path_to
from smrcheck.models.paxos.spec import PaxosModel


def arr(*xs: int) -> np.ndarray:
    return np.array(xs, dtype=np.int64)


def test_first_occurrence_wins_and_parents_are_kept():
    store = FingerprintStore()
    assert store.add_root(10)
    assert not store.add_root(10)
    kept = store.add_batch(arr(5, 7, 5, 10, -3), arr(10, 10, 7, 10, 5))
    assert kept.tolist() == [0, 1, 4]
    assert len(store) == 4
    assert store.parent(5) == 10 and store.parent(-3) == 5
    assert path_to(store.parent, -3) == [10, 5, -3]
    assert 7 in store and 8 not in store


def test_limit_inserts_only_the_first_new_ones():
    store = FingerprintStore()
    kept = store.add_batch(arr(9, 8, 7, 6), arr(0, 0, 0, 0), limit=2)
    assert kept.tolist() == [0, 1] and len(store) == 2 and 7 not in store


def test_many_batches_merge_into_few_runs():
    rng = np.random.default_rng(1)
    store = FingerprintStore()
    seen: set[int] = set()
    for _ in range(300):
        fps = rng.integers(-(2**62), 2**62, size=64, dtype=np.int64)
        fps[:8] = fps[8:16]  # duplicates inside a batch
        store.add_batch(fps, fps)
        seen.update(fps.tolist())
    assert len(store) == len(seen)
    assert len(store._fps) <= 20  # O(log n) runs
    assert store.nbytes == 16 * len(store)
    f, p = store.arrays()
    assert np.all(np.diff(f) > 0) and np.array_equal(f, p)


def test_frontier_spills_and_reads_back_in_order():
    frontier = Frontier(spill_at=3)
    items = [(i, (i, i + 1)) for i in range(10)]
    for i in range(0, 10, 2):
        frontier.extend(items[i:i + 2])
    assert frontier.spilled > 0 and len(frontier) == 10
    assert list(frontier) == items
    frontier.close()


def test_tiny_batches_and_spilling_change_nothing():
    normal = check(PaxosModel(3, 2, 1), Options())
    tiny = check(PaxosModel(3, 2, 1), Options(storage=Storage(chunk=7, spill_at=5)))
    assert (tiny.distinct_states, tiny.generated_states, tiny.depth) == (
        normal.distinct_states, normal.generated_states, normal.depth)
    a = check(PaxosModel(3, 2, 1, "ignore-1b-values"), Options())
    b = check(PaxosModel(3, 2, 1, "ignore-1b-values"),
              Options(storage=Storage(chunk=3, spill_at=2)))
    assert [s.action for s in a.violation.trace] == [s.action for s in b.violation.trace]


def test_frozen_runs_spill_to_memory_mapped_files(tmp_path):
    rng = np.random.default_rng(2)
    store = FingerprintStore(max_run=128, spill_dir=str(tmp_path))
    batches = [rng.integers(-(2**62), 2**62, size=50, dtype=np.int64) for _ in range(40)]
    for i, fps in enumerate(batches):
        store.add_batch(fps, np.full(50, i, dtype=np.int64))
    assert len(store) == 2000
    assert len(list(tmp_path.glob("smrcheck-store-*/run*-fps.npy"))) == store._frozen > 0
    assert isinstance(store._fps[0], np.memmap)
    assert all(int(fp) in store for fp in batches[0][:5])
    assert store.parent(int(batches[17][3])) == 17
    # Frozen runs are never merged: merges stay within max_run entries.
    assert max(len(r) for r in store._fps) <= 128
    store.close()
    assert list(tmp_path.iterdir()) == []


def test_explorer_with_spilling_store(tmp_path):
    normal = check(PaxosModel(3, 2, 1), Options())
    spilled = check(PaxosModel(3, 2, 1),
                    Options(storage=Storage(spill_dir=str(tmp_path), spill_at=100)))
    assert spilled.distinct_states == normal.distinct_states


@pytest.mark.parametrize("spill_at", [3, 1000])
def test_frontier_split_tail_keeps_order_spilled_or_not(tmp_path, spill_at):
    f = Frontier(spill_at=spill_at, spill_dir=str(tmp_path))
    items = [(k, ("s", k)) for k in range(20)]
    for k in range(0, 20, 4):
        f.extend(items[k:k + 4])
    assert (f.spilled > 0) == (spill_at == 3)
    parts = f.split_tail([5, 2])
    assert parts == [items[13:18], items[18:20]]
    assert list(f) == items[:13] and len(f) == 13
    f.extend(items[13:15])
    assert list(f) == items[:15]
    with pytest.raises(ValueError, match="cannot take 16 of 15"):
        f.split_tail([16])
    f.close()
