"""MultiPaxos invariants over the events of a run (Lamport, "Paxos Made Simple", §2-3).

Roles follow the header (models/common/membership.py): proposers send prepare (1a) and
accept (2a), acceptors send promise (1b) and accepted (2b), learners decide. A replica
plays all three. Every quorum is the acceptors' quorum system's (`Membership.is_quorum`):
phase 1 for promises, phase 2 for the votes behind a decision.

Each check judges a node's step by that node's own past (what it sent and received
before, in its own seq order), so the verdict does not depend on how the nodes' events
are interleaved in a merged file:

- MP-PROMISE (§2.2, "an acceptor never accepts a proposal numbered below one it has
  promised"): per slot. A prepare/promise names one slot (`slot`), every slot from k
  (`from_slot`), or every slot (neither); accepting in slot s promises that ballot in
  s only. Per acceptor: a staircase of range promises (from k, ballot b; ballots rise
  with k, a few entries), and per live slot its promise there.
- MP-PROMISE-REPORT (§2.2, phase 1b: "respond with ... the proposal with the highest
  number less than n that it has accepted"): a promise lists, per slot of its range,
  the highest-ballot (ballot, value) from its acceptor's own earlier `accepted` sends
  (or an `accept` it received: it may have stored it and crashed before its 2b went
  out). Omitting a slot it accepted is a lie unless it knows the slot decided; in a
  version-1 trace whose promise names no range, omissions are not judged (replicas
  like ours run phase 1 from their first unexecuted slot without saying so).
- MP-PROPOSAL (§2.2, P2c): a proposer sends accept(b, s, v) only after it received
  promises for b covering s from a phase-1 quorum R, with v legal (`_legal`).
- MP-QUORUM-CERT, MP-AGREEMENT, MP-VALIDITY: every decide, not only a node's first.

Memory: a slot's state is kept while it is live and for RETIRED_SLOTS slots after it
is collected, which happens once every learner has decided it and every node that
executes has executed it (a run without execute events is collected by its decides).

Size: one check per MultiPaxos rule above, all reading the same per-node history
(what each node sent and received); the hot path of `on_event` is inlined for the
validator's throughput, so the rules cannot live in separate modules cheaply.
"""

from __future__ import annotations

from collections import OrderedDict

from ..common.membership import membership
from ..common.monitor import (Cmd, Header, IdSet, Monitor, cmd_key, cmd_text, smallest_quorum,
                              uniform_threshold, where)

RETIRED_SLOTS = 1 << 10  # slots still checked after every learner decided them
COLLECT_EVERY = 32  # decisions and executions between two collections
RANGE_BALLOTS = 8  # range (all-slot) ballots remembered per proposer for MP-PROPOSAL

BKey = tuple[int, int]  # (round, index of the ballot's node in `nodes`)


class _Slot:
    __slots__ = ("votes", "known", "known_more", "decided", "decided_by", "executed", "acc",
                 "offered", "promised", "p1", "proposed", "ballots", "chosen")

    def __init__(self) -> None:
        self.votes: dict[tuple, set[str]] = {}  # (learner, round, node, cmd) -> acceptors heard
        self.known: dict[str, Cmd] = {}  # node -> the first command it knows chosen
        self.known_more: set[tuple[str, Cmd]] | None = None  # (node, cmd): a second one
        self.decided: tuple[Cmd, tuple] | None = None  # first decision: (cmd, loc)
        self.decided_by: dict[str, Cmd] = {}  # node -> the command it decided first
        self.executed: tuple[Cmd, tuple] | None = None
        self.acc: dict[str, tuple[BKey, Cmd, tuple]] = {}  # acceptor -> its highest 2b sent
        self.offered: list[tuple[str, dict]] | None = None  # (acceptor, 2a) received
        # acceptor -> its promise here; None until one (a per-slot prepare is rare)
        self.promised: dict[str, tuple[BKey, tuple, str]] | None = None
        self.p1: dict[tuple[str, BKey], dict[str, tuple | None]] | None = None  # per-slot 1b heard
        self.proposed: dict[tuple[str, BKey], Cmd] | None = None  # (proposer, b) -> its 2a value
        # (ballot, cmd) -> acceptors whose 2b sends voted it; the first value chosen
        self.ballots: dict[tuple[BKey, Cmd], set[str]] | None = None
        self.chosen: tuple[BKey, Cmd, tuple] | None = None

    def promise_of(self, a: str) -> tuple[BKey, tuple, str] | None:
        """a's promise in this slot: its per-slot promise or its highest accept (which
        promises that ballot in this slot only), whichever is higher."""
        p = None if self.promised is None else self.promised.get(a)
        acc = self.acc.get(a)
        if acc is not None and (p is None or acc[0] > p[0]):
            return acc[0], acc[2], "accept"
        return p

    def knows(self, node: str, c: Cmd) -> bool:
        k = self.known.get(node, 0)
        return k == c or (k != 0 and self.known_more is not None and (node, c) in self.known_more)

    def learn(self, node: str, c: Cmd) -> None:
        k = self.known.get(node, 0)
        if k == 0:
            self.known[node] = c
        elif k != c:
            if self.known_more is None:
                self.known_more = set()
            self.known_more.add((node, c))


class _Phase1:
    """What a proposer received for one ballot's range prepares: per acceptor the first
    slot promised and the reports (slot -> (bkey, cmd)); `top` the highest slot any
    report names and `kmax` the highest first slot, so that a slot above both is
    reported by nobody and needs only the quorum check (`quorum`, cached once true)."""

    __slots__ = ("promises", "top", "kmax", "quorum")

    def __init__(self) -> None:
        self.promises: dict[str, tuple[int, dict[int, tuple[BKey, Cmd]]]] = {}
        self.top = -1
        self.kmax = 0
        self.quorum = False


def _range(msg: dict) -> tuple[int, int | None]:
    """(first slot, last slot or None for every slot above) a prepare/promise covers."""
    s = msg.get("slot")
    if s is not None:
        return s, s
    return msg.get("from_slot") or 0, None


class MultiPaxosMonitor(Monitor):
    """Query methods (for a trace map; the monitor sees each event just before it):
    `promises_received(proposer, ballot, slot=None) -> frozenset` the acceptors whose
    promises for `ballot` (covering `slot`, when given) the proposer has received;
    `accepted_by(acceptor, slot) -> (ballot, cmd) | None` its highest 2b sent there;
    `decided(node, slot) -> cmd | 0` (0: not decided, or forgotten)."""

    prefix = "MP"
    properties = (
        ("NET-AUTHENTIC", "every recv has a matching send from the node it names"),
        ("MP-AGREEMENT", "no two decisions (by two learners, or one learner twice) choose different commands in one slot"),
        ("MP-VALIDITY", "every decided command was issued by its client"),
        ("MP-LOG-PREFIX", "replicas execute slots in order and their logs agree slot by slot"),
        ("MP-AT-MOST-ONCE", "no replica applies one command twice"),
        ("MP-QUORUM-CERT", "every decision follows accepted messages from a phase-2 quorum of acceptors in one ballot"),
        ("MP-PROMISE", "an acceptor never accepts (or promises) a proposal numbered below one it promised, per slot"),
        ("MP-PROMISE-REPORT", "a promise reports, per slot, the highest-ballot proposal its acceptor accepted"),
        ("MP-PROPOSAL", "a proposer sends accept(b, s, v) only after promises for b from a phase-1 quorum, v the value they make legal (P2c)"),
        ("MP-CLIENT", "a client accepts a result only after a reply with that result"),
    )

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        m = self.members = membership(header)
        self.index = {r: i for i, r in enumerate(header.nodes)}
        self.acceptors = m.index  # acceptor -> its index in the quorum system
        self.learners = m.learners
        self.need2 = smallest_quorum(m.quorums.phase2)
        # a phase-2 quorum system where every set of need2 acceptors is a quorum
        # (majority, threshold: the common case) needs no more than a count
        self.count2 = uniform_threshold(m.quorums.phase2)
        self.strict_v2 = getattr(header, "version", 1) >= 2
        self.slots: dict[int, _Slot] = {}
        self.gone = 0  # slots below this are decided by every learner (and executed)
        self.retired: OrderedDict[int, _Slot] = OrderedDict()  # the last collected slots
        self.ranges: dict[str, list[tuple[int, BKey, tuple]]] = {}  # acceptor -> staircase
        self.low_promise: dict[str, tuple[BKey, int, tuple, str]] = {}  # forgotten slots' top
        self.p1r: dict[str, OrderedDict[BKey, _Phase1]] = {}  # proposer -> range 1b heard
        self.decided_ids: dict[str, IdSet] = {x: IdSet() for x in m.learners}
        self.watermarks = tuple(self.decided_ids.values())  # for _collect's min
        self.next_exec: dict[str, int] = {}  # nodes that execute -> next slot
        self.ticks = COLLECT_EVERY
        self.stairs_long = False  # some acceptor holds more than one range step

    # -- helpers ------------------------------------------------------------------

    def bkey(self, b: list) -> BKey:
        return (b[0], self.index.get(b[1], -1))

    def btext(self, k: BKey) -> str:
        return f"({k[0]},{self.replicas[k[1]] if 0 <= k[1] < len(self.replicas) else '?'})"

    def slot(self, i: int) -> _Slot | None:
        """Slot i's state: live, or collected but still retired, or None (forgotten)."""
        s = self.slots.get(i)
        if s is None:
            if i < self.gone:
                return self.retired.get(i)
            s = self.slots[i] = _Slot()
        return s

    def held(self, i: int) -> _Slot | None:
        """Slot i's state if it is still held (live or retired); never creates one."""
        return self.slots.get(i) if i >= self.gone else self.retired.get(i)

    def known_slots(self):
        """Every slot whose state is still held: retired, then live."""
        yield from self.retired.items()
        yield from self.slots.items()

    def in_range(self, lo: int, hi: int | None):
        """The held slots from lo to hi (every one above lo when hi is None): a
        per-slot promise (per-instance Paxos, the common case there) looks at one."""
        if hi is not None and hi - lo < 64:
            for i in range(lo, hi + 1):
                s = self.held(i)
                if s is not None:
                    yield i, s
            return
        for i, s in self.known_slots():
            if i >= lo and (hi is None or i <= hi):
                yield i, s

    def q1(self, names) -> bool:
        return self.members.is_quorum(names, 1)

    # -- queries ------------------------------------------------------------------

    def promises_received(self, proposer: str, ballot: list, slot: int | None = None) -> frozenset:
        k = self.bkey(ballot)
        p1 = self.p1r.get(proposer, {}).get(k)
        got = set() if p1 is None else {a for a, (f, _) in p1.promises.items()
                                        if slot is None or f <= slot}
        if slot is not None:
            s = self.held(slot)
            if s is not None and s.p1 is not None:
                got |= set(s.p1.get((proposer, k), ()))
        return frozenset(got)

    def accepted_by(self, acceptor: str, slot: int) -> tuple[BKey, Cmd] | None:
        s = self.held(slot)
        got = None if s is None else s.acc.get(acceptor)
        return None if got is None else (got[0], got[1])

    def decided(self, node: str, slot: int) -> Cmd | int:
        s = self.held(slot)
        return 0 if s is None else s.decided_by.get(node, 0)

    # -- the event loop -----------------------------------------------------------

    def on_event(self, ev: dict) -> None:
        # The common events take a straight path here, with the same rules as the
        # handlers below (_vote, _offered, on_decide, on_send): a recv of a 2b (counted,
        # or skipped once its learner knows that command chosen), of a 2a (kept for
        # MP-PROMISE-REPORT), a decide the node already made, a send. A recv with a
        # fault goes through Monitor.on_recv; the rare types through the handlers. Every
        # recv and send also keeps the service's Lamport clock (Monitor.attach). A 2b's
        # send carries its command key (`_ck`, from _accepted) to its recvs, so the key
        # is built once per 2b rather than once per learner.
        kind = ev["kind"]
        if kind == "recv":
            send = ev["_send"]
            node = ev["node"]
            if send is not None:
                t = send.get("_lc")
                if t is not None:
                    clock = self.clock
                    if t > clock[node]:
                        clock[node] = t
            if "_fault" in ev:
                self.on_recv(ev)
                return
            msg = send["msg"] if send is not None else ev["msg"]
            t = msg["type"]
            if t == "accepted":
                a = ev["from"]
                if a in self.acceptors:
                    i = msg["slot"]
                    s = self.slots.get(i)
                    if s is None:
                        s = self.slot(i)
                        if s is None:
                            return
                    ck = send.get("_ck", 0) if send is not None else 0
                    if ck == 0:  # a 2b whose send _accepted did not see
                        c = msg["cmd"]
                        ck = None if c is None else (c["client"], c["req"], c["op"])
                    learner = node
                    k = s.known.get(learner, 0)
                    if k == ck:
                        return
                    if k != 0 and s.known_more is not None and (learner, ck) in s.known_more:
                        return
                    b = msg["ballot"]
                    key = (learner, b[0], b[1], ck)
                    votes = s.votes
                    heard = votes.get(key)
                    if heard is None:
                        heard = votes[key] = {a}
                    else:
                        heard.add(a)
                    if len(heard) >= self.need2 and (self.count2 or self.members.is_quorum(heard, 2)):
                        if k == 0:
                            s.known[learner] = ck
                        else:
                            s.learn(learner, ck)
            elif t == "accept":
                i = msg["slot"]
                s = self.slots.get(i)
                if s is None:
                    s = self.slot(i)
                    if s is None:
                        return
                o = s.offered
                if o is None:
                    s.offered = [(node, msg)]
                else:
                    o.append((node, msg))  # keyed only when a promise needs it (rare)
            elif t == "reply":
                if node in self.clients:
                    key = (node, msg["req"])
                    if msg["client"] == node and key in self.requests:  # late replies: ignored
                        got = self.replies.get(key)
                        if got is None:
                            self.replies[key] = {ev["from"]: (msg["result"], ev["_loc"])}
                        elif ev["from"] not in got:
                            got[ev["from"]] = (msg["result"], ev["_loc"])
            elif t == "promise" or t == "decide":
                self.on_message(ev, msg, send)
            return
        if kind == "decide":
            i = ev["slot"]
            s = self.slots.get(i)
            if s is None:
                s = self.slot(i)
            c = ev["cmd"]
            ck = None if c is None else (c["client"], c["req"], c["op"])
            if s is not None:
                if s.decided_by.get(ev["node"], 0) == ck:
                    return  # decided again as before: every check gives what it gave then
                self._decided(ev, i, ck, s)
            elif not self.was_requested(ck):
                self.check_valid(ck, "MP-VALIDITY",
                                 f"{ev['node']} decides {cmd_text(ck)} in slot {i}, "
                                 "which its client never issued", ev["_loc"])
            return
        if kind == "send":
            t = self.clock[ev["node"]]
            if t:
                ev["_lc"] = t
            msg = ev["msg"]
            t = msg["type"]
            if t == "accepted":
                self._accepted(ev, msg)
            elif t == "accept":
                self._propose(ev, msg)
            elif t == "promise" or t == "prepare" or t == "decide":
                self.on_send(ev)
            elif t == "reply" and self.service is not None:
                self.service.on_reply(ev)
            return
        if kind == "execute":
            self.on_execute(ev)  # Monitor.execute_event, one call less
            if self.service is not None:
                self.service.on_execute(ev)
            return
        h = self.handlers.get(kind)
        if h is not None:
            h(ev)

    def on_message(self, ev: dict, msg: dict, send: dict | None) -> None:
        t = msg.get("type")
        if t == "accepted":
            if ev["from"] in self.acceptors:
                self._vote(ev["node"], ev["from"], msg)
        elif t == "accept":
            self._offered(ev["node"], msg)
        elif t == "promise":
            if ev["from"] in self.acceptors:
                self._promise_heard(ev["node"], ev["from"], msg)
        elif t == "decide":
            # The sender's own `decide` send is checked for its certificate where it
            # is sent; the receiver knows what it was told.
            s = self.slot(msg["slot"])
            if s is not None and ev["from"] in self.index:
                s.learn(ev["node"], cmd_key(msg["cmd"]))
        elif t == "reply":
            super().on_message(ev, msg, send)

    def on_send(self, ev: dict) -> None:
        msg = ev["msg"]
        t = msg["type"]
        node = ev["node"]
        if t == "accepted":
            self._accepted(ev, msg)
        elif t == "accept":
            self._propose(ev, msg)
        elif t == "promise":
            self._promise(ev, msg)
        elif t == "prepare":
            if node in self.acceptors and node not in ev["to"]:
                # Its own acceptor promises in the same step, without a message (the
                # model's leader, and format 1 writers that follow it).
                self._promise_heard(node, node, {**msg, "accepted": self._own_report(node, msg)})
        elif t == "decide":
            s = self.slot(msg["slot"])
            c = cmd_key(msg["cmd"])
            if s is not None and not s.knows(node, c):
                self.report("MP-QUORUM-CERT",
                            f"{node} announces {cmd_text(c)} decided in slot {msg['slot']} without "
                            f"accepted messages for it from {self.members.describe(2)} in one "
                            "ballot, nor a decide it received", ev["_loc"])

    # -- phase 2b at the learner --------------------------------------------------

    def _vote(self, learner: str, acceptor: str, msg: dict) -> None:
        """The learner hears an acceptor's 2b; a phase-2 quorum in one ballot makes it
        known chosen. Once it is, votes for that command are skipped (the hot path of a
        run); votes for another one are still counted (a broken run may choose two).
        (on_event has this inline for a recv.)"""
        i = msg["slot"]
        s = self.slots.get(i)
        if s is None:
            s = self.slot(i)
            if s is None:
                return
        self._vote_in(s, learner, acceptor, msg)

    def _vote_in(self, s: _Slot, learner: str, acceptor: str, msg: dict) -> None:
        c = msg["cmd"]
        ck = None if c is None else (c["client"], c["req"], c["op"])
        k = s.known.get(learner, 0)
        if k == ck or (k != 0 and s.knows(learner, ck)):
            return
        b = msg["ballot"]
        key = (learner, b[0], b[1], ck)
        heard = s.votes.get(key)
        if heard is None:
            heard = s.votes[key] = set()
        heard.add(acceptor)
        if len(heard) >= self.need2 and (self.count2 or self.members.is_quorum(heard, 2)):
            s.learn(learner, ck)

    def _offered(self, acceptor: str, msg: dict) -> None:
        s = self.slots.get(msg["slot"])
        if s is None:
            s = self.slot(msg["slot"])
            if s is None:
                return
        if s.offered is None:
            s.offered = []
        s.offered.append((acceptor, msg))  # keyed only when a promise needs it (rare)

    # -- the acceptor: MP-PROMISE and MP-PROMISE-REPORT ----------------------------

    def _range_promise(self, a: str, i: int) -> tuple[BKey, tuple, str] | None:
        """The highest ballot a's range promises cover slot i with."""
        for k, b, loc in reversed(self.ranges.get(a, ())):
            if k <= i:
                return b, loc, "promise"
        return None

    def promised_at(self, a: str, i: int, s: _Slot | None) -> tuple[BKey, tuple, str] | None:
        best = self._range_promise(a, i)
        mine = None if s is None else s.promise_of(a)
        if mine is not None and (best is None or mine[0] > best[0]):
            best = mine
        return best

    def _below(self, ev: dict, b: BKey, i: int | None, prev: tuple, doing: str) -> None:
        pb, ploc, what = prev
        at = f"slot {i}" if i is not None else "its range"
        self.report("MP-PROMISE",
                    f"{ev['node']} {doing} ballot {self.btext(b)} in {at} after it "
                    f"{'promised' if what == 'promise' else 'accepted'} ballot {self.btext(pb)} "
                    f"there ({where(ploc)}, a {what}): an acceptor never accepts a proposal "
                    "numbered below one it promised (Paxos Made Simple §2.2)", ev["_loc"], ploc)

    def _accepted(self, ev: dict, msg: dict) -> None:
        node = ev["node"]
        i = msg["slot"]
        s = self.slots.get(i)
        if s is None:
            s = self.slot(i)  # held from here on, whoever sent it
        if s is None or node not in self.acceptors:
            return
        bb = msg["ballot"]
        b = (bb[0], self.index.get(bb[1], -1))
        c = msg["cmd"]
        if c is not None:
            c = (c["client"], c["req"], c["op"])
        ev["_ck"] = c  # for its recvs (on_event): one key per 2b, not one per learner
        # MP-PROMISE: its promise in slot i is the highest of its range promise
        # covering i, its per-slot promise and its highest accept there; only when
        # one is above b is the exact one (promised_at) looked up, to report it
        acc = s.acc
        top = acc.get(node)  # also its promise there (promise_of)
        above = top is not None and top[0] > b
        if not above and s.promised:
            p = s.promised.get(node)
            above = p is not None and p[0] > b
        if not above:
            stairs = self.ranges.get(node)
            if stairs:
                step = stairs[-1]  # the highest step, mostly the only one
                if step[0] <= i:
                    above = step[1] > b
                else:
                    for k, rb, _ in reversed(stairs):
                        if k <= i:
                            above = rb > b
                            break
        if above:
            prev = self.promised_at(node, i, s)
            if prev is not None and prev[0] > b:
                self._below(ev, b, i, prev, "accepts")
        if top is None or b >= top[0]:
            acc[node] = (b, c, ev["_loc"])
        # MP-AGREEMENT over the acceptors' own 2b sends (Paxos.tla's Consistency): a
        # value is chosen once a phase-2 quorum voted it in one ballot, whether or not
        # a learner ever hears of it, and only one value may be chosen in a slot
        votes = s.ballots
        if votes is None:
            votes = s.ballots = {}
        vk = (b, c)
        heard = votes.get(vk)
        if heard is None:
            heard = votes[vk] = {node}
            counted = True
        elif node in heard:
            counted = False
        else:
            heard.add(node)
            counted = True
        if counted and len(heard) >= self.need2 and (self.count2 or self.members.is_quorum(heard, 2)):
            chosen = s.chosen
            if chosen is None:
                s.chosen = (b, c, ev["_loc"])
            elif chosen[1] != c:
                self._two_chosen(ev, i, chosen, node, b, c, heard)
        # a learner knows its own acceptor's vote: _vote_in, inline
        k = s.known.get(node, 0)
        if k == c or (k != 0 and s.knows(node, c)):
            return
        key = (node, bb[0], bb[1], c)
        heard = s.votes.get(key)
        if heard is None:
            heard = s.votes[key] = {node}
        else:
            heard.add(node)
        if len(heard) >= self.need2 and (self.count2 or self.members.is_quorum(heard, 2)):
            s.learn(node, c)

    def _two_chosen(self, ev: dict, i: int, chosen: tuple, a: str, b: BKey, c: Cmd,
                    heard: set[str]) -> None:
        cb, cc, cloc = chosen
        self.report("MP-AGREEMENT",
                    f"{a}'s vote makes {cmd_text(c)} chosen in slot {i} in ballot "
                    f"{self.btext(b)} (accepted by {', '.join(sorted(heard))}), but "
                    f"{cmd_text(cc)} was chosen there in ballot {self.btext(cb)} "
                    f"({where(cloc)}): only a single value may be chosen (Paxos Made "
                    "Simple §2.1)", ev["_loc"], cloc)

    def _promise(self, ev: dict, msg: dict) -> None:
        a = ev["node"]
        if a not in self.acceptors:
            return
        b = self.bkey(msg["ballot"])
        lo, hi = _range(msg)
        # MP-PROMISE: no promise below one held anywhere in the range
        worst = None
        if hi is not None:
            worst = self.promised_at(a, lo, self.slot(lo))
            at = lo
        else:
            at = None
            for k, pb, loc in self.ranges.get(a, ()):
                if worst is None or pb > worst[0]:
                    worst = (pb, loc, "promise")
            for i, s in self.known_slots():
                if i >= lo:
                    mine = s.promise_of(a)
                    if mine is not None and (worst is None or mine[0] > worst[0]):
                        worst, at = mine, i
            low = self.low_promise.get(a)
            if low is not None and lo <= low[1] and (worst is None or low[0] > worst[0]):
                worst, at = (low[0], low[2], low[3]), low[1]
        if worst is not None and worst[0] > b:
            self._below(ev, b, at, worst, "promises")
        elif hi is not None:
            s = self.slot(lo)
            if s is not None:
                if s.promised is None:
                    s.promised = {}
                s.promised[a] = (b, ev["_loc"], "promise")
        else:
            stairs = [e for e in self.ranges.get(a, ()) if e[0] < lo]
            stairs.append((lo, b, ev["_loc"]))
            self.ranges[a] = stairs
            self.stairs_long |= len(stairs) > 1
        self._check_report(ev, a, msg, lo, hi)
        if a in ev["to"]:
            self._promise_heard(a, a, msg)  # its own proposer has its promise

    def _check_report(self, ev: dict, a: str, msg: dict, lo: int, hi: int | None) -> None:
        listed: dict[int, tuple[BKey, Cmd]] = {}
        for i, vb, c in msg.get("accepted") or ():
            k, ck = self.bkey(vb), cmd_key(c)
            listed[i] = (k, ck)
            s = self.slot(i)
            if s is None:
                continue  # forgotten
            top = s.acc.get(a)
            offered = s.offered is not None and any(
                x == a and self.bkey(m["ballot"]) == k and cmd_key(m["cmd"]) == ck
                for x, m in s.offered)
            if top is not None and (k, ck) == (top[0], top[1]):
                continue
            if top is None and not offered:
                why = "it never accepted a proposal there"
            elif top is not None and (k < top[0] or (k == top[0] and ck != top[1])):
                why = (f"it had accepted {cmd_text(top[1])} in ballot {self.btext(top[0])} "
                       f"({where(top[2])})")
            elif offered:
                continue  # received that 2a, may have stored it before a crash
            else:
                why = "it never received that proposal"
            self.report("MP-PROMISE-REPORT",
                        f"{a} promises ballot {self.btext(self.bkey(msg['ballot']))} reporting "
                        f"{cmd_text(ck)} in ballot {self.btext(k)} for slot {i}, but {why}: a "
                        "promise reports the highest-ballot proposal its acceptor accepted",
                        ev["_loc"], top and top[2])
        if not (self.strict_v2 or "slot" in msg or "from_slot" in msg):
            return
        for i, s in self.in_range(lo, hi):
            if i in listed:
                continue
            top = s.acc.get(a)
            if top is not None and a not in s.decided_by and a not in s.known:
                self.report("MP-PROMISE-REPORT",
                            f"{a} promises ballot {self.btext(self.bkey(msg['ballot']))} without "
                            f"reporting slot {i}, where it had accepted {cmd_text(top[1])} in "
                            f"ballot {self.btext(top[0])} ({where(top[2])}) and does not know it "
                            "chosen (it decided it, or received a quorum's votes or a decide "
                            "for it)", ev["_loc"], top[2])

    def _own_report(self, a: str, msg: dict) -> list:
        lo, hi = _range(msg)
        return [[i, [s.acc[a][0][0], self.replicas[s.acc[a][0][1]]], _cmd(s.acc[a][1])]
                for i, s in sorted(self.in_range(lo, hi)) if a in s.acc]

    # -- the proposer: MP-PROPOSAL ------------------------------------------------

    def _promise_heard(self, p: str, a: str, msg: dict) -> None:
        b = self.bkey(msg["ballot"])
        lo, hi = _range(msg)
        reports = {i: (self.bkey(vb), cmd_key(c)) for i, vb, c in msg.get("accepted") or ()}
        if hi is not None:
            s = self.slot(lo)
            if s is not None:
                if s.p1 is None:
                    s.p1 = {}
                s.p1.setdefault((p, b), {})[a] = reports.get(lo)
            return
        mine = self.p1r.get(p)
        if mine is None:
            mine = self.p1r[p] = OrderedDict()
        p1 = mine.get(b)
        if p1 is None:
            p1 = mine[b] = _Phase1()
            if len(mine) > RANGE_BALLOTS:
                mine.popitem(last=False)
        p1.promises[a] = (lo, reports)
        p1.top = max(p1.top, max(reports, default=-1))
        p1.kmax = max(p1.kmax, lo)
        if not p1.quorum:
            p1.quorum = self.q1(p1.promises)

    def _propose(self, ev: dict, msg: dict) -> None:
        p = ev["node"]
        i = msg["slot"]
        s = self.slots.get(i)
        if s is None:
            s = self.slot(i)
            if s is None:
                return
        bb = msg["ballot"]
        b = (bb[0], self.index.get(bb[1], -1))
        c = msg["cmd"]
        c = None if c is None else (c["client"], c["req"], c["op"])
        if bb[1] != p:
            self.report("MP-PROPOSAL",
                        f"{p} sends accept {cmd_text(c)} for slot {i} in ballot "
                        f"{self.btext(b)}, which is {bb[1]}'s: each proposer draws its "
                        "proposal numbers from its own set (Paxos Made Simple §2.5), so only "
                        f"{bb[1]} proposes in it", ev["_loc"])
        key = (p, b)
        proposed = s.proposed
        if proposed is None:
            proposed = s.proposed = {}
        prev = proposed.get(key, 0)
        if prev != 0:
            if prev != c:
                self.report("MP-PROPOSAL",
                            f"{p} proposes {cmd_text(c)} in slot {i} in ballot {self.btext(b)}, "
                            f"where it proposed {cmd_text(prev)} before: one value per ballot",
                            ev["_loc"])
            return
        proposed[key] = c
        mine = self.p1r.get(p)
        p1 = None if mine is None else mine.get(b)
        own = None if s.p1 is None else s.p1.get(key)
        if own is None and p1 is not None and p1.quorum and i > p1.top and i >= p1.kmax:
            return  # the steady state: a quorum promised every slot, none reported this one
        heard: dict[str, tuple | None] = {}
        if p1 is not None:
            for a, (lo, reports) in p1.promises.items():
                if lo <= i:
                    heard[a] = reports.get(i)
        if own is not None:
            heard.update(own)
        why = self._legal(heard, c)
        if why is not None:
            self.report("MP-PROPOSAL",
                        f"{p} sends accept {cmd_text(c)} for slot {i} in ballot {self.btext(b)} "
                        f"{why} (Paxos Made Simple §2.2, P2c)", ev["_loc"])

    def _legal(self, heard: dict[str, tuple | None], c: Cmd) -> str | None:
        """None when value c is legal given the 1b reports heard for the slot (acceptor
        -> (vballot, cmd) or None); else why not. Legal iff the acceptors reporting
        nothing form a phase-1 quorum, or for some vballot vb reported with c, those
        reporting (vb, c) or below vb (nothing included) form one: exact for quorum
        systems closed under supersets."""
        if not self.q1(heard):
            got = ", ".join(sorted(heard)) or "none"
            return (f"without promises for that ballot covering the slot from "
                    f"{self.members.describe(1)} (received from: {got})")
        if self.q1([a for a, r in heard.items() if r is None]):
            return None
        for vb in {r[0] for r in heard.values() if r is not None and r[1] == c}:
            if self.q1([a for a, r in heard.items()
                        if r is None or r[0] < vb or r == (vb, c)]):
                return None
        best = max((r for r in heard.values() if r is not None), key=lambda r: r[0])
        return (f"although its promises' highest-ballot report there is {cmd_text(best[1])} in "
                f"ballot {self.btext(best[0])}: a proposer must propose that value")

    # -- the learner: decisions ---------------------------------------------------

    def _decided(self, ev: dict, slot: int, c: Cmd, s: _Slot, *, executed: bool = False) -> None:
        node = ev["node"]
        decided_by = s.decided_by
        mine = decided_by.get(node, 0)
        if mine == 0:
            decided_by[node] = c
        k = s.known.get(node, 0)
        if k != c and not (k != 0 and s.known_more is not None and (node, c) in s.known_more):
            self.report("MP-QUORUM-CERT",
                        f"{node} {'executes' if executed else 'decides'} {cmd_text(c)} in slot "
                        f"{slot} without accepted messages for it from {self.members.describe(2)} "
                        "in one ballot, nor a decide it received", ev["_loc"])
        first = s.decided
        if first is None:
            s.decided = (c, ev["_loc"])
        elif mine != 0 and mine != c:
            self.report("MP-AGREEMENT",
                        f"{node} decides {cmd_text(c)} in slot {slot}, but it decided "
                        f"{cmd_text(mine)} there before: a value once chosen is chosen for good",
                        ev["_loc"], s.decided[1])
        elif first[0] != c:
            self.report("MP-AGREEMENT",
                        f"{node} decides {cmd_text(c)} in slot {slot}, but {cmd_text(s.decided[0])} "
                        f"was decided there ({where(s.decided[1])}): two values chosen in one slot",
                        ev["_loc"], s.decided[1])
        if c is not None:
            live = self.requests.get((c[0], c[1]))  # was_requested's common case
            if (live is None or live[0] != c[2]) and not self.was_requested(c):
                self.check_valid(c, "MP-VALIDITY",
                                 f"{node} decides {cmd_text(c)} in slot {slot}, which its client "
                                 "never issued (no request event with that req and op)", ev["_loc"])
        ids = self.decided_ids.get(node)
        if ids is None:
            return
        if slot == ids.low and not ids.above:
            ids.low = slot + 1  # IdSet.add's common case: the next id, none above
        elif slot >= ids.low and slot not in ids.above:
            ids.add(slot)
        else:
            return
        self.ticks -= 1
        if self.ticks <= 0:
            self.ticks = COLLECT_EVERY
            self._collect()

    def on_decide(self, ev: dict) -> None:
        s = self.slots.get(ev["slot"])
        if s is None:
            s = self.slot(ev["slot"])
        if s is not None:
            c = cmd_key(ev["cmd"])
            if s.decided_by.get(ev["node"], 0) == c:
                return  # decided again as before: every check gives what it gave then
            self._decided(ev, ev["slot"], c, s)
        else:
            c = cmd_key(ev["cmd"])
            if not self.was_requested(c):
                self.check_valid(c, "MP-VALIDITY",
                                 f"{ev['node']} decides {cmd_text(c)} in slot {ev['slot']}, "
                                 "which its client never issued", ev["_loc"])

    def on_execute(self, ev: dict) -> None:
        node, i = ev["node"], ev["slot"]
        c = ev["cmd"]
        c = None if c is None else (c["client"], c["req"], c["op"])
        next_exec = self.next_exec
        expect = next_exec.get(node, 0)
        if i != expect:
            self.report("MP-LOG-PREFIX",
                        f"{node} executes slot {i} but its next slot is {expect}: a replica "
                        "executes its log in slot order, without gaps", ev["_loc"])
        s = self.slots.get(i)
        if s is None:
            s = self.slot(i)
        if s is not None:
            mine = s.decided_by.get(node, 0)
            if mine == c:
                pass  # decided as executed: every decide check ran at the decide
            elif mine == 0:
                self._decided(ev, i, c, s, executed=True)
            elif mine != c:
                self.report("MP-LOG-PREFIX",
                            f"{node} executes {cmd_text(c)} in slot {i}, but it decided "
                            f"{cmd_text(mine)} there", ev["_loc"])
                if not self.was_requested(c):
                    self.check_valid(c, "MP-VALIDITY",
                                     f"{node} executes {cmd_text(c)} in slot {i}, which its client "
                                     "never issued", ev["_loc"])
            done = s.executed
            if done is None:
                s.executed = (c, ev["_loc"])
            elif done[0] != c:
                self.report("MP-LOG-PREFIX",
                            f"{node} executes {cmd_text(c)} in slot {i}, but "
                            f"{cmd_text(s.executed[0])} was executed there ({where(s.executed[1])}): "
                            "executed logs diverge", ev["_loc"], s.executed[1])
        if c is not None:
            # Monitor.check_applied's common case inline: the client's next request id
            ids = self.applied[node].get(c[0])
            if ids is not None and c[1] == ids.low and not ids.above and "applied" not in ev:
                ids.low += 1
            else:
                self.check_applied(ev, c)
        if i >= expect:
            next_exec[node] = i + 1
            self.ticks -= 1
            if self.ticks <= 0:
                self.ticks = COLLECT_EVERY
                self._collect()

    def _tick(self) -> None:
        """Collect every COLLECT_EVERY decisions and executions (a slot waits a little
        longer; the cost of finding the lowest node is shared)."""
        self.ticks -= 1
        if self.ticks <= 0:
            self.ticks = COLLECT_EVERY
            self._collect()

    def _collect(self) -> None:
        """A slot every learner decided and every executing node executed is collected:
        its votes are dropped at once, the rest RETIRED_SLOTS slots later."""
        gone = low = self.gone
        watermarks = self.watermarks
        if watermarks:
            low = watermarks[0].low
            for ids in watermarks:
                if ids.low < low:
                    low = ids.low
        if self.next_exec:
            low = min(low, min(self.next_exec.values()))
        if gone >= low:
            return
        pop, retired = self.slots.pop, self.retired
        while gone < low:
            s = pop(gone, None)
            if s is not None:
                s.votes.clear()
                s.ballots = None
                s.offered = None
                retired[gone] = s
            gone += 1
        self.gone = gone
        over = len(retired) - RETIRED_SLOTS
        if over <= 0:
            return
        old = [retired.popitem(last=False) for _ in range(over)]
        if self.stairs_long:
            for i, s in old:
                self._forget(i, s)
        else:
            self._forget_all(old)

    def _forget(self, i: int, s: _Slot) -> None:
        """Slot i leaves memory: each acceptor's promise there (a per-slot promise, or
        its accept) folds into its floor, what a later promise for a range that starts
        at or below i must not go under."""
        low_promise = self.low_promise
        for a, rec in s.acc.items():  # (ballot, cmd, loc)
            low = low_promise.get(a)
            if low is None or rec[0] >= low[0]:
                low_promise[a] = (rec[0], i, rec[2], "accept")
        if s.promised:
            for a, rec in s.promised.items():  # (ballot, loc, "promise")
                low = low_promise.get(a)
                if low is None or rec[0] >= low[0]:
                    low_promise[a] = (rec[0], i, rec[1], "promise")
        if self.stairs_long:
            floor = i + 1
            self.stairs_long = False
            for a, stairs in self.ranges.items():  # a range step wholly below the floor
                while len(stairs) > 1 and stairs[1][0] <= floor:
                    k, b, loc = stairs.pop(0)
                    low = low_promise.get(a)
                    if low is None or b >= low[0]:
                        low_promise[a] = (b, stairs[0][0] - 1, loc, "promise")
                self.stairs_long |= len(stairs) > 1

    def _forget_all(self, old: list[tuple[int, _Slot]]) -> None:
        """`_forget` of each slot in `old` (in slot order) when no range step is due:
        the floor each acceptor ends with is the last of its highest-ballot records,
        so the slots are read newest first and a record is built only for a higher
        ballot (not one per acceptor per slot)."""
        best: dict[str, tuple] = {}
        for i, s in reversed(old):
            if s.promised:  # folded after the accepts of its slot: read before them here
                for a, rec in s.promised.items():
                    got = best.get(a)
                    if got is None or rec[0] > got[0]:
                        best[a] = (rec[0], i, rec[1], "promise")
            for a, rec in s.acc.items():
                got = best.get(a)
                if got is None or rec[0] > got[0]:
                    best[a] = (rec[0], i, rec[2], "accept")
        low_promise = self.low_promise
        for a, rec in best.items():
            low = low_promise.get(a)
            if low is None or rec[0] >= low[0]:
                low_promise[a] = rec

def _cmd(c: Cmd) -> dict | None:
    return None if c is None else {"client": c[0], "req": c[1], "op": c[2]}
