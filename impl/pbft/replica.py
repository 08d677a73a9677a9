"""A PBFT replica (Castro and Liskov, OSDI 1999, §4).

Normal case (§4.2): the primary of view v (`nodes[v % n]`) assigns a sequence number
n to a client request and multicasts PRE-PREPARE(v, n, d, m); a backup that accepts it
multicasts PREPARE(v, n, d). A replica is *prepared* with the pre-prepare and 2f
matching prepares from distinct backups (its own included), then multicasts
COMMIT(v, n, d); it is *committed-local* with 2f+1 matching commits (its own
included), and executes requests in sequence-number order, replying to the client,
which accepts a result on f+1 matching replies.

View change (§4.4): a backup whose pending request is not executed within a timeout
multicasts VIEW-CHANGE(v+1, P), P its prepared certificates, each proved by the signed
pre-prepare and 2f signed prepares (carried in the frame's `meta`, as the trace format
holds only [n, view, digest]). The new primary, with 2f+1 view changes, multicasts
NEW-VIEW(v+1, O): for each n up to the highest prepared one, the digest prepared in
the highest view, or the null request. Backups recompute O from the view changes the
NEW-VIEW carries and enter the view only if it matches. A replica that sees f+1 view
changes for a higher view joins them; the timeout doubles per view change.

Every message is signed with Ed25519 by the runtime and verified on receipt; the
client's signature on a request travels with the pre-prepare (`meta.csig`) and is
checked by backups. There are no checkpoints: view changes carry every prepared
certificate, which bounds runs to what `smrcheck run` drives.

`mode` makes a replica Byzantine (`MODES`); `bug` injects a bug (`BUGS`), so the
validator can be shown to reject the run: a protocol bug mirroring a model mutant, or
one of `CLIENT_BUGS`, which break only what clients see (every protocol invariant
holds; KV-LINEARIZABLE or an execution cross-check of models/common/service.py
rejects the run).

Size: one class per role would split what Castro & Liskov describe as one replica's
state machine (normal case, view change, recovery share the same logs); kept whole.
"""

from __future__ import annotations

import hashlib

from ...models.common.quorums import QuorumSystem
from ..kvstore import KVStore, Sessions
from ..runtime.node import Env, Node
from ..runtime.tracer import ENCODE

MODES = {
    "silent": "sends nothing at all",
    "equivocate": "as primary, sends a request's pre-prepare to half the backups and the null "
                  "request under the same number to the others",
    "wrong-digest": "prepares and commits a digest that matches no request",
    "wrong-reply": "replies to clients with a wrong result",
}

CLIENT_BUGS = {
    "reply-before-commit": "a replica replies once prepared, with the result it expects, "
                           "before the request commits (a view change may reorder or drop it)",
    "reply-pre-execution-result": "a reply carries the key's value from before the request "
                                  "ran (put and append report the old value)",
}
BUGS = {
    "committed-with-2f": "a replica is committed-local with 2f matching commits instead of 2f+1",
    "client-first-reply": "a client accepts the first reply instead of f+1 matching ones",
    "new-view-ignores-certificates": "NEW-VIEW's set O ignores the prepared certificates in the "
                                     "view changes, so a new primary may reassign a committed number",
    **CLIENT_BUGS,
}


def digest(cmd: dict | None) -> str:
    return hashlib.sha256(ENCODE(cmd).encode()).hexdigest()[:16]


def request_json(cmd: dict) -> str:
    return ENCODE({"type": "request", "cmd": cmd})


class PbftReplica(Node):
    FETCH = 0.3  # seconds without progress before asking the others to resend

    """State: view (0), changing (False: in a view change, waiting for NEW-VIEW);
    next_n (1: the primary's next sequence number); pp: (v, n) -> (digest, cmd, signed
    pre-prepare); prepares / commits: (v, n, d) -> signer -> signed message / True;
    prepared: n -> (v, d, cmd, proof) of the highest view; committed: n -> (v, d, cmd);
    last_exec (0); pending: request -> (cmd, client signature); assigned: requests the
    primary numbered in this view; vcs: view -> signer -> (msg, sig, meta); kv,
    sessions; vc_timeout (2 s, doubling per view change).
    """

    def __init__(self, env: Env, nodes: list[str], f: int, storage, keys, *,
                 bug: str | None = None, mode: str | None = None, timeout: float = 2.0,
                 traced: dict[int, tuple] | None = None) -> None:
        super().__init__(env)
        self.traced = traced or {}  # after a kill: n -> (digest, cmd) the trace shows executed
        self.trace_mark = None if traced is None else max(traced, default=0)
        self.nodes = list(nodes)
        self.n = len(nodes)
        self.f = f
        # Commit quorums of n - f, the QuorumSystem the pbft model uses and z3 proves
        # (2f + 1 when n = 3f + 1); the injected bug accepts 2f.
        self.quorums = QuorumSystem.bft(self.n, f)
        self.index = {r: i for i, r in enumerate(self.nodes)}
        self.me = env.name
        self.storage = storage
        self.keys = keys
        self.bug = bug
        self.mode = mode
        self.view = 0
        self.changing = False
        self.next_n = 1
        self.pp: dict[tuple[int, int], tuple[str, dict | None, list]] = {}
        self.prepares: dict[tuple[int, int, str], dict[str, list]] = {}
        self.commits: dict[tuple[int, int, str], set[str]] = {}
        self.prepared: dict[int, tuple[int, str, dict | None, dict]] = {}
        self.committed: dict[int, tuple[int, str, dict | None]] = {}
        self.last_exec = 0
        self.pending: dict[tuple[str, int], tuple[dict, str]] = {}
        self.assigned: set[tuple[str, int]] = set()
        self.vcs: dict[int, dict[str, tuple[dict, str, dict]]] = {}
        self.new_view_sent: set[int] = set()
        self.csigs: dict[tuple[str, int], str | None] = {}  # client signatures seen
        self.expected: dict[tuple[int, int], str] = {}  # (v, n) -> digest fixed by NEW-VIEW
        self.kv = KVStore()
        self.sessions = Sessions()
        self.base_timeout = timeout
        self.vc_timeout = timeout
        self.timer_on = False
        self.slot_of: dict[tuple[str, int], tuple[int, int]] = {}  # request -> (v, n) of its pp
        self.fetch_mark = -1
        self.ahead: dict[str, int] = {}  # replica -> the latest view it was seen working in
        self.new_view_msg: dict[int, tuple[dict, dict]] = {}  # NEW-VIEWs this primary sent
        self.commits_heard = 0  # COMMITs received, and their count when the timer was armed
        self.commits_mark = 0
        self.lagging = False  # commits seen for numbers this replica has no pre-prepare for

    # -- helpers -------------------------------------------------------------------

    def primary(self, v: int) -> str:
        return self.nodes[v % self.n]

    def others(self) -> list[str]:
        return [r for r in self.nodes if r != self.me]

    def out(self, to: list[str], msg: dict, meta: dict | None = None) -> str | None:
        """Send, as this replica's Byzantine mode (if any) would."""
        if self.mode == "silent":
            return None
        if self.mode == "wrong-digest" and msg["type"] in ("prepare", "commit"):
            msg = {**msg, "digest": "bad" + msg["digest"]}
        if self.mode == "wrong-reply" and msg["type"] == "reply":
            msg = {**msg, "result": "bogus"}
        return self.env.send(to, msg, meta)

    def arm(self) -> None:
        if not self.timer_on:
            self.timer_on = True
            self.commits_mark = self.commits_heard
            self.env.set_timer("view-change", self.vc_timeout)

    def disarm(self) -> None:
        self.timer_on = False
        self.env.cancel_timer("view-change")

    def start(self) -> None:
        """Recover after a restart: the view, the pre-prepares accepted (so it never
        prepares a second digest for a (view, n)), the prepared certificates (so its
        view changes still carry them) and the executed requests (replayed on the state
        machine, untraced). So a restarted replica is not amnesiac: it does not count
        among the f faulty ones."""
        for rec in self.storage.replay():
            if "v" in rec:
                self.view, self.changing = rec["v"]
            elif "pp" in rec:
                v, n, d, cmd, msg, sig, csig = rec["pp"]
                self.pp[(v, n)] = (d, cmd, [msg, sig])
                if cmd is not None:
                    self.csigs[(cmd["client"], cmd["req"])] = csig
                    self.slot_of[(cmd["client"], cmd["req"])] = (v, n)
                if v == self.view:
                    self.next_n = max(self.next_n, n + 1)
            elif "O" in rec:
                v, o = rec["O"]
                self.expected.update({(v, n): d for n, d in o})
            elif "P" in rec:
                n, v, d, cmd, proof = rec["P"]
                if n not in self.prepared or self.prepared[n][0] <= v:
                    self.prepared[n] = (v, d, cmd, proof)
            elif "x" in rec:
                self.recover_executed(*rec["x"], traced=self.trace_mark is not None and rec["x"][0] > self.trace_mark)
        # A pre-prepare written ahead of its sending but not after (killed between)
        # has no signature: sign it again (Ed25519 is deterministic, so this is the one
        # that went out), else its prepared certificates fail every receiver's check.
        for key, (d, cmd, (msg, sig)) in list(self.pp.items()):
            if sig is None and self.primary(key[0]) == self.me and self.me in self.keys.private:
                self.pp[key] = (d, cmd, [msg, self.keys.sign(self.me, ENCODE(msg))])
        # What this replica ordered as primary of its view: without it a restarted
        # primary would order a request again under a second number (found by
        # conformance: the model's primary orders each request once per view).
        self.assigned = {(cmd["client"], cmd["req"]) for (v, _), (_, cmd, _) in self.pp.items()
                         if v == self.view and cmd is not None}
        n = self.last_exec + 1
        if n in self.traced:  # traced, then killed before it reached storage
            d, cmd = self.traced[n]
            self.storage.append({"x": [n, d, cmd]}, durable=False)
            self.recover_executed(n, d, cmd, traced=False)
        if self.changing:
            self.arm()
        self.env.set_timer("fetch", self.FETCH)

    def recover_executed(self, n: int, d: str, cmd: dict | None, *, traced: bool) -> None:
        self.committed[n] = (self.view, d, cmd)
        self.last_exec = n
        applied, result = False, None
        if cmd is not None and not self.sessions.applied(cmd["client"], cmd["req"]):
            applied, result = True, self.kv.apply(cmd["op"])
            self.sessions.record(cmd["client"], cmd["req"], result)
        if traced:
            if cmd is None:
                self.env.trace("execute", n=n, digest=d, cmd=None, applied=True)
            else:
                self.env.trace("execute", n=n, digest=d, cmd=cmd, applied=applied,
                               result=result if applied else self.sessions.result(cmd["client"], cmd["req"]))

    # -- dispatch ------------------------------------------------------------------

    def on_message(self, src: str, msg: dict, meta: dict | None) -> None:
        meta = meta or {}
        t = msg["type"]
        if t in ("pre-prepare", "prepare", "commit") and msg["view"] > self.view \
                and src in self.nodes:
            self.ahead[src] = msg["view"]  # a later view exists: this replica missed its NEW-VIEW
        if t == "request":
            self.on_request(src, msg["cmd"], meta.get("_sig"))
        elif t == "pre-prepare":
            self.on_pre_prepare(src, msg, meta)
        elif t == "prepare":
            self.on_prepare(src, msg, meta.get("_sig"))
        elif t == "commit":
            self.on_commit(src, msg)
        elif t == "view-change":
            self.on_view_change(src, msg, meta)
        elif t == "new-view":
            self.on_new_view(src, msg, meta)
        elif t == "heartbeat" and src in self.nodes:
            if "fetch" in meta:
                first = meta["fetch"]
                for n in range(first, first + 64):
                    self.retransmit_n(n, src)
            if "new-view" in meta and meta["new-view"] == self.view and self.view in self.new_view_msg:
                msg, nv_meta = self.new_view_msg[self.view]
                self.out([src], msg, nv_meta)  # a replica that missed it (it was down)

    def on_timer(self, name: str) -> None:
        if name == "fetch":
            # no progress for a while: ask the others to send again their part in the
            # next numbers (their signed messages, so this replica's certificates are
            # built from messages it received, as the trace shows)
            if (self.pending or self.lagging) and not self.changing \
                    and (self.last_exec == self.fetch_mark or self.lagging):
                self.out(self.others(), {"type": "heartbeat"}, {"fetch": self.last_exec + 1})
            views = sorted(self.ahead.values())
            if len(views) > self.f and views[-self.f - 1] > self.view:
                # f+1 replicas work in a later view: ask its primary for its NEW-VIEW
                v = views[-self.f - 1]
                self.out([self.primary(v)], {"type": "heartbeat"}, {"new-view": v})
            self.fetch_mark = self.last_exec
            self.env.set_timer("fetch", self.FETCH)
        elif name == "view-change":
            self.timer_on = False
            if self.lagging and not self.changing and self.commits_heard != self.commits_mark:
                # the others still commit what this replica cannot (it missed pre-prepares,
                # or restarted): the primary is not at fault, so do not depose it
                self.lagging = False
                self.arm()
                return
            if self.pending or self.changing:
                self.vc_timeout *= 2
                self.start_view_change(self.view + 1)

    # -- requests ------------------------------------------------------------------

    def on_request(self, src: str, cmd: dict, csig: str | None) -> None:
        key = (cmd["client"], cmd["req"])
        if src != cmd["client"]:
            return
        if key in self.slot_of:
            self.retransmit(key)  # a client retry: what this replica sent may have been lost
        if self.sessions.applied(*key):
            self.out([cmd["client"]], self.reply(cmd, self.sessions.result(*key)))
            return
        self.pending[key] = (cmd, csig)
        self.csigs[key] = csig
        self.arm()
        if self.primary(self.view) == self.me and not self.changing and key not in self.assigned:
            self.assign(cmd, csig)

    def reply(self, cmd: dict, result: str) -> dict:
        return {"type": "reply", "view": self.view, "client": cmd["client"], "req": cmd["req"],
                "result": result}

    # -- normal case: pre-prepare, prepare, commit ---------------------------------

    def assign(self, cmd: dict | None, csig: str | None) -> None:
        v, n = self.view, self.next_n
        self.next_n += 1
        if cmd is not None:
            self.assigned.add((cmd["client"], cmd["req"]))
        d = digest(cmd)
        msg = {"type": "pre-prepare", "view": v, "n": n, "digest": d, "cmd": cmd}
        # Written ahead: a primary killed after sending but before storing came back,
        # reused n for another request, and so equivocated (conformance caught it in a
        # `smrcheck run pbft --faults crash=1` log). The signature is known only once
        # sent, so the record is written again with it.
        self.storage.append({"pp": [v, n, d, cmd, msg, None, csig]})
        if self.mode == "equivocate" and cmd is not None:
            backups = self.others()
            half = backups[: len(backups) // 2 + 1]
            sig = self.out(half, msg, {"csig": csig})
            null = {"type": "pre-prepare", "view": v, "n": n, "digest": digest(None), "cmd": None}
            rest = [b for b in backups if b not in half]
            if rest:  # with two backups, both get the request: there is no one left to lie to
                self.out(rest, null)
        else:
            sig = self.out(self.others(), msg, {"csig": csig})
        self.pp[(v, n)] = (d, cmd, [msg, sig])
        self.storage.append({"pp": [v, n, d, cmd, msg, sig, csig]})
        if cmd is not None:
            self.slot_of[(cmd["client"], cmd["req"])] = (v, n)

    def retransmit(self, key) -> None:
        v, n = self.slot_of[key]
        if v == self.view:
            self.retransmit_n(n, None)

    def retransmit_n(self, n: int, to: str | None) -> None:
        """Send again this replica's part in ordering n in the current view (to `to`,
        or to all): the primary its pre-prepare, a backup its prepare, its commit if
        prepared. A client retry or a lagging replica's fetch asks for it."""
        v = self.view
        have = self.pp.get((v, n))
        if have is None or self.changing:
            return
        d, cmd, signed = have
        dest = self.others() if to is None else [to]
        if self.primary(v) == self.me:
            key = None if cmd is None else (cmd["client"], cmd["req"])
            self.out(dest, signed[0], {"csig": self.csigs.get(key)})
        elif self.me in self.prepares.get((v, n, d), {}):
            self.out(dest, {"type": "prepare", "view": v, "n": n, "digest": d})
        p = self.prepared.get(n)
        if p is not None and p[0] == v and p[1] == d:
            self.out(dest, {"type": "commit", "view": v, "n": n, "digest": d})

    def on_pre_prepare(self, src: str, msg: dict, meta: dict) -> None:
        v, n, d, cmd = msg["view"], msg["n"], msg["digest"], msg["cmd"]
        if v != self.view or self.changing or src != self.primary(v) or src == self.me:
            return
        if d != digest(cmd):
            return
        if cmd is not None and not self.keys.verify(cmd["client"], request_json(cmd), meta.get("csig")):
            return  # a request its client never signed
        have = self.pp.get((v, n))
        if have is not None and have[0] != d:
            return  # the primary equivocates: keep the first
        if self.expected.get((v, n), d) != d:
            return  # NEW-VIEW fixed another digest for n
        if have is None:
            self.pp[(v, n)] = (d, cmd, [msg, meta.get("_sig")])
            self.storage.append({"pp": [v, n, d, cmd, msg, meta.get("_sig"), meta.get("csig")]})
            if cmd is not None:
                self.csigs[(cmd["client"], cmd["req"])] = meta.get("csig")
                self.slot_of[(cmd["client"], cmd["req"])] = (v, n)
                self.pending.setdefault((cmd["client"], cmd["req"]), (cmd, meta.get("csig")))
        self.send_prepare(v, n, d)

    def send_prepare(self, v: int, n: int, d: str) -> None:
        msg = {"type": "prepare", "view": v, "n": n, "digest": d}
        sig = self.out(self.others(), msg)
        self.prepares.setdefault((v, n, d), {})[self.me] = [msg, sig]
        if n in self.prepared and self.prepared[n][0] == v:
            self.send_commit(v, n, d)  # a retransmission: the commit may have been lost too
        self.check_prepared(v, n, d)

    def on_prepare(self, src: str, msg: dict, sig: str | None) -> None:
        v, n, d = msg["view"], msg["n"], msg["digest"]
        if v != self.view or src == self.primary(v):
            return
        self.prepares.setdefault((v, n, d), {})[src] = [msg, sig]
        self.check_prepared(v, n, d)

    def check_prepared(self, v: int, n: int, d: str) -> None:
        have = self.pp.get((v, n))
        if have is None or have[0] != d or (n in self.prepared and self.prepared[n][0] >= v):
            return
        votes = self.prepares.get((v, n, d), {})
        if len(votes) < 2 * self.f:
            return
        cmd = have[1]
        proof = {"pp": have[2], "p": [[r, m, s] for r, (m, s) in sorted(votes.items())][: 2 * self.f],
                 "csig": None if cmd is None else self.csigs.get((cmd["client"], cmd["req"]))}
        self.prepared[n] = (v, d, have[1], proof)
        self.storage.append({"P": [n, v, d, have[1], proof]})
        if self.bug == "reply-before-commit" and cmd is not None and n > self.last_exec:
            self.out([cmd["client"]], self.reply(cmd, self.kv.preview(cmd["op"])))
        self.send_commit(v, n, d)

    def send_commit(self, v: int, n: int, d: str) -> None:
        self.out(self.others(), {"type": "commit", "view": v, "n": n, "digest": d})
        self.commits.setdefault((v, n, d), set()).add(self.me)
        self.check_committed(v, n, d)

    def on_commit(self, src: str, msg: dict) -> None:
        v, n, d = msg["view"], msg["n"], msg["digest"]
        if src == self.me:
            return
        votes = self.commits.setdefault((v, n, d), set())
        votes.add(src)
        self.commits_heard += 1
        if len(votes) > self.f and n > self.last_exec + 1 and (v, n) not in self.pp:
            self.lagging = True
        self.check_committed(v, n, d)

    def check_committed(self, v: int, n: int, d: str) -> None:
        p = self.prepared.get(n)
        if n in self.committed or p is None or p[0] != v or p[1] != d:
            return
        signers = self.commits.get((v, n, d), ())
        if self.bug == "committed-with-2f":
            if len(signers) < 2 * self.f:
                return
        elif not self.quorums.phase2.contains_quorum(frozenset(self.index[r] for r in signers)):
            return
        self.committed[n] = (v, d, p[2])
        self.env.trace("decide", view=v, n=n, digest=d)
        self.execute_ready()

    def execute_ready(self) -> None:
        progressed = False
        while self.last_exec + 1 in self.committed:
            n = self.last_exec + 1
            v, d, cmd = self.committed[n]
            self.last_exec = n
            progressed = True
            self.storage.append({"x": [n, d, cmd]}, durable=False)
            if cmd is None:
                self.env.trace("execute", n=n, digest=d, cmd=None, applied=True)
                continue
            key = (cmd["client"], cmd["req"])
            applied, result, told = self.sessions.execute(
                self.kv, *key, cmd["op"],
                tell_value_before=self.bug == "reply-pre-execution-result")
            self.pending.pop(key, None)
            self.env.trace("execute", n=n, digest=d, cmd=cmd, applied=applied, result=result)
            self.out([cmd["client"]], self.reply(cmd, result if told is None else told))
        if progressed:
            self.disarm()
            if self.pending:
                self.arm()

    # -- view change ---------------------------------------------------------------

    def start_view_change(self, v: int) -> None:
        if v <= self.view and self.changing:
            return
        self.view = v
        self.changing = True
        self.storage.append({"v": [v, True]})
        prepared = [[n, pv, d] for n, (pv, d, _, _) in sorted(self.prepared.items())]
        proofs = {str(n): proof for n, (_, _, _, proof) in self.prepared.items()}
        msg = {"type": "view-change", "view": v, "prepared": prepared}
        meta = {"proofs": proofs}
        sig = self.out(self.others(), msg, meta)
        self.vcs.setdefault(v, {})[self.me] = (msg, sig, meta)
        self.disarm()
        self.arm()
        self.maybe_new_view(v)

    def valid_view_change(self, src: str, msg: dict, sig: str | None, meta: dict) -> bool:
        """Every claimed certificate proved by a signed pre-prepare and 2f prepares."""
        if not self.keys.verify(src, ENCODE(msg), sig):
            return False
        proofs = meta.get("proofs") or {}
        for n, pv, d in msg["prepared"]:
            proof = proofs.get(str(n))
            if proof is None or not self.valid_certificate(n, pv, d, proof):
                return False
        return True

    def valid_certificate(self, n: int, v: int, d: str, proof: dict) -> bool:
        pp, sig = proof["pp"]
        if (pp.get("type"), pp.get("view"), pp.get("n"), pp.get("digest")) != ("pre-prepare", v, n, d):
            return False
        if not self.keys.verify(self.primary(v), ENCODE(pp), sig) or digest(pp.get("cmd")) != d:
            return False
        signers = set()
        for r, m, s in proof["p"]:
            if (m.get("type"), m.get("view"), m.get("n"), m.get("digest")) != ("prepare", v, n, d):
                return False
            if r == self.primary(v) or r not in self.nodes or not self.keys.verify(r, ENCODE(m), s):
                return False
            signers.add(r)
        return len(signers) >= 2 * self.f

    def on_view_change(self, src: str, msg: dict, meta: dict) -> None:
        v = msg["view"]
        if v < self.view or (v == self.view and not self.changing):
            return
        if not self.valid_view_change(src, msg, meta.get("_sig"), meta):
            return
        self.vcs.setdefault(v, {})[src] = (msg, meta.get("_sig"), {"proofs": meta.get("proofs", {})})
        if v > self.view and len(self.vcs[v]) >= self.f + 1:
            self.start_view_change(v)  # f+1 want it: at least one correct replica does
        self.maybe_new_view(v)

    def compute_o(self, vcs: list[tuple[dict, dict]]) -> tuple[list, dict]:
        """O: per n up to the highest prepared, the digest prepared in the highest view
        (with its request, from the certificate), else the null request."""
        best: dict[int, tuple] = {}
        if self.bug == "new-view-ignores-certificates":
            vcs = []
        for msg, meta in vcs:
            for n, pv, d in msg["prepared"]:
                if n not in best or pv > best[n][0]:
                    proof = meta["proofs"][str(n)]
                    best[n] = (pv, d, proof["pp"][0]["cmd"], proof.get("csig"))
        top = max(best, default=0)
        o, cmds = [], {}
        for n in range(1, top + 1):
            if n in best:
                o.append([n, best[n][1]])
                cmds[str(n)] = best[n][2]
                cmds[f"sig{n}"] = best[n][3]
            else:
                o.append([n, digest(None)])
                cmds[str(n)] = None
        return o, cmds

    def maybe_new_view(self, v: int) -> None:
        got = self.vcs.get(v, {})
        if self.primary(v) != self.me or v in self.new_view_sent or len(got) < 2 * self.f + 1:
            return
        if v != self.view:
            return
        self.new_view_sent.add(v)
        chosen = sorted(got.items())[: 2 * self.f + 1]
        o, cmds = self.compute_o([(m, meta) for _, (m, _, meta) in chosen])
        msg = {"type": "new-view", "view": v, "pre_prepares": o}
        meta = {"vcs": [[r, m, s, mt] for r, (m, s, mt) in chosen], "cmds": cmds}
        self.out(self.others(), msg, meta)
        self.new_view_msg[v] = (msg, meta)
        self.enter_view(v, o, cmds)
        for key, (cmd, csig) in sorted(self.pending.items()):
            if key not in self.assigned:
                self.assign(cmd, csig)

    def on_new_view(self, src: str, msg: dict, meta: dict) -> None:
        v = msg["view"]
        if v < self.view or (v == self.view and not self.changing) or src != self.primary(v):
            return
        signers, vcs = set(), []
        for r, m, s, mt in meta.get("vcs", []):
            if m.get("type") == "view-change" and m.get("view") == v and r not in signers \
                    and self.valid_view_change(r, m, s, mt):
                signers.add(r)
                vcs.append((m, mt))
        if len(signers) < 2 * self.f + 1:
            return
        o, cmds = self.compute_o(vcs)
        if o != msg["pre_prepares"]:
            return  # the new primary's O is not the one its view changes determine
        self.view = v
        self.enter_view(v, o, cmds)

    def enter_view(self, v: int, o: list, cmds: dict) -> None:
        """Enter view v with O: the primary sends O's pre-prepares (signed, so they can
        prove a later certificate); backups accept for each n only the digest O fixes."""
        self.changing = False
        self.storage.append({"v": [v, False]})
        self.vc_timeout = self.base_timeout
        self.assigned = set()
        self.expected.update({(v, n): d for n, d in o})
        self.storage.append({"O": [v, o]})
        self.next_n = max([self.last_exec, *(n for n, _ in o)]) + 1
        if self.primary(v) == self.me:
            for n, d in o:
                cmd = cmds[str(n)]
                if cmd is not None:
                    self.assigned.add((cmd["client"], cmd["req"]))
                msg = {"type": "pre-prepare", "view": v, "n": n, "digest": d, "cmd": cmd}
                key = None if cmd is None else (cmd["client"], cmd["req"])
                csig = self.pending.get(key, (None, None))[1] if key else None
                csig = csig or cmds.get(f"sig{n}")
                self.storage.append({"pp": [v, n, d, cmd, msg, None, csig]})  # ahead, as in assign
                sig = self.out(self.others(), msg, {"csig": csig})
                self.pp[(v, n)] = (d, cmd, [msg, sig])
                self.storage.append({"pp": [v, n, d, cmd, msg, sig, csig]})
                if key is not None:
                    self.slot_of[key] = (v, n)
        self.disarm()
        if self.pending:
            self.arm()
