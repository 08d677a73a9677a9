"""Trace events of a PBFT run as actions of the PBFT model, for conformance checking.

`smrcheck validate` keeps the set of model states consistent with the events so far
(checker/validate.py); this module says which model action each event records. The
model's vocabulary is ints (replica i, request d with digest d, the null request,
views, sequence numbers n); a trace's is names and digests, so the map is the edge
where names become ints, as `common.ids` does for counterexamples:

- a correct replica's `send` of PRE-PREPARE, PREPARE or COMMIT is the model's step of
  the same name (Castro and Liskov §4.2), or a stutter if the model has sent that
  message already (a retransmission, the new primary's pre-prepares of O, a backup's
  prepares of O); of VIEW-CHANGE and NEW-VIEW, likewise (§4.4);
- a backup's `recv` of NEW-VIEW is ENTER-VIEW, which in the model also sends the
  backup's PREPAREs for O at once;
- `execute` is EXECUTE; a client's `result` is ACCEPT of that request (with any
  result: the model numbers results by history position, and the invariants compare
  result strings);
- everything else stutters: a `decide` (committed-local is derived from the messages
  in the model), replies (derived from executed logs), requests (a request is
  pending from the start of its window), every `recv` but NEW-VIEW (the sent-set
  network: a received message was sent, and receiving changes nothing until the step
  it enables), heartbeats, notes, crashes (a replica that crashes and restarts with
  its log is a slow correct one), and every event of a Byzantine replica (the
  model's faulty replicas have sent every message they can sign from the start).

Digests: the PRE-PREPARE that names a digest carries its request, which fixes the
digest's model request.

A run is unbounded, the model is not, so the model follows a window of the run
(`window.py` says what may be forgotten and why): model sequence number n is trace
number `base + n`, and model requests are the requests some state still mentions.
When an event needs a number past the window or a request more, the validator asks
`compact` to slide it: `base` moves up to the last number every correct replica has
executed (a replica more than `LAG` numbers behind the others no longer holds it
back: its log is filled in and its execute events are checked against `history`).

impl/ takes no checkpoints (§4.3), so a view change re-runs every number from 1:
VIEW-CHANGE certificates, NEW-VIEW's O and the new view's PRE-PREPAREs, PREPAREs
and COMMITs name numbers far below the window. What the model lets a correct replica
send for a number every correct replica has executed is that number's executed
digest (safety: a committed digest is in every later O, and a correct backup
prepares only O's digest), so such an event is checked against `history`, the
digest executed at each number (memory: one digest per number, which is what the
replicas themselves keep without checkpoints); a different digest fails, except
under a faulty primary, where the model would need the old numbers' state, and
conformance stops unchecked. That a re-run event's quorums were complete is not
checked there: it can change no log, since no replica executes a number twice.

The window reports as outside the model, never guesses: a number more than `SEQS`
above the last one every (not lagging) correct replica executed, more than
`REQUESTS` requests in flight, a view above the model's. A request that no state
mentions any more was executed by every correct replica (its client may still
accept it: `settled`); were it ordered again it would be taken for a new one.
"""

from __future__ import annotations

from ...checker.errors import UsageError
from ...checker.validate import NoRoom, OutsideModel
from ..common.ids import NONE
from .messages import CM, PP, PR
from .spec import PbftModel
from .window import catch_up, compact, mentioned, prune, slack

# The window: sequence numbers and requests in flight. Wider costs time per event.
SEQS, REQUESTS = 6, 6
LAG = SEQS // 2
VIEWS_PER_REPLICA = 3  # views 0..3n-1: three rounds of primaries


class Successors:
    """The states one event leads to from a state: `fn(model, s)`."""

    __slots__ = ("fn", "text")

    def __init__(self, fn, text: str) -> None:
        self.fn, self.text = fn, text

    def successors(self, model, s):
        return self.fn(model, s)


def _send(action: tuple, message: tuple, text: str) -> Successors:
    """The step that sends `message`, or a stutter if it was sent already (sent-set)."""

    def successors(model, s):
        if message in s.msgs:
            return [s]
        return [model.next_state(s, action)] if action in model.actions(s) else []

    return Successors(successors, text)


def _fails(text: str) -> Successors:
    return Successors(lambda model, s: [], text)


def _stutter(text: str) -> Successors:
    return Successors(lambda model, s: [s], text)


class PbftTraceMap:
    def __init__(self, header, model: PbftModel) -> None:
        self.model = model
        self.setup = model.setup
        self.replica = {name: i for i, name in enumerate(header.nodes)}
        self.faulty = frozenset(header.byzantine)
        self.null = model.setup.null
        self.forged = model.setup.null + 1
        self.base = 0  # model number n is trace number base + n
        self.digest: dict[str, int] = {}
        self.requests: dict[tuple[str, int], int] = {}
        self.names: dict[int, tuple[str, int]] = {}
        self.settled: set[tuple[str, int]] = set()  # executed everywhere, not yet accepted
        self.executed = [0] * len(header.nodes)  # per replica: last number executed (trace)
        self.history: list[str] = []  # history[n - 1]: the digest first executed at n

    # -- names to model ints -----------------------------------------------------------

    def request_of(self, cmd: dict | None) -> int:
        if cmd is None:
            return self.null
        key = (cmd["client"], cmd["req"])
        got = self.requests.get(key)
        if got is None:
            free = [d for d in range(self.setup.requests) if d not in self.names]
            if not free:
                raise NoRoom(f"request {key[0]}#{key[1]}: the window holds {REQUESTS} "
                             "requests in flight")
            got = self.requests[key] = free[0]
            self.names[got] = key
            self.settled.discard(key)
        return got

    def d(self, digest: str) -> int:
        return self.digest.get(digest, self.forged)

    def seq(self, n: int) -> int:
        if n > self.base + SEQS:
            slow = min(self.setup.correct, key=self.executed.__getitem__)
            raise NoRoom(f"sequence number {n}: the window holds {SEQS} numbers above the "
                         f"last one every correct replica executed (r{slow} executed "
                         f"{self.executed[slow]})")
        return n - self.base

    def view(self, v: int) -> int:
        if v > self.setup.max_view:
            raise OutsideModel(f"view {v}: the model's views go up to {self.setup.max_view}")
        return v

    def hidden(self, a: tuple) -> bool:
        return False

    # -- sliding the window ------------------------------------------------------------

    def compact(self, frontier: set) -> set:
        """Every state with the numbers all correct replicas executed dropped and its
        requests renumbered (the same for all)."""
        c = self.setup
        top = max(self.executed[i] for i in c.correct)
        behind = frozenset(i for i in c.correct if self.executed[i] < top - LAG)
        states = [prune(s, c) for s in frontier]
        k = min(min(slack(s, c, behind) for s in states),
                min(self.executed[i] for i in c.correct if i not in behind) - self.base)
        if behind and k > 0:
            states = [catch_up(s, c, behind, k) for s in states]
        used: set[int] = set()
        for s in states:
            used |= mentioned(s, c, k)
        for d, name in self.names.items():
            if d not in used and any(s.accepted[d] == NONE for s in states):
                self.settled.add(name)
        dmap = {d: j for j, d in enumerate(sorted(used))}
        out = {compact(s, c, k, dmap) for s in states}
        self.base += k
        self.names = {dmap[d]: self.names[d] for d in used}
        self.requests = {name: d for d, name in self.names.items()}
        self.digest = {dg: (d if d >= c.requests else dmap[d])
                       for dg, d in self.digest.items() if d >= c.requests or d in dmap}
        return out

    # -- events to successors ----------------------------------------------------------

    def match(self, ev: dict):
        kind, node = ev["kind"], ev["node"]
        if kind == "send" and ev["msg"]["type"] == "pre-prepare":
            msg = ev["msg"]
            if msg["n"] > self.base:  # the request's name in the model, while it is in view
                self.digest[msg["digest"]] = self.request_of(msg["cmd"])
        if node in self.faulty:
            return None
        i = self.replica.get(node)
        if kind == "send" and i is not None:
            return self._send_event(i, ev["msg"])
        if kind == "recv" and i is not None:
            send = ev.get("_send")
            msg = send["msg"] if send is not None else ev.get("msg")
            if msg is not None and msg.get("type") == "new-view":
                v = self.view(msg["view"])
                o = self.o(msg["pre_prepares"])
                if isinstance(o, Successors):
                    return o
                return ("ENTER-VIEW", v, i, o).__eq__
            return None
        if kind == "execute" and i is not None:
            return self._execute(i, ev)
        if kind == "result":
            key = (node, ev.get("req"))
            d = self.requests.get(key)
            if d is not None:
                return lambda a: a[0] == "ACCEPT" and a[1] == d
            if key in self.settled:
                self.settled.discard(key)
                return None  # every correct replica executed it: ACCEPT is enabled
            return _fails(f"ACCEPT of {node}#{key[1]}, a request no replica ordered")
        return None

    def _send_event(self, i: int, msg: dict):
        t = msg["type"]
        if t in ("pre-prepare", "prepare", "commit"):
            v, n, dg = self.view(msg["view"]), msg["n"], msg["digest"]
            if n <= self.base:
                return self._below(v, n, dg, t)
            n, d = self.seq(n), self.d(dg)
            if t == "pre-prepare":
                return _send(("PRE-PREPARE", v, n, d, i), (PP, v, n, d),
                             f"PRE-PREPARE(v={v}, n={n}, d={d}) by r{i}, or sent already")
            kind = PR if t == "prepare" else CM
            return _send((t.upper(), v, n, d, i), (kind, v, n, d, i),
                         f"{t.upper()}(v={v}, n={n}, d={d}, r{i}), or sent already")
        if t == "view-change":
            v = self.view(msg["view"])
            return lambda a: a[0] == "VIEW-CHANGE" and a[1] == v and a[2] == i
        if t == "new-view":
            v = self.view(msg["view"])
            o = self.o(msg["pre_prepares"])
            if isinstance(o, Successors):
                return o
            return ("NEW-VIEW", v, i, o).__eq__
        return None

    def o(self, pre_prepares: list) -> tuple[int, ...] | Successors:
        """NEW-VIEW's O inside the window; its numbers below it must hold the digests
        executed there."""
        for n, dg in pre_prepares:
            if n <= self.base and self.history[n - 1] != dg:
                return _fails(f"O gives {n} digest {dg}, but {self.history[n - 1]} was "
                              "executed there")
        inside = sorted((n, dg) for n, dg in pre_prepares if n > self.base)
        if inside:
            self.seq(inside[-1][0])
        return tuple(self.d(dg) for _, dg in inside)

    def _below(self, v: int, n: int, dg: str, t: str):
        """A message about a number every correct replica executed (a view change
        re-runs it): it must carry the digest executed there."""
        if dg == self.history[n - 1]:
            return _stutter(f"{t} for {n}, below the window: the digest executed there")
        if self.setup.primary(v) in self.setup.faulty:
            raise OutsideModel(f"{t} for {n} with digest {dg} under faulty primary "
                               f"r{self.setup.primary(v)}: number {n} is below the window")
        return _fails(f"{t} for {n}, below the window, must carry {self.history[n - 1]}, "
                      "the digest executed there")

    def _execute(self, i: int, ev: dict):
        n, dg = ev["n"], ev["digest"]
        if n <= self.base:
            ok = n == self.executed[i] + 1 and self.history[n - 1] == dg
            self.executed[i] = max(self.executed[i], n)
            return Successors(lambda model, s: [s] if ok else [],
                              f"r{i} executes {n}, below the window: its next number, "
                              f"with the digest executed there ({self.history[n - 1]})")
        m = self.seq(n)
        self.executed[i] = max(self.executed[i], n)
        if n == len(self.history) + 1:
            self.history.append(dg)
        return ("EXECUTE", i, m, self.d(dg)).__eq__

    def describe_match(self, ev: dict) -> str:
        saved = (list(self.executed), len(self.history), set(self.settled))
        try:
            w = self.match(ev)
        except OutsideModel as why:
            return f"outside the model: {why}"
        finally:
            self.executed, self.settled = saved[0], saved[2]
            del self.history[saved[1]:]
        where = f"(model number n is trace number {self.base} + n)"
        if w is None:
            return "a stutter"
        if isinstance(w, Successors):
            return f"{w.text} {where}"
        if ev["kind"] == "result":
            return f"ACCEPT({ev['node']}#{ev.get('req')}, any result)"
        if ev["kind"] == "send" and ev["msg"]["type"] == "view-change":
            return f"VIEW-CHANGE(v={ev['msg']['view']}, {ev['node']}, any certificates)"
        return f"{w.__self__!r} {where}"


def _byzantine_param(header) -> str:
    n, f = len(header.nodes), header.f
    faulty = {header.nodes.index(x) for x in header.byzantine}
    for name, ids in (("none", set()), ("primary", set(range(f))),
                      ("new-primary", set(range(1, f + 1))), ("backups", set(range(n - f, n)))):
        if faulty == ids:
            return name
    raise UsageError("conformance: the pbft model's faulty replicas are none, the first f, "
                     "r1..rf or the last f; this run's byzantine list is none of these "
                     "(use --no-conformance)")


def for_header(header) -> tuple[PbftModel, PbftTraceMap]:
    """The model instance a run's header describes, and the map into it."""
    n = len(header.nodes)
    if header.f >= n:
        raise UsageError(f"conformance: f must be below the number of replicas; this run "
                         f"has {n} replicas and f={header.f} (use --no-conformance)")
    model = PbftModel(replicas=n, f=header.f, byzantine=_byzantine_param(header),
                      requests=REQUESTS, max_view=VIEWS_PER_REPLICA * n - 1, max_seq=SEQS)
    return model, PbftTraceMap(header, model)
