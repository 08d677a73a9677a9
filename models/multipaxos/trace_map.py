"""Trace events of a MultiPaxos run as steps of the MultiPaxos model, for conformance.

`smrcheck validate --conformance` keeps the set of model states consistent with the
events so far (checker/validate.py). This module says, per event, which states it can
lead to. Names become the model's ints here: replica r_i is i; a trace ballot
[round, replica] becomes the model's claimed round, numbered in the order ballots
first appear (which must be their order, else the run leaves the model); a command
(client, req) becomes the model's command k in order of first appearance; a no-op,
or a duplicate a replica skipped (`"applied": false`), is NOOP.

Paxos Made Simple §3, step by step:

- `send` prepare by r: Prepare(r, b), which in the model also makes r's own acceptor
  promise; so r's own `promise` is a stutter.
- `send` promise by another acceptor a: Promise(a, b) while b's leader still collects
  promises; a late promise (the leader has led) is a stutter, as the model argues:
  a promise no leader reads only blocks lower ballots, which a lost message also does.
- `send` accept by the leader: the 2a is already among the model's messages (Lead sent
  every re-proposal at once), or it is Propose(r, c) in the leader's next slot, or it
  is the first 2a after phase 1: Lead(r, Q, ...) with any quorum Q, then, if the 2a is
  not a re-proposal, Propose.
- `send` accepted by a: Accept(a, b, slot, v); the model's prompt learners execute in
  that same step.
- `execute` at r: for a live replica a check, no step: the model's log of r holds v at
  that slot; for a replica catching up after a restart, Execute(r, v).
- `crash`, `restart`: Crash(r), Restart(r) (recovery=durable).
- everything else stutters: `decide` (learning is derived), every `recv` (the
  sent-set network), requests (every command is pending from the start), replies,
  results, decide messages, heartbeats, notes.

The model is finite: at most 5 replicas, 4 slots, 4 ballots, 4 commands and 3
crashes; a run that goes beyond is not blamed (`OutsideModel`).
"""

from __future__ import annotations

from ...checker.errors import UsageError
from ...checker.validate import OutsideModel
from ..common.ids import NONE
from .actions import collecting
from .messages import NOOP, P2A
from .spec import MultiPaxosModel
from .state import CATCHING_UP

MAX_REPLICAS, SLOTS, ROUNDS, COMMANDS, CRASHES = 5, 4, 4, 4, 3


class Successors:
    """The states one event leads to from a state: `fn(model, s)`."""

    __slots__ = ("fn", "text")

    def __init__(self, fn, text: str) -> None:
        self.fn, self.text = fn, text

    def successors(self, model, s):
        return self.fn(model, s)


class MultiPaxosTraceMap:
    def __init__(self, header) -> None:
        self.replica = {name: i for i, name in enumerate(header.nodes)}
        self.ballots: dict[tuple[int, int], int] = {}  # (round, replica index) -> model round
        self.commands: dict[tuple[str, int], int] = {}

    # -- names to model ints -----------------------------------------------------------

    def ballot(self, b: list) -> int:
        key = (b[0], self.replica.get(b[1], -1))
        got = self.ballots.get(key)
        if got is None:
            if self.ballots and key < max(self.ballots):
                raise OutsideModel(f"ballot ({b[0]},{b[1]}) first appears after a higher one; "
                                   "the model numbers ballots in the order they are claimed")
            if len(self.ballots) >= ROUNDS:
                raise OutsideModel(f"ballot ({b[0]},{b[1]}): the model has {ROUNDS} ballots")
            got = self.ballots[key] = len(self.ballots)
        return got

    def command(self, cmd: dict | None) -> int:
        if cmd is None:
            return NOOP
        key = (cmd["client"], cmd["req"])
        got = self.commands.get(key)
        if got is None:
            if len(self.commands) >= COMMANDS:
                raise OutsideModel(f"command {key[0]}#{key[1]}: the model has {COMMANDS} commands")
            got = self.commands[key] = len(self.commands)
        return got

    @staticmethod
    def slot(i: int) -> int:
        if i >= SLOTS:
            raise OutsideModel(f"slot {i}: the model has slots 0..{SLOTS - 1}")
        return i

    def hidden(self, a: tuple) -> bool:
        return False

    # -- events ------------------------------------------------------------------------

    def match(self, ev: dict):
        kind, node = ev["kind"], ev["node"]
        r = self.replica.get(node)
        if r is None:
            return None  # clients: every command is pending from the start
        if kind == "send":
            msg = ev["msg"]
            t = msg["type"]
            if t == "prepare":
                return ("Prepare", r, self.ballot(msg["ballot"])).__eq__
            if t == "promise":
                return self._promise(r, msg)
            if t == "accept":
                return self._accept(r, msg)
            if t == "accepted":
                b, slot, v = self.ballot(msg["ballot"]), self.slot(msg["slot"]), self.command(msg["cmd"])
                return ("Accept", r, b, slot, v).__eq__
            return None
        if kind == "execute":
            return self._execute(r, ev)
        if kind == "crash":
            return ("Crash", r).__eq__
        if kind == "restart":
            return ("Restart", r).__eq__
        return None

    def _promise(self, a: int, msg: dict):
        b = self.ballot(msg["ballot"])

        def successors(model, s):
            if s.owner[b] == a:
                return [s]  # its own promise, made by Prepare
            act = ("Promise", a, b)
            if act in model.actions(s):
                return [model.next_state(s, act)]
            if s.owner[b] != NONE and not collecting(s, b) and b > s.max_bal[a]:
                return [s]  # a late promise: no leader reads it
            return []

        return Successors(successors, f"Promise(r{a}, b={b + 1}), or a stutter if late or its own")

    def _accept(self, r: int, msg: dict):
        b, slot, v = self.ballot(msg["ballot"]), self.slot(msg["slot"]), self.command(msg["cmd"])
        two_a = (P2A, b, slot, v)

        def successors(model, s):
            if two_a in s.msgs:
                return [s]
            out = []
            for a in model.actions(s):
                if a[0] == "Propose" and a[1] == r and a[2] == v and s.next_slot[r] == slot:
                    out.append(model.next_state(s, a))
                elif a[0] == "Lead" and a[1] == r:
                    t = model.next_state(s, a)
                    if two_a in t.msgs:
                        out.append(t)
                    elif t.next_slot[r] == slot and ("Propose", r, v) in model.actions(t):
                        out.append(model.next_state(t, ("Propose", r, v)))
            return out

        return Successors(successors, f"2a(b={b + 1}, slot={slot}, v={v}) by r{r}: sent by "
                                      "Lead already, or Propose, or Lead then Propose")

    def _execute(self, r: int, ev: dict):
        slot = self.slot(ev["slot"])
        v = self.command(ev["cmd"])
        logged = NOOP if ev.get("applied", True) is False else v

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

        return Successors(successors, f"r{r}'s log holds {logged} at slot {slot} "
                                      "(or Execute, while it catches up)")

    def describe_match(self, ev: dict) -> str:
        try:
            m = self.match(ev)
        except OutsideModel as why:
            return f"outside the model: {why}"
        if m is None:
            return "a stutter"
        if isinstance(m, Successors):
            return m.text
        return repr(m.__self__)


def for_header(header) -> tuple[MultiPaxosModel, MultiPaxosTraceMap]:
    """The model instance a run's header describes, and the map into it."""
    if len(header.nodes) > MAX_REPLICAS:
        raise UsageError(f"--conformance: the multipaxos model has at most {MAX_REPLICAS} "
                         f"replicas; this run has {len(header.nodes)}")
    model = MultiPaxosModel(replicas=len(header.nodes), slots=SLOTS, max_round=ROUNDS,
                            commands=COMMANDS, crashes=CRASHES, recovery="durable")
    return model, MultiPaxosTraceMap(header)
