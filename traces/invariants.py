"""Safety invariants over the events of a run, for MultiPaxos and for PBFT.

Each monitor sees the merged events one at a time (`on_event`) and keeps only the
protocol's live state: per slot (or sequence number) the votes heard, what was
decided and executed, dropped once every correct replica has executed it; per client
the requests without a result; per replica a watermark of the commands it applied.
So memory follows the protocol's in-flight state, not the trace's length.

Property ids are the models' where the rule is the same (MP-AGREEMENT, PBFT-CLIENT…);
FORMAT.md lists each with its rule. A violation names the event that completes it and
the earlier events that prove it (`related`).

Papers: Lamport, "Paxos Made Simple" (2001) §2-3 for MultiPaxos; Castro and Liskov,
"Practical Byzantine Fault Tolerance" (OSDI 1999) §4 for PBFT.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from ..checker.validate import Violations
from .format import Header

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


RETIRED_OPS = 1 << 12  # ops of finished requests kept to compare a late decision's op


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
        self.handlers = {
            "send": self.on_send, "recv": self.on_recv, "request": self.on_request,
            "result": self.on_result, "decide": self.on_decide, "execute": self.on_execute,
        }

    def report(self, prop: str, message: str, at: tuple, *related: Any) -> None:
        self.found.add(prop, message, at, related)

    def on_event(self, ev: dict) -> None:
        h = self.handlers.get(ev["kind"])
        if h is not None:
            h(ev)

    def finish(self) -> None:
        pass

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
        key = (ev["node"], ev["req"])
        if key not in self.requests:
            self.requests[key] = (ev["op"], ev["_loc"])

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
        client, req, result = ev["node"], ev["req"], ev["result"]
        key = (client, req)
        got = self.replies.pop(key, {})
        matching = [(r, loc) for r, (res, loc) in sorted(got.items()) if res == result]
        need = self.replies_needed()
        if len(matching) < need:
            others = ", ".join(f"{r} said {res!r}" for r, (res, _) in sorted(got.items())) or "none"
            self.report(
                f"{self.prefix}-CLIENT",
                f"{client} accepts result {result!r} for request {req} with {len(matching)} "
                f"matching repl{'y' if len(matching) == 1 else 'ies'} from distinct replicas; "
                f"it needs {need} (replies received: {others})",
                ev["_loc"], *[loc for _, loc in matching])
        live = self.requests.pop(key, None)
        if live is not None:
            self.requested.setdefault(client, IdSet()).add(req)
            self.retired_ops[key] = live[0]
            if len(self.retired_ops) > RETIRED_OPS:
                self.retired_ops.popitem(last=False)

    def check_applied(self, ev: dict, c: Cmd) -> None:
        """At-most-once: a replica applies a command at most once."""
        if c is None or ev.get("applied", True) is False:
            return
        ids = self.applied[ev["node"]].setdefault(c[0], IdSet())
        if c[1] in ids:
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


# -- MultiPaxos -------------------------------------------------------------------------


class _Slot:
    __slots__ = ("votes", "known", "decided", "decided_by", "executed", "executed_by")

    def __init__(self) -> None:
        self.votes: dict[tuple, set[str]] = {}  # (learner, ballot key, cmd) -> acceptors heard
        self.known: dict[str, Cmd] = {}  # learner -> the command it knows chosen
        self.decided: tuple[Cmd, tuple] | None = None  # first decision: (cmd, loc)
        self.decided_by: dict[str, Cmd] = {}  # replica -> the command it decided
        self.executed: tuple[Cmd, tuple] | None = None
        self.executed_by: int = 0


class MultiPaxosMonitor(Monitor):
    prefix = "MP"
    properties = (
        ("NET-AUTHENTIC", "every recv has a matching send from the node it names"),
        ("MP-AGREEMENT", "no two replicas decide different commands in one slot"),
        ("MP-VALIDITY", "every decided command was issued by its client"),
        ("MP-LOG-PREFIX", "replicas execute slots in order and their logs agree slot by slot"),
        ("MP-AT-MOST-ONCE", "no replica applies one command twice"),
        ("MP-QUORUM-CERT", "a decision follows accepted messages from a majority in one ballot"),
        ("MP-PROMISE", "an acceptor never promises or accepts below a ballot it promised"),
        ("MP-CLIENT", "a client accepts a result only after a reply with that result"),
    )

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.index = {r: i for i, r in enumerate(header.nodes)}
        self.quorum = len(header.nodes) // 2 + 1
        self.slots: dict[int, _Slot] = {}
        self.gone = 0  # slots below this are executed by every replica, forgotten
        self.promised: dict[str, tuple[tuple[int, int], tuple]] = {}  # -> (ballot key, loc)
        self.next_exec: dict[str, int] = {r: 0 for r in header.nodes}

    def bkey(self, b: list) -> tuple[int, int]:
        return (b[0], self.index.get(b[1], -1))

    def slot(self, i: int) -> _Slot | None:
        s = self.slots.get(i)
        if s is None:
            if i < self.gone:
                return None
            s = self.slots[i] = _Slot()
        return s

    # phase 1b / 2b at the acceptor: never below the promise (Paxos Made Simple §2.2)
    def _promise(self, ev: dict, b: list, what: str) -> None:
        node = ev["node"]
        k = self.bkey(b)
        prev = self.promised.get(node)
        if prev is not None and k < prev[0]:
            self.report("MP-PROMISE",
                        f"{node} {what} in ballot ({b[0]},{b[1]}) after promising ballot "
                        f"({prev[0][0]},{self.replicas[prev[0][1]]}): an acceptor must ignore "
                        "lower ballots once it has promised", ev["_loc"], prev[1])
        elif prev is None or k > prev[0]:
            self.promised[node] = (k, ev["_loc"])

    def _vote(self, learner: str, acceptor: str, msg: dict) -> None:
        """The learner hears an acceptor's 2b; a majority in one ballot makes it known
        chosen. Votes are kept only until then (the hot path of a run)."""
        i = msg["slot"]
        s = self.slots.get(i)
        if s is None:
            s = self.slot(i)
            if s is None:
                return
        if learner in s.known:
            return
        c = msg["cmd"]
        ck = None if c is None else (c["client"], c["req"], c["op"])
        b = msg["ballot"]
        key = (learner, b[0], b[1], ck)
        heard = s.votes.get(key)
        if heard is None:
            heard = s.votes[key] = set()
        heard.add(acceptor)
        if len(heard) >= self.quorum:
            s.known[learner] = ck

    def on_event(self, ev: dict) -> None:
        # Half of a run's events are recvs, most of them 2b votes: they skip the
        # handler table. A recv with a fault goes through Monitor.on_recv.
        if ev["kind"] == "recv" and "_fault" not in ev:
            send = ev["_send"]
            msg = send["msg"] if send is not None else ev["msg"]
            if msg["type"] == "accepted":
                if ev["from"] in self.index:
                    self._vote(ev["node"], ev["from"], msg)
            else:
                self.on_message(ev, msg, send)
            return
        h = self.handlers.get(ev["kind"])
        if h is not None:
            h(ev)

    def on_send(self, ev: dict) -> None:
        msg = ev["msg"]
        t = msg["type"]
        node = ev["node"]
        if t == "accepted":
            self._promise(ev, msg["ballot"], "accepts")
            self._vote(node, node, msg)  # a learner knows its own acceptor's vote
        elif t == "promise":
            self._promise(ev, msg["ballot"], "promises")
        elif t == "decide":
            s = self.slot(msg["slot"])
            c = cmd_key(msg["cmd"])
            if s is not None and s.known.get(node, 0) != c:
                self.report("MP-QUORUM-CERT",
                            f"{node} announces {cmd_text(c)} decided in slot {msg['slot']} without "
                            f"accepted messages from a majority ({self.quorum}) in one ballot",
                            ev["_loc"])

    def on_message(self, ev: dict, msg: dict, send: dict | None) -> None:
        t = msg.get("type")
        if t == "accepted":
            if ev["from"] in self.index:
                self._vote(ev["node"], ev["from"], msg)
        elif t == "decide":
            s = self.slot(msg["slot"])
            sender = ev["from"]
            c = cmd_key(msg["cmd"])
            if s is not None and sender in self.index and s.known.get(sender, 0) == c:
                s.known.setdefault(ev["node"], c)
        elif t == "reply":
            super().on_message(ev, msg, send)

    def _decided(self, ev: dict, slot: int, c: Cmd, s: _Slot) -> None:
        node = ev["node"]
        s.decided_by[node] = c
        if s.known.get(node, 0) != c:
            self.report("MP-QUORUM-CERT",
                        f"{node} decides {cmd_text(c)} in slot {slot} without accepted messages "
                        f"for it from a majority ({self.quorum}) in one ballot, nor a decide "
                        "from a replica that had them", ev["_loc"])
        if s.decided is None:
            s.decided = (c, ev["_loc"])
        elif s.decided[0] != c:
            self.report("MP-AGREEMENT",
                        f"{node} decides {cmd_text(c)} in slot {slot}, but {cmd_text(s.decided[0])} "
                        f"was decided there ({where(s.decided[1])}): two values chosen in one slot",
                        ev["_loc"], s.decided[1])
        if not self.was_requested(c):
            self.report("MP-VALIDITY",
                        f"{node} decides {cmd_text(c)} in slot {slot}, which its client never "
                        "issued (no request event with that req and op)", ev["_loc"])

    def on_decide(self, ev: dict) -> None:
        s = self.slot(ev["slot"])
        if s is not None and ev["node"] not in s.decided_by:
            self._decided(ev, ev["slot"], cmd_key(ev["cmd"]), s)

    def on_execute(self, ev: dict) -> None:
        node, i = ev["node"], ev["slot"]
        c = cmd_key(ev["cmd"])
        expect = self.next_exec[node] if node in self.next_exec else None
        if expect is None:
            return
        if i != expect:
            self.report("MP-LOG-PREFIX",
                        f"{node} executes slot {i} but its next slot is {expect}: a replica "
                        "executes its log in slot order, without gaps", ev["_loc"])
        s = self.slot(i)
        if s is not None:
            mine = s.decided_by.get(node, 0)
            if mine == 0:
                self._decided(ev, i, c, s)
            elif mine != c:
                self.report("MP-LOG-PREFIX",
                            f"{node} executes {cmd_text(c)} in slot {i}, but it decided "
                            f"{cmd_text(mine)} there", ev["_loc"])
                if not self.was_requested(c):
                    self.report("MP-VALIDITY",
                                f"{node} executes {cmd_text(c)} in slot {i}, which its client "
                                "never issued", ev["_loc"])
            if s.executed is None:
                s.executed = (c, ev["_loc"])
            elif s.executed[0] != c:
                self.report("MP-LOG-PREFIX",
                            f"{node} executes {cmd_text(c)} in slot {i}, but "
                            f"{cmd_text(s.executed[0])} was executed there ({where(s.executed[1])}): "
                            "executed logs diverge", ev["_loc"], s.executed[1])
            s.executed_by += 1
        self.check_applied(ev, c)
        if i >= expect:
            self.next_exec[node] = i + 1
        self._collect()

    def _collect(self) -> None:
        low = min(self.next_exec.values())
        while self.gone < low:
            self.slots.pop(self.gone, None)
            self.gone += 1


# -- PBFT -------------------------------------------------------------------------------


class _Seq:
    __slots__ = ("commits", "decided", "decided_by", "executed", "executed_by")

    def __init__(self) -> None:
        self.commits: dict[tuple, set[str]] = {}  # (replica, view, digest) -> signers heard
        self.decided: tuple[str, tuple] | None = None  # (digest, loc)
        self.decided_by: dict[str, str] = {}  # replica -> digest it committed
        self.executed: tuple[Cmd, tuple] | None = None
        self.executed_by = 0


class PbftMonitor(Monitor):
    prefix = "PBFT"
    properties = (
        ("NET-AUTHENTIC", "every recv has a matching send from the node it names"),
        ("PBFT-AGREEMENT", "no two correct replicas commit different requests at one sequence number"),
        ("PBFT-VALIDITY", "correct replicas execute only requests their client issued"),
        ("PBFT-LOG-PREFIX", "correct replicas execute 1, 2, 3, ... and agree on each"),
        ("PBFT-AT-MOST-ONCE", "no correct replica applies one request twice"),
        ("PBFT-COMMIT-CERT", "a commit follows 2f+1 matching COMMITs from distinct replicas"),
        ("PBFT-VIEW-MONOTONE", "a correct replica never sends for a view below its own"),
        ("PBFT-CLIENT", "a client accepts a result only with f+1 matching replies"),
    )

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.f = header.f
        self.quorum = 2 * header.f + 1
        self.seqs: dict[int, _Seq] = {}
        self.gone = 1
        self.view: dict[str, tuple[int, tuple]] = {}
        self.next_exec: dict[str, int] = {r: 1 for r in self.correct}
        self.replica_set = frozenset(header.nodes)

    def replies_needed(self) -> int:
        return self.f + 1

    def seq(self, n: int) -> _Seq | None:
        s = self.seqs.get(n)
        if s is None:
            if n < self.gone:
                return None
            s = self.seqs[n] = _Seq()
        return s

    def _commit_heard(self, replica: str, signer: str, msg: dict) -> None:
        s = self.seq(msg["n"])
        if s is not None:
            key = (replica, msg["view"], msg["digest"])
            heard = s.commits.get(key)
            if heard is None:
                heard = s.commits[key] = set()
            heard.add(signer)

    def on_send(self, ev: dict) -> None:
        node = ev["node"]
        if node not in self.correct:
            return
        msg = ev["msg"]
        t = msg["type"]
        if t in ("pre-prepare", "prepare", "commit"):
            cur = self.view.get(node)
            if cur is not None and msg["view"] < cur[0]:
                self.report("PBFT-VIEW-MONOTONE",
                            f"{node} sends {t.upper()} for view {msg['view']} after moving to view "
                            f"{cur[0]} ({where(cur[1])}): a replica only sends for its current view",
                            ev["_loc"], cur[1])
            elif cur is None or msg["view"] > cur[0]:
                self.view[node] = (msg["view"], ev["_loc"])
            if t == "commit":
                self._commit_heard(node, node, msg)
        elif t in ("view-change", "new-view"):
            cur = self.view.get(node)
            if cur is not None and msg["view"] < cur[0]:
                self.report("PBFT-VIEW-MONOTONE",
                            f"{node} sends {t.upper()} for view {msg['view']} after moving to view "
                            f"{cur[0]} ({where(cur[1])}): views only grow", ev["_loc"], cur[1])
            elif cur is None or msg["view"] > cur[0]:
                self.view[node] = (msg["view"], ev["_loc"])

    def on_message(self, ev: dict, msg: dict, send: dict | None) -> None:
        t = msg.get("type")
        if t == "commit":
            if ev["node"] in self.correct and ev["from"] in self.replica_set:
                self._commit_heard(ev["node"], ev["from"], msg)
        elif t == "reply":
            super().on_message(ev, msg, send)

    def on_decide(self, ev: dict) -> None:
        node = ev["node"]
        if node not in self.correct:
            return
        n, view, d = ev["n"], ev["view"], ev["digest"]
        s = self.seq(n)
        if s is None or node in s.decided_by:
            return
        s.decided_by[node] = d
        heard = s.commits.get((node, view, d), ())
        if len(heard) < self.quorum:
            self.report("PBFT-COMMIT-CERT",
                        f"{node} commits digest {d} at n={n} in view {view} with matching COMMITs "
                        f"from {len(heard)} replicas ({', '.join(sorted(heard)) or 'none'}); it "
                        f"needs 2f+1 = {self.quorum}", ev["_loc"])
        if s.decided is None:
            s.decided = (d, ev["_loc"])
        elif s.decided[0] != d:
            self.report("PBFT-AGREEMENT",
                        f"{node} commits digest {d} at n={n}, but digest {s.decided[0]} was "
                        f"committed there ({where(s.decided[1])}): two requests at one sequence "
                        "number", ev["_loc"], s.decided[1])

    def on_execute(self, ev: dict) -> None:
        node = ev["node"]
        if node not in self.correct:
            return
        n = ev["n"]
        c = cmd_key(ev["cmd"])
        expect = self.next_exec[node]
        if n != expect:
            self.report("PBFT-LOG-PREFIX",
                        f"{node} executes n={n} but its next sequence number is {expect}: "
                        "requests execute in sequence-number order, without gaps", ev["_loc"])
        s = self.seq(n)
        if s is not None:
            mine = s.decided_by.get(node)
            if mine is None:
                self.report("PBFT-COMMIT-CERT",
                            f"{node} executes n={n} without having committed it (no decide event)",
                            ev["_loc"])
            elif mine != ev["digest"]:
                self.report("PBFT-AGREEMENT",
                            f"{node} executes digest {ev['digest']} at n={n} but committed {mine}",
                            ev["_loc"])
            if s.executed is None:
                s.executed = (c, ev["_loc"])
            elif s.executed[0] != c:
                self.report("PBFT-LOG-PREFIX",
                            f"{node} executes {cmd_text(c)} at n={n}, but {cmd_text(s.executed[0])} "
                            f"was executed there ({where(s.executed[1])}): executed logs diverge",
                            ev["_loc"], s.executed[1])
        if not self.was_requested(c):
            self.report("PBFT-VALIDITY",
                        f"{node} executes {cmd_text(c)} at n={n}, which its client never issued",
                        ev["_loc"])
        self.check_applied(ev, c)
        if n >= expect:
            self.next_exec[node] = n + 1
        low = min(self.next_exec.values()) if self.next_exec else self.gone
        while self.gone < low:
            self.seqs.pop(self.gone, None)
            self.gone += 1


MONITORS = {"multipaxos": MultiPaxosMonitor, "pbft": PbftMonitor}


def monitor_for(header: Header) -> Monitor:
    return MONITORS[header.protocol](header)
