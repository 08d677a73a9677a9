"""Breadth-first search on several processes that partition the visited set.

Each worker owns the fingerprints f with f mod N = its index (their parent pointers
live in its `FingerprintStore`) and expands a share of the frontier. The search is
level-synchronous, like the single-process BFS, so the first violation is found at the
least depth and the counterexample has the same, shortest, length.

Within a level the workers proceed in rounds. In each round every worker expands up to
`chunk` of its frontier states, drops successors it already knows (its own previous,
current and next levels), and sends each owner the fingerprints it computed that the
owner owns, with their parents: only integers cross process boundaries, never states,
because pickling states would cost more than computing them. Each owner takes the
candidates of all senders in sender order, inserts the new ones, and answers each
sender with the positions that were new. The sender then holds the only copy of each
new state it discovered: it checks the invariants on it and keeps it for the next
level. Because owners process senders in a fixed order and rounds are fixed-size, the
counts and the counterexample do not depend on timing.

Workers are forked, so they inherit the model object; the coordinator (this process)
rebuilds a counterexample by asking owners for parent fingerprints, then replays it.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Hashable
from typing import Any

import numpy as np

from .errors import UsageError
from .model import Model
from .store import FingerprintStore


class _Worker:
    def __init__(self, index: int, n: int, model: Model, explorer_opts: Any, inboxes: list) -> None:
        from .explore import Explorer

        self.i, self.n = index, n
        self.ex = Explorer(model, explorer_opts)
        self.store = FingerprintStore(spill_dir=explorer_opts.spill_dir)
        self.inboxes = inboxes
        self.frontier: list[tuple[int, Hashable]] = []
        self.previous: set[int] = set()
        self.current: set[int] = set()
        self.stash: dict[tuple[str, int, int], Any] = {}
        self.violation: tuple[int, int, int] | None = None  # (property index, fp, order)
        self.found_order = 0

    # -- messaging -----------------------------------------------------------------

    def _send(self, to: int, msg: tuple) -> None:
        if to == self.i:
            self.stash[(msg[0], msg[1], msg[2])] = msg[3]
        else:
            self.inboxes[to].put(msg)

    def _recv(self, kind: str, rnd: int, frm: int) -> Any:
        key = (kind, rnd, frm)
        while key not in self.stash:
            msg = self.inboxes[self.i].get()
            self.stash[(msg[0], msg[1], msg[2])] = msg[3]
        return self.stash.pop(key)

    # -- one level -----------------------------------------------------------------

    def level(self, probe: bool, deadline: float | None) -> dict[str, Any]:
        ex = self.ex
        model, canonical = ex.model, ex.canonical
        actions, step = model.actions, model.next_state
        gen = ex.gen_by_action
        chunk = ex.opts.chunk
        upcoming: set[int] = set()
        nxt: list[tuple[int, Hashable]] = []
        pos = 0
        rnd = 0
        new_count = 0
        more_everywhere = True
        while more_everywhere:
            # Expand a chunk; keep candidates grouped by owner.
            held: list[list[tuple]] = [[] for _ in range(self.n)]
            end = len(self.frontier)
            if deadline is not None and time.monotonic() > deadline:
                pos = end
            count = 0
            while pos < end and count < chunk:
                sfp, s = self.frontier[pos]
                pos += 1
                for a in actions(s):
                    t = step(s, a)
                    name = a[0]
                    gen[name] = gen.get(name, 0) + 1
                    count += 1
                    fp = hash(t) if canonical is None else hash(canonical(t))
                    if fp in upcoming or fp in self.current or fp in self.previous:
                        continue
                    held[fp % self.n].append((t, fp, sfp, name))
            more = pos < end
            for owner in range(self.n):
                cands = held[owner]
                fps = np.array([c[1] for c in cands], dtype=np.int64)
                parents = np.array([c[2] for c in cands], dtype=np.int64)
                self._send(owner, ("cand", rnd, self.i, (fps, parents, more)))
            # As owner: take every sender's candidates in sender order.
            more_everywhere = False
            for sender in range(self.n):
                fps, parents, sender_more = self._recv("cand", rnd, sender)
                more_everywhere |= sender_more
                if probe:
                    fresh = ~self.store._member(fps) if len(fps) else np.zeros(0, bool)
                    kept = np.flatnonzero(fresh)
                else:
                    kept = self.store.add_batch(fps, parents)
                self._send(sender, ("mask", rnd, self.i, kept))
            # As sender: the owners' answers say which of our states are new.
            for owner in range(self.n):
                kept = self._recv("mask", rnd, owner)
                for j in kept.tolist():
                    t, fp, sfp, name = held[owner][j]
                    new_count += 1
                    if probe:
                        continue
                    ex.new_by_action[name] = ex.new_by_action.get(name, 0) + 1
                    upcoming.add(fp)
                    nxt.append((fp, t))
                    self._check(fp, t)
            rnd += 1
        if not probe:
            self.previous, self.current = self.current, upcoming
            self.frontier = nxt
        return self.report(new_count)

    def _check(self, fp: int, t: Hashable) -> None:
        ex = self.ex
        if self.violation is None:
            for k, prop in enumerate(ex.invariants):
                if not prop.holds(t):
                    self.violation = (k, fp, self.found_order)
                    break
        self.found_order += 1
        if ex.goals:
            ex._check_goals(t)

    def report(self, new_count: int) -> dict[str, Any]:
        return {
            "new": new_count,
            "frontier": len(self.frontier),
            "distinct": len(self.store),
            "violation": self.violation,
            "reached": list(self.ex.reached),
            "gen": dict(self.ex.gen_by_action),
            "new_by_action": dict(self.ex.new_by_action),
        }

    def serve(self, conn) -> None:
        while True:
            cmd, arg = conn.recv()
            if cmd == "roots":
                for fp, s in arg:
                    if fp % self.n == self.i:
                        self.store.add_root(fp)
                self.frontier = [item for k, item in enumerate(arg) if k % self.n == self.i]
                self.current = {fp for fp, _ in arg}
                conn.send(self.report(0))
            elif cmd == "level":
                probe, deadline = arg
                conn.send(self.level(probe, deadline))
            elif cmd == "parent":
                conn.send(self.store.parent(arg))
            else:
                conn.send(None)
                return


def _serve(index: int, n: int, model: Model, opts: Any, inboxes: list, conn) -> None:
    try:
        _Worker(index, n, model, opts, inboxes).serve(conn)
    except BaseException as err:  # report, don't hang the coordinator
        conn.send({"error": f"{type(err).__name__}: {err}"})


class ParallelBFS:
    """The coordinator: starts the workers, runs the levels, gathers the verdict."""

    def __init__(self, ex, workers: int) -> None:
        try:
            ctx = mp.get_context("fork")
        except ValueError:
            raise UsageError("--workers needs the 'fork' start method (Linux)") from None
        self.ex, self.n = ex, workers
        self.inboxes = [ctx.Queue() for _ in range(workers)]
        self.conns = []
        self.procs = []
        for i in range(workers):
            parent_end, child_end = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(i, workers, ex.model, ex.opts, self.inboxes, child_end),
                               daemon=True)
            proc.start()
            self.conns.append(parent_end)
            self.procs.append(proc)
        self.reports: list[dict[str, Any]] = []

    def _all(self, cmd: str, arg: Any) -> list[dict[str, Any]]:
        for c in self.conns:
            c.send((cmd, arg))
        out = [c.recv() for c in self.conns]
        for r in out:
            if isinstance(r, dict) and "error" in r:
                raise RuntimeError(f"worker failed: {r['error']}")
        return out

    def _absorb_reports(self, reports: list[dict[str, Any]]) -> None:
        ex = self.ex
        self.reports = reports
        ex.gen_by_action.clear()
        ex.new_by_action.clear()
        for r in reports:
            for k, v in r["gen"].items():
                ex.gen_by_action[k] = ex.gen_by_action.get(k, 0) + v
            for k, v in r["new_by_action"].items():
                ex.new_by_action[k] = ex.new_by_action.get(k, 0) + v
            for pid in r["reached"]:
                if pid not in ex.reached:
                    ex.reached.append(pid)
        ex.goals = [g for g in ex.goals if g.id not in ex.reached]
        ex.distinct = sum(r["distinct"] for r in reports)
        ex.generated = sum(ex.gen_by_action.values())

    def run(self) -> None:
        """Like Explorer.bfs: returns normally, or raises the explorer's _Found/_Bound."""
        from .explore import _Bound, _Found

        ex = self.ex
        roots = ex._roots()
        self._absorb_reports(self._all("roots", roots))
        ex.depth = 1 if roots else 0
        deadline = None if ex.opts.time_limit is None else ex.start + ex.opts.time_limit
        max_depth, max_states = ex.opts.max_depth, ex.opts.max_states
        while any(r["frontier"] for r in self.reports):
            probe = max_depth is not None and ex.depth >= max_depth
            reports = self._all("level", (probe, deadline))
            if probe:
                if any(r["new"] for r in reports):
                    raise _Bound("max-depth")
                return
            self._absorb_reports(reports)
            hits = [(r["violation"], w) for w, r in enumerate(reports) if r["violation"]]
            if any(r["new"] for r in reports):
                ex.depth += 1
            if hits:
                (prop_index, fp, _), _w = min(hits, key=lambda h: (h[0][0], h[1], h[0][2]))
                raise _Found(ex.invariants[prop_index], fp, None)
            ex._tick(sum(r["frontier"] for r in reports))
            if deadline is not None and time.monotonic() > deadline:
                raise _Bound("time-limit")
            if max_states is not None and ex.distinct >= max_states:
                raise _Bound("max-states")

    def parent(self, fp: int) -> int:
        conn = self.conns[fp % self.n]
        conn.send(("parent", fp))
        return conn.recv()

    def path_to(self, fp: int) -> list[int]:
        chain = [fp]
        while (up := self.parent(fp)) != fp:
            fp = up
            chain.append(fp)
        chain.reverse()
        return chain

    def close(self) -> None:
        for c in self.conns:
            try:
                c.send(("stop", None))
                c.recv()
            except (EOFError, OSError, BrokenPipeError):
                pass
        for p in self.procs:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
        for q in self.inboxes:
            q.close()
            q.cancel_join_thread()
