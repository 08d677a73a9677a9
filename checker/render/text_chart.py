"""A message sequence chart drawn in the terminal: a column per lane, time going down,
box-drawing arrows between columns, the violating row red."""

from __future__ import annotations

import re

from rich.console import Console
from rich.text import Text

from .chart import ALL, Arrow, Chart
from .console import console

_GUTTER = 6  # "%4d" step number, a violation mark, a space


def _lane_centers(n: int, width: int) -> tuple[int, list[int]]:
    """Column width and centre column of each lane; lanes share what the gutter leaves."""
    cw = max((width - _GUTTER) // max(n, 1), 4)
    return cw, [_GUTTER + i * cw + cw // 2 for i in range(n)]


def _fit(text: str, room: int) -> str:
    if room <= 0:
        return ""
    return text if len(text) <= room else (text[: room - 1] + "…" if room > 1 else "…")


def _shorten(label: str, room: int) -> str:
    """A message label in `room` columns: whole, then without field names
    (PREPARE(0,1,d4) for PREPARE(v=0,n=1,d=d4)), then cut."""
    if len(label) <= room:
        return label
    return _fit(re.sub(r"(?<=[(,])[\w-]+=", "", label), room)


def _put(cells: list[str], at: int, text: str) -> None:
    for i, ch in enumerate(text):
        if 0 <= at + i < len(cells):
            cells[at + i] = ch


def _arrow_cells(cells: list[str], a: int, b: int, label: str, ends: list[int],
                 crossed: list[int], known_src: bool) -> None:
    """A line from column a to column b (either order) with its head at b."""
    lo, hi = min(a, b), max(a, b)
    for x in range(lo + 1, hi):
        cells[x] = "─"
    for x in crossed:
        if lo < x < hi:
            cells[x] = "┼"
    if b > a:
        cells[b - 1] = "▶"
    else:
        cells[b + 1] = "◀"
    cells[a] = ("├" if b > a else "┤") if known_src else "╶"
    room = hi - lo - 3
    text = _shorten(label, room - 2)
    if text:
        start = lo + 1 + (hi - lo - 1 - len(text) - 2) // 2
        _put(cells, start, f" {text} ")


def _both_ways_label(cells: list[str], a: int, lo: int, hi: int, row) -> None:
    """A broadcast from a middle lane: when its label is cut in the longer half, write
    it, sender first, over the whole span instead (covering the sender's mark)."""
    half = max(hi - a, a - lo) - 5
    if len(_shorten(row.label, half)) >= len(row.label) or "…" not in _shorten(row.label, half):
        return
    text = _shorten(f"{row.src}: {row.label}", hi - lo - 5)
    for x in range(lo + 2, hi - 1):
        if cells[x] not in "┼":
            cells[x] = "─"
    _put(cells, lo + 2 + (hi - lo - 3 - len(text) - 2) // 2, f" {text} ")


def chart_lines(chart: Chart, width: int) -> list[tuple[str, str | None]]:
    """A `checker.chart.Chart` as (text, style) lines: a column per lane, time going
    down, arrows spanning columns, notes written in their lane, the violating row red."""
    lanes = chart.lanes
    cw, centers = _lane_centers(len(lanes), width)
    col = dict(zip(lanes, centers))
    total = max(width, _GUTTER + cw * len(lanes))
    lines: list[tuple[str, str | None]] = [
        (_fit(f"{chart.title}: {len(lanes)} lanes, {len(chart.rows)} rows", total), "bold")]
    head = [" "] * total
    for lane, c in col.items():
        name = _fit(lane, cw - 1)
        _put(head, max(c - len(name) // 2, 0), name)
    lines.append(("".join(head).rstrip(), "bold"))
    bad = chart.violation.row if chart.violation is not None else None
    related = set(chart.violation.related) if chart.violation is not None else set()
    last_step = None
    for i, row in enumerate(chart.rows):
        cells = [" "] * total
        for c in centers:
            cells[c] = "│"
        gutter = f"{row.step:>4}" if row.step != last_step else "    "
        last_step = row.step
        _put(cells, 0, gutter + ("✗" if i == bad else "•" if i in related else " "))
        if isinstance(row, Arrow):
            a = col.get(row.src, _GUTTER) if row.src is not None else _GUTTER
            known = row.src in col
            if row.dst == ALL:
                reach = [col[g] for g in chart.reached() if g in col and col[g] != a]
                right = [c for c in reach if c > a]
                left = [c for c in reach if c < a] if known else []
                if right and (not left or right[-1] - a >= a - left[0]):
                    _arrow_cells(cells, a, right[-1], row.label, [], right[:-1], known)
                    if left:
                        _arrow_cells(cells, a, left[0], "", [], left[1:], known)
                        cells[a] = "┼"
                elif left:
                    _arrow_cells(cells, a, left[0], row.label, [], left[1:], known)
                    if right:
                        _arrow_cells(cells, a, right[-1], "", [], right[:-1], known)
                        cells[a] = "┼"
                if left and right:
                    _both_ways_label(cells, a, left[0], right[-1], row)
            elif row.dst in col and col[row.dst] != a:
                _arrow_cells(cells, a, col[row.dst], row.label, [], [], known)
            else:  # to itself
                _put(cells, a, "↺ " + _fit(row.label, total - a - 2))
        else:
            at = col.get(row.lane, _GUTTER) if row.lane is not None else _GUTTER
            mark = {"crash": "■", "restart": "▲"}.get(row.kind, "●" if row.lane in col else "◇")
            room_right, room_left = total - at - 2, at - _GUTTER - 1
            if len(row.text) > room_right and room_left > room_right:
                text = _fit(row.text, room_left)
                _put(cells, at - len(text) - 1, text + " " + mark)
            else:
                _put(cells, at, mark + " " + _fit(row.text, room_right))
        lines.append(("".join(cells).rstrip(),
                      "bold red" if i == bad else "red" if i in related else None))
    if chart.violation is not None:
        v = chart.violation
        lines.append(("", None))
        lines.append((f"✗ {v.property} at step {chart.rows[v.row].step} (row {v.row + 1}): "
                      f"{v.message}", "bold red"))
        if v.rule:
            lines.append((f"  the rule: {v.rule}", "red"))
        if v.related:
            lines.append((f"  • the events that prove it: rows "
                          f"{', '.join(str(r + 1) for r in v.related)}", "red"))
    return lines


def show_chart(chart: Chart, out: Console | None = None, width: int | None = None) -> None:
    """Draw a chart in the terminal, as wide as the console, or `width` columns (the
    console then crops and folds at `width` too)."""
    out = out or console()
    if width:
        out.width = width
    for text, style in chart_lines(chart, out.width):
        wraps = text.startswith("✗ ") or text.startswith("  the rule")
        out.print(Text(text, style=style or ""), markup=False, no_wrap=not wraps,
                  overflow="fold" if wraps else "crop", crop=not wraps)
