"""A MultiPaxos replica: acceptor, leader (scout + commanders) and replica in one node.

The roles follow van Renesse and Altinbuken, "Paxos Made Moderately Complex" (2015):

- the **acceptor** promises ballots and accepts pvalues (slot, ballot, command); its
  promise and accepted values are durable, appended to storage before any message
  that reveals them leaves the node;
- the **leader** runs a *scout* (phase 1, once per leadership: PREPARE to all, adopted
  on promises from a majority) and then one *commander* per slot (phase 2: ACCEPT to
  all). A stable leader skips phase 1 for every later slot. On adoption it re-proposes,
  per slot, the value accepted in the highest ballot and fills gaps with no-ops;
- the **replica** learns a slot's command from ACCEPTED messages of a majority in one
  ballot (or a DECIDE from a replica that knew it), executes slots in order on the
  key-value store, applies each (client, req) at most once and replies.

Leader election is by ballots and timeouts: a replica that hears nothing from a leader
for an election timeout (randomised, doubled after each failed attempt) starts a
scout with a higher round. Messages that the trace format has no type for (a
heartbeat's ballot, a rejection, a catch-up position) ride in the frame's untraced
`meta` of a `heartbeat`, which the model sees as a stutter.

`bug` names an injected fault, so the validator can be shown to reject real buggy
runs; `BUGS` lists them. Most mirror a model mutant (`models/multipaxos/mutants.py`)
and break a protocol invariant; `CLIENT_BUGS` break only what clients see: every
protocol invariant holds in their runs, and KV-LINEARIZABLE or an execution
cross-check (models/common/service.py) rejects them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...models.common.quorums import QuorumSystem
from ..kvstore import KVStore, Sessions
from ..runtime.node import Env, Node

Ballot = tuple[int, int]  # (round, index of the replica in `nodes`): ordered as in FORMAT.md
NO_BALLOT: Ballot = (0, -1)

CLIENT_BUGS = {
    "reply-before-commit": "the leader replies to a request as it proposes it, with the "
                           "result it expects, before the command is chosen (a new leader "
                           "may never choose it)",
    "stale-read": "a replica that believes it leads answers a get from its own state at "
                  "once, unordered (deposed, it serves values others have overwritten)",
    "reply-pre-execution-result": "a reply carries the key's value from before the command "
                                  "ran (put and append report the old value)",
}
BUGS = {
    "ignore-promised-values": "a new leader ignores the values its quorum's promises report",
    "minority-quorums": "quorums have n // 2 replicas, so two quorums need not intersect",
    "accept-below-promise": "an acceptor accepts an Accept whose ballot is below its promise",
    "execute-duplicates": "a replica executes a command again when it is chosen in a second "
                          "slot (the leader proposes each request twice, as a racing retry would)",
    **CLIENT_BUGS,
}


@dataclass
class Timing:
    heartbeat: float = 0.05      # leader heartbeat and retransmission period
    election: float = 0.3        # base election timeout (randomised x1..x2)
    max_backoff: int = 8         # the timeout doubles per failed election, up to this factor
    retransmit: float = 0.2      # re-send an ACCEPT not yet learned after this long
    first_election: float = 0.01  # r0's first timeout on a fresh start: a quick first leader


def key_of(cmd: dict | None) -> tuple[str, int] | None:
    return None if cmd is None else (cmd["client"], cmd["req"])


@dataclass
class Acceptor:
    """promised: highest ballot promised (NO_BALLOT); accepted: slot -> (ballot, cmd)."""

    promised: Ballot = NO_BALLOT
    accepted: dict[int, tuple[Ballot, dict | None]] = field(default_factory=dict)


@dataclass
class Leadership:
    """One attempt to lead with `ballot`: the scout's promises and adopted pvalues,
    then the commanders' proposals (slot -> command) and when each was last sent."""

    ballot: Ballot
    active: bool = False
    promises: set[str] = field(default_factory=set)
    pvals: dict[int, tuple[Ballot, dict | None]] = field(default_factory=dict)
    proposals: dict[int, dict | None] = field(default_factory=dict)
    sent_at: dict[int, float] = field(default_factory=dict)
    proposed: dict[tuple[str, int], int] = field(default_factory=dict)  # request -> slot
    next_slot: int = 0


class MultiPaxosReplica(Node):
    """State, besides the acceptor's:
    slot_out (0): next slot to execute; decisions: learned, not yet executed;
    log: executed slot -> command (for catch-up); votes: slot -> (ballot, request) ->
    acceptors heard; kv, sessions: the state machine and its at-most-once table;
    leader (NO_BALLOT): the ballot of the leader followed, last_heard: when heard;
    lead: this replica's own Leadership, or None; pending: requests not yet executed;
    reply_to: requests a client sent here directly; backoff (1).
    """

    def __init__(self, env: Env, nodes: list[str], storage, *, bug: str | None = None,
                 timing: Timing | None = None, traced: dict[int, dict | None] | None = None) -> None:
        super().__init__(env)
        # after a kill: the slots the trace shows executed (the trace and the storage are
        # two files; a kill between their writes leaves one a slot ahead of the other)
        self.traced = traced or {}
        self.trace_mark = None if traced is None else max(traced, default=-1)
        self.nodes = list(nodes)
        self.index = {r: i for i, r in enumerate(nodes)}
        self.me = self.index[env.name]
        self.storage = storage
        self.bug = bug
        self.t = timing or Timing()
        # The same QuorumSystem the models use (and z3 proves): phase-1 quorums adopt a
        # ballot, phase-2 quorums decide a slot. The bug shrinks both to n // 2.
        n = len(nodes)
        self.quorums = (QuorumSystem.flexible(n, max(1, n // 2), max(1, n // 2))
                        if bug == "minority-quorums" else QuorumSystem.majority(n))
        self.acc = Acceptor()
        self.slot_out = 0
        self.decisions: dict[int, dict | None] = {}
        self.log: dict[int, dict | None] = {}
        self.votes: dict[int, dict[tuple, set[str]]] = {}
        self.kv = KVStore()
        self.sessions = Sessions()
        self.leader: Ballot = NO_BALLOT
        self.last_heard = 0.0
        self.lead: Leadership | None = None
        self.pending: dict[tuple[str, int], dict] = {}
        self.reply_to: set[tuple[str, int]] = set()
        self.backoff = 1
        self.asked_catchup = -1

    # -- wire forms ----------------------------------------------------------------

    def wire(self, b: Ballot) -> list:
        return [b[0], self.nodes[b[1]]]

    def ballot(self, w: list) -> Ballot:
        return (w[0], self.index.get(w[1], -1))

    def others(self) -> list[str]:
        return [r for r in self.nodes if r != self.env.name]

    # -- start and recovery --------------------------------------------------------

    def start(self) -> None:
        fresh = True
        for rec in self.storage.replay():
            fresh = False
            self.recover(rec)
        for slot in sorted(s for s in self.traced if s >= self.slot_out):
            if slot == self.slot_out:  # traced, then killed before it reached storage
                self.storage.append({"x": [slot, self.traced[slot]]}, durable=False)
                self.apply(slot, self.traced[slot], traced=False)
        self.last_heard = self.env.now()
        first = self.t.first_election if fresh and self.me == 0 else None
        self.arm_election(first)

    def recover(self, rec: dict) -> None:
        if "x" in rec:  # an executed slot: replay it on the state machine
            slot, cmd = rec["x"]
            # untraced, unless killed after storing it but before tracing it
            self.apply(slot, cmd, traced=self.trace_mark is not None and slot > self.trace_mark)
            return
        if "p" in rec:
            self.acc.promised = max(self.acc.promised, tuple(rec["p"]))
        elif "a" in rec:
            slot, rnd, idx, cmd = rec["a"]
            self.acc.promised = max(self.acc.promised, (rnd, idx))
            self.acc.accepted[slot] = ((rnd, idx), cmd)

    # -- dispatch ------------------------------------------------------------------

    def on_message(self, src: str, msg: dict, meta: dict | None) -> None:
        t = msg["type"]
        if t == "request":
            self.on_request(src, msg["cmd"])
        elif t == "prepare":
            self.on_prepare(src, self.ballot(msg["ballot"]), meta or {})
        elif t == "promise":
            self.on_promise(src, self.ballot(msg["ballot"]), msg["accepted"])
        elif t == "accept":
            self.on_accept(src, self.ballot(msg["ballot"]), msg["slot"], msg["cmd"])
        elif t == "accepted":
            self.on_accepted(src, self.ballot(msg["ballot"]), msg["slot"], msg["cmd"])
        elif t == "decide":
            self.learn(msg["slot"], msg["cmd"], None)
        elif t == "heartbeat":
            self.on_heartbeat(src, meta or {})

    def on_timer(self, name: str) -> None:
        if name == "election":
            self.on_election_timer()
        elif name == "heartbeat":
            self.on_heartbeat_timer()

    # -- requests and replies ------------------------------------------------------

    def on_request(self, src: str, cmd: dict) -> None:
        key = key_of(cmd)
        if self.sessions.applied(*key):
            self.env.send([cmd["client"]], self.reply(cmd, self.sessions.result(*key)))
            return
        lead = self.lead
        if (self.bug == "stale-read" and lead is not None and lead.active
                and cmd["op"].startswith("get ")):
            self.env.send([cmd["client"]], self.reply(cmd, self.kv.apply(cmd["op"])))
            return
        if src == cmd["client"]:
            self.reply_to.add(key)
        self.pending[key] = cmd
        if lead is not None and lead.active:
            if key not in lead.proposed:
                self.propose(lead.next_slot, cmd)
                if self.bug == "execute-duplicates":  # as a retry racing the first proposal
                    self.propose(lead.next_slot, cmd)
                if self.bug == "reply-before-commit":
                    self.env.send([cmd["client"]], self.reply(cmd, self.kv.preview(cmd["op"])))
        elif self.leader != NO_BALLOT and self.leader[1] != self.me and src == cmd["client"]:
            self.env.send([self.nodes[self.leader[1]]], {"type": "request", "cmd": cmd})

    def reply(self, cmd: dict, result: str) -> dict:
        return {"type": "reply", "client": cmd["client"], "req": cmd["req"], "result": result}

    # -- acceptor: phase 1b and 2b -------------------------------------------------

    def on_prepare(self, src: str, b: Ballot, meta: dict) -> None:
        if b < self.acc.promised or (b == self.acc.promised and src != self.nodes[b[1]]):
            self.nack(src)
            return
        if b > self.acc.promised:
            self.acc.promised = b
            self.storage.append({"p": list(b)})
        self.follow(b, heard=False)
        low = meta.get("from", 0)
        accepted = [[s, self.wire(vb), cmd] for s, (vb, cmd) in sorted(self.acc.accepted.items())
                    if s >= low]
        self.env.send([src], {"type": "promise", "ballot": self.wire(b), "accepted": accepted})

    def on_accept(self, src: str, b: Ballot, slot: int, cmd: dict | None) -> None:
        if b < self.acc.promised and self.bug != "accept-below-promise":
            self.nack(src)
            return
        self.acc.promised = max(self.acc.promised, b)
        self.acc.accepted[slot] = (b, cmd)
        self.storage.append({"a": [slot, b[0], b[1], cmd]})
        self.follow(b, heard=True)
        self.env.send(self.nodes, {"type": "accepted", "ballot": self.wire(b), "slot": slot,
                                   "cmd": cmd})

    def nack(self, src: str) -> None:
        if src in self.index:
            self.env.send([src], {"type": "heartbeat"}, {"nack": list(self.acc.promised)})

    # -- leader: election and scout (phase 1) --------------------------------------

    def arm_election(self, delay: float | None = None) -> None:
        if delay is None:
            delay = self.t.election * self.backoff * (1 + self.env.rng.random())
        self.env.set_timer("election", delay)

    def on_election_timer(self) -> None:
        if self.lead is not None and self.lead.active:
            return
        quiet = self.env.now() - self.last_heard
        if self.leader != NO_BALLOT and self.leader[1] != self.me and quiet < self.t.election:
            self.arm_election()
            return
        if self.lead is not None:  # the last attempt failed: back off
            self.backoff = min(self.backoff * 2, self.t.max_backoff)
        rnd = max(self.acc.promised[0], self.leader[0]) + 1
        self.lead = Leadership((rnd, self.me))
        self.env.send(self.nodes, {"type": "prepare", "ballot": self.wire(self.lead.ballot)},
                      {"from": self.slot_out})
        self.arm_election()

    def on_promise(self, src: str, b: Ballot, accepted: list) -> None:
        lead = self.lead
        if lead is None or lead.active or b != lead.ballot:
            return
        lead.promises.add(src)
        for slot, vb, cmd in accepted:
            vb = self.ballot(vb)
            have = lead.pvals.get(slot)
            if have is None or vb > have[0]:
                lead.pvals[slot] = (vb, cmd)
        if self.is_quorum(self.quorums.phase1, lead.promises):
            self.adopted(lead)

    def adopted(self, lead: Leadership) -> None:
        """Phase 1 done: re-propose each slot's highest-ballot value, fill gaps with no-ops."""
        lead.active = True
        self.leader = lead.ballot
        self.backoff = 1
        pvals = {} if self.bug == "ignore-promised-values" else lead.pvals
        top = max([self.slot_out - 1, *pvals, *self.decisions])
        lead.next_slot = self.slot_out
        for slot in range(self.slot_out, top + 1):
            if slot in self.decisions:
                cmd = self.decisions[slot]
            elif slot in pvals:
                cmd = pvals[slot][1]
            elif self.bug == "ignore-promised-values" and self.pending:
                cmd = next(c for c in self.pending.values())
            else:
                cmd = None
            self.propose(slot, cmd)
        for key, cmd in list(self.pending.items()):
            if key not in lead.proposed:
                self.propose(lead.next_slot, cmd)
        self.env.cancel_timer("election")
        self.on_heartbeat_timer()

    def step_down(self) -> None:
        if self.lead is not None:
            self.lead = None
            self.env.cancel_timer("heartbeat")
            self.arm_election()

    def follow(self, b: Ballot, *, heard: bool) -> None:
        if b > self.leader:
            self.leader = b
        if b >= self.leader and heard:
            self.last_heard = self.env.now()
        if self.lead is not None and b > self.lead.ballot:
            self.step_down()

    # -- leader: commanders (phase 2a) ---------------------------------------------

    def propose(self, slot: int, cmd: dict | None) -> None:
        lead = self.lead
        lead.proposals[slot] = cmd
        lead.sent_at[slot] = self.env.now()
        if cmd is not None:
            lead.proposed[key_of(cmd)] = slot
        lead.next_slot = max(lead.next_slot, slot + 1)
        self.env.send(self.nodes, {"type": "accept", "ballot": self.wire(lead.ballot),
                                   "slot": slot, "cmd": cmd})

    def on_heartbeat_timer(self) -> None:
        lead = self.lead
        if lead is None or not lead.active:
            return
        self.env.send(self.others(), {"type": "heartbeat"},
                      {"ballot": list(lead.ballot), "exec": self.slot_out})
        now = self.env.now()
        for slot in [s for s in lead.sent_at if s < self.slot_out or s in self.decisions]:
            del lead.sent_at[slot]  # learned meanwhile (by a DECIDE, or before this leadership)
        stale = [s for s, at in lead.sent_at.items() if now - at >= self.t.retransmit]
        for slot in sorted(stale)[:256]:
            self.propose(slot, lead.proposals[slot])
        self.env.set_timer("heartbeat", self.t.heartbeat)

    def on_heartbeat(self, src: str, meta: dict) -> None:
        if "ballot" in meta:
            self.follow(tuple(meta["ballot"]), heard=True)
            if meta["exec"] > self.slot_out and self.asked_catchup != self.slot_out:
                self.asked_catchup = self.slot_out
                self.env.send([src], {"type": "heartbeat"}, {"catchup": self.slot_out})
            elif meta["exec"] > self.slot_out:
                self.asked_catchup = -1  # no progress since the last ask: ask again next time
        elif "nack" in meta:
            b = tuple(meta["nack"])
            if self.lead is not None and b > self.lead.ballot:
                self.leader = max(self.leader, b)
                self.step_down()
        elif "catchup" in meta:
            first = meta["catchup"]
            for slot in range(first, min(first + 256, self.slot_out)):
                if slot in self.log:
                    self.env.send([src], {"type": "decide", "slot": slot, "cmd": self.log[slot]})

    # -- learner and replica -------------------------------------------------------

    def is_quorum(self, phase, names: set[str]) -> bool:
        return phase.contains_quorum(frozenset(self.index[r] for r in names))

    def on_accepted(self, src: str, b: Ballot, slot: int, cmd: dict | None) -> None:
        if slot < self.slot_out or slot in self.decisions:
            return
        votes = self.votes.setdefault(slot, {})
        k = (b, key_of(cmd), None if cmd is None else cmd["op"])
        heard = votes.setdefault(k, set())
        heard.add(src)
        if self.is_quorum(self.quorums.phase2, heard):
            self.learn(slot, cmd, b)

    def learn(self, slot: int, cmd: dict | None, b: Ballot | None) -> None:
        if slot < self.slot_out or slot in self.decisions:
            return
        self.votes.pop(slot, None)
        self.decisions[slot] = cmd
        if b is not None:
            self.env.trace("decide", slot=slot, cmd=cmd, ballot=self.wire(b))
        else:
            self.env.trace("decide", slot=slot, cmd=cmd)
        if self.lead is not None:
            self.lead.sent_at.pop(slot, None)
        while self.slot_out in self.decisions:
            slot = self.slot_out
            cmd = self.decisions.pop(slot)
            # written through to the OS, which a killed process does not lose; not
            # fsynced: only the acceptor's records must survive a power loss
            self.storage.append({"x": [slot, cmd]}, durable=False)
            self.apply(slot, cmd, traced=True)

    def apply(self, slot: int, cmd: dict | None, *, traced: bool) -> None:
        self.log[slot] = cmd
        self.slot_out = slot + 1
        lead = self.lead
        mine = lead is not None and lead.active and slot in lead.proposals and lead.proposals[slot] == cmd
        if lead is not None:
            lead.proposals.pop(slot, None)
            lead.sent_at.pop(slot, None)
        if cmd is None:
            if traced:
                self.env.trace("execute", slot=slot, cmd=None)
            return
        key = key_of(cmd)
        applied, result, told = self.sessions.execute(
            self.kv, *key, cmd["op"], rerun=self.bug == "execute-duplicates",
            tell_value_before=self.bug == "reply-pre-execution-result")
        self.pending.pop(key, None)
        if lead is not None:
            lead.proposed.pop(key, None)
        if not traced:
            return
        self.env.trace("execute", slot=slot, cmd=cmd, applied=applied, result=result)
        if key in self.reply_to or mine:
            self.reply_to.discard(key)
            self.env.send([cmd["client"]], self.reply(cmd, result if told is None else told))
