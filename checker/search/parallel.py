"""Breadth-first search on several workers that partition the visited set.

Each worker (`checker.search.worker`) owns the fingerprints f with f mod N = its index
(their parent pointers live in its `FingerprintStore`) and expands a share of the
frontier with the same loop as the one-process search (`expand.Levels`). The search is
level-synchronous, like the one-process BFS, so the first violation is found at the
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
   that finds a violation ends the level; the least (property, worker) wins.
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

Two backends run the same `Worker`: forked local processes talking over pipes
(`LocalBackend`, here), and Ray actors (`checker.search.ray`), one per partition, for
state spaces that outgrow one machine. The coordinator (this process) routes the
integer batches, merges the workers' counters after each level, and rebuilds a
counterexample by asking owners for parent fingerprints, then replaying it.
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import time
from typing import Any

from ..errors import UsageError
from ..store import FingerprintStore, path_to
from . import checkpoint
from .core import Bound, Context, Counters, Found, Outcome
from .options import Options
from .worker import Report, Worker


def run(ctx: Context) -> Outcome:
    # The roots are generated and checked here, as in the one-process search.
    roots = FingerprintStore(spill_dir=ctx.options.storage.spill_dir)
    try:
        coordinator = _Coordinator(ctx, roots)
        try:
            bound, counterexample = ctx.settle(coordinator.search, coordinator.chain_to)
        finally:
            coordinator.close()
    finally:
        roots.close()
    return coordinator.outcome(bound, counterexample)


class _Coordinator:
    def __init__(self, ctx: Context, roots: FingerprintStore) -> None:
        self.ctx = ctx
        self.roots = roots
        dist = ctx.options.distribution
        self.n = dist.workers
        # The progress callback draws on this process's terminal; workers don't get it.
        options = dataclasses.replace(ctx.options, progress=None)
        if dist.backend == "local":
            self.backend: Any = LocalBackend(self.n, ctx.model, options)
        else:
            from .ray import RayBackend

            self.backend = RayBackend(self.n, ctx.model, options, dist.address)
        self.reports: list[Report] = []
        # Counters of what the workers never saw: the roots, or a checkpoint's.
        self.base = Counters()
        self.distinct: int | None = None  # None until the workers first report
        self.depth = 0
        self.worker_peak_rss_mb = 0.0

    def _all(self, method: str, *args: Any) -> list[Any]:
        return self.backend.call(method, [args] * self.n)

    def _absorb(self, reports: list[Report]) -> None:
        ctx = self.ctx
        self.reports = reports
        ctx.counters = Counters.total([self.base, *(r.counters for r in reports)])
        for r in reports:
            ctx.goals.mark(r.reached)
        self.distinct = sum(r.distinct for r in reports)
        # The run's memory is every worker's too. Forked workers share the
        # coordinator's pages until they write them, so the sum is an upper bound.
        self.worker_peak_rss_mb = sum(r.peak_rss_kb for r in reports) / 1024.0

    def search(self) -> None:
        ctx = self.ctx
        bounds, saving = ctx.options.bounds, ctx.options.checkpointing
        if saving.resume_from is not None:
            meta = checkpoint.load_meta(saving.resume_from, ctx.identity)
            self.base = Counters(ctx.count_inits(), meta["gen_by_action"], meta["new_by_action"])
            ctx.goals.mark(meta["reached"])
            self._absorb(self._all("resume", saving.resume_from, ctx.identity))
            self.depth = meta["depth"]
            ctx.start -= meta["elapsed"]
        else:
            self.depth = 1  # where a root that breaks an invariant or fills the store stops it
            roots = ctx.roots(self.roots)
            self.base = ctx.counters.copy()
            self._absorb(self._all("roots", roots))
            self.depth = 1 if roots else 0
        last_checkpoint = -float("inf")
        ctx.saves_at_levels = saving.save_to is not None
        # Wall-clock deadline: workers may run on other machines.
        deadline = None if bounds.time_limit is None else (
            time.time() + bounds.time_limit - (time.monotonic() - ctx.start))
        while any(r.frontier for r in self.reports):
            if saving.save_to is not None and (
                    time.monotonic() - last_checkpoint >= saving.every or ctx.interrupted()):
                self._checkpoint(saving.save_to)
                last_checkpoint = time.monotonic()
            if ctx.interrupted():
                raise Bound("interrupted")  # after the checkpoint above, when saving
            probe = bounds.max_depth is not None and self.depth >= bounds.max_depth
            reports, full = self._level(probe, deadline)
            timed_out = any(r.timed_out for r in reports)
            if probe:
                if timed_out:
                    raise Bound("time-limit")
                if any(r.new for r in reports):
                    raise Bound("max-depth")
                return
            self._absorb(reports)
            if any(r.new for r in reports):
                self.depth += 1
            hits = [(r.violation, w) for w, r in enumerate(reports) if r.violation]
            if hits:
                (index, fp), _ = min(hits, key=lambda h: (h[0][0], h[1]))
                raise Found(ctx.invariants[index], fp, None)
            if full:
                raise Bound("max-states")
            if timed_out:
                raise Bound("time-limit")
            self._rebalance(reports)
            ctx.tick(self.distinct, self.depth, sum(r.frontier for r in reports))
            if deadline is not None and time.time() > deadline:
                raise Bound("time-limit")
            if bounds.max_states is not None and self.distinct >= bounds.max_states:
                raise Bound("max-states")

    def _level(self, probe: bool, deadline: float | None) -> tuple[list[Report], bool]:
        """Run one level in rounds; returns the reports and whether max_states cut it."""
        n, max_states = self.n, self.ctx.options.bounds.max_states
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
            # (search() takes the least) is too.
            if full or any(broken) or not any(more for _, more in expanded):
                return self._all("end_level", probe), full

    def _rebalance(self, reports: list[Report]) -> None:
        """Even out the next level's frontiers (see the module docstring)."""
        sizes = [r.frontier for r in reports]
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
            r.frontier = t

    def _checkpoint(self, directory: str) -> None:
        ctx = self.ctx
        snap = checkpoint.Snapshot(ctx.identity, self.depth, time.monotonic() - ctx.start,
                                   ctx.counters.copy(), list(ctx.goals.reached), None, [])
        nxt = checkpoint.guarded(directory, lambda: checkpoint.begin(directory))
        # A worker that cannot write fails the call; the coordinator names the directory.
        try:
            counts = self._all("save_part", nxt)
        except RuntimeError as err:
            raise UsageError(f"--checkpoint {directory}: cannot write there: {err}") from None
        checkpoint.guarded(directory, lambda: checkpoint.commit(directory, nxt, snap, counts))

    def chain_to(self, fp: int) -> list[int]:
        """A violating root is in the coordinator's store; other states' parents are
        asked of their owners."""
        if fp in self.roots:
            return path_to(self.roots.parent, fp)
        return path_to(lambda f: self.backend.call_one(f % self.n, "parent", (f,)), fp)

    def outcome(self, bound: str | None, counterexample: Any) -> Outcome:
        ctx = self.ctx
        distinct = self.distinct if self.distinct is not None else len(self.roots)
        return Outcome(ctx.counters, list(ctx.goals.reached), distinct, self.depth, bound,
                       counterexample, parts=[r.counters for r in self.reports],
                       worker_peak_rss_mb=self.worker_peak_rss_mb)

    def close(self) -> None:
        self.backend.close()


# -- forked local workers -----------------------------------------------------------------


def _serve(worker_args: tuple, conn) -> None:
    try:
        worker = Worker(*worker_args)
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


class LocalBackend:
    """Forked processes; they inherit the model object, nothing needs to pickle it."""

    def __init__(self, n: int, model: Any, options: Options) -> None:
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
