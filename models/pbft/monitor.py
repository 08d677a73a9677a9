"""PBFT invariants over the events of a run (Castro and Liskov, OSDI 1999, §4).

Certificates are counted through the header's quorum system (models/common/membership.py:
2f+1 for a version-1 trace, n - f for version 2, or the one declared), each by what the
replica itself received, so the verdict does not depend on how a merged file
interleaves the replicas:

- PBFT-PREPARED (§4.2): a correct replica sends COMMIT(v, n, d) only once prepared:
  it has the PRE-PREPARE for (v, n, d) from the primary of v (received, or its own as
  primary, or in a NEW-VIEW from that primary) and matching PREPAREs (received, or its
  own) from replicas that with the primary make a quorum (2f+1: the pre-prepare and 2f
  prepares).
- PBFT-COMMIT-CERT (§4.2, committed-local): every decide follows matching COMMITs from
  a quorum of distinct replicas (its own included).
- PBFT-AGREEMENT: every decide, a replica's second one included.

Memory: a number's state is kept until every correct replica has executed it, and then
for RETIRED_SEQS more numbers (retired), so that a late or second decision is still
checked against it.
"""

from __future__ import annotations

from collections import OrderedDict

from ..common.membership import membership
from ..common.monitor import (Cmd, Header, Monitor, cmd_text, smallest_quorum,
                              uniform_threshold, where)

RETIRED_SEQS = 1 << 10  # numbers still checked after every correct replica executed them


class _Seq:
    __slots__ = ("commits", "pp", "prepares", "decided", "decided_by", "executed")

    def __init__(self) -> None:
        self.commits: dict[tuple, set[str]] = {}  # (replica, view, digest) -> signers heard
        self.pp: set[tuple[str, int, str]] = set()  # (replica, view, digest): pre-prepare held
        self.prepares: dict[tuple, set[str]] = {}  # (replica, view, digest) -> senders heard
        self.decided: tuple[str, tuple] | None = None  # (digest, loc)
        self.decided_by: dict[str, str] = {}  # replica -> digest it committed first
        self.executed: tuple[Cmd, tuple] | None = None


class PbftMonitor(Monitor):
    """Query methods (for the PBFT trace map; the monitor sees each event just before
    the map does): `prepared(node, view, n, digest) -> bool` and
    `committed_local(node, view, n, digest) -> bool`, by what `node` had received
    (False for a number whose state is forgotten)."""

    prefix = "PBFT"
    properties = (
        ("NET-AUTHENTIC", "every recv has a matching send from the node it names"),
        ("PBFT-AGREEMENT", "no two commits by correct replicas (two replicas, or one twice) are of different requests at one sequence number"),
        ("PBFT-VALIDITY", "correct replicas execute only requests their client issued"),
        ("PBFT-LOG-PREFIX", "correct replicas execute 1, 2, 3, ... and agree on each"),
        ("PBFT-AT-MOST-ONCE", "no correct replica applies one request twice"),
        ("PBFT-PREPARED", "a correct replica sends COMMIT only once prepared: the PRE-PREPARE and matching PREPAREs it received make a quorum"),
        ("PBFT-COMMIT-CERT", "a correct replica commits only after matching COMMITs from a quorum of distinct replicas"),
        ("PBFT-VIEW-MONOTONE", "a correct replica never sends for a view below its own"),
        ("PBFT-CLIENT", "a client accepts a result only with f+1 matching replies"),
    )

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.f = header.f
        self.members = membership(header)
        self.need = smallest_quorum(self.members.quorums.phase2)
        self.count = uniform_threshold(self.members.quorums.phase2)  # a count decides
        self.seqs: dict[int, _Seq] = {}
        self.retired: OrderedDict[int, _Seq] = OrderedDict()
        self.gone = 1
        self.view: dict[str, tuple[int, tuple]] = {}
        self.next_exec: dict[str, int] = {r: 1 for r in self.correct}
        self.replica_set = frozenset(header.nodes)

    def replies_needed(self) -> int:
        return self.f + 1

    def primary(self, v: int) -> str:
        return self.replicas[v % len(self.replicas)]

    def seq(self, n: int) -> _Seq | None:
        s = self.seqs.get(n)
        if s is None:
            if n < self.gone:
                return self.retired.get(n)
            s = self.seqs[n] = _Seq()
        return s

    def quorum(self, names) -> bool:
        return len(names) >= self.need and (self.count or self.members.is_quorum(names, 2))

    # -- queries ------------------------------------------------------------------

    def prepared(self, node: str, view: int, n: int, digest: str) -> bool:
        s = self.seqs.get(n) if n >= self.gone else self.retired.get(n)
        if s is None or (node, view, digest) not in s.pp:
            return False
        votes = s.prepares.get((node, view, digest), set())
        return self.quorum(votes | {self.primary(view)})

    def committed_local(self, node: str, view: int, n: int, digest: str) -> bool:
        s = self.seqs.get(n) if n >= self.gone else self.retired.get(n)
        return (s is not None and self.prepared(node, view, n, digest)
                and self.quorum(s.commits.get((node, view, digest), ())))

    # -- what a replica holds -----------------------------------------------------

    def on_event(self, ev: dict) -> None:
        # Most events are recvs of PREPARE and COMMIT (the hot path): they take a
        # straight path here, with the rules of on_message (_heard, _pre_prepared, the
        # client's replies). A recv with a fault goes through Monitor.on_recv. Every
        # recv and send also keeps the service's Lamport clock (Monitor.attach).
        kind = ev["kind"]
        if kind == "recv":
            send = ev["_send"]
            if send is not None:
                t = send.get("_lc")
                if t is not None and t > self.clock[ev["node"]]:
                    self.clock[ev["node"]] = t
            if "_fault" in ev:
                self.on_recv(ev)
                return
            msg = send["msg"] if send is not None else ev["msg"]
            t = msg["type"]
            if t == "commit" or t == "prepare":
                node = ev["node"]
                signer = ev["from"]
                if node in self.correct and signer in self.replica_set:
                    n = msg["n"]
                    s = self.seqs.get(n)
                    if s is None:
                        s = self.seq(n)
                        if s is None:
                            return
                    got = s.commits if t == "commit" else s.prepares
                    key = (node, msg["view"], msg["digest"])
                    heard = got.get(key)
                    if heard is None:
                        got[key] = {signer}
                    else:
                        heard.add(signer)
            elif t == "pre-prepare":
                node = ev["node"]
                sender = ev["from"]
                if node in self.correct and sender in self.replica_set:
                    v = msg["view"]
                    if sender == self.replicas[v % len(self.replicas)]:
                        n = msg["n"]
                        s = self.seqs.get(n)
                        if s is None:
                            s = self.seq(n)
                        if s is not None:
                            s.pp.add((node, v, msg["digest"]))
            elif t == "reply":
                node = ev["node"]
                if node in self.clients:
                    key = (node, msg["req"])
                    if msg["client"] == node and key in self.requests:  # late replies: ignored
                        got = self.replies.get(key)
                        if got is None:
                            self.replies[key] = {ev["from"]: (msg["result"], ev["_loc"])}
                        elif ev["from"] not in got:
                            got[ev["from"]] = (msg["result"], ev["_loc"])
            elif t == "new-view":
                self.on_message(ev, msg, send)
            return
        if kind == "send":
            t = self.clock[ev["node"]]
            if t:
                ev["_lc"] = t
            if ev["msg"]["type"] == "reply":
                if self.service is not None:
                    self.service.on_reply(ev)
                return
            self.on_send(ev)
            return
        h = self.handlers.get(kind)
        if h is not None:
            h(ev)

    def _heard(self, table: str, replica: str, signer: str, msg: dict) -> None:
        s = self.seqs.get(msg["n"])
        if s is None:
            s = self.seq(msg["n"])
        if s is not None:
            got = s.commits if table == "commits" else s.prepares
            key = (replica, msg["view"], msg["digest"])
            heard = got.get(key)
            if heard is None:
                heard = got[key] = set()
            heard.add(signer)

    def _pre_prepared(self, replica: str, v: int, n: int, d: str) -> None:
        s = self.seq(n)
        if s is not None:
            s.pp.add((replica, v, d))

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
                self._commit(ev, msg)
            elif t == "prepare":
                n = msg["n"]
                s = self.seqs.get(n)
                if s is None:
                    s = self.seq(n)
                if s is not None:
                    key = (node, msg["view"], msg["digest"])
                    heard = s.prepares.get(key)
                    if heard is None:
                        s.prepares[key] = {node}
                    else:
                        heard.add(node)
            elif node == self.primary(msg["view"]):
                self._pre_prepared(node, msg["view"], msg["n"], msg["digest"])
        elif t in ("view-change", "new-view"):
            cur = self.view.get(node)
            if cur is not None and msg["view"] < cur[0]:
                self.report("PBFT-VIEW-MONOTONE",
                            f"{node} sends {t.upper()} for view {msg['view']} after moving to view "
                            f"{cur[0]} ({where(cur[1])}): views only grow", ev["_loc"], cur[1])
            elif cur is None or msg["view"] > cur[0]:
                self.view[node] = (msg["view"], ev["_loc"])
            if t == "new-view" and node == self.primary(msg["view"]):
                for n, d in msg["pre_prepares"]:
                    self._pre_prepared(node, msg["view"], n, d)

    def _commit(self, ev: dict, msg: dict) -> None:
        node, v, n, d = ev["node"], msg["view"], msg["n"], msg["digest"]
        s = self.seqs.get(n)
        if s is None:
            s = self.seq(n)
            if s is None:
                return
        key = (node, v, d)
        ok = False
        if key in s.pp:  # prepared(node, v, n, d), with the primary counted once
            votes = s.prepares.get(key)
            primary = self.replicas[v % len(self.replicas)]
            size = 1 if votes is None else len(votes) + (primary not in votes)
            ok = size >= self.need and (self.count or self.prepared(node, v, n, d))
        if not ok:
            pp = (node, v, d) in s.pp
            votes = s.prepares.get((node, v, d), set()) - {self.primary(v)}
            self.report("PBFT-PREPARED",
                        f"{node} sends COMMIT for digest {d} at n={n} in view {v} without being "
                        f"prepared: {'it has the' if pp else 'no'} PRE-PREPARE from {self.primary(v)}"
                        f", and matching PREPAREs from {len(votes)} other replicas "
                        f"({', '.join(sorted(votes)) or 'none'}); with the primary they must make "
                        f"a quorum ({self.members.quorums.name}) (Castro & Liskov §4.2)", ev["_loc"])
        heard = s.commits.get(key)
        if heard is None:
            s.commits[key] = {node}
        else:
            heard.add(node)

    def on_message(self, ev: dict, msg: dict, send: dict | None) -> None:
        t = msg.get("type")
        node = ev["node"]
        if t == "reply":
            super().on_message(ev, msg, send)
            return
        if node not in self.correct or ev["from"] not in self.replica_set:
            return
        if t == "commit":
            self._heard("commits", node, ev["from"], msg)
        elif t == "prepare":
            self._heard("prepares", node, ev["from"], msg)
        elif t == "pre-prepare":
            if ev["from"] == self.primary(msg["view"]):
                self._pre_prepared(node, msg["view"], msg["n"], msg["digest"])
        elif t == "new-view":
            if ev["from"] == self.primary(msg["view"]):
                for n, d in msg["pre_prepares"]:
                    self._pre_prepared(node, msg["view"], n, d)

    def on_decide(self, ev: dict) -> None:
        node = ev["node"]
        if node not in self.correct:
            return
        n, view, d = ev["n"], ev["view"], ev["digest"]
        s = self.seqs.get(n)
        if s is None:
            s = self.seq(n)
            if s is None:
                return
        mine = s.decided_by.get(node)
        if mine is None:
            s.decided_by[node] = d
        heard = s.commits.get((node, view, d), ())
        if len(heard) < self.need or not (self.count or self.members.is_quorum(heard, 2)):
            self.report("PBFT-COMMIT-CERT",
                        f"{node} commits digest {d} at n={n} in view {view} with matching COMMITs "
                        f"from {len(heard)} replicas ({', '.join(sorted(heard)) or 'none'}); it "
                        f"needs a quorum ({self.members.quorums.name})", ev["_loc"])
        if s.decided is None:
            s.decided = (d, ev["_loc"])
        elif mine is not None and mine != d:
            self.report("PBFT-AGREEMENT",
                        f"{node} commits digest {d} at n={n}, but it committed digest {mine} "
                        "there before: a committed request stays committed", ev["_loc"],
                        s.decided[1])
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
        c = ev["cmd"]
        c = None if c is None else (c["client"], c["req"], c["op"])
        expect = self.next_exec[node]
        if n != expect:
            self.report("PBFT-LOG-PREFIX",
                        f"{node} executes n={n} but its next sequence number is {expect}: "
                        "requests execute in sequence-number order, without gaps", ev["_loc"])
        s = self.seqs.get(n)
        if s is None:
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
        if c is not None:
            live = self.requests.get((c[0], c[1]))  # was_requested's common case
            if (live is None or live[0] != c[2]) and not self.was_requested(c):
                self.check_valid(c, "PBFT-VALIDITY",
                                 f"{node} executes {cmd_text(c)} at n={n}, which its client "
                                 "never issued", ev["_loc"])
        self.check_applied(ev, c)
        if n < expect:
            return  # next_exec unchanged: self.gone is already its minimum
        self.next_exec[node] = n + 1
        low = min(self.next_exec.values())
        gone = self.gone
        if gone < low:
            seqs, retired = self.seqs, self.retired
            while gone < low:
                s = seqs.pop(gone, None)
                if s is not None:
                    retired[gone] = s
                    if len(retired) > RETIRED_SEQS:
                        retired.popitem(last=False)
                gone += 1
            self.gone = gone
