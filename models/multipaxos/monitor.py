"""MultiPaxos invariants over the events of a run (Lamport, "Paxos Made Simple", §2-3)."""

from __future__ import annotations

from ..common.monitor import Cmd, Header, Monitor, cmd_key, cmd_text, where


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
