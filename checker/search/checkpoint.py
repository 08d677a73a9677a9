"""Checkpoints of a breadth-first run, so a long run survives being killed.

A checkpoint is taken at the start of a BFS level, where the whole search state is
small and explicit: the visited set (fingerprints and parents, two .npy arrays), the
frontier of that level (pickled states), the depth and the counters. Resuming loads
them and carries on with that level, so a killed run resumed gives the same final
counts as one that never stopped.

A run with several workers writes one part per worker (each its share of the visited
set and of the frontier); one process writes a single part. A checkpoint does not
depend on how many wrote it: resuming merges the parts, or re-deals them by the
resuming run's ownership rule, so a run checkpointed on 4 workers resumes on 1 or 8.
With Ray workers on other machines DIR must be a directory they all see.

Writing is atomic: a checkpoint is written to DIR/next, then takes the place of
DIR/current by two renames; a crash between them leaves DIR/previous, which resume
falls back to. A checkpoint records which model, parameters, mutant, symmetry and
properties it belongs to, and resume refuses any other. Checkpoints are pickles that
only smrcheck writes; load them only from directories you made.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import UsageError
from ..store import FingerprintStore
from .core import Counters

VERSION = 2
# What reading a truncated or hand-edited checkpoint raises: a usage error, not a crash.
_DAMAGED = (OSError, ValueError, KeyError, TypeError, EOFError, pickle.UnpicklingError)


@dataclass
class Snapshot:
    identity: dict[str, Any]
    depth: int
    elapsed: float
    counters: Counters  # by action; the initial states are counted again on resume
    reached: list[str]
    store: FingerprintStore | None  # None where the workers hold the parts
    frontier: list[tuple[int, Hashable]]


def save(directory: str, snap: Snapshot) -> None:
    """One process's checkpoint: a single part."""
    guarded(directory, lambda: commit(directory, begin(directory), snap, [
        write_part(os.path.join(directory, "next"), 0, snap.store, snap.frontier)]))


def guarded(directory: str, write) -> Any:
    try:
        return write()
    except OSError as err:
        raise UsageError(f"--checkpoint {directory}: cannot write there: "
                         f"{err.strerror or err}") from None


def begin(directory: str) -> str:
    """Make an empty DIR/next for the parts; returns its path."""
    os.makedirs(directory, exist_ok=True)
    nxt = os.path.join(directory, "next")
    shutil.rmtree(nxt, ignore_errors=True)
    os.makedirs(nxt)
    return nxt


def write_part(nxt: str, index: int, store: FingerprintStore,
               frontier: list[tuple[int, Hashable]]) -> int:
    """Write one worker's share; returns how many states its visited set holds."""
    fps, parents = store.arrays()
    np.save(os.path.join(nxt, f"fps-{index}.npy"), fps)
    np.save(os.path.join(nxt, f"parents-{index}.npy"), parents)
    with open(os.path.join(nxt, f"frontier-{index}.pkl"), "wb") as out:
        pickle.dump(frontier, out, protocol=pickle.HIGHEST_PROTOCOL)
    return len(fps)


def commit(directory: str, nxt: str, snap: Snapshot, distinct_per_part: list[int]) -> None:
    """Seal DIR/next with its meta.json and make it DIR/current."""
    meta = {
        "version": VERSION,
        "identity": snap.identity,
        "depth": snap.depth,
        "elapsed": snap.elapsed,
        "gen_by_action": snap.counters.generated,
        "new_by_action": snap.counters.new,
        "reached": snap.reached,
        "parts": len(distinct_per_part),
        "distinct": sum(distinct_per_part),
    }
    # meta.json last: its presence marks a complete checkpoint.
    with open(os.path.join(nxt, "meta.json"), "w", encoding="utf-8") as out:
        json.dump(meta, out)
        out.flush()
        os.fsync(out.fileno())
    cur, prev = os.path.join(directory, "current"), os.path.join(directory, "previous")
    shutil.rmtree(prev, ignore_errors=True)
    if os.path.isdir(cur):
        os.rename(cur, prev)
    os.rename(nxt, cur)
    shutil.rmtree(prev, ignore_errors=True)


def load(directory: str, identity: dict[str, Any], share: tuple[int, int] = (0, 1)) -> Snapshot:
    """The checkpoint in DIR, or the share (index, of n workers) that one worker owns:
    the fingerprints f with f mod n = index, and its part of the frontier: its own
    part if the checkpoint has n parts, so a resumed run goes on exactly as the
    uninterrupted one, else a contiguous block of the parts' frontiers in order."""
    try:
        path, meta = _meta(directory, identity)
        index, n = share
        fps, parents, frontier = [], [], []
        # Resumed on as many workers, each takes back its own part, which holds exactly
        # the fingerprints it owns; otherwise every part is read and filtered.
        same_split = meta["parts"] == n
        for part in [index] if same_split else range(meta["parts"]):
            f = np.load(os.path.join(path, f"fps-{part}.npy"))
            p = np.load(os.path.join(path, f"parents-{part}.npy"))
            if n > 1 and not same_split:
                mine = f % n == index
                f, p = f[mine], p[mine]
            fps.append(f)
            parents.append(p)
            with open(os.path.join(path, f"frontier-{part}.pkl"), "rb") as fh:
                frontier.extend(pickle.load(fh))
    except _DAMAGED as err:
        raise UsageError(f"--resume {directory}: the checkpoint is damaged or unreadable "
                         f"({type(err).__name__}: {err})") from None
    f, p = np.concatenate(fps), np.concatenate(parents)
    order = np.argsort(f, kind="stable")
    return Snapshot(meta["identity"], meta["depth"], meta["elapsed"],
                    Counters(0, meta["gen_by_action"], meta["new_by_action"]), meta["reached"],
                    FingerprintStore.from_arrays(f[order], p[order]),
                    frontier if same_split else _block(frontier, index, n))


def _block(items: list, index: int, n: int) -> list:
    """The index-th of n contiguous, nearly equal blocks (as parallel BFS deals them)."""
    size, extra = divmod(len(items), n)
    start = index * size + min(index, extra)
    return items[start:start + size + (1 if index < extra else 0)]


def load_meta(directory: str, identity: dict[str, Any]) -> dict[str, Any]:
    try:
        return _meta(directory, identity)[1]
    except _DAMAGED as err:
        raise UsageError(f"--resume {directory}: the checkpoint is damaged or unreadable "
                         f"({type(err).__name__}: {err})") from None


def _meta(directory: str, identity: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    for name in ("current", "previous"):
        path = os.path.join(directory, name)
        if os.path.isfile(os.path.join(path, "meta.json")):
            break
    else:
        raise UsageError(f"--resume {directory}: no checkpoint there (no current/meta.json)")
    with open(os.path.join(path, "meta.json"), encoding="utf-8") as fh:
        meta = json.load(fh)
    if meta.get("version") != VERSION:
        raise UsageError(f"--resume {directory}: checkpoint format {meta.get('version')}, "
                         f"this smrcheck reads {VERSION}")
    if meta["identity"] != identity:
        raise UsageError(f"--resume {directory}: the checkpoint belongs to "
                         f"{_describe(meta['identity'])}, not {_describe(identity)}")
    return path, meta


def _describe(identity: dict[str, Any]) -> str:
    params = ", ".join(f"{k}={v}" for k, v in identity.get("params", {}).items())
    mutant = f" --mutant {identity['mutant']}" if identity.get("mutant") else ""
    return f"{identity.get('model')}({params}){mutant}"
