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

The model's network is the set of every message sent, so its PREPARE, COMMIT,
EXECUTE and NEW-VIEW may read messages their replica never received, and a verdict
would follow the order in which a merged file lists the replicas. So each is also
held to what that replica received: a backup prepares a pre-prepare it holds
(received from the primary, or in a NEW-VIEW), it commits once prepared and executes
once committed-local as the run's monitor counts its receipts (`prepared`,
`committed_local`, asked of the monitor, which sees each event just before the map;
without a monitor those two checks are the model's alone), and a new primary's O
follows from VIEW-CHANGEs it received.

Digests: the PRE-PREPARE that names a digest carries its request, which fixes the
digest's model request (a Byzantine primary's sends are not trusted to be logged, so
a backup's recv of its pre-prepare, which carries the message, names it too).

A run is unbounded, the model is not, so the model follows a window of the run
(`window.py` says what may be forgotten and why): model sequence number n is trace
number `base + n`, and model requests are the requests some state still mentions.
When an event needs a number past the window or a request more, the validator asks
`compact` to slide it: `base` moves up to the last number every correct replica has
executed (a replica more than `LAG` numbers behind the others no longer holds it
back: its log is filled in and its execute events are checked against `history`);
if that leaves no room, the window widens (real runs pipeline dozens of requests).
The model has 3n views; when a trace view is past them, views every state has left
behind are dropped, n at a time (`vbase`), so a view keeps its primary (v mod n).

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

The window reports as outside the model, never guesses: a number more than `MAX_SEQS`
above the last one every (not lagging) correct replica executed, more than
`MAX_REQUESTS` requests in flight, views spanning more than the model's 3n. A request that no state
mentions any more was executed by every correct replica (its client may still
accept it: `settled`); were it ordered again it would be taken for a new one, so a
correct primary's "each request once per view" is checked only within the window.

Size: one mapping per PBFT message and event kind (§4.2 normal case, §4.4 view change,
client replies) plus the window's sliding, all sharing the name-to-int tables of one run.
"""

from __future__ import annotations

from ...checker.errors import UsageError
from ...checker.conformance import NoRoom, OutsideModel, Successors, fails, stays
from ..common.ids import NONE
from ..common.membership import all_logged, membership
from ..common.quorums import Threshold
from .actions import Index, new_view_options
from .messages import CM, PP, PR, VC
from .spec import PbftModel
from .window import catch_up, compact, lowest_view, mentioned, prune, slack

# The window: sequence numbers and requests in flight, at first. It widens (to
# twice, or what an event needs) when sliding leaves no room, up to the MAX_ sizes;
# a wider window costs time per event, so it starts small.
SEQS, REQUESTS = 6, 6
MAX_SEQS, MAX_REQUESTS = 512, 512
LAG = 3
VIEWS_PER_REPLICA = 3  # views 0..3n-1 in the window: three rounds of primaries


def _step(want, text: str, replica: int | None = None, client: int | None = None,
          sent: tuple | None = None) -> Successors:
    """The steps of one replica or client that `want` (an action, or a predicate over
    actions) picks; a stutter if the message `sent` is in msgs already (sent-set)."""
    pick = want.__eq__ if isinstance(want, tuple) else want

    def successors(model, s):
        if sent is not None and sent in s.msgs:
            return [s]
        return [model.next_state(s, a) for a in model.actions_of(s, replica, client)
                if pick(a)]

    return Successors(successors, text)


class WindowModel:
    """The PBFT model of the current window's sizes; `resize` widens it."""

    def __init__(self, replicas: int, f: int, byzantine: str, max_view: int) -> None:
        self.params = (replicas, f, byzantine)
        self.max_view = max_view
        self.resize(SEQS, REQUESTS)

    def resize(self, seqs: int, requests: int) -> None:
        replicas, f, byzantine = self.params
        model = self.model = PbftModel(replicas=replicas, f=f, byzantine=byzantine,
                                       requests=requests, max_view=self.max_view,
                                       max_seq=seqs)
        self.setup = model.setup
        for name in ("init_states", "actions", "actions_of", "next_state", "properties",
                     "describe", "format_action"):
            setattr(self, name, getattr(model, name))


class PbftTraceMap:
    def __init__(self, header, model: WindowModel, monitor=None) -> None:
        self.model = model
        # The run's monitor sees each event just before this map: it answers whether a
        # replica was prepared (committed-local) by what it had itself received. None
        # (a map built on its own) leaves those two checks to the model alone.
        self.monitor = monitor if hasattr(monitor, "committed_local") else None
        # What each replica had received that the monitor does not say: trace number ->
        # (replica, view, digest) of the pre-prepares it holds (from the primary, or in
        # a NEW-VIEW); (primary, view) -> the replicas whose VIEW-CHANGE it received;
        # (replica, number) -> the views of its decides (committed-local) there.
        self.got_pp: dict[int, set[tuple[int, int, str]]] = {}
        self.got_vc: dict[tuple[int, int], set[int]] = {}
        self.decides: dict[tuple[int, int], set[int]] = {}
        self.replica = {name: i for i, name in enumerate(header.nodes)}
        self.names_of = list(header.nodes)
        self.faulty = frozenset(header.byzantine)
        self.need_seq: int | None = None  # a trace number the window must reach
        self.need_request = False  # the window must hold one request more
        self.base = 0  # model number n is trace number base + n
        self.vbase = 0  # model view v is trace view vbase + v, a multiple of n
        self.need_view = False
        self.digest: dict[str, int] = {}
        self.requests: dict[tuple[str, int], int] = {}
        self.names: dict[int, tuple[str, int]] = {}
        # request -> the highest number a PRE-PREPARE gave it: a faulty primary's are
        # in no state (its messages are a universe), yet backups may still take them
        self.ordered_at: dict[int, int] = {}
        self.settled: set[tuple[str, int]] = set()  # executed everywhere, not yet accepted
        self.executed = [0] * len(header.nodes)  # per replica: last number executed (trace)
        self.history: list[str] = []  # history[n - 1]: the digest first executed at n
        # (primary, view) -> replica -> (stable, prepared) of the VIEW-CHANGE it received
        # (or sent): the trace's own certificates, which NEW-VIEW's O is computed from
        self.vc_lists: dict[tuple[int, int], dict[int, tuple[int, list]]] = {}
        # (client, req) -> replica -> result of the replies that client received; dropped
        # on its result (the client's ACCEPT is judged by what it received, §4.1)
        self.replies: dict[tuple[str, int], dict[str, object]] = {}
        # clients that received a message of a Byzantine replica the trace does not hold
        # (its send not logged): their replies are not counted
        self.blind: set[str] = set()
        # (primary, trace view) of the NEW-VIEWs sent; a new primary's pre-prepares of
        # O logged before its NEW-VIEW (sent with it, §4.4), checked against O then
        self.nv_sent: set[tuple[int, int]] = set()
        self.early_pp: dict[tuple[int, int], list[tuple[int, str]]] = {}

    @property
    def setup(self):
        return self.model.setup

    @property
    def null(self) -> int:
        return self.model.setup.null

    @property
    def forged(self) -> int:
        return self.model.setup.forged

    # -- names to model ints -----------------------------------------------------------

    def request_of(self, cmd: dict | None) -> int:
        if cmd is None:
            return self.null
        key = (cmd["client"], cmd["req"])
        got = self.requests.get(key)
        if got is None:
            free = [d for d in range(self.setup.requests) if d not in self.names]
            if not free:
                self.need_request = True
                raise NoRoom(f"request {key[0]}#{key[1]}: the window holds "
                             f"{self.setup.requests} requests in flight")
            got = self.requests[key] = free[0]
            self.names[got] = key
            self.settled.discard(key)
        return got

    def d(self, digest: str) -> int:
        return self.digest.get(digest, self.forged)

    def seq(self, n: int) -> int:
        if n > self.base + self.setup.max_seq:
            self.need_seq = n
            slow = min(self.setup.correct, key=self.executed.__getitem__)
            raise NoRoom(f"sequence number {n}: the window holds {self.setup.max_seq} "
                         "numbers above the last one every correct replica executed "
                         f"(r{slow} executed {self.executed[slow]})")
        return n - self.base

    def view(self, v: int) -> int:
        """The model view of trace view v. One below `vbase` (every correct replica
        has left it) is negative: no model step sends in it, as no correct replica
        sends in a view it has left, and v mod n still names its primary."""
        if v - self.vbase > self.setup.max_view:
            self.need_view = True
            raise NoRoom(f"view {v}: the window holds views {self.vbase}.."
                         f"{self.vbase + self.setup.max_view}")
        return v - self.vbase

    # -- sliding the window ------------------------------------------------------------

    def compact(self, frontier: set) -> set:
        """Every state with the numbers all correct replicas executed dropped and its
        requests renumbered (the same for all)."""
        c = self.setup
        top = max(self.executed[i] for i in c.correct)
        # As in multipaxos: a replica below the base stays behind the window (k >= 0).
        behind = frozenset(i for i in c.correct
                           if self.executed[i] < top - LAG or self.executed[i] < self.base)
        states = [prune(s, c) for s in frontier]
        k = max(0, min(min(slack(s, c, behind) for s in states),
                       min(self.executed[i] for i in c.correct if i not in behind) - self.base))
        if behind and k > 0:
            states = [catch_up(s, c, behind, k) for s in states]
        used = {d for d, n in self.ordered_at.items() if n > self.base + k}
        for s in states:
            used |= mentioned(s, c, k)
        for d, name in self.names.items():
            if d not in used and any(s.accepted[d] == NONE for s in states):
                self.settled.add(name)
        dmap = {d: j for j, d in enumerate(sorted(used))}
        seqs, requests = c.max_seq, c.requests
        if self.need_seq is not None and self.need_seq - self.base - k > seqs:
            seqs = min(MAX_SEQS, max(2 * seqs, self.need_seq - self.base - k))
        if self.need_request and len(used) >= requests:
            requests = min(MAX_REQUESTS, 2 * requests)
        w = 0
        if self.need_view:
            low = min(lowest_view(s, c, k) for s in states)
            w = low - low % c.n
        self.need_seq, self.need_request, self.need_view = None, False, False
        if (seqs, requests) != (c.max_seq, c.requests):
            self.model.resize(seqs, requests)
        into = self.setup
        out = {compact(s, c, k, dmap, into, w) for s in states}
        self.base += k
        self.vbase += w
        self.names = {dmap[d]: self.names[d] for d in used}
        self.ordered_at = {dmap[d]: n for d, n in self.ordered_at.items() if d in dmap}
        self.requests = {name: d for d, name in self.names.items()}
        named = {**dmap, c.null: into.null, c.forged: into.forged}
        self.digest = {dg: named[d] for dg, d in self.digest.items() if d in named}
        base = self.base
        self.got_pp = {n: x for n, x in self.got_pp.items() if n > base}
        self.decides = {key: x for key, x in self.decides.items() if key[1] > base}
        self.got_vc = {key: x for key, x in self.got_vc.items() if key[1] >= self.vbase}
        self.vc_lists = {key: x for key, x in self.vc_lists.items() if key[1] >= self.vbase}
        self.nv_sent = {key for key in self.nv_sent if key[1] >= self.vbase}
        return out

    # -- events to successors ----------------------------------------------------------

    def match(self, ev: dict):
        kind, node = ev["kind"], ev["node"]
        if kind in ("send", "recv"):
            # A Byzantine primary's sends are not trusted to be logged: a backup's recv
            # carries its pre-prepare.
            send = ev.get("_send")
            msg = ev.get("msg") or (send["msg"] if send is not None else None)
            if msg is not None and msg.get("type") == "pre-prepare" and msg["n"] > self.base:
                sender = node if kind == "send" else ev.get("from")
                clash = self._name(msg, trusted=sender not in self.faulty)
                if clash is not None:
                    return fails(clash)
        if kind == "recv" and node not in self.replica:
            sender = ev.get("from")
            if msg is None and sender in self.faulty:
                # From a Byzantine replica whose send is not logged: it may have said
                # anything, for any request of this client's.
                self.blind.add(node)
            elif msg is not None and msg.get("type") == "reply" and sender in self.replica \
                    and not ("_fault" in ev and (send is None or send["node"] != sender)):
                key = (node, msg.get("req"))
                self.replies.setdefault(key, {})[sender] = msg.get("result")
            return None
        if node in self.faulty:
            return None
        i = self.replica.get(node)
        if kind == "send" and i is not None:
            return self._send_event(i, ev["msg"])
        if kind == "recv" and i is not None:
            if msg is None or ("_fault" in ev and (send is None or send["node"] != ev["from"])):
                return None  # fabricated: it carries nothing
            t = msg.get("type")
            if t == "pre-prepare":
                if self.replica.get(ev["from"]) == self.setup.primary(msg["view"]):
                    self.got_pp.setdefault(msg["n"], set()).add((i, msg["view"], msg["digest"]))
            elif t == "view-change":
                j = self.replica.get(ev["from"])
                if j is not None:
                    self.got_vc.setdefault((i, msg["view"]), set()).add(j)
                    self._hold_vc(i, j, msg)
            elif t == "new-view":
                if self.replica.get(ev["from"]) == self.setup.primary(msg["view"]):
                    self._hold_o(i, msg)
                v = self.view(msg["view"])
                o = self.o(msg["pre_prepares"])
                if isinstance(o, Successors):
                    return o
                return self._enter_view(v, i, o)
            return None
        if kind == "decide" and i is not None:
            self.decides.setdefault((i, ev["n"]), set()).add(ev["view"])
            return None
        if kind == "execute" and i is not None:
            return self._execute(i, ev)
        if kind == "result":
            key = (node, ev.get("req"))
            got = self.replies.pop(key, {})
            same = sorted(r for r, x in got.items() if x == ev.get("result"))
            if len(same) < self.setup.f + 1 and node not in self.blind:
                return fails(f"{node} accepts result {ev.get('result')!r} of {node}#{key[1]} "
                             f"after {len(same)} matching replies received "
                             f"({', '.join(same) or 'none'}); f + 1 = {self.setup.f + 1} "
                             "are needed (§4.1)")
            d = self.requests.get(key)
            if d is not None:
                return _step(lambda a: True, f"ACCEPT({node}#{key[1]}, any result)", client=d)
            if key in self.settled:
                self.settled.discard(key)
                return None  # every correct replica executed it: ACCEPT is enabled
            return fails(f"ACCEPT of {node}#{key[1]}, a request no replica ordered")
        return None

    @staticmethod
    def _view_change(i: int, v: int) -> Successors:
        """VIEW-CHANGE to v, after one to every view between (§4.5.2: a replica that
        sees f + 1 view changes for higher views joins them, skipping views; in the
        model each of those is a VIEW-CHANGE it may take in turn, its certificates
        what the model computes); a stutter if it sent its one for v already."""

        def successors(model, s):
            if s.view[i] == v and any(m[0] == VC and m[1] == v and m[2] == i for m in s.msgs):
                return [s]
            t = s
            while t.view[i] < v:
                step = [a for a in model.actions_of(t, i) if a[0] == "VIEW-CHANGE"]
                if not step:
                    return []
                t = model.next_state(t, step[0])
            return [t] if t.view[i] == v and t is not s else []

        return Successors(successors, f"VIEW-CHANGE(v={v}, r{i}, any certificates), after "
                                      "one to each view between, or sent already")

    @staticmethod
    def _enter_view(v: int, i: int, o: tuple) -> Successors:
        """ENTER-VIEW, or a stutter for a NEW-VIEW of a view i has entered already
        (sent again to a replica that missed it): a replica ignores it."""
        enter = _step(("ENTER-VIEW", v, i, o), "", i)

        def successors(model, s):
            if s.view[i] > v or (s.view[i] == v and not s.changing[i]):
                return [s]
            return enter.successors(model, s)

        return Successors(successors, f"ENTER-VIEW(v={v}, r{i}, O={o}), or a stutter once in v")

    def _name(self, msg: dict, trusted: bool) -> str | None:
        """Name a pre-prepare's digest by its request, while its number is in view; a
        correct primary's pre-prepare that gives a named digest another request is
        wrong (why, returned). A Byzantine one's may: correct backups drop it, and the
        digest takes the latest name."""
        d = self.request_of(msg["cmd"])
        before = self.digest.get(msg["digest"])
        if trusted and before is not None and before != d:
            return (f"PRE-PREPARE n={msg['n']} gives digest {msg['digest']} the request "
                    f"{self.names.get(d, d)}, but it is {self.names.get(before, before)}'s")
        self.digest[msg["digest"]] = d
        if d < self.setup.requests:
            self.ordered_at[d] = max(self.ordered_at.get(d, 0), msg["n"])

    def _send_event(self, i: int, msg: dict):
        t = msg["type"]
        if t in ("pre-prepare", "prepare", "commit"):
            v, n, dg = self.view(msg["view"]), msg["n"], msg["digest"]
            if n <= self.base:
                return self._below(v, n, dg, t)
            trace_n = n
            n, d = self.seq(n), self.d(dg)
            if t == "pre-prepare":
                if msg["view"] > 0 and (i, msg["view"]) not in self.nv_sent:
                    # Logged before the NEW-VIEW it travels in: held until then.
                    self.early_pp.setdefault((i, msg["view"]), []).append((trace_n, dg))
                    return stays(f"PRE-PREPARE(v={v}, n={n}) by r{i} before its NEW-VIEW: "
                                 "checked against O when that is sent")
                return _step(("PRE-PREPARE", v, n, d, i),
                             f"PRE-PREPARE(v={v}, n={n}, d={d}) by r{i}, or sent already",
                             i, sent=(PP, v, n, d))
            unheld = self._unheld(i, t, msg["view"], trace_n, dg)
            if unheld is not None:
                return fails(unheld)
            kind = PR if t == "prepare" else CM
            return _step((t.upper(), v, n, d, i),
                         f"{t.upper()}(v={v}, n={n}, d={d}, r{i}), or sent already",
                         i, sent=(kind, v, n, d, i))
        if t == "view-change":
            self._hold_vc(i, i, msg)
            return self._view_change(i, self.view(msg["view"]))
        if t == "new-view":
            v = self.view(msg["view"])
            o = self.o(msg["pre_prepares"])
            if isinstance(o, Successors):
                return o
            self._hold_o(i, msg)
            self.nv_sent.add((i, msg["view"]))
            sent_o = {(int(n), str(dg)) for n, dg in msg["pre_prepares"]}
            for n, dg in self.early_pp.pop((i, msg["view"]), ()):
                if (n, dg) not in sent_o:
                    return fails(f"r{i} sent PRE-PREPARE(v={msg['view']}, n={n}, {dg}) before "
                                 "its NEW-VIEW, whose O does not hold it")
            own = self._o_from_lists(i, msg)
            return self._new_view(v, i, o, frozenset(self.got_vc.get((i, msg["view"]), ())),
                                  own)
        return None

    def _hold_vc(self, p: int, j: int, msg: dict) -> None:
        """Primary-to-be p holds replica j's VIEW-CHANGE (its `stable` and `prepared`)."""
        try:
            stable = int(msg.get("stable") or 0)
            prepared = [(int(n), int(v), str(dg)) for n, v, dg in msg.get("prepared") or ()]
        except (TypeError, ValueError):
            return
        self.vc_lists.setdefault((p, msg["view"]), {})[j] = (stable, prepared)

    def _o_from_lists(self, p: int, msg: dict) -> str | None:
        """Whether NEW-VIEW's O is what C&L §4.4 computes from the VIEW-CHANGEs p
        received (and its own), read from the trace: min-s the highest `stable` among
        them, max-s the highest prepared number; each number between gets the digest of
        its highest-view certificate, else the null request (a digest no PRE-PREPARE
        with a command names). A description of V if so, else None."""
        got = self.vc_lists.get((p, msg["view"]))
        if not got or p not in got or len(got) < self.setup.q:
            return None  # V is a quorum of VIEW-CHANGEs, p's own among them
        min_s = max(st for st, _ in got.values())
        best: dict[int, tuple[int, str]] = {}
        for _, prepared in got.values():
            for n, v, dg in prepared:
                if n > min_s and (n not in best or v > best[n][0]):
                    best[n] = (v, dg)
        max_s = max(best, default=min_s)
        try:
            o = {int(n): str(dg) for n, dg in msg["pre_prepares"]}
        except (TypeError, ValueError):
            return None
        if set(o) != set(range(min_s + 1, max_s + 1)):
            return None
        for n, dg in o.items():
            if n in best:
                if best[n][1] != dg:
                    return None
            elif self.digest.get(dg, self.null) != self.null:
                return None
        return (f"O is what the VIEW-CHANGEs r{p} received yield (C&L §4.4, min-s={min_s}, "
                f"from {', '.join(f'r{j}' for j in sorted(got))})")

    def _hold_o(self, i: int, msg: dict) -> None:
        """Replica i holds the pre-prepares of a NEW-VIEW it sent or received."""
        for n, dg in msg["pre_prepares"]:
            if n > self.base:
                self.got_pp.setdefault(n, set()).add((i, msg["view"], dg))

    def _unheld(self, i: int, t: str, v: int, n: int, dg: str) -> str | None:
        """Why correct replica i may not send PREPARE / COMMIT (v, n, dg) on what it had
        received itself (the model's sent-set would let it read what others were sent,
        making the verdict follow line order), or None. PREPARE: a backup prepares a
        pre-prepare it holds (§4.2). COMMIT: it is prepared (asked of the monitor)."""
        if t == "prepare":
            if (i, v, dg) in self.got_pp.get(n, ()):
                return None
            return (f"r{i} sends PREPARE(v={v}, n={n}, {dg}) without holding that PRE-PREPARE "
                    f"(none received from the primary r{self.setup.primary(v)}, nor in a NEW-VIEW)")
        m = self.monitor
        if m is None or m.prepared(self.names_of[i], v, n, dg) or self._forgotten(n):
            return None
        return (f"r{i} sends COMMIT(v={v}, n={n}, {dg}) without being prepared by what it "
                "received: the PRE-PREPARE and matching PREPAREs of a quorum (§4.2)")

    def _forgotten(self, n: int) -> bool:
        """Whether the monitor no longer keeps number n (it cannot then answer)."""
        m = self.monitor
        return n < getattr(m, "gone", 0) and n not in getattr(m, "retired", {})

    def _new_view(self, v: int, p: int, o: tuple, heard: frozenset[int],
                  own: str | None = None) -> Successors:
        """NEW-VIEW(v, O) by primary p, with O computed from a set V of VIEW-CHANGEs p
        received (or its own): the model's NEW-VIEW may read any sent to anyone."""
        act = ("NEW-VIEW", v, p, o)
        c = self.setup

        def successors(model, s):
            ok = act in model.actions_of(s, p)
            if ok:
                ix = Index(s.msgs)
                sent = ix.vcs.get(v, {})
                ix.vcs[v] = {j: cert for j, cert in sent.items() if j == p or j in heard}
                ok = o in new_view_options(c, ix, v)
            if not ok:
                if own is not None:
                    # The trace's own VIEW-CHANGEs yield O; the model's certificates
                    # differ: they were garbage collected by checkpoints (a `stable`
                    # number) or otherwise, which the model does not see.
                    raise OutsideModel(f"NEW-VIEW(v={v}, r{p}): {own}, but the model's "
                                       "certificates yield another (checkpoints / garbage "
                                       "collection the model does not describe)")
                return []
            return [model.next_state(s, act)]

        return Successors(successors, f"NEW-VIEW(v={v}, r{p}, O={o}) from VIEW-CHANGEs r{p} "
                                      f"received ({', '.join(f'r{j}' for j in sorted(heard))})")

    def o(self, pre_prepares: list) -> tuple[int, ...] | Successors:
        """NEW-VIEW's O inside the window; its numbers below it must hold the digests
        executed there."""
        for n, dg in pre_prepares:
            if n <= self.base and self.executed_at(n) != dg:
                return fails(f"O gives {n} digest {dg}, but {self.executed_at(n)} was "
                              "executed there")
        inside = sorted((n, dg) for n, dg in pre_prepares if n > self.base)
        if inside:
            self.seq(inside[-1][0])
        for _, dg in inside:
            # A digest no PRE-PREPARE with a command named: O's null request (§4.4),
            # whatever digest the implementation gives it. Were it a request's, that
            # request's pre-prepare would have named it before any replica prepared it.
            self.digest.setdefault(dg, self.null)
        return tuple(self.d(dg) for _, dg in inside)

    def _below(self, v: int, n: int, dg: str, t: str):
        """A message about a number every correct replica executed (a view change
        re-runs it): it must carry the digest executed there."""
        if dg == self.executed_at(n):
            return stays(f"{t} for {n}, below the window: the digest executed there")
        if n >= 1 and self.setup.primary(v) in self.setup.faulty:
            raise OutsideModel(f"{t} for {n} with digest {dg} under faulty primary "
                               f"r{self.setup.primary(v)}: number {n} is below the window")
        return fails(f"{t} for {n}, below the window, must carry {self.executed_at(n)}, "
                      "the digest executed there (numbers start at 1)")

    def executed_at(self, n: int) -> str | None:
        return self.history[n - 1] if 1 <= n <= len(self.history) else None

    def _execute(self, i: int, ev: dict):
        n, dg = ev["n"], ev["digest"]
        if n <= self.base:
            ok = n == self.executed[i] + 1 and self.executed_at(n) == dg
            self.executed[i] = max(self.executed[i], n)
            return (stays if ok else fails)(
                f"r{i} executes {n}, below the window: its next number, "
                f"with the digest executed there ({self.executed_at(n)})")
        m = self.seq(n)
        self.executed[i] = max(self.executed[i], n)
        if n == len(self.history) + 1:
            self.history.append(dg)
        d = self.d(dg)
        if "cmd" in ev and dg in self.digest and not self.faulty:
            # The request executed is the one the digest names (with a Byzantine
            # primary a digest's name may be its latest lie: not checked then).
            cmd = ev["cmd"]
            got = self.null if cmd is None else self.requests.get((cmd.get("client"),
                                                                     cmd.get("req")))
            if got != d:
                what = "the null request" if cmd is None else f"{cmd.get('client')}#{cmd.get('req')}"
                return fails(f"r{i} executes {what} at n={n} under digest {dg}, which names "
                             f"{self.names.get(d, 'the null request' if d == self.null else d)}")
        mon = self.monitor
        if mon is not None and not self._forgotten(n) and not any(
                mon.committed_local(self.names_of[i], v, n, dg)
                for v in self.decides.get((i, n), ())):
            return fails(f"r{i} executes n={n} ({dg}) without being committed-local by what "
                         "it received: a decide there after prepared and matching COMMITs "
                         "of a quorum (§4.2)")
        return _step(("EXECUTE", i, m, d), f"EXECUTE(r{i}, n={m}, d={d})", i)

    def describe_match(self, ev: dict) -> str:
        saved = (list(self.executed), len(self.history), set(self.settled))
        try:
            w = self.match(ev)
        except OutsideModel as why:
            return f"outside the model: {why}"
        finally:
            self.executed, self.settled = saved[0], saved[2]
            del self.history[saved[1]:]
        if w is None:
            return "a stutter"
        names = ", ".join(f"req{d + 1}={c}#{r}" for d, (c, r) in sorted(self.names.items()))
        return (f"{w.text} (model number n is trace number {self.base} + n; "
                f"requests: {names or 'none'})")


def _byzantine_param(header) -> str:
    n, f = len(header.nodes), header.f
    faulty = {header.nodes.index(x) for x in header.byzantine}
    for name, ids in (("none", set()), ("primary", set(range(f))),
                      ("new-primary", set(range(1, f + 1))), ("backups", set(range(n - f, n)))):
        if faulty == ids:
            return name
    raise OutsideModel("the pbft model's faulty replicas are none, the first f, r1..rf or "
                       "the last f; this run's byzantine list is none of these")


def for_header(header, monitor=None) -> tuple[WindowModel, PbftTraceMap]:
    """The model instance a run's header describes, and the map into it; OutsideModel
    (the run is then checked on its invariants alone) for a run it cannot describe.
    `monitor`, the run's PBFT monitor, answers whether a replica was prepared or
    committed-local by what it had received."""
    n = len(header.nodes)
    if header.f >= n:
        raise OutsideModel(f"the pbft model needs f below the number of replicas; this run "
                           f"has {n} replicas and f={header.f}")
    all_logged(header, frozenset(header.byzantine))
    try:
        q = membership(header).quorums.phase2
    except UsageError as err:
        raise OutsideModel(str(err)) from None
    if not (isinstance(q, Threshold) and set(q.weights) == {1} and q.threshold == n - header.f):
        raise OutsideModel(f"the pbft model's quorums are any n - f = {n - header.f} replicas; "
                           "this run's quorum system is another")
    model = WindowModel(n, header.f, _byzantine_param(header), VIEWS_PER_REPLICA * n - 1)
    return model, PbftTraceMap(header, model, monitor)
