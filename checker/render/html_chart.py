"""A message sequence chart as one self-contained HTML file: inline SVG and a small
script, no network fetches, so a CI artifact opens anywhere.

The page (style and script) is `chart.html` beside this module, shipped as package
data so that it reads, and can be opened and edited, as HTML; `{{name}}` marks where
this module writes the chart.
"""

from __future__ import annotations

import re
from functools import cache
from html import escape
from importlib.resources import files

from .chart import ALL, Arrow, Chart

_HTML_PAGE = 500
_ROW_H, _LANE_W, _LEFT, _TOP = 22, 150, 56, 40


def chart_html(chart: Chart) -> str:
    """The chart as one HTML file: no network fetches, <title> hover text on every
    element, a filter box over row labels, pages of 500 rows, the violation marked."""
    lanes = chart.lanes
    x = {lane: _LEFT + i * _LANE_W + _LANE_W // 2 for i, lane in enumerate(lanes)}
    width = _LEFT + _LANE_W * max(len(lanes), 1) + 360
    bad = chart.violation.row if chart.violation is not None else None
    related = set(chart.violation.related) if chart.violation is not None else set()
    parts: list[str] = []
    for i, lane in enumerate(lanes):
        parts.append(f'<g class="lane" data-lane="{escape(lane)}"><title>{escape(lane)}</title>'
                     f'<text x="{x[lane]}" y="20" text-anchor="middle" class="lname">{escape(lane)}</text>'
                     f'<line class="life" x1="{x[lane]}" x2="{x[lane]}" y1="28" y2="{_TOP}"/></g>')
    for i, row in enumerate(chart.rows):
        y = _TOP + i * _ROW_H
        cls = "row violation" if i == bad else "row related" if i in related else "row"
        if isinstance(row, Arrow):
            a = x.get(row.src, _LEFT - 8) if row.src is not None else _LEFT - 8
            label, text = row.label, f"{row.msg_id} {row.src or '?'} → {row.dst}: {row.label}"
            if row.detail:
                text += "\n" + row.detail
            if row.dst == ALL:
                xs = [x[g] for g in chart.reached() if g in x and x[g] != a]
                lo, hi = min(xs + [a]), max(xs + [a])
                shape = (f'<line class="msg" x1="{lo}" x2="{hi}" y1="0" y2="0"/>'
                         + "".join(f'<circle class="dlv" cx="{v}" cy="0" r="3"/>' for v in xs))
                mid = (a + (hi if hi - a >= a - lo else lo)) / 2
            else:
                b = x.get(row.dst, a + 40)
                shape = (f'<line class="msg" x1="{a}" x2="{b - 6 if b > a else b + 6}" y1="0" y2="0" '
                         'marker-end="url(#head)"/>')
                mid = (a + b) / 2
            shape += f'<circle class="src" cx="{a}" cy="0" r="3"/>'
            body = (f'{shape}<text class="lbl" x="{mid}" y="-4" text-anchor="middle">'
                    f'{escape(label)}</text>')
            kind, search = "arrow", f"{row.label} {row.msg_id} {row.src} {row.dst}"
        else:
            a = x.get(row.lane, _LEFT) if row.lane is not None else _LEFT
            text = row.text + (f"\n{row.detail}" if row.detail else "")
            body = (f'<rect class="note {escape(row.kind)}" x="{a - 4}" y="-4" width="8" height="8"/>'
                    f'<text class="ntxt" x="{a + 8}" y="4">{escape(row.text)}</text>')
            kind, search = "note", f"{row.text} {row.lane or ''}"
        if i in related:
            text = f"• proves {chart.violation.property} (row {bad + 1})\n" + text
        if i == bad:
            v = chart.violation
            text = f"✗ {v.property}: {v.message}\n" + text
            body = (f'<rect class="vbar" x="0" y="{-_ROW_H // 2}" width="{width}" height="{_ROW_H}"/>'
                    f'<text class="vmark" x="4" y="4">✗</text>' + body)
        parts.append(f'<g class="{cls} {kind}" data-i="{i}" data-label="{escape(search.lower())}" '
                     f'transform="translate(0,{y})"><title>{escape(text)}</title>'
                     f'<text class="stepno" x="{_LEFT - 14}" y="4" text-anchor="end">{row.step}</text>'
                     f'{body}</g>')
    height = _TOP + len(chart.rows) * _ROW_H + 20
    banner = ""
    if chart.violation is not None:
        v = chart.violation
        banner = (f'<div class="violation-banner" id="violation">✗ <b>{escape(v.property)}</b> at row '
                  f'{v.row + 1}: {escape(v.message)}'
                  + (f'<br><i>the rule: {escape(v.rule)}</i>' if v.rule else "")
                  + ' <button id="goto">show it</button></div>')
    return _fill(_template(), dict(
        title=escape(chart.title), banner=banner, width=width, height=height,
        body="\n".join(parts), page=_HTML_PAGE, rowh=_ROW_H, top=_TOP,
        bad=-1 if bad is None else bad, lanes=len(lanes), rows=len(chart.rows)))


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
