"""Trace events of a MultiPaxos run as steps of the MultiPaxos model, for conformance.

`smrcheck validate` keeps the set of model states consistent with the events so far
(checker/validate.py). This module says, per event, which states it can lead to.
Names become the model's ints here: replica r_i is i; a trace ballot [round, replica]
becomes a model ballot numbered in ballot order; a command (client, req) becomes a
model command; a no-op, or a duplicate a replica skipped (`"applied": false`), is NOOP.

Paxos Made Simple §3, step by step:

- `send` prepare by r: Prepare(r, b), which in the model also makes r's own acceptor
  promise; so r's own `promise` is a stutter. A replica that sends the prepare to
  itself promises when it receives it (its acceptor may accept a lower ballot in
  between, as Paxos allows): then the step is Prepare without that promise, and the
  promise is Promise(r, b), at the receipt or at r's own `promise`.
- `send` promise by another acceptor a: Promise(a, b) while b's leader still collects
  promises; a late promise (the leader has led) is a stutter, as the model argues:
  a promise no leader reads only blocks lower ballots, which a lost message also does.
- `send` accept by the leader: the 2a is already among the model's messages (Lead sent
  every re-proposal at once), or r proposes it in its next slot, or in a slot its
  phase 1 left free, or it is the first 2a after phase 1: Lead(r, Q, ...) with Q any
  set that contains a quorum, then, if the 2a is not a re-proposal, the proposal.
  Where the model is stricter than the protocol, the map takes the protocol's step
  (`_leads`, `_propose`): a slot below the highest one Q reports that no promise
  reports is left free, to be filled later with any value (the model's Lead fills it
  with a no-op at once; §3's leader may fill it with a client's command as well), and
  a leader may propose a command it proposed already in its ballot (a client retried;
  replicas skip the duplicate, which the model's log does too).
- `send` accepted by a: Accept(a, b, slot, v); the model's prompt learners execute in
  that same step.
- `execute` at r: for a live replica a check, no step: the model's log of r holds v at
  that slot; for a replica catching up after a restart, Execute(r, v).
- `crash`, `restart`: Crash(r), Restart(r) (recovery=durable).
- everything else stutters: `decide` (learning is derived), every `recv` (the
  sent-set network), requests (every command is pending from the start), replies,
  results, decide messages, nacks, heartbeats, notes.

The model's network is the set of every message sent, so Promise, Accept and Lead may
read messages their node never received; judged that way, a verdict would follow the
order in which a merged file lists the nodes. So the map notes what each node
received and holds each step to it: a promise answers a prepare its acceptor
received, an accept a 2a its acceptor received (or proposed), and Lead's quorum is
among the acceptors whose promises the leader received (or itself). With that, any
order that keeps each node's events in seq order gives the same verdict.

Phase 1 for one slot, or from a slot above 0 (`slot`, `from_slot` in format 2), is
not this model's (its phase 1 covers every slot): conformance stops there as outside
the model. A replica that logs decides and no executes moves the window by the slots
it has decided.

A run is unbounded, the model is not, so the model follows a window of the run
(`window.py` says what may be forgotten and why). Model slot 0 is trace slot `base`;
model ballots are the live trace ballots in their order; model commands are the
requests some state still mentions. When an event needs a slot past the window, a
ballot or a command more, the validator asks `compact` to slide the window: `base`
moves up to the first slot some replica has not executed (in the trace and in every
state), and ballots and commands are renumbered; if that leaves no room, the window
widens (real runs pipeline dozens of requests). A replica more than `LAG` slots
behind the others (down, or catching up) does not hold the window back: the slots
it misses are chosen, so its log is filled in (`window.catch_up`) and its execute
events below the window are checked against `record`, what the first replica to
execute each slot executed. A ballot that first appears below a live one (two
replicas racing for leadership) is inserted in order, which renames the higher ones;
the model lets a replica claim any unclaimed ballot above those it has seen, so the
renamed run is a run of the model too.

Some facts outlive a compacted slot and are kept outside the states:

- `done`: commands executed in a dropped slot that the window still mentions
  (chosen again in a later slot, the leader re-proposing them, or a client retrying),
  and requests some replica applied before the window forgot them (`applied`) and
  that come back, retried. Executing one again is a duplicate (NOOP); `WindowModel`
  applies it, as the model does for a command still in the log.
- `record` and `proposed`: per slot below the window, what was executed there and
  the 2as sent there (for `GRACE` slots, or as far as the slowest replica lags).
  An acceptor may still accept such a 2a (a message delayed or sent again): the
  step is checked against `proposed` and its one lasting effect, the acceptor's
  promise, applied. A new leader that lags re-proposes from its own execution
  point: in a chosen slot Lead re-proposes the chosen value (§2.2, P2c), so such a
  2a must be what `record` says was executed there. That holds only for a ballot
  whose phase 1 ended after the slot left the window (`led_at`), which is then above
  the ballot the slot was chosen in; a deposed leader that does not know goes on
  proposing in its old, lower ballot from its own next slot, which may be far below
  the window: any value, as long as its ballot has no other 2a there (`_below`).
- a late promise for a ballot the window has dropped is a stutter when it is above
  the acceptor's promise (the rule above); that the ballot was ever prepared is then
  not checked (level 1, the monitors, checks ballots).

What the window cannot hold is reported as outside the model, never guessed: an
event about a slot below the window that nothing above explains, a slot more than
`MAX_SLOTS` above the slowest (not lagging) replica's execution point, more than
`MAX_ROUNDS` live ballots or `MAX_COMMANDS` requests in flight.

Size: one mapping per event kind of the protocol (prepare, promise, accept, accepted,
decide, execute, crash, restart) plus the window's sliding, all sharing the name-to-int
tables of one run; split apart, each piece would need those tables passed around.
"""

from __future__ import annotations

from itertools import combinations

from ...checker.errors import UsageError
from ...checker.conformance import NoRoom, OutsideModel, Successors, fails, stays
from ..common.ids import NONE
from ..common.membership import all_logged, membership
from ..common.monitor import IdSet
from ..common.quorums import Threshold
from .actions import collecting, lead, prepare, propose, recovered_values
from .messages import NOOP, P1A, P1B, P2A, value_name
from .spec import MultiPaxosModel
from .state import CATCHING_UP, DOWN, MPState
from .window import catch_up, compact, mentioned, prune, slack

MAX_REPLICAS = 5
# The window: slots, live ballots and requests in flight, at first. It widens (to
# twice, or what an event needs) when sliding leaves no room, up to the MAX_ sizes;
# a wider window costs time per event, so it starts small.
SLOTS, ROUNDS, COMMANDS = 8, 5, 8
MAX_SLOTS, MAX_ROUNDS, MAX_COMMANDS = 512, 16, 512
# A replica that has executed LAG slots fewer than the most advanced one no longer
# holds the window back: the slots it misses are recorded, and checked as it runs them.
LAG = 4
# How many slots below the window keep their 2a messages, for 2bs that arrive late.
# A duplicated vote was seen arriving 80 slots late in a lossy real run; each kept
# slot costs a small set.
GRACE = 1024
UNLIMITED_CRASHES = 1 << 62  # the crash budget only keeps exploration finite


class WindowModel:
    """The MultiPaxos model, plus what a compacted prefix of the log still says:
    commands in `done` were executed there (or, for a request the window had
    forgotten, anywhere before), so executing one again logs NOOP (as for a command
    still in the log). A leader may still propose one again: a client that retries
    makes it do so, and replicas skip the duplicate."""

    def __init__(self, replicas: int, quorums: str = "majority") -> None:
        self.replicas = replicas
        self.quorums = quorums
        self.done: frozenset[int] = frozenset()
        self.resize(SLOTS, ROUNDS, COMMANDS)

    def resize(self, slots: int, rounds: int, commands: int) -> None:
        """The model of a wider window; states carry over by padding (`window.compact`)."""
        self.slots, self.rounds, self.commands = slots, rounds, commands
        model = self.model = MultiPaxosModel(
            replicas=self.replicas, slots=slots, max_round=rounds, commands=commands,
            crashes=UNLIMITED_CRASHES, recovery="durable", quorums=self.quorums)
        self.cfg = model.cfg
        self.describe = model.describe
        self.format_action = model.format_action
        self.init_states = model.init_states
        self.properties = model.properties

    def actions(self, s: MPState) -> list[tuple]:
        return self.model.actions(s)

    def next_state(self, s: MPState, a: tuple) -> MPState:
        t = self.model.next_state(s, a)
        if self.done and t.log != s.log:
            done = self.done
            t = t._replace(log=tuple(
                new if new is old else old + tuple(NOOP if v in done else v
                                                   for v in new[len(old):])
                for old, new in zip(s.log, t.log)))
        return t


def _leads(cfg, s: MPState, r: int, b: int, allowed: frozenset[int]) -> list[MPState]:
    """The states after r ends phase 1 of ballot b (Lead, Paxos Made Simple §2.2
    phase 2(a)) on the promises of some quorum Q among `allowed`, the acceptors whose
    promise r received: in each slot some promise in Q reports, r re-proposes the
    value with the highest ballot. Q may be any set that contains a quorum (a leader
    reads every promise it has): the model's Lead takes quorums of the exact size.
    A slot below the highest reported one that no promise reports is left free (no
    2a in b yet): the model's Lead fills it with a no-op at once, but any value is
    safe there (P2c holds with Q, none of which accepted anything there), and a
    leader may fill it later, with a no-op or a client's command (`_propose`)."""
    reports = {m[1]: m[3] for m in s.msgs if m[0] == P1B and m[2] == b and m[1] in allowed}
    members = sorted(reports)
    out: dict[tuple, MPState] = {}
    for size in range(1, len(members) + 1):
        for q in combinations(members, size):
            if not any(set(need) <= set(q) for need in cfg.quorums):
                continue
            reps = [reports[a] for a in q]
            values = recovered_values(reps, cfg)
            free = frozenset(j for j in range(len(values))
                             if all(rep[j][0] == NONE for rep in reps))
            if (values, free) in out:
                continue
            t = lead(s, r, values, cfg)
            if free:
                t = t._replace(msgs=t.msgs - {(P2A, b, j, NOOP) for j in free})
            out[(values, free)] = t
    return list(out.values())


def _propose(cfg, s: MPState, r: int, b: int, slot: int, v: int) -> list[MPState]:
    """r, leading b after phase 1, sends 2a(b, slot, v): in its next slot (Propose), or
    in a slot its phase 1 left free (below `fresh`, no 2a of b there yet). Unlike the
    model's Propose, a command r proposed already in b may be proposed again: a client
    that retries makes a leader do so, and replicas skip the duplicate (the model
    bounds this only to keep its state space small)."""
    two_a = (P2A, b, slot, v)
    if two_a in s.msgs:
        return [s]
    nxt = s.next_slot[r]
    if slot == nxt:
        return [propose(s, r, v, cfg)]
    if slot < s.fresh[r] and not any(m[0] == P2A and m[1] == b and m[2] == slot
                                     for m in s.msgs):
        return [s._replace(msgs=s.msgs | {two_a})]
    return []


class MultiPaxosTraceMap:
    def __init__(self, header, model: WindowModel) -> None:
        self.model = model
        self.replica = {name: i for i, name in enumerate(header.nodes)}
        self.base = 0  # the trace slot that is model slot 0
        self.keys: list[tuple[int, int]] = []  # model ballot -> (round, replica index)
        self.ballots: dict[tuple[int, int], int] = {}
        self.want: tuple[int, int] | None = None  # a ballot to insert when compacting
        self.need_slot: int | None = None  # a trace slot the window must reach
        self.need_command = False  # the window must hold one request more
        self.commands: dict[tuple[str, int], int] = {}
        self.names: dict[int, tuple[str, int]] = {}
        self.executed = [0] * len(header.nodes)  # per replica: slots executed, in the trace
        # trace slot -> (request or None, applied) as first executed, for the slots some
        # replica has yet to execute: those below `base` are checked against it
        self.record: dict[int, tuple[tuple[str, int] | None, bool]] = {}
        # trace slot -> the 2as proposed there, (ballot, request or None), for the GRACE
        # slots below the window: an acceptor may still accept one (a late message)
        self.proposed: dict[int, set[tuple[tuple[int, int], tuple[str, int] | None]]] = {}
        # What each node had received, for steps the model's sent-set network would let
        # read a message the node never got (its verdict would follow line order):
        # acceptor -> ballots whose prepare it received; proposer -> (its ballot, the
        # acceptors whose promise for it it received); trace slot -> (acceptor, ballot,
        # request) of the 2as received there.
        self.got_1a: dict[int, set[tuple[int, int]]] = {}
        self.got_1b: dict[int, tuple[tuple[int, int], set[int]]] = {}
        self.got_2a: dict[int, set[tuple[int, tuple[int, int], tuple[str, int] | None]]] = {}
        # (proposer, its ballot) -> `base` when it sent its first 2a in that ballot, the
        # step in which the model's Lead ran: slots from there on were in the window
        # when its phase 1 ended (see _below).
        self.led_at: dict[tuple[int, tuple[int, int]], int] = {}
        # Per replica: the slots it decided (a run may log decides and no executes), and
        # whether it has executed any; per client: the requests some replica applied,
        # so a retried request the window had forgotten is still a duplicate.
        self.decided = [IdSet() for _ in header.nodes]
        self.executes = [False] * len(header.nodes)
        self.applied: dict[str, IdSet] = {}

    # -- names to model ints -----------------------------------------------------------

    def key(self, b: list) -> tuple[int, int]:
        return (b[0], self.replica.get(b[1], -1))

    def claim(self, b: list) -> int:
        """The model ballot of a prepare, a new one placed in ballot order."""
        key = self.key(b)
        got = self.ballots.get(key)
        if got is None:
            if (self.keys and key < self.keys[-1]) or len(self.keys) >= self.model.rounds:
                self.want = key
                raise NoRoom(f"ballot ({b[0]},{b[1]}): the window holds {self.model.rounds} "
                             f"live ballots, {len(self.keys)} in use")
            got = self.ballots[key] = len(self.keys)
            self.keys.append(key)
        return got

    def command(self, cmd: dict | None) -> int:
        if cmd is None:
            return NOOP
        key = (cmd["client"], cmd["req"])
        got = self.commands.get(key)
        if got is None:
            free = [k for k in range(self.model.commands) if k not in self.names]
            if not free:
                self.need_command = True
                raise NoRoom(f"command {key[0]}#{key[1]}: the window holds "
                             f"{self.model.commands} requests in flight")
            got = self.commands[key] = free[0]
            self.names[got] = key
            ran = self.applied.get(key[0])
            if ran is not None and key[1] in ran:  # a retry of a request applied long ago
                self.model.done = self.model.done | {got}
        return got

    def points(self) -> list[int]:
        """Per replica, the slots it has executed; for one that has logged no execute
        (a run may log decides only), the slots it has decided, in order."""
        return [x if ran else d.low
                for x, ran, d in zip(self.executed, self.executes, self.decided)]

    def slot(self, i: int) -> int:
        if i < self.base:
            raise OutsideModel(f"slot {i} is below the window (every replica has executed "
                               f"slots below {self.base})")
        if i >= self.base + self.model.slots:
            self.need_slot = i
            points = self.points()
            slow = min(range(len(points)), key=points.__getitem__)
            raise NoRoom(f"slot {i}: the window holds {self.model.slots} slots from the "
                         f"first one some replica has not executed (r{slow} has executed "
                         f"{points[slow]})")
        return i - self.base

    # -- sliding the window ------------------------------------------------------------

    def compact(self, frontier: set) -> set:
        """Every state with the slots all replicas executed dropped and ballots and
        commands renumbered (the same for all), making room for `want` if it fits."""
        model = self.model
        points = self.points()
        top = max(points)
        # A replica below the base was caught up when the window passed it; should it
        # since come near the top, it is still behind the window (else k < 0).
        behind = frozenset(r for r, x in enumerate(points) if x < top - LAG or x < self.base)
        k = max(0, min(min(slack(prune(s), behind) for s in frontier),
                       min(x for r, x in enumerate(points) if r not in behind) - self.base))
        self._keep_proposals(frontier, k)
        states = [prune(s) for s in frontier]
        if behind and k > 0:
            states = [catch_up(s, behind, k) for s in states]
        used_b: set[int] = set()
        used_v: set[int] = set()
        ran: set[int] = set()
        for s in states:
            b, v = mentioned(s, k)
            used_b |= b
            used_v |= v
            for lg in s.log:
                ran.update(x for x in lg[:k] if x >= 0)
        keys = sorted(self.keys[b] for b in used_b)
        slots, rounds, commands = self._sizes(k, len(keys), len(used_v))
        if self.want is not None and len(keys) < rounds:
            keys = sorted(keys + [self.want])
        self.want, self.need_slot, self.need_command = None, None, False
        order = {key: i for i, key in enumerate(keys)}
        bmap = {b: order[self.keys[b]] for b in used_b}
        vmap = {v: i for i, v in enumerate(sorted(used_v))}
        out = {compact(s, k, bmap, vmap, rounds, slots) for s in states}
        if (slots, rounds, commands) != (model.slots, model.rounds, model.commands):
            model.resize(slots, rounds, commands)
        self.base += k
        self.keys, self.ballots = keys, order
        self.names = {vmap[v]: self.names[v] for v in used_v}
        self.commands = {name: v for v, name in self.names.items()}
        self.model.done = frozenset(vmap[v] for v in (self.model.done | ran) if v in vmap)
        low = min(self.executed)
        self.record = {j: x for j, x in self.record.items() if j >= low}
        # Pruned in bulk, when twice as many slots are kept as needed: each pass
        # walks them all, and the window slides every few events.
        keep = min(self.base - GRACE, low)
        if len(self.proposed) > 2 * GRACE:
            self.proposed = {j: x for j, x in self.proposed.items() if j >= keep}
        if len(self.got_2a) > 2 * GRACE + 2 * self.model.slots:
            self.got_2a = {j: x for j, x in self.got_2a.items() if j >= keep}
        # A prepare of a ballot the window dropped is no longer asked for (see _promise).
        live = self.ballots
        for a, got in self.got_1a.items():
            if any(key not in live for key in got):
                self.got_1a[a] = {key for key in got if key in live}
        return out

    def _sizes(self, k: int, ballots: int, commands: int) -> tuple[int, int, int]:
        """The window's sizes after dropping k slots: wider where what waits does not
        fit (twice as wide, or as the event needs), never past the MAX_ sizes."""
        model = self.model
        slots, rounds, width = model.slots, model.rounds, model.commands
        if self.need_slot is not None and self.need_slot - self.base - k >= slots:
            slots = min(MAX_SLOTS, max(2 * slots, self.need_slot - self.base - k + 1))
        if self.want is not None and ballots >= rounds:
            rounds = min(MAX_ROUNDS, 2 * rounds)
        if self.need_command and commands >= width:
            width = min(MAX_COMMANDS, 2 * width)
        return slots, rounds, width

    def _keep_proposals(self, frontier: set, k: int) -> None:
        """The 2as of the k slots about to leave the window that every state holds."""
        common = None
        for s in frontier:
            mine = {(m[2], self.keys[m[1]], self.names.get(m[3])) for m in s.msgs
                    if m[0] == P2A and m[2] < k}
            common = mine if common is None else common & mine
        for slot, key, name in common or ():
            self.proposed.setdefault(self.base + slot, set()).add((key, name))

    # -- events ------------------------------------------------------------------------

    def match(self, ev: dict):
        # Called for every event: the kinds in the order of their share of a run (recv,
        # decide, send, execute), the common cases answered here.
        r = self.replica.get(ev["node"])
        if r is None:
            return None  # clients: every command is pending from the start
        kind = ev["kind"]
        if kind == "recv":
            send = ev["_send"]
            if send is not None and send["msg"]["type"] == "accepted" and "_fault" not in ev:
                return None  # most recvs: a learner hears a vote
            return self._received(r, ev)
        if kind == "decide":
            # a replica decides a slot again (it learns, then hears the decide): one
            # below the watermark needs no IdSet.add
            done, i = self.decided[r], ev["slot"]
            if i >= done.low:
                done.add(i)
            return None
        if kind == "send":
            msg = ev["msg"]
            t = msg["type"]
            if t == "accepted":
                return self._accepted(r, msg)
            if t == "accept":
                return self._accept(r, msg)
            if t == "prepare":
                return self._prepare(r, msg, ev["node"] in ev["to"])
            if t == "promise":
                return self._promise(r, msg)
            return None  # nack, decide, reply, heartbeat: the model has no step for them
        if kind == "execute":
            return self._execute(r, ev)
        if kind == "crash":
            return ("Crash", r).__eq__
        if kind == "restart":
            return ("Restart", r).__eq__
        return None

    def _received(self, r: int, ev: dict):
        """Note what r received; receiving is no step of the model (sent-set), except
        r's own prepare, sent to itself: its acceptor may promise it now (or later, at
        its `promise`, which is then a stutter), unless it holds a higher ballot."""
        send = ev["_send"]
        if send is None:
            msg = ev.get("msg")
            if msg is None or "_fault" in ev:
                return None
        else:
            if "_fault" in ev and send["node"] != ev["from"]:
                return None  # fabricated: it carries nothing
            msg = send["msg"]
        t = msg["type"]
        if t == "accepted":  # most recvs: a learner hears a vote
            return None
        if t == "accept":
            cmd, b = msg["cmd"], msg["ballot"]
            got = self.got_2a.get(msg["slot"])
            if got is None:
                got = self.got_2a[msg["slot"]] = set()
            got.add((r, (b[0], self.replica.get(b[1], -1)),
                     None if cmd is None else (cmd["client"], cmd["req"])))
        elif t == "promise":
            mine = self.got_1b.get(r)
            a = self.replica.get(ev["from"])
            if mine is not None and a is not None and self.key(msg["ballot"]) == mine[0]:
                mine[1].add(a)
        elif t == "prepare":
            key = self.key(msg["ballot"])
            self.got_1a.setdefault(r, set()).add(key)
            b = self.ballots.get(key)
            if key[1] == r and b is not None:
                act = ("Promise", r, b)

                def successors(model, s):
                    if s.max_bal[r] != b and act in model.actions(s):
                        return [s, model.next_state(s, act)]
                    return [s]

                return Successors(successors, f"Promise(r{r}, b={b + 1}) of its own prepare, "
                                              "or not yet")
        return None

    @staticmethod
    def _range(msg: dict) -> None:
        """Phase 1 for one slot, or from a slot above 0, is outside this model, whose
        phase 1 covers every slot at once (version-1 meaning)."""
        if msg.get("slot") is not None:
            raise OutsideModel(f"a {msg['type']} for slot {msg['slot']} alone: the multipaxos "
                               "model runs phase 1 for all slots at once")
        if msg.get("from_slot", 0):
            raise OutsideModel(f"a {msg['type']} for slots from {msg['from_slot']}: the "
                               "multipaxos model runs phase 1 for all slots from 0")

    def _prepare(self, r: int, msg: dict, to_self: bool):
        """Prepare(r, b). In the model r's own acceptor promises b in the same step; a
        replica that sends the prepare to itself promises when it receives it, so then
        the step is Prepare without that promise, and r's own promise is Promise(r, b)
        (its acceptor may accept a lower ballot in between, as Paxos allows)."""
        self._range(msg)
        b = self.claim(msg["ballot"])
        key = self.key(msg["ballot"])
        mine = self.got_1b.get(r)
        if mine is None or mine[0] != key:  # a prepare sent again keeps the promises heard
            self.got_1b[r] = (key, set())

        def successors(model, s):
            if s.owner[b] == r:
                return [s]  # sent again: the 1a is among the messages already
            if s.owner[b] != NONE or s.up[r] == DOWN or r in s.owner[b + 1:]:
                return []
            # The model's Prepare also asks b to be above every ballot r's acceptor has
            # seen; Paxos asks only that no one else uses b and that a proposer's
            # ballots rise (§2.5: above any it has used), and the acceptors refuse one
            # too low, so the step is taken on that alone.
            t = prepare(s, r, b, model.cfg)
            if not to_self and b > s.max_bal[r]:
                return [t]
            # r's acceptor promises later (Promise(r, b)), or never, if it has promised
            # a higher ballot already.
            return [t._replace(max_bal=s.max_bal, msgs=s.msgs | {(P1A, b)})]

        return Successors(successors, f"Prepare(r{r}, b={b + 1})"
                          + (", its own acceptor promising when the prepare it sent itself "
                             "arrives" if to_self else "") + ", or sent again")

    def _unknown(self, what: str, b: list):
        return fails(f"{what} in ballot ({b[0]},{b[1]}), which no "
                     "replica has prepared or the window has dropped")

    def _promise(self, a: int, msg: dict):
        self._range(msg)
        key = self.key(msg["ballot"])
        b = self.ballots.get(key)
        if b is not None and key[1] != a and key not in self.got_1a.get(a, ()):
            return fails(f"r{a} promises ballot ({key[0]},r{key[1]}) without having "
                         "received its prepare")
        if b is None:
            # A ballot the window dropped: nobody collects promises for it any more.
            keys = self.keys

            def late(model, s):
                mb = s.max_bal[a]
                return [s] if mb == NONE or key > keys[mb] else []

            return Successors(late, f"a late promise by r{a} for a dropped ballot, above "
                                    "its own promise")

        def successors(model, s):
            if s.max_bal[a] == b:
                return [s]  # one it made already, or its own, made by Prepare
            act = ("Promise", a, b)
            if act in model.actions(s):
                return [model.next_state(s, act)]
            if s.owner[b] != NONE and not collecting(s, b) and b > s.max_bal[a]:
                return [s]  # a late promise: no leader reads it
            return []

        return Successors(successors, f"Promise(r{a}, b={b + 1}), or a stutter if late or its own")

    def _accept(self, r: int, msg: dict):
        if msg["slot"] < self.base:
            return self._below(r, msg)
        key = self.key(msg["ballot"])
        b = self.ballots.get(key)
        slot, v = self.slot(msg["slot"]), self.command(msg["cmd"])
        if b is None:
            return self._unknown("a 2a", msg["ballot"])
        self.led_at.setdefault((r, key), self.base)
        two_a = (P2A, b, slot, v)
        heard = self.got_1b.get(r)
        allowed = frozenset(heard[1] if heard is not None and heard[0] == self.keys[b]
                            else ()) | {r}

        def successors(model, s):
            if two_a in s.msgs:
                return [s]  # sent by Lead already (or sent again)
            if s.lead[r] != b or s.up[r] == DOWN:
                return []
            if s.next_slot[r] == NONE:  # the first 2a after phase 1: Lead first
                return [t for led in _leads(model.cfg, s, r, b, allowed)
                        for t in _propose(model.cfg, led, r, b, slot, v)]
            return _propose(model.cfg, s, r, b, slot, v)

        return Successors(successors, lambda: f"2a(b={b + 1}, slot={slot}, {value_name(v)}) by "
                                              f"r{r}: sent by Lead already, or Propose (in its next "
                                              "slot, or a slot its phase 1 left free), or Lead then "
                                              "that")

    def _accepted(self, r: int, msg: dict):
        if msg["slot"] < self.base:
            return self._late_vote(r, msg)
        if not self._got_2a(r, msg):
            return self._unreceived(r, msg)
        b = self.ballots.get(self.key(msg["ballot"]))
        slot, v = self.slot(msg["slot"]), self.command(msg["cmd"])
        if b is None:
            return self._unknown("a 2b", msg["ballot"])
        act = ("Accept", r, b, slot, v)
        two_a = (P2A, b, slot, v)

        def successors(model, s):
            if s.accepted[r][slot] == (b, v) and s.max_bal[r] == b:
                return [s]  # accepted again (a 2a sent again): the same 2b, the same state
            # Accept's guard (`actions.accept_enabled`, on the sent-set network with the
            # correct rules) for this one 2a, tested here rather than by listing every
            # enabled action: this is the step most events map to.
            if s.up[r] != DOWN and two_a in s.msgs and b >= s.max_bal[r] \
                    and s.accepted[r][slot] != (b, v):
                return [model.next_state(s, act)]
            return []

        return Successors(successors, lambda: f"Accept(r{r}, b={b + 1}, slot={slot}, "
                                              f"{value_name(v)}), or a stutter if it has just "
                                              "accepted it")

    def _got_2a(self, a: int, msg: dict) -> bool:
        """Whether acceptor a had the 2a it accepts: received it, or sent it itself (its
        own proposer's 2a needs no message)."""
        key, cmd = self.key(msg["ballot"]), msg["cmd"]
        if key[1] == a:
            return True
        got = self.got_2a.get(msg["slot"])
        return got is not None and (a, key, None if cmd is None else
                                    (cmd["client"], cmd["req"])) in got

    @staticmethod
    def _unreceived(a: int, msg: dict):
        b = msg["ballot"]
        return fails(f"r{a} accepts in ballot ({b[0]},{b[1]}) at slot {msg['slot']} without "
                     "having received that 2a (accept): a step reads only what its node "
                     "received")

    def _below(self, r: int, msg: dict):
        """A 2a in a slot the window has passed. Sent again (it is among the 2as kept
        for that slot): a stutter, as in the window. Otherwise it is one of two steps:
        - r led its ballot while the slot was still in the window (`led_at`): the model's
          Lead then either re-proposed there (that 2a is kept in `proposed` when the
          slot leaves the window) or left the slot to r's Propose (free, or at or above
          its next slot). So a 2a in r's ballot that is not the kept one is a Propose by
          a stale leader (deposed, not knowing): Paxos lets it propose any value in a
          free slot, and acceptors that promised a higher ballot ignore it (it cannot
          change a value chosen in a higher ballot, P2c); the window lets such a leader
          propose below it as it likes (`window`). Two different 2as in one ballot and
          one slot stay an error, and r must still lead that ballot. Its one lasting
          effect is read by late votes (`proposed`).
        - r leads a ballot whose phase 1 ended after the slot left the window (a new
          leader that lags): `_reproposal`."""
        i, key = msg["slot"], self.key(msg["ballot"])
        b = self.ballots.get(key)
        if b is None:
            return self._unknown("a 2a", msg["ballot"])
        cmd = msg["cmd"]
        name = None if cmd is None else (cmd["client"], cmd["req"])
        kept = self.proposed.get(i)
        if kept is not None and (key, name) in kept:
            return stays(f"a 2a by r{r} in slot {i}, below the window, sent again")
        led = self.led_at.get((r, key))
        if led is None or i < led:
            return self._reproposal(r, msg)
        if kept is None and i < self.base - GRACE:
            raise OutsideModel(f"slot {i} is {GRACE} or more below the window (every replica "
                               f"has executed slots below {self.base}), its 2as forgotten")
        other = [v for k, v in kept or () if k == key]
        if other:
            return fails(f"a 2a by r{r} in slot {i}, below the window, in ballot "
                         f"({key[0]},r{r}), which has proposed {other[0]} there already")
        self.proposed.setdefault(i, set()).add((key, name))

        def successors(model, s):
            return [s] if s.lead[r] == b and s.up[r] != DOWN else []

        return Successors(successors, f"a Propose by r{r} in slot {i}, below the window, in "
                                      f"ballot b={b + 1}, which it still leads (a stale "
                                      "leader's, in a slot its phase 1 left free)")

    def _reproposal(self, r: int, msg: dict):
        """A 2a in a slot the window has passed, from a new leader that lags (it
        re-proposes from its own execution point): Lead re-proposes, per slot, the value
        its quorum reports with the highest ballot, which in a chosen slot is the chosen
        value (Paxos Made Simple §2.2, P2c), so it must be what was executed there. The
        step it belongs to is Lead, unless r has led already."""
        i, key = msg["slot"], self.key(msg["ballot"])
        b = self.ballots.get(key)
        if b is None:
            return self._unknown("a 2a", msg["ballot"])
        first = self.record.get(i)
        if first is None:
            raise OutsideModel(f"slot {i} is below the window (every replica has executed "
                               f"slots below {self.base})")
        cmd = msg["cmd"]
        name = None if cmd is None else (cmd["client"], cmd["req"])
        if name != first[0]:
            return fails(f"a 2a by r{r} in slot {i}, below the window, must re-propose "
                          f"{first[0]}, executed there")
        self.led_at.setdefault((r, key), self.base)
        self.proposed.setdefault(i, set()).add((key, name))

        def successors(model, s):
            if s.lead[r] != b:
                return []
            if s.next_slot[r] != NONE:
                return [s]
            return [model.next_state(s, a) for a in model.actions(s)
                    if a[0] == "Lead" and a[1] == r]

        return Successors(successors, f"a re-proposal by r{r} in slot {i}, below the window, "
                                      f"of what was executed there: Lead(r{r}, b={b + 1}), "
                                      "or nothing if it has led")

    def _late_vote(self, a: int, msg: dict):
        """Accept(a, b, slot, v) in a slot every replica executed: the 2a must have been
        sent, and b must be at least a's promise, which it raises; nothing else of the
        step can be read again (`window`)."""
        i, key = msg["slot"], self.key(msg["ballot"])
        if i < self.base - GRACE and i not in self.proposed:
            raise OutsideModel(f"slot {i} is {GRACE} or more below the window (every replica "
                               f"has executed slots below {self.base})")
        cmd = msg["cmd"]
        name = None if cmd is None else (cmd["client"], cmd["req"])
        sent = (key, name) in self.proposed.get(i, ())
        b = self.ballots.get(key)
        if not sent:
            return fails(f"Accept(r{a}) in slot {i}, below the window, of a 2a never sent")
        if not self._got_2a(a, msg):
            return self._unreceived(a, msg)
        if b is None:
            keys = self.keys

            def dropped(model, s):
                mb = s.max_bal[a]
                if mb != NONE and key < keys[mb]:
                    return []  # below its promise
                raise OutsideModel(f"r{a} accepts in ballot ({key[0]},r{key[1]}), which the "
                                   "window has dropped, above its promise")

            return Successors(dropped, f"a late Accept(r{a}) in slot {i}, in a ballot the "
                                       "window dropped")

        def late(model, s):
            mb = s.max_bal[a]
            if b < mb:
                return []
            if b == mb:
                return [s]
            return [s._replace(max_bal=s.max_bal[:a] + (b,) + s.max_bal[a + 1:])]

        return Successors(late, f"a late Accept(r{a}, b={b + 1}) in slot {i}, below the window: "
                                f"the 2a was sent and b is at least r{a}'s promise")

    def _execute(self, r: int, ev: dict):
        i, cmd, applied = ev["slot"], ev["cmd"], ev.get("applied", True) is not False
        seen = (None if cmd is None else (cmd["client"], cmd["req"]), applied)
        if applied and cmd is not None:
            ran = self.applied.get(cmd["client"])
            if ran is None:
                ran = self.applied[cmd["client"]] = IdSet()
            ran.add(cmd["req"])
        self.executes[r] = True
        if self.base > i >= self.executed[r]:
            return self._catching_up(r, i, seen)
        slot = self.slot(i)
        v = self.command(cmd)
        self.executed[r] = max(self.executed[r], i + 1)
        self.record.setdefault(i, seen)
        logged = v if applied else NOOP

        def successors(model, s):
            log = s.log[r]
            if s.up[r] == CATCHING_UP and len(log) == slot:
                out = []
                for a in model.actions(s):
                    if a[0] == "Execute" and a[1] == r and a[2] == v:
                        t = model.next_state(s, a)
                        if t.log[r][slot] == logged:
                            out.append(t)
                return out
            return [s] if len(log) > slot and log[slot] == logged else []

        return Successors(successors, lambda: f"r{r}'s log holds {value_name(logged)} at slot "
                                              f"{slot} (or Execute, while it catches up)")

    def _catching_up(self, r: int, i: int, seen: tuple):
        """r executes a slot the window has passed: the one it must execute next, and
        the value the first replica to execute it executed (agreement, in order)."""
        ok = i == self.executed[r] and self.record.get(i) == seen
        first = self.record.get(i)
        text = (f"r{r} executes slot {i}, below the window: it must be its next slot "
                f"({self.executed[r]}) and what was executed there first "
                f"({'unknown' if first is None else first})")
        self.executed[r] = max(self.executed[r], i + 1)
        return (stays if ok else fails)(text)

    def describe_match(self, ev: dict) -> str:
        ballots = ", ".join(f"b={b + 1} is ({k[0]},r{k[1]})" for b, k in enumerate(self.keys))
        names = [f"c{v} is {c}#{q}" for v, (c, q) in sorted(self.names.items())]
        if len(names) > 12:
            names = names[:12] + [f"and {len(names) - 12} more"]
        text = (f"(model slot 0 is trace slot {self.base}; ballots: {ballots or 'none'}; "
                f"commands: {', '.join(names) or 'none'})")
        saved = list(self.executed), list(self.executes)
        try:
            m = self.match(ev)
        except OutsideModel as why:
            return f"outside the model: {why}"
        finally:
            self.executed, self.executes = saved
        if m is None:
            return "a stutter"
        if isinstance(m, Successors):
            return f"{m.text} {text}"
        return f"{m.__self__!r} {text}"


def for_header(header, monitor=None) -> tuple[WindowModel, MultiPaxosTraceMap]:
    """The model instance a run's header describes, and the map into it; OutsideModel
    (the run is then checked on its invariants alone) for a run it cannot describe.
    `monitor` is the run's event monitor; this map keeps its own per-node facts."""
    n = len(header.nodes)
    if n > MAX_REPLICAS:
        raise OutsideModel(f"the multipaxos model has at most {MAX_REPLICAS} replicas; this "
                           f"run has {n}")
    all_logged(header)
    try:
        members = membership(header)
    except UsageError as err:
        raise OutsideModel(str(err)) from None
    if not members.all_replicas:
        raise OutsideModel("the multipaxos model's nodes are replicas (proposer, acceptor and "
                           "learner at once); this run separates roles")
    q = members.quorums
    sized = all(isinstance(m, Threshold) and set(m.weights) == {1} for m in (q.phase1, q.phase2))
    if not sized:
        raise OutsideModel(f"the multipaxos model counts quorums by size; this run's quorum "
                           f"system is {q.name}")
    model = WindowModel(n, f"flexible:q1={q.phase1.threshold},q2={q.phase2.threshold}")
    return model, MultiPaxosTraceMap(header, model)
