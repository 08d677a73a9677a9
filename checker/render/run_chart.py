"""A run's traces as a message sequence chart (`smrcheck show RUN`), and the choice
`show` makes between a counterexample file and a run.

The run is read and checked by the one pipeline `smrcheck validate` runs
(`checker.validate.validate_run`: merged by causality, never by `ts`; every invariant
and conformance), so `show` and `validate` agree on every run: the first violation
found, or the event conformance fails at, is the highlighted row, and the events that
prove it (the violation's `related`: for KV-LINEARIZABLE the requests and results of
the failing sub-history) are marked beside it. One lane per
client, then per replica, in header order. Each `send` is an arrow from its node, to the one addressee, or to `all` when it
goes to every other replica (one arrow per addressee otherwise); a `recv` paired with
its send adds no row, its delivery shows in the arrow's hover text. A `recv` with no
matching send (an unlogged or Byzantine sender, or a fabricated or altered message) is
an arrow of its own. `decide`, `execute`, `crash`, `restart`, `request`, `result` and
`note` are notes in their node's lane.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from ..errors import InvalidTrace, UsageError
from ..validate import ValidateResult, validate_run
from .chart import ALL, Arrow, Chart, Highlight, Note, chart_from_itf, load_itf

_SHORT = {"view": "v", "digest": "d"}


def _value(v: Any) -> str:
    if isinstance(v, dict) and "client" in v and "req" in v:
        return f"{v['client']}.{v['req']}"  # a command: (client, req) identifies it
    if isinstance(v, list):
        if len(v) == 2 and isinstance(v[0], int) and isinstance(v[1], str):
            return f"{v[0]}.{v[1]}"  # a MultiPaxos ballot [round, replica]
        return f"[{len(v)}]"
    if v is None:
        return "null"
    return str(v)


def msg_label(msg: Any) -> str:
    """PREPARE(v=0,n=1,d=d-c0-0): the type, then each field but lists' contents."""
    if not isinstance(msg, dict):
        return "?"
    args = ",".join(f"{_SHORT.get(k, k)}={_value(v)}" for k, v in msg.items() if k != "type")
    return f"{str(msg.get('type', 'msg')).upper()}({args})"


def _note_text(ev: dict) -> str:
    kind = ev["kind"]
    if kind in ("decide", "execute"):
        where = f"slot={ev['slot']}" if "slot" in ev else f"n={ev.get('n')}"
        if "view" in ev:
            where = f"v={ev['view']} {where}"
        what = _value(ev["cmd"]) if "cmd" in ev else str(ev.get("digest", ""))
        skipped = " (skipped)" if ev.get("applied") is False else ""
        return f"{kind} {where} {what}{skipped}".rstrip()
    if kind == "request":
        return f"request {ev['req']}: {ev['op']}"
    if kind == "result":
        return f"result {ev['req']}: {ev['result']}"
    if kind == "note":
        return f"note {ev.get('text', '')}".rstrip()
    return kind


class ChartBuilder:
    """Turns merged events into chart rows, remembering which row shows each event."""

    def __init__(self, title: str, replicas: Sequence[str], clients: Sequence[str]) -> None:
        self.chart = Chart(title=title, lanes=list(clients) + list(replicas),
                           group=list(replicas))
        self.replicas = set(replicas)
        self.row_of: dict[tuple[str, int], int] = {}  # event (file, line) -> row index
        self.by_msg: dict[str, list[tuple[int, Arrow]]] = {}  # msg_id -> (row, arrow)
        self.received: dict[str, list[str]] = {}
        self.count = 0

    def add(self, ev: dict) -> None:
        self.count += 1
        rows = self.chart.rows
        kind, node = ev["kind"], ev["node"]
        loc = tuple(ev["_loc"]) if "_loc" in ev else None
        if kind == "send":
            to = [t for t in ev["to"]]
            others = self.replicas - {node}
            first = len(rows)
            label = msg_label(ev["msg"])
            if len(to) >= 2 and set(to) - {node} == others:
                targets = [ALL]
            else:
                targets = to
            arrows = [Arrow(node, t, label, ev["msg_id"], self.count) for t in targets]
            self.by_msg[ev["msg_id"]] = [(first + i, a) for i, a in enumerate(arrows)]
            rows.extend(arrows)
            self.received[ev["msg_id"]] = []
            for a in arrows:
                a.detail = f"{ev['msg_id']} to {', '.join(to)}"
            index = first
        elif kind == "recv":
            send = ev.get("_send")
            arrows = self.by_msg.get(ev["msg_id"]) if send is not None else None
            if arrows and "_fault" not in ev:
                got = self.received.get(ev["msg_id"])
                if got is not None:
                    got.append(node)
                    for _, a in arrows:
                        a.detail = (f"{ev['msg_id']} to {', '.join(send['to'])}; "
                                    f"received by {', '.join(got)}")
                index = next((i for i, a in arrows if a.dst in (node, ALL)), arrows[0][0])
            else:
                msg = ev.get("msg") if ev.get("msg") is not None else (send or {}).get("msg")
                why = ev.get("_fault", "a message whose send is not in the trace")
                rows.append(Arrow(ev["from"], node, msg_label(msg), ev["msg_id"], self.count,
                                  f"{ev['msg_id']} received by {node}: {why}"))
                index = len(rows) - 1
        else:
            rows.append(Note(node, _note_text(ev), self.count, kind))
            index = len(rows) - 1
        if loc is not None:
            self.row_of[loc] = max(index, 0)

    def finish(self, result: ValidateResult) -> Chart:
        last = len(self.chart.rows) - 1
        if result.violations and self.chart.rows:
            v = result.violations[0]
            rules = dict(result.properties)
            row = self.row_of.get((v.file, v.line), last)
            related = sorted({self.row_of[loc] for loc in map(tuple, v.related)
                              if loc in self.row_of} - {row})
            self.chart.violation = Highlight(row, v.property, v.message, rules.get(v.property, ""),
                                             related, _where(v.file, v.line))
        elif result.conformance_failure is not None and self.chart.rows:
            c = result.conformance_failure
            self.chart.violation = Highlight(
                self.row_of.get((c.file, c.line), last), "CONFORMANCE",
                f"no run of the model explains this event (mapped to {c.mapped_to})",
                "every event is explained by a run of the model", where=_where(c.file, c.line))
        return self.chart


def _where(file: str | None, line: int | None) -> str:
    """The violating event's line in its trace file: what a reader opens next."""
    return f"{file} line {line}" if file and line else ""


def chart_from_run(paths: Sequence[str]) -> tuple[Chart, ValidateResult]:
    """Read one run (a file, a directory, or several files), validate it, chart it.
    Input errors raise `InvalidTrace` (exit 2) as in `smrcheck validate`."""
    builders: list[ChartBuilder] = []

    def observer(h: Any) -> Any:
        builders.append(ChartBuilder(f"{h.protocol} run: {', '.join(paths)}", h.nodes, h.clients))
        return builders[0].add

    result = validate_run(paths, observer=observer)
    if result.error is not None:
        raise InvalidTrace(result.error)
    return builders[0].finish(result), result


def chart_from_paths(paths: Sequence[str]) -> Chart:
    """What `smrcheck show` draws: one ITF file (`smrcheck check --itf`) as a
    counterexample, anything else as one run's traces."""
    for p in paths:
        if not os.path.exists(p):
            raise UsageError(f"{p}: no such file or directory")
    if len(paths) == 1 and os.path.isfile(paths[0]) and not _is_trace(paths[0]):
        doc = load_itf(paths[0])
        if doc is None:
            raise UsageError(f"{paths[0]}: neither an ITF counterexample (smrcheck check --itf) "
                             'nor a trace (a first line {"kind":"header","format":"smrtrace",...})')
        return chart_from_itf(doc)
    chart, _ = chart_from_run(paths)
    return chart


def _is_trace(path: str) -> bool:
    """A smrtrace file starts with a header line; an ITF file is one JSON document."""
    if path.endswith(".jsonl"):
        return True
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.strip():
                    obj = json.loads(line)
                    return isinstance(obj, dict) and obj.get("kind") == "header"
    except (ValueError, RecursionError):
        return False
    except OSError as err:
        raise UsageError(f"{path}: cannot read: {err.strerror}") from None
    return False
