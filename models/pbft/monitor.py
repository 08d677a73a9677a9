"""PBFT invariants over the events of a run (Castro and Liskov, OSDI 1999, §4)."""

from __future__ import annotations

from ..common.monitor import Cmd, Header, Monitor, cmd_key, cmd_text, where


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
        self.check_valid(c, "PBFT-VALIDITY",
                         f"{node} executes {cmd_text(c)} at n={n}, which its client never issued",
                         ev["_loc"])
        self.check_applied(ev, c)
        if n >= expect:
            self.next_exec[node] = n + 1
        low = min(self.next_exec.values()) if self.next_exec else self.gone
        while self.gone < low:
            self.seqs.pop(self.gone, None)
            self.gone += 1
