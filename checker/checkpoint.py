"""Checkpoints of a breadth-first run, so a long run survives being killed.

A checkpoint is taken at the start of a BFS level, where the whole search state is
small and explicit: the visited set (fingerprints and parents, two .npy arrays), the
frontier of that level (pickled states), the depth and the counters. Resuming loads
them and carries on with that level, so a killed run resumed gives the same final
counts as one that never stopped.

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

from .errors import UsageError
from .store import FingerprintStore

VERSION = 1


@dataclass
class Snapshot:
    identity: dict[str, Any]
    depth: int
    elapsed: float
    gen_by_action: dict[str, int]
    new_by_action: dict[str, int]
    reached: list[str]
    store: FingerprintStore
    frontier: list[tuple[int, Hashable]]


def save(directory: str, snap: Snapshot) -> None:
    try:
        _save(directory, snap)
    except OSError as err:
        raise UsageError(f"--checkpoint {directory}: cannot write there: "
                         f"{err.strerror or err}") from None


def _save(directory: str, snap: Snapshot) -> None:
    os.makedirs(directory, exist_ok=True)
    nxt, cur, prev = (os.path.join(directory, n) for n in ("next", "current", "previous"))
    shutil.rmtree(nxt, ignore_errors=True)
    os.makedirs(nxt)
    fps, parents = snap.store.arrays()
    np.save(os.path.join(nxt, "fps.npy"), fps)
    np.save(os.path.join(nxt, "parents.npy"), parents)
    with open(os.path.join(nxt, "frontier.pkl"), "wb") as out:
        pickle.dump(snap.frontier, out, protocol=pickle.HIGHEST_PROTOCOL)
    meta = {
        "version": VERSION,
        "identity": snap.identity,
        "depth": snap.depth,
        "elapsed": snap.elapsed,
        "gen_by_action": snap.gen_by_action,
        "new_by_action": snap.new_by_action,
        "reached": snap.reached,
        "distinct": len(snap.store),
    }
    # meta.json last: its presence marks a complete checkpoint.
    with open(os.path.join(nxt, "meta.json"), "w", encoding="utf-8") as out:
        json.dump(meta, out)
        out.flush()
        os.fsync(out.fileno())
    shutil.rmtree(prev, ignore_errors=True)
    if os.path.isdir(cur):
        os.rename(cur, prev)
    os.rename(nxt, cur)
    shutil.rmtree(prev, ignore_errors=True)


def load(directory: str, identity: dict[str, Any]) -> Snapshot:
    try:
        return _load(directory, identity)
    except (OSError, ValueError, KeyError, TypeError, EOFError, pickle.UnpicklingError) as err:
        raise UsageError(f"--resume {directory}: the checkpoint is damaged or unreadable "
                         f"({type(err).__name__}: {err})") from None


def _load(directory: str, identity: dict[str, Any]) -> Snapshot:
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
    fps = np.load(os.path.join(path, "fps.npy"))
    parents = np.load(os.path.join(path, "parents.npy"))
    with open(os.path.join(path, "frontier.pkl"), "rb") as fh:
        frontier = pickle.load(fh)
    return Snapshot(meta["identity"], meta["depth"], meta["elapsed"], meta["gen_by_action"],
                    meta["new_by_action"], meta["reached"],
                    FingerprintStore.from_arrays(fps, parents), frontier)


def _describe(identity: dict[str, Any]) -> str:
    params = ", ".join(f"{k}={v}" for k, v in identity.get("params", {}).items())
    mutant = f" --mutant {identity['mutant']}" if identity.get("mutant") else ""
    return f"{identity.get('model')}({params}){mutant}"
