"""A message sequence chart as one self-contained HTML file: no network fetches, so a
CI artifact opens anywhere.

The page (style and script) is `chart.html` beside this module, shipped as package
data so that it reads, and can be opened and edited, as HTML; `{{name}}` marks where
this module writes the chart.

The chart travels as data, not as drawing: one JSON document in the page, each row a
short array, every string (a label, a note, a message id, hover text) written once in
a table and named by its index. The page's script draws only the rows in view, so a
run of 10^5 rows is a few megabytes and opens in about the time a small chart does;
drawing every row as SVG, as this module once did, made 44 MB and a page that took
minutes to open (the figures are in tests/show/test_html_scale.py).

The row arrays (the page's script reads them, tests decode them):

- an arrow: [0, src, dst, label, msg_id, step] and the detail when there is one (less
  the message id it starts with, when it does);
- a note: [1, lane, kind, text, step] and the detail when there is one;

where a lane is its index in `lanes`, -1 for none (an arrow's dst: every lane in
`reach`), or its name when it has no lane; label, msg_id, kind, text and detail are
indexes into `strings`; step is the source's own number for the row (the ITF state, the
event's position in the merged run), shown on hover: the page numbers rows 1.. as the
terminal chart does.
"""

from __future__ import annotations

import json
import re
from functools import cache
from html import escape
from importlib.resources import files
from typing import Any

from .chart import ALL, Arrow, Chart

_ROW_H, _LANE_W, _LEFT = 22, 150, 64


def chart_data(chart: Chart) -> dict[str, Any]:
    """The chart as the page's script reads it (module docstring): plain JSON data."""
    strings: list[str] = []
    index: dict[str, int] = {}

    def s(text: str) -> int:
        i = index.get(text)
        if i is None:
            i = index[text] = len(strings)
            strings.append(text)
        return i

    lane_of = {lane: i for i, lane in enumerate(chart.lanes)}

    def lane(name: str | None) -> int | str:
        return -1 if name is None else lane_of.get(name, name)

    rows: list[list[Any]] = []
    for row in chart.rows:
        if isinstance(row, Arrow):
            r = [0, lane(row.src), -1 if row.dst == ALL else lane(row.dst), s(row.label),
                 s(row.msg_id), row.step]
        else:
            r = [1, lane(row.lane), s(row.kind), s(row.text), row.step]
        detail = row.detail
        if isinstance(row, Arrow) and detail.startswith(row.msg_id + " "):
            # The hover text names the message already; without its id in front, a
            # run's details ("to r1, r2; received by r1") repeat, and are written once.
            detail = detail[len(row.msg_id) + 1:]
        if detail:
            r.append(s(detail))
        rows.append(r)
    v = chart.violation
    return {
        "lanes": list(chart.lanes),
        "reach": [lane_of[g] for g in chart.reached() if g in lane_of],
        "strings": strings,
        "rows": rows,
        "violation": None if v is None else {
            "row": v.row, "property": v.property, "message": v.message, "rule": v.rule,
            "where": v.where, "related": list(v.related)},
    }


def chart_html(chart: Chart) -> str:
    """The chart as one HTML file: no network fetches, hover text on every row, a filter
    box over row labels, a box to go to a row by its number, the violation marked."""
    lanes = chart.lanes
    width = _LEFT + _LANE_W * max(len(lanes), 1) + 360
    banner = ""
    if chart.violation is not None:
        v = chart.violation
        banner = (f'<div class="violation-banner" id="violation">✗ <b>{escape(v.property)}</b>'
                  f' at row {v.row + 1}' + (f' ({escape(v.where)})' if v.where else "")
                  + f': {escape(v.message)}'
                  + (f'<br><i>the rule: {escape(v.rule)}</i>' if v.rule else "")
                  + (f'<br>• the events that prove it: rows '
                     f'{", ".join(str(r + 1) for r in v.related)}' if v.related else "")
                  + ' <button id="goto">show it</button></div>')
    # In a <script> element only "</" could end it early; "<" is escaped inside JSON
    # strings (the only place it can occur), which JSON.parse reads back as it was.
    data = json.dumps(chart_data(chart), ensure_ascii=False, separators=(",", ":"))
    return _fill(_template(), dict(
        title=escape(chart.title), banner=banner, width=width, data=data.replace("<", "\\u003c"),
        rowh=_ROW_H, lanew=_LANE_W, left=_LEFT, lanes=len(lanes), rows=len(chart.rows)))


def page_data(html: str) -> dict[str, Any]:
    """The chart data of a page `chart_html` wrote (for tests and tools)."""
    m = re.search(r'<script type="application/json" id="data">(.*?)</script>', html, re.S)
    if m is None:
        raise ValueError("not a chart page: no chart data in it")
    return json.loads(m.group(1))


@cache
def _template() -> str:
    return files(__package__).joinpath("chart.html").read_text(encoding="utf-8")


def _fill(template: str, values: dict[str, object]) -> str:
    """`{{name}}` replaced by str(values[name]), in one pass: a value is never read as a
    template itself, and braces in the page's style and script stay as they are."""
    return re.sub(r"\{\{(\w+)\}\}", lambda m: str(values[m.group(1)]), template)


def write_chart_html(chart: Chart, path: str) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write(chart_html(chart))
