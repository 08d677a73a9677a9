"""Breadth-first search on several workers that partition the visited set.

Each worker owns the fingerprints f with f mod N = its index (their parent pointers
live in its `FingerprintStore`) and expands a share of the frontier. The search is
level-synchronous, like the single-process BFS, so the first violation is found at the
least depth and the counterexample has the same, shortest, length.

A level runs in rounds of three steps, each a call on every worker:
1. `expand`: expand frontier states until 4 x `chunk` successors, drop successors the
   worker already knows (its previous, current and next levels), and return, for each
   owner, the fingerprints it computed that the owner owns, with their parents. Only
   integers leave the worker, never states: pickling states would cost more than
   computing them.
2. `own`: each owner takes the candidates of all senders in sender order, inserts the
   new ones, and returns, per sender, the positions that were new. In the round that
   fills the store to `max_states` the owners insert one after another, so a bounded
   run keeps exactly `max_states` states, as one worker does.
3. `accept`: each sender keeps the states the owners declared new (it holds their only
   copy), checks the invariants on them, and queues them for the next level. A round
   that finds a violation ends the level; the least (property, worker, order) wins.
Owners take senders in a fixed order and rounds have a fixed size, so the counts and
the counterexample do not depend on timing or on the backend.

A sender keeps the new states it computed, so without help the worker that expanded the
initial state would keep all its descendants and the others would idle. At the end of
each level the coordinator therefore evens out the frontiers: workers holding more than
their share pickle the surplus (states do leave the worker here, but only the
difference between shares, which stays small once the frontiers are even, since each
worker's next level grows from its own share) and the coordinator hands the bytes,
unread, to the workers below their share. The plan depends only on the frontier sizes,
so it too is deterministic.

Two backends run the same `_Worker`: forked local processes talking over pipes, and
Ray actors (`--backend ray`), one per partition, for state spaces that outgrow one
machine. The coordinator (this process) routes the integer batches, and rebuilds a
counterexample by asking owners for parent fingerprints, then replaying it.
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import pickle
import resource
import time
from collections.abc import Hashable, Iterator
from typing import Any

import numpy as np

from . import checkpoint
from .errors import UsageError
from .store import FingerprintStore, Frontier

BACKENDS = ("local", "ray")


class _Worker:
    def __init__(self, index: int, n: int, model: Any, options: Any) -> None:
        from .explore import Explorer

        self.i, self.n = index, n
        self.ex = Explorer(model, options)
        self.store = FingerprintStore(spill_dir=options.spill_dir)
        # Levels spill to disk past spill_at states, as in the one-process search.
        self.frontier = self._level()
        self.walk: Iterator[tuple[int, Hashable]] | None = None
        self.pos = 0
        self.previous: set[int] = set()
        self.current: set[int] = set()
        self.upcoming: set[int] = set()
        self.nxt = self._level()
        self.held: list[list[tuple]] = []
        self.new_count = 0
        self.violation: tuple[int, int, int] | None = None  # (property index, order, fp)
        self.found = 0
        self.timed_out = False  # the deadline cut this level short

    def _level(self) -> Frontier:
        return Frontier(self.ex.opts.spill_at, self.ex.opts.spill_dir)

    def roots(self, items: list[tuple[int, Hashable]]) -> dict[str, Any]:
        for fp, _ in items:
            if fp % self.n == self.i:
                self.store.add_root(fp)
        self.frontier.extend([item for k, item in enumerate(items) if k % self.n == self.i])
        self.current = {fp for fp, _ in items}
        return self.report()

    def expand(self, deadline: float | None) -> tuple[list[tuple[np.ndarray, np.ndarray]], bool]:
        ex = self.ex
        actions, step, fingerprint = ex.model.actions, ex.model.next_state, ex.fp
        gen = ex.gen_by_action
        held: list[list[tuple]] = [[] for _ in range(self.n)]
        known = (self.upcoming, self.current, self.previous)
        end = len(self.frontier)
        if deadline is not None and time.time() > deadline and self.pos < end:
            self.pos = end
            self.timed_out = True
        count = 0
        if self.walk is None:
            self.walk = iter(self.frontier)
        # Rounds end in a barrier, where the fastest worker waits for the slowest; four
        # store batches a round halve that waiting on paxos against one batch.
        while self.pos < end and count < 4 * ex.opts.chunk:
            sfp, s = next(self.walk)
            self.pos += 1
            for a in actions(s):
                t = step(s, a)
                name = a[0]
                gen[name] = gen.get(name, 0) + 1
                count += 1
                fp = fingerprint(t)
                if fp in known[0] or fp in known[1] or fp in known[2]:
                    continue
                held[fp % self.n].append((t, fp, sfp, name))
        self.held = held
        out = [(np.array([c[1] for c in h], dtype=np.int64), np.array([c[2] for c in h], dtype=np.int64))
               for h in held]
        return out, self.pos < end

    def own(self, candidates: list[tuple[np.ndarray, np.ndarray]], probe: bool,
            limit: int | None = None) -> list[np.ndarray]:
        """Per sender, the positions of its candidates that are new; `limit` caps them."""
        kept = []
        for fps, parents in candidates:
            if probe:
                kept.append(np.flatnonzero(~self.store._member(fps)) if len(fps)
                            else np.empty(0, dtype=np.intp))
            else:
                kept.append(self.store.add_batch(fps, parents, limit))
                if limit is not None:
                    limit -= len(kept[-1])
        return kept

    def accept(self, kept_by_owner: list[np.ndarray], probe: bool) -> bool:
        ex = self.ex
        queued = []
        for owner, kept in enumerate(kept_by_owner):
            for j in kept.tolist():
                t, fp, _, name = self.held[owner][j]
                self.new_count += 1
                if probe:
                    continue
                ex.new_by_action[name] = ex.new_by_action.get(name, 0) + 1
                self.upcoming.add(fp)
                queued.append((fp, t))
                self.found += 1
                broken = next((k for k, prop in enumerate(ex.invariants) if not prop.holds(t)), None)
                if broken is not None:
                    # Like the one-process search, a state that breaks an invariant
                    # does not count as reaching a goal.
                    if self.violation is None:
                        self.violation = (broken, self.found, fp)
                    continue
                if ex.goals:
                    ex._check_goals(t)
        self.held = []
        self.nxt.extend(queued)
        return self.violation is not None

    def end_level(self, probe: bool) -> dict[str, Any]:
        report = self.report()
        if not probe:
            self.previous, self.current, self.upcoming = self.current, self.upcoming, set()
            self.frontier.close()
            self.frontier, self.nxt = self.nxt, self._level()
            report["frontier"] = len(self.frontier)
        else:
            self.upcoming = set()
            self.nxt.close()
            self.nxt = self._level()
        self.pos = 0
        self.walk = None
        self.new_count = 0
        return report

    def report(self) -> dict[str, Any]:
        return {
            "new": self.new_count,
            "frontier": len(self.frontier),
            "distinct": len(self.store),
            "violation": self.violation,
            "timed_out": self.timed_out,
            "reached": list(self.ex.reached),
            "gen": dict(self.ex.gen_by_action),
            "new_by_action": dict(self.ex.new_by_action),
            "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        }

    def resume(self, directory: str, identity: dict[str, Any]) -> dict[str, Any]:
        snap = checkpoint.load(directory, identity, (self.i, self.n))
        self.store.close()
        self.store = snap.store
        self.frontier.extend(snap.frontier)
        self.current = {fp for fp, _ in snap.frontier}
        return self.report()

    def save_part(self, nxt: str) -> int:
        return checkpoint.write_part(nxt, self.i, self.store, list(self.frontier))

    def give(self, plan: list[tuple[int, int]]) -> list[bytes]:
        """Pickle frontier states for other workers: `plan` is (receiver, count) pairs."""
        parts = self.frontier.split_tail([count for _, count in plan])
        return [pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL) for part in parts]

    def take(self, blobs: list[bytes]) -> None:
        for blob in blobs:
            self.frontier.extend(pickle.loads(blob))

    def parent(self, fp: int) -> int:
        return self.store.parent(fp)

    def close(self) -> None:
        self.store.close()
        self.frontier.close()
        self.nxt.close()


# -- backends ------------------------------------------------------------------------


def _serve(worker_args: tuple, conn) -> None:
    try:
        worker = _Worker(*worker_args)
    except BaseException as err:  # report, don't hang the coordinator
        conn.send(("error", f"{type(err).__name__}: {err}"))
        return
    conn.send(("ok", None))
    while True:
        method, args = conn.recv()
        if method == "stop":
            worker.close()
            conn.send(("ok", None))
            return
        try:
            conn.send(("ok", getattr(worker, method)(*args)))
        except BaseException as err:
            # The worker ends here: its spilled store and levels go with it.
            worker.close()
            conn.send(("error", f"{type(err).__name__}: {err}"))
            return


class _LocalBackend:
    """Forked processes; they inherit the model object, nothing needs to pickle it."""

    def __init__(self, n: int, model: Any, options: Any) -> None:
        try:
            ctx = mp.get_context("fork")
        except ValueError:
            raise UsageError("--backend local needs the 'fork' start method (Linux); "
                             "use --backend ray") from None
        self.conns, self.procs = [], []
        for i in range(n):
            parent_end, child_end = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=((i, n, model, options), child_end), daemon=True)
            proc.start()
            self.conns.append(parent_end)
            self.procs.append(proc)
        for c in self.conns:
            self._result(c)

    @staticmethod
    def _result(conn) -> Any:
        status, value = conn.recv()
        if status != "ok":
            raise RuntimeError(f"worker failed: {value}")
        return value

    def call(self, method: str, per_worker_args: list[tuple]) -> list[Any]:
        for c, args in zip(self.conns, per_worker_args):
            c.send((method, args))
        return [self._result(c) for c in self.conns]

    def call_one(self, index: int, method: str, args: tuple) -> Any:
        self.conns[index].send((method, args))
        return self._result(self.conns[index])

    def close(self) -> None:
        for c in self.conns:
            try:
                c.send(("stop", ()))
                c.recv()
            except (EOFError, OSError):
                pass
        for p in self.procs:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()


class _RayBackend:
    """One Ray actor per partition, on a local or remote Ray cluster."""

    def __init__(self, n: int, model: Any, options: Any, address: str | None) -> None:
        try:
            import ray
        except ImportError:
            raise UsageError("--backend ray needs Ray: pip install 'smrcheck[ray]'") from None
        self.ray = ray
        self.started = not ray.is_initialized()
        if self.started:
            # A local Ray listens on loopback only; a cluster is the user's to give.
            local = {} if address else {"num_cpus": n, "_node_ip_address": "127.0.0.1"}
            ray.init(address=address, include_dashboard=False, log_to_driver=False,
                     configure_logging=False, **local)
        actor = ray.remote(num_cpus=1)(_Worker)
        self.actors = [actor.remote(i, n, model, options) for i in range(n)]

    def call(self, method: str, per_worker_args: list[tuple]) -> list[Any]:
        refs = [getattr(a, method).remote(*args) for a, args in zip(self.actors, per_worker_args)]
        return self.ray.get(refs)

    def call_one(self, index: int, method: str, args: tuple) -> Any:
        return self.ray.get(getattr(self.actors[index], method).remote(*args))

    def close(self) -> None:
        self.ray.get([a.close.remote() for a in self.actors])
        for a in self.actors:
            self.ray.kill(a)
        if self.started:
            self.ray.shutdown()


# -- the coordinator -------------------------------------------------------------------


class ParallelBFS:
    def __init__(self, ex, workers: int, backend: str = "local", address: str | None = None) -> None:
        if backend not in BACKENDS:
            raise UsageError(f"unknown backend {backend!r}; allowed: {', '.join(BACKENDS)}")
        self.ex, self.n = ex, workers
        # The progress callback draws on this process's terminal; workers don't get it.
        options = dataclasses.replace(ex.opts, progress=None)
        self.backend = (_LocalBackend(workers, ex.model, options) if backend == "local"
                        else _RayBackend(workers, ex.model, options, address))
        self.reports: list[dict[str, Any]] = []
        # Counters carried over from a checkpoint; the workers count from zero.
        self.base_gen: dict[str, int] = {}
        self.base_new: dict[str, int] = {}

    def _all(self, method: str, *args: Any) -> list[Any]:
        return self.backend.call(method, [args] * self.n)

    def _absorb_reports(self, reports: list[dict[str, Any]]) -> None:
        ex = self.ex
        self.reports = reports
        ex.gen_by_action.clear()
        ex.new_by_action.clear()
        ex.gen_by_action.update(self.base_gen)
        ex.new_by_action.update(self.base_new)
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
        # The run's memory is every worker's too. Forked workers share the
        # coordinator's pages until they write them, so the sum is an upper bound.
        ex.worker_peak_rss_mb = sum(r["peak_rss_kb"] for r in reports) / 1024.0
        ex.generated = sum(ex.gen_by_action.values())

    def _level(self, probe: bool, deadline: float | None) -> tuple[list[dict[str, Any]], bool]:
        """Run one level in rounds; returns the reports and whether max_states cut it."""
        n, max_states = self.n, self.ex.opts.max_states
        while True:
            expanded = self._all("expand", deadline)
            routed = [[expanded[s][0][o] for s in range(n)] for o in range(n)]
            room = None if probe or max_states is None else max_states - self.distinct
            if room is not None and sum(len(f) for c in routed for f, _ in c) >= room:
                # This round may fill the store: owners insert one after another, in
                # index order, so exactly max_states states are kept, as with one
                # worker, and which ones does not depend on timing.
                kept = []
                for o in range(n):
                    kept.append(self.backend.call_one(o, "own", (routed[o], probe, room)))
                    room -= sum(len(k) for k in kept[-1])
            else:
                kept = self.backend.call("own", [(routed[o], probe) for o in range(n)])
            if not probe:
                self.distinct += sum(len(k) for ko in kept for k in ko)
            broken = self.backend.call("accept", [([kept[o][s] for o in range(n)], probe)
                                                  for s in range(n)])
            full = room is not None and self.distinct >= max_states
            # Stop at the round that found a violation, as one worker stops at the
            # batch: rounds are fixed, so the choice among this round's violations
            # (run() takes the least) is too.
            if full or any(broken) or not any(more for _, more in expanded):
                return self._all("end_level", probe), full

    def _rebalance(self, reports: list[dict[str, Any]]) -> None:
        """Even out the next level's frontiers (see the module docstring)."""
        sizes = [r["frontier"] for r in reports]
        total, n = sum(sizes), self.n
        share = [total // n + (1 if w < total % n else 0) for w in range(n)]
        # A few states more or less is not worth a round trip.
        if max(s - t for s, t in zip(sizes, share)) <= max(64, total // (8 * n)):
            return
        # Donors in index order fill receivers in index order.
        wants = [max(0, t - s) for s, t in zip(sizes, share)]
        plans: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        for d in range(n):
            surplus = sizes[d] - share[d]
            for r in range(n):
                if surplus <= 0:
                    break
                if wants[r]:
                    k = min(wants[r], surplus)
                    plans[d].append((r, k))
                    wants[r] -= k
                    surplus -= k
        blobs = self.backend.call("give", [(plan,) for plan in plans])
        incoming: list[list[bytes]] = [[] for _ in range(n)]
        for d in range(n):
            for (r, _), blob in zip(plans[d], blobs[d]):
                incoming[r].append(blob)
        self.backend.call("take", [(b,) for b in incoming])
        for r, t in zip(reports, share):
            r["frontier"] = t

    def run(self) -> None:
        """Like Explorer.bfs: returns normally, or raises the explorer's _Found/_Bound."""
        from .explore import _Bound, _Found

        ex = self.ex
        if ex.opts.resume_dir is not None:
            meta = checkpoint.load_meta(ex.opts.resume_dir, ex.identity)
            self.base_gen, self.base_new = meta["gen_by_action"], meta["new_by_action"]
            ex.reached = list(meta["reached"])
            self._absorb_reports(self._all("resume", ex.opts.resume_dir, ex.identity))
            ex.depth = meta["depth"]
            ex.start -= meta["elapsed"]
        else:
            roots = ex._roots()
            self._absorb_reports(self._all("roots", roots))
            ex.depth = 1 if roots else 0
        self.distinct = ex.distinct
        last_checkpoint = -float("inf")
        # Wall-clock deadline: workers may run on other machines.
        deadline = None if ex.opts.time_limit is None else (
            time.time() + ex.opts.time_limit - (time.monotonic() - ex.start))
        max_depth, max_states = ex.opts.max_depth, ex.opts.max_states
        while any(r["frontier"] for r in self.reports):
            if (ex.opts.checkpoint_dir is not None
                    and time.monotonic() - last_checkpoint >= ex.opts.checkpoint_every):
                self._checkpoint()
                last_checkpoint = time.monotonic()
            probe = max_depth is not None and ex.depth >= max_depth
            reports, full = self._level(probe, deadline)
            timed_out = any(r["timed_out"] for r in reports)
            if probe:
                if timed_out:
                    raise _Bound("time-limit")
                if any(r["new"] for r in reports):
                    raise _Bound("max-depth")
                return
            self._absorb_reports(reports)
            if any(r["new"] for r in reports):
                ex.depth += 1
            hits = [(r["violation"], w) for w, r in enumerate(reports) if r["violation"]]
            if hits:
                (prop_index, _order, fp), _w = min(hits, key=lambda h: (h[0][0], h[1], h[0][1]))
                raise _Found(ex.invariants[prop_index], fp, None)
            if full:
                raise _Bound("max-states")
            if timed_out:
                raise _Bound("time-limit")
            self._rebalance(reports)
            ex._tick(sum(r["frontier"] for r in reports))
            if deadline is not None and time.time() > deadline:
                raise _Bound("time-limit")
            if max_states is not None and ex.distinct >= max_states:
                raise _Bound("max-states")

    def _checkpoint(self) -> None:
        ex, directory = self.ex, self.ex.opts.checkpoint_dir
        snap = checkpoint.Snapshot(ex.identity, ex.depth, time.monotonic() - ex.start,
                                   dict(ex.gen_by_action), dict(ex.new_by_action),
                                   list(ex.reached), None, [])
        nxt = checkpoint.guarded(directory, lambda: checkpoint.begin(directory))
        # A worker that cannot write fails the call; the coordinator names the directory.
        try:
            counts = self._all("save_part", nxt)
        except RuntimeError as err:
            raise UsageError(f"--checkpoint {directory}: cannot write there: {err}") from None
        checkpoint.guarded(directory, lambda: checkpoint.commit(directory, nxt, snap, counts))

    def path_to(self, fp: int) -> list[int]:
        chain = [fp]
        while (up := self._parent(fp % self.n, fp)) != fp:
            fp = up
            chain.append(fp)
        chain.reverse()
        return chain

    def _parent(self, owner: int, fp: int) -> int:
        return self.backend.call_one(owner, "parent", (fp,))

    def close(self) -> None:
        self.backend.close()
