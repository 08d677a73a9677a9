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
  (models/common/kv.py). Checked once, at the end of the run, by
  checker/linearizability.py, key by key. A run whose requests are not all commands
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

Memory: the history is kept whole (linearizability needs every operation); the rest
follows the run's live requests. Per replica and client the executed request ids are
a watermark plus the few above it; the computed results of the last KEPT_REQUESTS
requests and of the last KEPT_SLOTS slots not yet executed by every correct learner
are kept; older ones are forgotten, and a reply or an execution that late is checked
for having executed, not for its result. A message's clock is kept for the next
CLOCKED_SENDS to 2 x CLOCKED_SENDS sends: one received later than that does not
raise its receiver's clock (the chain through it is lost: a lost precedence could
only fail a correct run whose one causal chain ran through so late a message).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ...checker.conformance import Loc, Violations
from ...checker.linearizability import HistoryBuilder, LinearizabilityResult, check
from .kv import KV, PROPERTY
from .membership import membership
from .monitor import IdSet, where

KEPT_REQUESTS = 1 << 13  # requests whose replicas' computed results are kept
KEPT_SLOTS = 1 << 12  # slots whose first result is kept until every learner executed them
EARLY_REPLIES = 1 << 12  # replies held until the run shows it logs executions
MAX_STEPS = 10_000_000  # search steps per key before KV-LINEARIZABLE is left undecided
CLOCKED_SENDS = 1 << 15  # sends whose Lamport clock is kept (two generations of this many)

RULES = {
    PROPERTY: "the clients' history (request, accepted result; no result: pending) is "
              "linearizable against the key-value store of impl/kvstore.py",
    "SMR-REPLY-RESULT": "a correct replica's reply carries the result it computed when it "
                        "executed that request",
    "SMR-DETERMINISM": "every correct replica that executes a slot computes the same result",
    "SMR-REPLY-AFTER-EXECUTE": "a correct replica replies to a request only after it "
                               "executed it",
}


class _Slot:
    __slots__ = ("cmd", "result", "node", "loc", "done")

    def __init__(self, cmd: tuple, result: str, node: str, loc: Loc) -> None:
        self.cmd, self.result, self.node, self.loc = cmd, result, node, loc
        self.done = {node}


class ServiceMonitor:
    """The client-visible checks of a run (module docstring). `found` is shared with
    the protocol's monitor when given, so one report holds both. After `finish`,
    `summary` is the history check's figures (None when none ran) and `warnings` says
    why a check was left out."""

    def __init__(self, header: Any, found: Violations | None = None, spec: Any = KV,
                 max_steps: int | None = MAX_STEPS) -> None:
        self.found = found if found is not None else Violations()
        self.violations = self.found.items
        self.counts = self.found.counts
        self.spec = spec
        self.max_steps = max_steps
        self.correct = frozenset(header.nodes) - frozenset(header.byzantine)
        self.learners = len(frozenset(membership(header).learners) & self.correct)
        self.history = HistoryBuilder()
        self.locs: dict[str, list] = {}  # op id -> [request loc, result loc or None]
        self.clock = dict.fromkeys((*header.nodes, *header.clients), 0)  # Lamport, per node
        self.sent: dict[str, int] = {}  # msg_id -> its sender's clock (when above 0)
        self.sent_before: dict[str, int] = {}  # the previous generation of `sent`
        self.not_kv: tuple[str, Loc] | None = None  # a request the store does not know
        logged = getattr(header, "logged", None)
        unlogged = [] if logged is None else [x for x in self.clock if x not in frozenset(logged)]
        self.unlogged = unlogged[0] if unlogged else None
        self.executed: dict[str, dict[str, IdSet]] = {}  # replica -> client -> ids executed
        self.results: OrderedDict[tuple[str, int], dict[str, tuple[str, Loc]]] = OrderedDict()
        self.slots: dict[Any, _Slot] = {}
        self.executes_logged = False
        self.results_logged = False
        self.early: list[tuple[str, str, int, Loc]] = []  # replies before any execute logged
        self.summary: LinearizabilityResult | None = None
        self.warnings: list[str] = []
        self.handlers: dict[str, Callable[[dict], None]] = {
            "request": self.on_request, "result": self.on_result,
            "execute": self.on_execute, "send": self.on_send, "recv": self.on_recv}

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

    def on_event(self, ev: dict) -> None:
        h = self.handlers.get(ev["kind"])
        if h is not None:
            h(ev)

    # -- the client history ----------------------------------------------------------

    def on_request(self, ev: dict) -> None:
        client, op = ev["node"], ev["op"]
        t = self.clock[client] = self.clock[client] + 1
        op_id = f"{client}#{ev['req']}"
        if op_id in self.locs:
            return  # issued again: the first invocation counts (at most once per id)
        inp = self.spec.parse(op)
        if inp[0] == "invalid" and self.not_kv is None:
            self.not_kv = (f"{client}'s request {ev['req']} {op!r}", ev["_loc"])
        loc = ev["_loc"]
        self.locs[op_id] = [loc, None]
        self.history.invoke(op_id, client, inp, t, ref=where(loc))

    def on_result(self, ev: dict) -> None:
        client = ev["node"]
        t = self.clock[client] = self.clock[client] + 1
        op_id = f"{client}#{ev['req']}"
        locs = self.locs.get(op_id)
        if locs is None or locs[1] is not None:
            # No request logged (MP-VALIDITY's and the client check's business), or a
            # second result: the first one counts.
            return
        locs[1] = ev["_loc"]
        self.history.complete(op_id, ev["result"], t, ref=where(ev["_loc"]))

    # -- executions and replies ------------------------------------------------------

    def on_execute(self, ev: dict) -> None:
        if not self.executes_logged:
            self.executes_logged = True
            self._flush_early()
        node, c = ev["node"], ev["cmd"]
        if c is None or node not in self.correct:
            return
        client, req = c["client"], c["req"]
        mine = self.executed.get(node)
        if mine is None:
            mine = self.executed[node] = {}
        ids = mine.get(client)
        if ids is None:
            ids = mine[client] = IdSet()
        ids.add(req)
        result = ev.get("result")
        if result is None:
            return
        self.results_logged = True
        loc = ev["_loc"]
        key = (client, req)
        per = self.results.get(key)
        if per is None:
            per = self.results[key] = {}
            if len(self.results) > KEPT_REQUESTS:
                self.results.popitem(last=False)
        per.setdefault(node, (result, loc))
        self._same_result(ev, (client, req, c["op"]), result, node, loc)

    def _same_result(self, ev: dict, cmd: tuple, result: str, node: str, loc: Loc) -> None:
        slot = ev["slot"] if "slot" in ev else ev.get("n")
        s = self.slots.get(slot)
        if s is None:
            self.slots[slot] = _Slot(cmd, result, node, loc)
            if len(self.slots) > KEPT_SLOTS:
                del self.slots[next(iter(self.slots))]
            return
        if node in s.done:
            return  # its own second execution: at-most-once and log checks judge it
        s.done.add(node)
        if s.cmd == cmd and s.result != result:
            # Another command there is the protocol's agreement violation, not this one.
            self.found.add("SMR-DETERMINISM",
                           f"{node} computes {result!r} for {_cmd(cmd)} at slot {slot}, but "
                           f"{s.node} computed {s.result!r} there ({where(s.loc)}): replicas "
                           "that execute one command from one state must compute one result "
                           "(a non-deterministic state machine)", loc, (s.loc,))
        if len(s.done) >= self.learners:
            del self.slots[slot]

    # -- the clocks ------------------------------------------------------------------

    def on_send(self, ev: dict) -> None:
        node = ev["node"]
        t = self.clock[node]
        if t:
            sent = self.sent
            sent[ev["msg_id"]] = t
            if len(sent) > CLOCKED_SENDS:
                self.sent_before, self.sent = sent, {}
        msg = ev["msg"]
        if msg["type"] == "reply" and node in self.correct:
            self._reply(ev, node, msg)

    def on_recv(self, ev: dict) -> None:
        msg_id = ev["msg_id"]
        t = self.sent.get(msg_id)
        if t is None:
            t = self.sent_before.get(msg_id)
            if t is None:
                return  # sent before any client event, unlogged, or forgotten
        node = ev["node"]
        if t > self.clock[node]:
            self.clock[node] = t

    # -- replies ---------------------------------------------------------------------

    def _reply(self, ev: dict, node: str, msg: dict) -> None:
        client, req = msg["client"], msg["req"]
        ids = self.executed.get(node, {}).get(client)
        if ids is None or req not in ids:
            if self.executes_logged:
                self._replied_early(node, client, req, ev["_loc"])
            elif len(self.early) < EARLY_REPLIES:
                self.early.append((node, client, req, ev["_loc"]))
            return
        got = self.results.get((client, req))
        computed = None if got is None else got.get(node)
        if computed is not None and computed[0] != msg["result"]:
            self.found.add("SMR-REPLY-RESULT",
                           f"{node} replies {msg['result']!r} to {client}#{req}, but it "
                           f"computed {computed[0]!r} when it executed it "
                           f"({where(computed[1])}): a reply carries the executed result",
                           ev["_loc"], (computed[1],))

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
        self.results.clear()
        self.sent.clear()
        self.sent_before.clear()
        ops = self.history.operations()
        self.history = HistoryBuilder()
        if not ops:
            return
        if self.not_kv is not None:
            what, loc = self.not_kv
            self.warnings.append(
                f"{PROPERTY} not checked: {what} ({where(loc)}) is not a command of the "
                "key-value store (get K, put K V, append K V); the run is of another service")
            return
        if self.unlogged is not None:
            self.warnings.append(
                f"{PROPERTY} not checked: {self.unlogged} is not logged (header `logged`), "
                "and the causal order of the clients' requests and results may run "
                "through its events")
            return
        result = check(self.spec, ops, max_steps=self.max_steps)
        self.summary = result
        if result.incomplete_keys:
            self.warnings.append(
                f"{PROPERTY} undecided on {len(result.incomplete_keys)} key(s) after "
                f"{self.max_steps:,} search steps each ({', '.join(result.incomplete_keys[:5])})")
        if result.violation is not None:
            self._report(result)
        self.locs.clear()

    def _report(self, result: LinearizabilityResult) -> None:
        """The violation at the event that completes it: the last result of the
        smallest failing sub-history; every other event of it is related."""
        v = result.violation
        events: list[tuple[float, Loc]] = []
        related: list[Loc] = []
        for o in v.operations:
            call, ret = self.locs[o.id]
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


def _cmd(c: tuple) -> str:
    return f"{c[0]}#{c[1]} {c[2]!r}"


class WithService:
    """A protocol's monitor and the service monitor as one monitor: each event goes
    to the protocol's first, then (only its kinds) to the service's; the properties
    and violations are both monitors'. Anything else (a trace map's queries, such as
    PBFT's `committed_local`) is the protocol monitor's."""

    def __init__(self, protocol: Any, service: ServiceMonitor) -> None:
        self.protocol = protocol
        self.service = service
        step = protocol.on_event
        handlers = service.handlers

        # One closure, no bound-method lookups: it runs once per event of the run.
        def on_event(ev: dict) -> None:
            step(ev)
            h = handlers.get(ev["kind"])
            if h is not None:
                h(ev)

        self.on_event = on_event

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
