"""Safety invariants over the events of a run: what MultiPaxos and PBFT share.

Each monitor sees the merged events one at a time (`on_event`) and keeps only the
protocol's live state: per slot (or sequence number) the votes heard, what was
decided and executed, collected once every learner (correct replica) is done with it
and kept a bounded while after (retired) so that a late decision is still judged; per
client the requests without a result; per replica a watermark of the commands it
applied. So memory follows the protocol's in-flight state, not the trace's length.

Every check judges a node's step by that node's own past: what it sent and received
before, in its own seq order. Nothing depends on which other node's events a merged
file lists first, so the verdict is the same for every order of the file that keeps
each node's events in seq order (tests/traces/test_monitors.py permutes each case).
The one fact that is not a node's own, a client's `request` event, is awaited: a
decision of a command not yet requested is reported only if no request comes.

Property ids are the models' where the rule is the same (MP-AGREEMENT, PBFT-CLIENT…);
FORMAT.md lists each with its rule. A violation names the event that completes it and
the earlier events that prove it (`related`).

Papers: Lamport, "Paxos Made Simple" (2001) §2-3 for MultiPaxos; Castro and Liskov,
"Practical Byzantine Fault Tolerance" (OSDI 1999) §4 for PBFT.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from ...checker.conformance import Violations

Header = Any  # traces.format.Header, or any object with its fields

Cmd = tuple[str, int, str] | None  # (client, req, op), None for a no-op / null request


def cmd_key(c: dict | None) -> Cmd:
    return None if c is None else (c["client"], c["req"], c["op"])


def cmd_text(c: Cmd) -> str:
    return "no-op" if c is None else f"{c[0]}#{c[1]} {c[2]!r}"


def where(loc: tuple[str, int] | None) -> str:
    return "?" if loc is None else f"{loc[0].rsplit('/', 1)[-1]}:{loc[1]}"


class IdSet:
    """A set of small ints that mostly arrive in order: a watermark (every id below it
    is in) plus the few ids above it, so memory stays small however many are added."""

    __slots__ = ("low", "above")

    def __init__(self) -> None:
        self.low = 0
        self.above: set[int] = set()

    def __contains__(self, i: int) -> bool:
        return i < self.low or i in self.above

    def add(self, i: int) -> None:
        if i < self.low:
            return
        if i == self.low:
            self.low += 1
            above = self.above
            while self.low in above:
                above.discard(self.low)
                self.low += 1
        else:
            self.above.add(i)


def smallest_quorum(m: Any) -> int:
    """The size of the smallest quorum of a phase's membership (a `Threshold` or an
    `AnyOf`): a set smaller than this is no quorum, so the hot paths skip the check."""
    sets = getattr(m, "sets", None)
    if sets is not None:
        return min((len(q) for q in sets), default=0)
    total, size = 0, 0
    for w in sorted(m.weights, reverse=True):
        if total >= m.threshold:
            break
        total += w
        size += 1
    return size


def uniform_threshold(m: Any) -> bool:
    """Whether every set of `smallest_quorum(m)` members is a quorum (a threshold with
    equal weights: majority, threshold, flexible, bft), so a count decides."""
    weights = getattr(m, "weights", None)
    return weights is not None and len(set(weights)) <= 1


RETIRED_OPS = 1 << 12  # ops of finished requests kept to compare a late decision's op
UNREQUESTED = 1 << 12  # decisions awaiting their client's request event (see check_valid)


class Monitor:
    """What both protocols share: network authenticity, clients, at-most-once."""

    prefix = ""
    properties: tuple[tuple[str, str], ...] = ()

    def __init__(self, header: Header) -> None:
        self.h = header
        self.found = Violations()
        self.violations = self.found.items
        self.counts = self.found.counts
        self.replicas = tuple(header.nodes)
        self.correct = frozenset(header.nodes) - frozenset(header.byzantine)
        self.clients = frozenset(header.clients)
        logged = frozenset(header.logged) if header.logged is not None else self.clients
        self.silent_clients = self.clients - logged  # their requests are not in the trace
        self.requests: dict[tuple[str, int], tuple[str, tuple]] = {}  # -> (op, loc)
        self.requested: dict[str, IdSet] = {}  # per client: ids issued, after a result
        self.retired_ops: OrderedDict[tuple[str, int], str] = OrderedDict()
        self.replies: dict[tuple[str, int], dict[str, tuple[str, tuple]]] = {}
        self.applied: dict[str, dict[str, IdSet]] = {r: {} for r in header.nodes}
        # (client, req) -> [(op, property, message, loc)]: decided before the request
        # event was seen (see check_valid)
        self.unrequested: OrderedDict[tuple[str, int], list[tuple]] = OrderedDict()
        self.n_unrequested = 0
        # The client-service checks (models/common/service.py), once `attach`ed. Their
        # Lamport clock is kept on this monitor's hot path (recv, send) and their
        # handlers are called from its own (request, result, execute, reply sends), so
        # an event costs one call however many checks see it. Unattached, the clock is
        # kept all the same (cheaper than asking) and read by no one.
        self.service: Any = None
        self.clock = dict.fromkeys((*header.nodes, *header.clients), 0)
        self.handlers = {
            "send": self.on_send, "recv": self.on_recv, "request": self.on_request,
            "result": self.on_result, "decide": self.on_decide, "execute": self.execute_event,
        }

    def attach(self, service: Any) -> None:
        """Run `service` (a ServiceMonitor) from this monitor's dispatch. A subclass's
        `on_event` raises `clock` at every recv to the clock its send carries (`_lc`),
        stamps every send with its node's (when not 0), and hands reply sends to
        `service.on_reply`; request, result and execute events reach the service here."""
        self.service = service
        self.clock = service.clock

    def execute_event(self, ev: dict) -> None:
        """An `execute` event: the protocol's checks, then the service's."""
        self.on_execute(ev)
        service = self.service
        if service is not None:
            service.on_execute(ev)

    def report(self, prop: str, message: str, at: tuple, *related: Any) -> None:
        self.found.add(prop, message, at, related)

    def on_event(self, ev: dict) -> None:
        h = self.handlers.get(ev["kind"])
        if h is not None:
            h(ev)

    def finish(self) -> None:
        for entries in self.unrequested.values():
            for _, prop, message, loc in entries:
                self.report(prop, message, loc)
        self.unrequested.clear()

    # -- network -------------------------------------------------------------------

    def on_recv(self, ev: dict) -> None:
        fault = ev.get("_fault")
        if fault is not None:
            send = ev.get("_send")
            self.report("NET-AUTHENTIC", fault, ev["_loc"], send and send["_loc"])
            if send is None or send["node"] != ev["from"]:
                return  # a fabricated message carries no protocol meaning
        send = ev["_send"]
        msg = send["msg"] if send is not None else ev["msg"]
        self.on_message(ev, msg, send)

    def on_send(self, ev: dict) -> None:
        pass

    def on_message(self, ev: dict, msg: dict, send: dict | None) -> None:
        if msg.get("type") == "reply" and ev["node"] in self.clients:
            key = (ev["node"], msg["req"])
            if msg["client"] == ev["node"] and key in self.requests:  # late replies: ignored
                self.replies.setdefault(key, {}).setdefault(ev["from"], (msg["result"], ev["_loc"]))

    # -- clients -------------------------------------------------------------------

    def on_request(self, ev: dict) -> None:
        service = self.service
        if service is not None:
            service.on_request(ev)
        key = (ev["node"], ev["req"])
        if key not in self.requests:
            self.requests[key] = (ev["op"], ev["_loc"])
        if self.unrequested:
            waiting = self.unrequested.pop(key, None)
            if waiting is not None:
                self.n_unrequested -= len(waiting)
                for op, prop, message, loc in waiting:
                    if op != ev["op"]:
                        self.report(prop, message, loc)

    def check_valid(self, c: Cmd, prop: str, message: str, loc: tuple) -> None:
        """Validity: c was issued by its client. A client's `request` event need not
        come before a replica's decision in the file (the client may never send its
        request as a traced message, so nothing orders them): a decision of a command
        not yet requested waits for the request, and is reported at the end of the
        run if none comes (or at once when UNREQUESTED decisions are waiting). Callers
        ask `was_requested(c)` first (the message is built only for a suspect)."""
        live = self.requests.get((c[0], c[1]))
        if live is not None or c[1] in self.requested.get(c[0], ()):
            self.report(prop, message, loc)  # requested, with another op
            return
        self.unrequested.setdefault((c[0], c[1]), []).append((c[2], prop, message, loc))
        self.n_unrequested += 1
        if self.n_unrequested > UNREQUESTED:
            key, oldest = self.unrequested.popitem(last=False)
            self.n_unrequested -= len(oldest)
            for _, p, m, at in oldest:
                self.report(p, m, at)

    def was_requested(self, c: Cmd) -> bool:
        if c is None or c[0] in self.silent_clients:
            return True
        key = (c[0], c[1])
        live = self.requests.get(key)
        if live is not None:
            return live[0] == c[2]
        done = self.requested.get(c[0])
        if done is None or c[1] not in done:
            return False
        op = self.retired_ops.get(key)
        return op is None or op == c[2]

    def replies_needed(self) -> int:
        return 1

    def on_result(self, ev: dict) -> None:
        service = self.service
        if service is not None:
            service.on_result(ev)
        client, req, result = ev["node"], ev["req"], ev["result"]
        key = (client, req)
        got = self.replies.pop(key, None)
        need = self.replies_needed()
        n = 0
        if got is None:
            got = {}
        else:
            for res, _ in got.values():
                if res == result:
                    n += 1
        if n < need:
            matching = [(r, loc) for r, (res, loc) in sorted(got.items()) if res == result]
            others = ", ".join(f"{r} said {res!r}" for r, (res, _) in sorted(got.items())) or "none"
            self.report(
                f"{self.prefix}-CLIENT",
                f"{client} accepts result {result!r} for request {req} with {len(matching)} "
                f"matching repl{'y' if len(matching) == 1 else 'ies'} from distinct replicas; "
                f"it needs {need} (replies received: {others})",
                ev["_loc"], *[loc for _, loc in matching])
        live = self.requests.pop(key, None)
        if live is not None:
            ids = self.requested.get(client)
            if ids is None:
                ids = self.requested[client] = IdSet()
            if req == ids.low and not ids.above:
                ids.low = req + 1  # IdSet.add's common case: the next id, none above
            else:
                ids.add(req)
            retired = self.retired_ops
            retired[key] = live[0]
            if len(retired) > RETIRED_OPS:
                retired.popitem(last=False)

    def check_applied(self, ev: dict, c: Cmd) -> None:
        """At-most-once: a replica applies a command at most once."""
        if c is None or ev.get("applied", True) is False:
            return
        mine = self.applied[ev["node"]]
        ids = mine.get(c[0])
        if ids is None:
            ids = mine[c[0]] = IdSet()
        r = c[1]
        if r == ids.low and not ids.above:
            ids.low = r + 1  # IdSet.add's common case: the next id, none above
        elif r < ids.low or r in ids.above:
            self.report(f"{self.prefix}-AT-MOST-ONCE",
                        f"{ev['node']} applies {cmd_text(c)} a second time: a command must take "
                        "effect at most once (a duplicate is logged with \"applied\": false)",
                        ev["_loc"])
        else:
            ids.add(c[1])

    def on_decide(self, ev: dict) -> None:
        pass

    def on_execute(self, ev: dict) -> None:
        pass
