"""Trace events of a PBFT run as actions of the PBFT model, for conformance checking.

`smrcheck validate --conformance` keeps the set of model states consistent with the
events so far (checker/validate.py); this module says which model action each event
records. The model's vocabulary is ints (replica i, request c with digest c, the null
request, views, sequence numbers n); a trace's is names and digests, so the map is
the edge where names become ints, as `common.ids` does for counterexamples:

- a correct replica's `send` of PRE-PREPARE, PREPARE or COMMIT is the model's step of
  the same name (Castro and Liskov §4.2); of VIEW-CHANGE and NEW-VIEW, likewise (§4.4);
- a backup's `recv` of NEW-VIEW is ENTER-VIEW, which in the model also sends the
  backup's PREPAREs for O at once, so its later PREPARE sends for O are stutters;
- `execute` is EXECUTE; a client's `result` is ACCEPT (with any result: the model
  numbers results by history position, and the invariants compare result strings);
- everything else stutters: a `decide` (committed-local is derived from the messages
  in the model), replies (derived from executed logs), requests (clients issue theirs
  at the start), every `recv` but NEW-VIEW (the sent-set network: a received message
  was sent, and receiving changes nothing until the step it enables), heartbeats,
  notes, crashes, and every event of a Byzantine replica (the model's faulty replicas
  have sent every message they can sign from the start).

Digests: the PRE-PREPARE that first names a digest carries its request, which fixes
the digest's model request (client k's request is request k). The model is finite:
at most 3 clients with one request each, sequence numbers up to 3, views up to 3.
"""

from __future__ import annotations

from collections.abc import Callable

from ...checker.errors import UsageError
from ...checker.validate import OutsideModel
from .spec import PbftModel

MAX_CLIENTS = 3
MAX_SEQ = 3
MAX_VIEW = 3


class PbftTraceMap:
    def __init__(self, header, model: PbftModel) -> None:
        self.replica = {name: i for i, name in enumerate(header.nodes)}
        self.client = {name: k for k, name in enumerate(header.clients)}
        self.faulty = frozenset(header.byzantine)
        self.null = model.setup.null
        self.forged = model.setup.null + 1
        self.digest: dict[str, int] = {}
        self.entered: dict[tuple[int, int], set[tuple[int, int]]] = {}  # (i, v) -> O's (n, d)

    # -- names to model ints -----------------------------------------------------------

    def request_of(self, cmd: dict | None) -> int:
        if cmd is None:
            return self.null
        k = self.client.get(cmd["client"])
        if k is None:
            return self.forged  # no client issued it: the model's forged request
        if cmd["req"] != 0:
            raise OutsideModel(f"request {cmd['client']}#{cmd['req']}: the model's clients "
                               "issue one request each (req 0)")
        return k

    def d(self, digest: str) -> int:
        return self.digest.get(digest, self.forged)

    def hidden(self, a: tuple) -> bool:
        return False

    # -- events to predicates over actions ---------------------------------------------

    def want(self, ev: dict) -> tuple | Callable[[tuple], bool] | None:
        """The exact action, a predicate, or None for a stutter."""
        kind, node = ev["kind"], ev["node"]
        if kind == "send" and ev["msg"]["type"] == "pre-prepare":
            msg = ev["msg"]
            self.digest.setdefault(msg["digest"], self.request_of(msg["cmd"]))
        if node in self.faulty:
            return None
        i = self.replica.get(node)
        n = ev["msg"].get("n") if kind == "send" else ev.get("n")
        if type(n) is int and n > MAX_SEQ:
            raise OutsideModel(f"sequence number {n}: the model's go up to {MAX_SEQ}")
        view = ev["msg"].get("view") if kind == "send" else None
        if type(view) is int and view > MAX_VIEW:
            raise OutsideModel(f"view {view}: the model's go up to {MAX_VIEW}")
        if kind == "send" and i is not None:
            msg = ev["msg"]
            t = msg["type"]
            if t == "pre-prepare":
                return ("PRE-PREPARE", msg["view"], msg["n"], self.d(msg["digest"]), i)
            if t == "prepare":
                step = (msg["n"], self.d(msg["digest"]))
                if step in self.entered.get((i, msg["view"]), ()):
                    return None  # sent by ENTER-VIEW already
                return ("PREPARE", msg["view"], msg["n"], step[1], i)
            if t == "commit":
                return ("COMMIT", msg["view"], msg["n"], self.d(msg["digest"]), i)
            if t == "view-change":
                v = msg["view"]
                return lambda a: a[0] == "VIEW-CHANGE" and a[1] == v and a[2] == i
            if t == "new-view":
                o = tuple(self.d(dg) for _, dg in sorted(msg["pre_prepares"]))
                return ("NEW-VIEW", msg["view"], i, o)
            return None
        if kind == "recv" and i is not None:
            send = ev.get("_send")
            msg = send["msg"] if send is not None else ev.get("msg")
            if msg is not None and msg.get("type") == "new-view":
                o = tuple(self.d(dg) for _, dg in sorted(msg["pre_prepares"]))
                self.entered[(i, msg["view"])] = {(n, d) for n, d in enumerate(o, 1)}
                return ("ENTER-VIEW", msg["view"], i, o)
            return None
        if kind == "execute" and i is not None:
            return ("EXECUTE", i, ev["n"], self.d(ev["digest"]))
        if kind == "result":
            k = self.client.get(node)
            return lambda a: a[0] == "ACCEPT" and a[1] == k
        return None

    def match(self, ev: dict) -> Callable[[tuple], bool] | None:
        w = self.want(ev)
        if w is None or callable(w):
            return w
        return w.__eq__

    def describe_match(self, ev: dict) -> str:
        kind = ev["kind"]
        if kind == "result":
            return f"ACCEPT({ev['node']}, any result)"
        if kind == "send" and ev["msg"]["type"] == "view-change":
            return f"VIEW-CHANGE(v={ev['msg']['view']}, {ev['node']}, any certificates)"
        w = self.want(ev)
        return "a stutter" if w is None else repr(w)


def _byzantine_param(header) -> str:
    n, f = len(header.nodes), header.f
    faulty = {header.nodes.index(x) for x in header.byzantine}
    for name, ids in (("none", set()), ("primary", set(range(f))),
                      ("new-primary", set(range(1, f + 1))), ("backups", set(range(n - f, n)))):
        if faulty == ids:
            return name
    raise UsageError("--conformance: the pbft model's faulty replicas are none, the first f, "
                     "r1..rf or the last f; this run's byzantine list is none of these")


def for_header(header) -> tuple[PbftModel, PbftTraceMap]:
    """The model instance a run's header describes, and the map into it."""
    if len(header.clients) > MAX_CLIENTS:
        raise UsageError(f"--conformance: the pbft model has at most {MAX_CLIENTS} clients "
                         f"(one request each); this run has {len(header.clients)}")
    model = PbftModel(replicas=len(header.nodes), f=header.f, byzantine=_byzantine_param(header),
                      requests=max(1, len(header.clients)), max_view=MAX_VIEW, max_seq=MAX_SEQ)
    return model, PbftTraceMap(header, model)
