"""What the clients of a replicated service saw, checked from a run's events.

The protocol monitors (models/*/monitor.py) check that the replicas agree: one
command per slot, quorums behind every decision, logs that are prefixes of one
another. State machine replication exists for something else as well: that clients
see one correct service. This monitor checks that part, from the same events, for
either protocol (a MultiPaxos execution names its slot `slot`, a PBFT one `n`):

- **KV-LINEARIZABLE** (Herlihy & Wing 1990): the client history, a `request` event
  the invocation of (client, req) with its `op`, the client's `result` event its
  response, and a request without a result pending (it may or may not have taken
  effect), is linearizable with respect to the key-value store of impl/kvstore.py
  (models/common/kv.py). Checked by checker/linearizability.py, key by key, while
  the run is read (Memory, below). A run whose requests are not all commands
  of the store (`get K`, `put K V`, `append K V`) is of another service: not checked,
  and a warning says which request showed it.

  *Real time* is not in a trace (`ts` is never used: clocks skew), only causality:
  each node's events in seq order, and every send before its recvs. So an
  operation's interval runs between Lamport times (Lamport, "Time, clocks, and the
  ordering of events", 1978) of its request and result events: a clock per node that
  ticks at the client events only, travels with every message and, at a recv, is
  raised to the sender's. The clocks follow from the causal order alone, so the
  verdict is the same for every order of the file (tests/traces/test_order.py).
  A correct run passes: an operation B that took effect before A has a causal chain
  B's request → B's execution → A's execution (same replica, slot order) → A's
  result, so B's request has the lower clock and no order of the check puts A before
  B. A violation is a timing consistent with every message the run logged (events
  at their clock's time) in which no single order explains what the clients saw.
  The chain must be in the trace: a run with nodes outside `logged` is not checked.
- **SMR-REPLY-RESULT**: a correct replica's `reply` carries the result that replica
  computed when it executed that request (its `execute` event's `result`).
- **SMR-DETERMINISM**: every correct replica that executes a slot computes the same
  result there (the state machine is deterministic, as replication assumes).
- **SMR-REPLY-AFTER-EXECUTE**: a correct replica replies to a request only after it
  has executed it (a replica that answers before its slot is decided answers for a
  command that may never take effect).

That a client's accepted result comes from replies to that request is MP-CLIENT
(MultiPaxos: a reply with that result) and PBFT-CLIENT (f+1 matching replies from
distinct replicas), checked by the protocol monitors; it is not checked twice here.

A check runs only on what the trace logs: the execution checks need `execute`
events (a run that logs none, whose learners log `decide` only, is not judged on
replies), SMR-REPLY-RESULT and SMR-DETERMINISM need their `result` field. The
`properties` a run lists are the ones it logged enough for. Byzantine replicas (the
header's `byzantine`) may reply and compute anything: only correct replicas are held
to these rules, and a client that accepts f+1 matching replies hears at least one
correct replica.

Memory: a key's operations are checked and forgotten as the run goes, a segment at a
time (`linearizability.settle`), keeping only the states they can leave. A cut is
sound where every operation before it returned before every one after it was invoked
(then every linearization places those first), and only below the *frontier*, the
lowest clock of any client: a client event still to come ticks its client's clock
past it, so no operation yet unseen can be invoked before the cut. An operation
without a result holds its key's cut before its call (it may return late, with any
result), so a key whose client crashed mid-operation is kept from that call on. A
client whose events stop holds the frontier at its last clock (one with no events at
all, at 0): nothing says it will not invoke more, and its next operation would begin
there; the keys are kept from then on, as before. A key whose settled segment did not
linearize is kept from there, for the report. A cut is tried once SEGMENT operations of the key are kept, and after
half as many more again when none could be made. Where the cuts fall depends on the
order of the file, the verdict does not: it is the whole history's
(tests/traces/test_service_history.py checks it against the whole search), though a
violation's report may then start from the states a cut left.

Per replica and client the executed request ids are a watermark plus the few above
it; the computed results of the last KEPT_REQUESTS requests and of the last
KEPT_SLOTS slots not yet executed by every correct learner are kept; older ones are
forgotten, and a reply or an execution that late is checked for having executed, not
for its result. A message's clock travels in its `send` event (`_lc`, beside the
reader's own `_send` link from each recv to it), so clocks cost no table.

Cost: this monitor has no dispatch of its own. The protocol's monitor
(models/common/monitor.py, `Monitor.attach`) keeps the clocks on its own hot path (a
recv raises its node's clock to the one its send carries; a send carries its node's)
and calls the handlers here only for the kinds they check (request, result, execute,
and sends of replies): an event costs one call, as it did before these checks.

Size: the recorded history (`_Key`, `_Op`, `_settle`) reads the same request and
result events and the same clocks as the rest; in a module of its own it would be
handed both, event by event.
"""

from __future__ import annotations

from collections import OrderedDict
from operator import attrgetter
from typing import Any

from ...checker.conformance import Loc, Violations
from ...checker.linearizability import (CONTEXT, UNKNOWN, LinearizabilityResult, Operation,
                                        Part, check_parts, settle)
from .kv import KV, PROPERTY
from .membership import membership
from .monitor import IdSet, where

KEPT_REQUESTS = 1 << 13  # requests whose replicas' computed results are kept
KEPT_SLOTS = 1 << 12  # slots whose first result is kept until every learner executed them
EARLY_REPLIES = 1 << 12  # replies held until the run shows it logs executions
MAX_STEPS = 10_000_000  # search steps per key before KV-LINEARIZABLE is left undecided
SEGMENT = 64  # a key's operations kept before a cut is tried
CUT_STEPS = 200_000  # search steps one try may take (beyond: the key waits for a later one)
MAX_ENDS = 16  # states a settled segment may leave before a cut is given up

RULES = {
    PROPERTY: "the clients' history (request, accepted result; no result: pending) is "
              "linearizable against the key-value store of impl/kvstore.py",
    "SMR-REPLY-RESULT": "a correct replica's reply carries the result it computed when it "
                        "executed that request",
    "SMR-DETERMINISM": "every correct replica that executes a slot computes the same result",
    "SMR-REPLY-AFTER-EXECUTE": "a correct replica replies to a request only after it "
                               "executed it",
}


class _Computed:
    """What correct replicas computed for one request: the first result, who computed
    it and where, every replica that executed it (-> where), and the results that
    differ from the first (replica -> result; None while none does)."""

    __slots__ = ("key", "result", "node", "loc", "done", "odd")

    def __init__(self, key: tuple[str, int], result: str, node: str, loc: Loc) -> None:
        self.key, self.result, self.node, self.loc = key, result, node, loc
        self.done: dict[str, Loc] = {node: loc}
        self.odd: dict[str, str] | None = None


class _Key:
    """One key's client history since its last cut (module docstring, Memory): the
    operations not yet settled, in arrival order, and the states the settled ones can
    leave."""

    __slots__ = ("ops", "starts", "before", "earlier", "steps", "first", "retry", "failed")

    def __init__(self) -> None:
        self.ops: list[_Op] = []
        self.starts: list[tuple[Any, int]] | None = None  # None: the initial state
        self.before = 0  # operations settled
        self.earlier: list[Operation] = []  # the last few settled, for a report's context
        self.steps = 0  # search steps that settled them
        self.first: tuple[int, str] | None = None  # (call, id): keys report in this order
        self.retry = SEGMENT  # try a cut once this many operations are kept
        self.failed = False  # a settled segment did not linearize: keep the rest whole


class _Op:
    """One operation as recorded: the fields of an Operation that the search reads
    (`settle` takes it as one), filled in as its events come, and where they were.
    An Operation, with its events' places in words, is made only for a report."""

    __slots__ = ("id", "client", "req", "input", "call", "ret", "output", "loc", "ret_loc",
                 "log")

    def __init__(self, client: str, req: int, inp: Any, call: int, loc: Loc, log: _Key) -> None:
        self.id = f"{client}#{req}"
        self.client, self.req, self.input, self.call, self.loc = client, req, inp, call, loc
        self.ret: int | None = None
        self.output: Any = UNKNOWN
        self.ret_loc: Loc | None = None
        self.log = log

    @property
    def pending(self) -> bool:
        return self.ret is None

    def operation(self) -> Operation:
        ret = self.ret
        return Operation(self.id, self.client, self.input, self.call, ret, self.output,
                         where(self.loc), "" if ret is None else where(self.ret_loc))


_order = attrgetter("call", "id")  # the search's order: by call, ties by id


class ServiceMonitor:
    """The client-visible checks of a run (module docstring). It runs inside the
    protocol's monitor (`Monitor.attach`), which keeps `clock` on its own hot path and
    calls the handlers here for the kinds they check. `found` is shared with the
    protocol's monitor when given, so one report holds both. After `finish`, `summary`
    is the history check's figures (None when none ran) and `warnings` says why a check
    was left out."""

    def __init__(self, header: Any, found: Violations | None = None, spec: Any = KV,
                 max_steps: int | None = MAX_STEPS) -> None:
        self.found = found if found is not None else Violations()
        self.violations = self.found.items
        self.counts = self.found.counts
        self.spec = spec
        self.max_steps = max_steps
        self.correct = frozenset(header.nodes) - frozenset(header.byzantine)
        self.learners = len(frozenset(membership(header).learners) & self.correct)
        self.clients = tuple(header.clients)
        # (client, req) -> the operations not yet settled
        self.ops: dict[tuple[str, int], _Op] = {}
        self.keys: dict[Any, _Key] = {}
        self.invoked: dict[str, IdSet] = {}  # per client: the request ids seen, settled or not
        self.n_ops = 0
        self.other: str | None = None  # the first request that is no command of the store
        self.clock = dict.fromkeys((*header.nodes, *header.clients), 0)  # Lamport, per node
        logged = getattr(header, "logged", None)
        unlogged = [] if logged is None else [x for x in self.clock if x not in frozenset(logged)]
        self.unlogged = unlogged[0] if unlogged else None
        self.executed: dict[str, dict[str, IdSet]] = {r: {} for r in self.correct}
        # What replicas computed, by request (the last KEPT_REQUESTS) and by slot (until
        # every correct learner executed it); oldest first, for eviction.
        self.computed: OrderedDict[tuple[str, int], _Computed] = OrderedDict()
        self.slots: OrderedDict[Any, _Computed] = OrderedDict()
        self.executes_logged = False
        self.results_logged = False
        self.early: list[tuple[str, str, int, Loc]] = []  # replies before any execute logged
        self.summary: LinearizabilityResult | None = None
        self.warnings: list[str] = []
        self.search_steps = 0  # spent on cuts that settled nothing

    @property
    def properties(self) -> tuple[tuple[str, str], ...]:
        ids = []
        if self.summary is not None:
            ids.append(PROPERTY)
        if self.executes_logged:
            ids.append("SMR-REPLY-AFTER-EXECUTE")
        if self.results_logged:
            ids += ["SMR-REPLY-RESULT", "SMR-DETERMINISM"]
        return tuple((p, RULES[p]) for p in ids)

    # -- the client history ----------------------------------------------------------

    def on_request(self, ev: dict) -> None:
        client = ev["node"]
        t = self.clock[client] = self.clock[client] + 1
        req = ev["req"]
        ids = self.invoked.get(client)
        if ids is None:
            ids = self.invoked[client] = IdSet()
        if req == ids.low and not ids.above:
            ids.low = req + 1  # IdSet.add's common case: the next id, none above
        elif req in ids:  # issued again: the first invocation counts (one id, one op)
            return
        else:
            ids.add(req)
        self.n_ops += 1
        if self.other is not None:
            return
        inp = self.spec.parse(ev["op"])
        if inp[0] == "invalid":
            self.other = f"{client}'s request {req} {ev['op']!r} ({where(ev['_loc'])})"
            self.ops.clear()  # no history of the store: nothing to keep
            self.keys.clear()
            return
        if self.unlogged is not None:
            return  # not checked (finish): only a request of another service is looked for
        key = self.spec.key(inp)
        log = self.keys.get(key)
        if log is None:
            log = self.keys[key] = _Key()
        op = self.ops[(client, req)] = _Op(client, req, inp, t, ev["_loc"], log)
        log.ops.append(op)
        first = log.first
        # (t, op.id) < first, without building the pair: a client's clock only grows
        if first is None or t <= first[0] and (t < first[0] or op.id < first[1]):
            log.first = (t, op.id)

    def on_result(self, ev: dict) -> None:
        client = ev["node"]
        t = self.clock[client] = self.clock[client] + 1
        op = self.ops.get((client, ev["req"]))
        # No request logged (MP-VALIDITY's and the client check's business), or a
        # second result: the first one counts (an operation settled had its result).
        if op is not None and op.ret is None:
            op.output, op.ret, op.ret_loc = ev["result"], t, ev["_loc"]
            log = op.log
            if len(log.ops) >= log.retry:
                self._settle(log)

    def _settle(self, log: _Key) -> None:
        """Check and forget the key's operations that nothing can reorder any more: the
        ones before its latest quiescent point at or below the frontier (every client
        event still to come has a later clock), keeping the states they can leave."""
        kept = len(log.ops)
        log.retry = kept + max(SEGMENT, kept // 2)  # unless a cut is made: the next try
        if log.failed:
            return
        frontier = min((self.clock[c] for c in self.clients), default=0)
        ops = sorted(log.ops, key=_order)
        left = CUT_STEPS if self.max_steps is None else min(CUT_STEPS,
                                                           self.max_steps - log.steps)
        if left <= 0:
            return
        got = settle(self.spec, ops, log.starts, frontier, max_steps=left, max_ends=MAX_ENDS)
        if got.status == "fail":
            log.failed = True  # the rest is kept whole, for the report
        if got.status != "cut":
            self.search_steps += got.steps
            return
        done = ops[:got.n]
        live = self.ops
        for op in done:
            del live[(op.client, op.req)]
        log.ops = ops[got.n:]
        log.starts = got.starts
        log.before += got.n
        log.steps += got.steps
        log.earlier = sorted((*log.earlier, *(op.operation() for op in done[-CONTEXT:])),
                             key=lambda o: (o.ret, o.id))[-CONTEXT:]
        log.retry = len(log.ops) + SEGMENT

    # -- executions and replies ------------------------------------------------------

    def on_execute(self, ev: dict) -> None:
        if not self.executes_logged:
            self.executes_logged = True
            self._flush_early()
        c = ev["cmd"]
        node = ev["node"]
        mine = self.executed.get(node)
        if c is None or mine is None:  # a no-op, or a Byzantine replica
            return
        client = c["client"]
        req = c["req"]
        ids = mine.get(client)
        if ids is None:
            ids = mine[client] = IdSet()
        if req == ids.low and not ids.above:
            ids.low = req + 1  # IdSet.add's common case: the next id, none above
        else:
            ids.add(req)
        result = ev.get("result")
        if result is None:
            return
        self.results_logged = True
        key = (client, req)
        slot = ev["slot"] if "slot" in ev else ev.get("n")
        slots = self.slots
        rec = slots.get(slot)
        # Whether rec is the slot's record: only then does a differing result break
        # determinism there, and all learners' executions release the slot.
        at_slot = rec is not None and rec.key == key
        if not at_slot:  # first here (or another command: agreement's)
            rec = self.computed.get(key)
            if rec is None:
                rec = self.computed[key] = _Computed(key, result, node, ev["_loc"])
                if len(self.computed) > KEPT_REQUESTS:
                    self.computed.popitem(last=False)
                if slot not in slots:
                    slots[slot] = rec
                    if len(slots) > KEPT_SLOTS:
                        slots.popitem(last=False)
                return
        done = rec.done
        if node in done:
            return  # its own second execution: at-most-once and log checks judge it
        loc = done[node] = ev["_loc"]
        if result != rec.result:
            if rec.odd is None:
                rec.odd = {}
            rec.odd[node] = result
            if at_slot:
                self.found.add(
                    "SMR-DETERMINISM",
                    f"{node} computes {result!r} for {client}#{req} {c['op']!r} at slot {slot}, "
                    f"but {rec.node} computed {rec.result!r} there ({where(rec.loc)}): replicas "
                    "that execute one command from one state must compute one result (a "
                    "non-deterministic state machine)", loc, (rec.loc,))
        if at_slot and len(done) >= self.learners:
            del slots[slot]

    # -- replies ---------------------------------------------------------------------

    def on_reply(self, ev: dict) -> None:
        """A `send` of a reply (the protocol's monitor calls this for those only)."""
        node = ev["node"]
        if node not in self.correct:
            return
        msg = ev["msg"]
        client, req = msg["client"], msg["req"]
        ids = self.executed[node].get(client)
        # `req in ids` (IdSet.__contains__), inlined: every reply asks it
        if ids is None or not (req < ids.low or req in ids.above):
            if self.executes_logged:
                self._replied_early(node, client, req, ev["_loc"])
            elif len(self.early) < EARLY_REPLIES:
                self.early.append((node, client, req, ev["_loc"]))
            return
        rec = self.computed.get((client, req))
        if rec is None:
            return  # its computed result is forgotten, or was never logged
        loc = rec.done.get(node)  # _Computed.of, inlined: every reply asks it
        if loc is None:
            return
        odd = rec.odd
        result = odd[node] if odd is not None and node in odd else rec.result
        if result != msg["result"]:
            self.found.add("SMR-REPLY-RESULT",
                           f"{node} replies {msg['result']!r} to {client}#{req}, but it "
                           f"computed {result!r} when it executed it "
                           f"({where(loc)}): a reply carries the executed result",
                           ev["_loc"], (loc,))

    def _replied_early(self, node: str, client: str, req: int, loc: Loc) -> None:
        self.found.add("SMR-REPLY-AFTER-EXECUTE",
                       f"{node} replies to {client}#{req} before it has executed it: a "
                       "replica answers only for a command that took effect (one not yet "
                       "decided may never be)", loc)

    def _flush_early(self) -> None:
        # Until the run shows a first execute, a reply cannot be judged: the trace may
        # log no executions at all.
        for node, client, req, loc in self.early:
            self._replied_early(node, client, req, loc)
        self.early.clear()

    # -- the end of the run ----------------------------------------------------------

    def finish(self) -> None:
        self.early.clear()  # no execute in the whole run: replies are not judged
        self.slots.clear()
        self.computed.clear()
        if not self.n_ops:
            return
        if self.other is not None:
            self.warnings.append(
                f"{PROPERTY} not checked: {self.other} is not a command of the key-value "
                "store (get K, put K V, append K V); the run is of another service")
            return
        if self.unlogged is not None:
            self.warnings.append(
                f"{PROPERTY} not checked: {self.unlogged} is not logged (header `logged`), "
                "and the causal order of the clients' requests and results may run "
                "through its events")
            return
        parts = []
        for key, log in sorted(self.keys.items(), key=lambda kv: kv[1].first):
            ops = [op.operation() for op in sorted(log.ops, key=_order)]
            parts.append(Part(key, ops, log.starts, log.before,
                              ops[0].call if log.before and ops else None, log.earlier,
                              log.steps))
        self.keys.clear()
        result = check_parts(self.spec, parts, max_steps=self.max_steps)
        result.steps += self.search_steps
        self.summary = result
        if result.incomplete_keys:
            self.warnings.append(
                f"{PROPERTY} undecided on {len(result.incomplete_keys)} key(s) after "
                f"{self.max_steps:,} search steps each ({', '.join(result.incomplete_keys[:5])})")
        if result.violation is not None:
            self._report(result)
        self.ops.clear()

    def _report(self, result: LinearizabilityResult) -> None:
        """The violation at the event that completes it: the last result of the
        smallest failing sub-history; every other event of it is related."""
        v = result.violation
        events: list[tuple[float, Loc]] = []
        related: list[Loc] = []
        for o in v.operations:
            client, _, req = o.id.rpartition("#")
            op = self.ops[(client, int(req))]
            call, ret = op.loc, op.ret_loc
            related.append(call)
            if ret is not None:
                related.append(ret)
                if not o.open:
                    events.append((o.ret, ret))
        at = max(events)[1] if events else related[0]
        ops = "; ".join(_op_text(o) for o in v.operations[:8])
        more = f"; and {len(v.operations) - 8} more" if len(v.operations) > 8 else ""
        why = "" if v.explanation is None else f" Why: {v.explanation.message.rstrip('.')}"
        self.found.add(PROPERTY, f"{v.message} (intervals in Lamport time): {ops}{more}.{why}", at,
                       sorted(set(related) - {at}))


def _op_text(o: Any) -> str:
    """c0#3 put 'x' '1' -> 'ok' over [4, 9] (run.jsonl:12, run.jsonl:40)"""
    if o.output is None:
        return f"{o.id} {o.op}, no result, from {_num(o.call)} ({o.call_ref})"
    later = ", which counts as pending: it returned after the others" if o.open else ""
    return (f"{o.id} {o.op} -> {o.output} over [{_num(o.call)}, {_num(o.ret)}] "
            f"({o.call_ref}, {o.ret_ref}){later}")


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


class WithService:
    """A protocol's monitor and the service monitor as one monitor. The events go to
    the protocol's monitor alone, which runs the service's steps from its own dispatch
    (`Monitor.attach`: one call per event); the properties and violations are both
    monitors'. Anything else (a trace map's queries, such as PBFT's `committed_local`)
    is the protocol monitor's."""

    def __init__(self, protocol: Any, service: ServiceMonitor) -> None:
        self.protocol = protocol
        self.service = service
        protocol.attach(service)
        self.on_event = protocol.on_event

    @property
    def properties(self) -> tuple[tuple[str, str], ...]:
        return (*self.protocol.properties, *self.service.properties)

    @property
    def violations(self) -> list:
        if self.service.found is getattr(self.protocol, "found", None):
            return self.protocol.violations
        return [*self.protocol.violations, *self.service.violations]

    @property
    def counts(self) -> dict[str, int]:
        return {**getattr(self.protocol, "counts", {}), **self.service.counts}

    @property
    def warnings(self) -> list[str]:
        return self.service.warnings

    @property
    def summary(self) -> LinearizabilityResult | None:
        return self.service.summary

    def finish(self) -> None:
        self.protocol.finish()
        self.service.finish()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["protocol"], name)


def with_service(protocol: Any, header: Any) -> WithService:
    """The protocol's monitor with the service checks beside it, in one report."""
    return WithService(protocol, ServiceMonitor(header, getattr(protocol, "found", None)))
