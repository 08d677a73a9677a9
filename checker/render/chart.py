"""Message sequence charts as plain data, and the builder from an ITF counterexample.

A chart has one *lane* per node and *rows* in time order, top to bottom. A row is an
`Arrow` (a message from one lane to another, or to every lane) or a `Note` (a state
change written in one lane: an action, a promise, a decision, a crash). At most one row
is the `Highlight`: the step at which a property broke, with its id and explanation.
`text_chart` and `html_chart` draw charts; the builders here (from a counterexample)
and in `run_chart` (from a run's traces) make them. This module knows no protocol: a
counterexample is read through its action strings and the growth of its set-valued
variables, whether it comes from an ITF file or straight from a `CheckResult`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError
from ..model import FnMap, Record, TlaSet
from ..report import CheckResult

ALL = "all"  # an Arrow's dst when the message goes to every lane (a sent-set broadcast)


@dataclass(slots=True)
class Arrow:
    src: str | None  # the sending lane; None when the source does not say who sent it
    dst: str  # a lane, or ALL
    label: str  # the message as it reads: PREPARE(v=0,n=1)
    msg_id: str
    step: int  # the ITF state index, or the event's position in the merged run
    detail: str = ""  # everything else, for hover text


@dataclass(slots=True)
class Note:
    lane: str | None  # None: a step no lane can be named for
    text: str
    step: int
    kind: str = "action"  # action | change | decide | execute | crash | restart | request | ...
    detail: str = ""


Row = Arrow | Note


@dataclass(slots=True)
class Highlight:
    row: int  # index into Chart.rows
    property: str
    message: str
    rule: str = ""  # the property's one-line rule, when the source knows it
    # The rows of the other events that prove it (a violation's `related`: for
    # KV-LINEARIZABLE, the requests and results of the failing sub-history).
    related: list[int] = field(default_factory=list)
    # Where the event is found outside the chart, in words ("trace.jsonl line 585"): the
    # chart's rows are numbered 1.. in order, which is no number the source uses.
    where: str = ""


@dataclass
class Chart:
    title: str
    lanes: list[str]
    rows: list[Row] = field(default_factory=list)
    violation: Highlight | None = None
    group: list[str] | None = None  # the lanes an Arrow to ALL reaches; None: every lane

    def reached(self) -> list[str]:
        return self.lanes if self.group is None else self.group

    @property
    def arrows(self) -> list[Arrow]:
        return [r for r in self.rows if isinstance(r, Arrow)]

    @property
    def notes(self) -> list[Note]:
        return [r for r in self.rows if isinstance(r, Note)]


def natural_key(name: str) -> tuple:
    """r2 before r10: digits compare as numbers."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name))


# -- ITF --------------------------------------------------------------------------------

# Record fields that name a message's sender or addressee, in the models' vocabulary.
SENDER_FIELDS = ("src", "from", "sender", "acc", "replica", "node", "leader", "proposer", "source")
DEST_FIELDS = ("dst", "to", "dest")
ACTION_VARS = ("action_taken", "mbt::actionTaken")  # where other tools write the action


def from_itf_value(value: Any) -> Any:
    """ITF JSON as Python: sets as lists, maps as dicts (hashable keys), tuples."""
    if isinstance(value, dict):
        if "#bigint" in value:
            return int(value["#bigint"])
        if "#set" in value:
            return [from_itf_value(v) for v in value["#set"]]
        if "#tup" in value:
            return tuple(from_itf_value(v) for v in value["#tup"])
        if "#map" in value:
            return {_key(from_itf_value(k)): from_itf_value(v) for k, v in value["#map"]}
        return {k: from_itf_value(v) for k, v in value.items() if not k.startswith("#")}
    if isinstance(value, list):
        return [from_itf_value(v) for v in value]
    return value


def _key(k: Any) -> Any:
    return json.dumps(k) if isinstance(k, dict | list) else k


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return "[" + ",".join(f"{k}={_text(v)}" for k, v in value.items()) + "]"
    if isinstance(value, list):
        return "{" + ",".join(_text(v) for v in value) + "}"
    if isinstance(value, tuple):
        return "<<" + ",".join(_text(v) for v in value) + ">>"
    return str(value)


def is_itf(doc: Any) -> bool:
    return (isinstance(doc, dict) and isinstance(doc.get("states"), list)
            and isinstance(doc.get("vars"), list))


def _prefix(name: str) -> str:
    return re.sub(r"\d+$", "", name)


def _lanes_of(states: list[dict]) -> tuple[list[str], list[str]]:
    """Node names (keys of per-node functions, senders of messages, names in plain
    sets), and the peers among them: the names that send, or belong with a sender (in
    one function's keys, or with a sender's prefix, as r0 with r1), whom a message in
    the sent set reaches. Clients that only appear as keys of `accepted` are not peers."""
    families: list[set[str]] = []
    senders: set[str] = set()
    for state in states:
        for value in state.values():
            if isinstance(value, dict):
                families.append({k for k in value if isinstance(k, str)})
            elif isinstance(value, list):
                for v in value:
                    if isinstance(v, dict):
                        senders.update(v[f] for f in SENDER_FIELDS if isinstance(v.get(f), str))
                    elif isinstance(v, str):
                        families.append({v})
    names = set(senders).union(*families) if families else set(senders)
    if not senders:
        return sorted(names, key=natural_key), sorted(names, key=natural_key)
    prefixes = {_prefix(s) for s in senders}
    peers = set(senders)
    for fam in families:
        if fam & senders:
            peers |= fam
    peers |= {n for n in names if _prefix(n) in prefixes}
    return sorted(names, key=natural_key), sorted(peers, key=natural_key)


def _actor(action: str, lanes: set[str]) -> str | None:
    """The node an action string is about: its first word (`r1 sends ...`) or its first
    argument (`Phase1b(a=a1, ...)`). A name further in (a quorum) is not the actor."""
    m = re.match(r"\s*([\w-]+)", action)
    if m and m.group(1) in lanes:
        return m.group(1)
    m = re.match(r"[^(]*\(\s*(?:\w+\s*=\s*)?([\w-]+)", action)
    if m and m.group(1) in lanes:
        return m.group(1)
    return None


def message_label(msg: dict, skip: tuple[str, ...] = SENDER_FIELDS) -> str:
    kind = msg.get("type", "msg")
    args = ",".join(f"{k}={_text(v)}" for k, v in msg.items() if k != "type" and k not in skip)
    return f"{kind}({args})"


def chart_from_itf(doc: dict, title: str = "") -> Chart:
    """A counterexample in ITF (`smrcheck check --itf`, Apalache, Quint) as a chart."""
    if not is_itf(doc):
        raise UsageError("not an ITF trace: expected an object with \"vars\" and \"states\"")
    try:
        states = [{k: from_itf_value(v) for k, v in s.items() if k != "#meta"} for s in doc["states"]]
        metas = [dict(s["#meta"]) if isinstance(s.get("#meta"), dict) else {} for s in doc["states"]]
    except (AttributeError, TypeError, ValueError, KeyError, RecursionError) as err:
        raise UsageError(f"not a valid ITF trace: {type(err).__name__}: {err}") from None
    meta = doc.get("#meta", {}) if isinstance(doc.get("#meta"), dict) else {}
    return _chart_of_states(title or str(meta.get("source", "counterexample")), states, metas,
                            str(meta.get("description", "")))


def chart_from_check(result: CheckResult) -> Chart:
    """The counterexample of `result` as a chart, read straight from its steps: the
    same chart `chart_from_itf(itf_trace(result))` makes, without the detour."""
    if result.violation is None or not result.violation.trace:
        raise ValueError("no counterexample to chart")
    steps = result.violation.trace
    variables = list(steps[0].state)
    states = [{name: _plain(step.state[name]) for name in variables} for step in steps]
    metas = [{"index": step.index} | ({} if step.action is None else {"action": step.action})
             for step in steps]
    return _chart_of_states(f"smrcheck {result.model}", states, metas,
                            f"{result.violation.property}: {result.violation.message}")


def _plain(value: Any) -> Any:
    """A described state value as `from_itf_value` reads it back from ITF: sets as
    lists, functions as dicts with hashable keys, tuples kept."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, TlaSet):
        return [_plain(v) for v in value]
    if isinstance(value, FnMap):
        return {_key(_plain(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, Record | dict):
        # An ITF record field starting with '#' is metadata, so a reader drops it.
        return {str(k): _plain(v) for k, v in value.items() if not str(k).startswith("#")}
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    raise TypeError(f"describe() returned a value ITF cannot hold: {value!r}")


def _chart_of_states(title: str, states: list[dict], metas: list[dict], description: str) -> Chart:
    """A note per action (in its actor's lane), an arrow per record added to a
    set-valued variable (a message added to `msgs`), a note for each per-node value that
    changed at a node other than the actor; the last step is the violation named by
    `description` ("PROPERTY: message")."""
    for state, m in zip(states, metas):  # Apalache and Quint name the action in a variable
        for name in ACTION_VARS:
            if name in state:
                m.setdefault("action", str(state.pop(name)))
    if not states:
        raise UsageError("the ITF trace has no states")
    lanes, peers = _lanes_of(states)
    lane_set = set(lanes)
    chart = Chart(title=title, lanes=lanes, group=peers if peers != lanes else None)
    count = 0
    for i in range(1, len(states)):
        before, after = states[i - 1], states[i]
        step = metas[i].get("index", i)
        step = step if isinstance(step, int) else i
        action = str(metas[i].get("action", f"step {i}"))
        actor = _actor(action, lane_set)
        messages, changes, elsewhere = [], [], []
        for name, new in after.items():
            old = before.get(name)
            if new == old:
                continue
            if isinstance(new, list) and isinstance(old, list):
                for v in new:
                    if v in old:
                        continue
                    if isinstance(v, dict):
                        messages.append(v)
                    else:
                        changes.append(f"{name} += {_text(v)}")
            elif isinstance(new, dict) and isinstance(old, dict):
                for k, v in new.items():
                    if old.get(k) != v:
                        text = f"{name}[{k}]: {_text(old.get(k))} -> {_text(v)}"
                        changes.append(text)
                        if k in lane_set and k != actor:
                            elsewhere.append((k, text))
            else:
                changes.append(f"{name}: {_text(old)} -> {_text(new)}")
        chart.rows.append(Note(actor, action, step, "action", "\n".join(changes)))
        for lane, text in elsewhere:
            chart.rows.append(Note(lane, text, step, "change"))
        for msg in messages:
            count += 1
            src = next((msg[f] for f in SENDER_FIELDS if msg.get(f) in lane_set), actor)
            dst = next((msg[f] for f in DEST_FIELDS if msg.get(f) in lane_set), ALL)
            chart.rows.append(Arrow(src, dst, message_label(msg, SENDER_FIELDS + DEST_FIELDS),
                                    f"m{count}", step, _text(msg)))
    if description and chart.rows:
        prop, _, message = description.partition(": ")
        last = max(i for i, r in enumerate(chart.rows) if isinstance(r, Note) and r.kind == "action")
        step = chart.rows[last].step
        where = f"step {step} of the counterexample, as `smrcheck check` and the ITF file number it"
        chart.violation = Highlight(last, prop, message, where=where)
    return chart


def load_itf(path: str) -> dict | None:
    """The ITF document in `path`, or None when the file is not one JSON document."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return doc if is_itf(doc) else None
