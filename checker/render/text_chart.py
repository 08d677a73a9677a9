"""A message sequence chart drawn in the terminal: a column per lane, time going down,
box-drawing arrows between columns, the violating row red.

Every row carries its number, 1 to the count the header gives, so that the number a
violation line names, or one a colleague quotes, is found by reading down the gutter;
where an event came from (a counterexample's step, a trace file's line) is said once, in
the violation line, in words. A note longer than its room goes on below it rather than
being cut, and so does a label that had to be cut to fit its arrow: the text of an
action or a message is often what the reader came for. The legend names only the marks
the chart drew, so that it stays one or two lines.
"""

from __future__ import annotations

import re

from rich.console import Console
from rich.text import Text

from .chart import ALL, Arrow, Chart
from .console import console

_GUTTER = 6  # "%4d" row number, a violation mark, a space: wider past 9,999 rows

# What each mark means, in the order the legend gives them; a chart lists those it drew.
_LEGEND = {
    "note": "● an event or step at that node",
    "anon": "◇ a step no one node takes",
    "arrow": "├─▶ a message from ├ to ▶",
    "anon-arrow": "╶─▶ a message whose sender is not known",
    "reach": "┼ a broadcast delivered here too",
    "self": "↺ a message to itself",
    "crash": "■ crash",
    "restart": "▲ restart",
    "violation": "✗ the violation",
    "related": "• an event that proves it",
}


def _lane_centers(n: int, width: int, gutter: int = _GUTTER) -> tuple[int, list[int]]:
    """Column width and centre column of each lane; lanes share what the gutter leaves."""
    cw = max((width - gutter) // max(n, 1), 4)
    return cw, [gutter + i * cw + cw // 2 for i in range(n)]


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


def _wrap(text: str, room: int, indent: str = "") -> list[str]:
    """`text` in lines of at most `room` columns (the lines after the first led by
    `indent`), each broken after its last space or comma when that leaves it at least
    half full, else at `room`: nothing is dropped."""
    lines: list[str] = []
    lead = ""
    while len(lead) + len(text) > room:
        fit = max(room - len(lead), 1)
        cut = max(text.rfind(" ", 0, fit + 1), text.rfind(",", 0, fit) + 1)
        cut = cut if cut >= fit // 2 and cut > 0 else fit
        lines.append(lead + text[:cut].rstrip())
        text, lead = text[cut:].lstrip(), indent
    return lines + [lead + text] if text or not lines else lines


def _legend(used: set[str], room: int) -> list[str]:
    """The legend of the marks in `used`, items kept whole across lines."""
    lines, line = [], "legend:"
    for key, item in _LEGEND.items():
        if key not in used:
            continue
        if len(line) + 2 + len(item) > room and line.strip() != "legend:":
            lines.append(line)
            line = "       "
        line += "  " + item
    lines.append(line)
    return [ln for text in lines for ln in _wrap(text, room, "         ")]


def _put(cells: list[str], at: int, text: str) -> None:
    for i, ch in enumerate(text):
        if 0 <= at + i < len(cells):
            cells[at + i] = ch


def _arrow_cells(cells: list[str], a: int, b: int, label: str, ends: list[int],
                 crossed: list[int], known_src: bool) -> bool:
    """A line from column a to column b (either order) with its head at b; whether its
    label had to be cut."""
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
    return bool(label) and (not text or text.endswith("…"))


def _both_ways_label(cells: list[str], a: int, lo: int, hi: int, row) -> bool | None:
    """A broadcast from a middle lane: when its label is cut in the longer half, write
    it, sender first, over the whole span instead (covering the sender's mark); whether
    it is still cut then (None: not rewritten)."""
    half = max(hi - a, a - lo) - 5
    if len(_shorten(row.label, half)) >= len(row.label) or "…" not in _shorten(row.label, half):
        return None
    text = _shorten(f"{row.src}: {row.label}", hi - lo - 5)
    for x in range(lo + 2, hi - 1):
        if cells[x] not in "┼":
            cells[x] = "─"
    _put(cells, lo + 2 + (hi - lo - 3 - len(text) - 2) // 2, f" {text} ")
    return text.endswith("…")


def _in_lane(cells: list[str], blank, at: int, sign: str, text: str, room_right: int,
             room_left: int) -> list[list[str]]:
    """`sign` at column `at` and `text` beside it, on the right unless it does not fit
    there and the left has more room; what does not fit on the row goes on, wrapped, on
    the lines returned (each made by `blank`, the lifelines alone)."""
    more: list[list[str]] = []
    if len(text) > room_right and room_left > room_right:
        first, *rest = _wrap(text, room_left)
        _put(cells, at - len(first) - 1, first + " " + sign)
        for line in rest:
            more.append(blank())
            _put(more[-1], at - len(line) - 1, line)
    else:
        first, *rest = _wrap(text, max(room_right, 1))
        _put(cells, at, sign + " " + first)
        for line in rest:
            more.append(blank())
            _put(more[-1], at + 2, line)
    return more


def chart_lines(chart: Chart, width: int) -> list[tuple[str, str | None]]:
    """A `checker.chart.Chart` as (text, style) lines: a column per lane, time going
    down, arrows spanning columns, notes written in their lane (wrapped onto lines of
    their own when long), every row numbered, the violating row red, a legend below."""
    lanes = chart.lanes
    digits = len(str(len(chart.rows)))
    gutter = max(_GUTTER, digits + 2)
    cw, centers = _lane_centers(len(lanes), width, gutter)
    col = dict(zip(lanes, centers))
    total = max(width, gutter + cw * len(lanes))
    lines: list[tuple[str, str | None]] = [
        (_fit(f"{chart.title}: {len(lanes)} lanes, {len(chart.rows)} rows", total), "bold")]
    head = [" "] * total
    for lane, c in col.items():
        name = _fit(lane, cw - 1)
        _put(head, max(c - len(name) // 2, 0), name)
    lines.append(("".join(head).rstrip(), "bold"))
    bad = chart.violation.row if chart.violation is not None else None
    related = set(chart.violation.related) if chart.violation is not None else set()
    used: set[str] = set()

    def lifelines() -> list[str]:
        cells = [" "] * total
        for c in centers:
            cells[c] = "│"
        return cells

    for i, row in enumerate(chart.rows):
        cells = lifelines()
        style = "bold red" if i == bad else "red" if i in related else None
        mark = "✗" if i == bad else "•" if i in related else " "
        used |= {"violation"} if i == bad else {"related"} if i in related else set()
        _put(cells, 0, f"{i + 1:>{gutter - 2}}{mark}")
        more: list[list[str]] = []  # the lines a long note goes on to
        if isinstance(row, Arrow):
            a = col.get(row.src, gutter) if row.src is not None else gutter
            known = row.src in col
            cut = False  # the label did not fit on the arrow: it goes on below, whole
            if row.dst == ALL:
                reach = [col[g] for g in chart.reached() if g in col and col[g] != a]
                right = [c for c in reach if c > a]
                left = [c for c in reach if c < a] if known else []
                if right and (not left or right[-1] - a >= a - left[0]):
                    cut = _arrow_cells(cells, a, right[-1], row.label, [], right[:-1], known)
                    if left:
                        _arrow_cells(cells, a, left[0], "", [], left[1:], known)
                        cells[a] = "┼"
                elif left:
                    cut = _arrow_cells(cells, a, left[0], row.label, [], left[1:], known)
                    if right:
                        _arrow_cells(cells, a, right[-1], "", [], right[:-1], known)
                        cells[a] = "┼"
                if left and right:
                    again = _both_ways_label(cells, a, left[0], right[-1], row)
                    cut = cut if again is None else again
                used.add("arrow" if known else "anon-arrow")
                if any(cells[x] == "┼" for x in right[:-1] + left[1:]):  # not under the label
                    used.add("reach")
                lo, hi = min([a, *left, *right]), max([a, *left, *right])
            elif row.dst in col and col[row.dst] != a:
                cut = _arrow_cells(cells, a, col[row.dst], row.label, [], [], known)
                used.add("arrow" if known else "anon-arrow")
                lo, hi = min(a, col[row.dst]), max(a, col[row.dst])
            else:  # to itself: written in its lane, as a note is
                used.add("self")
                more = _in_lane(cells, lifelines, a, "↺", row.label, total - a - 2,
                                a - gutter - 1)
            if cut:  # the whole label on the lines below, from its left end or to its right
                if len(row.label) > total - lo - 2 and len(row.label) <= hi - gutter - 2:
                    more.append(lifelines())
                    _put(more[-1], hi - 1 - len(row.label), row.label)
                else:
                    for text in _wrap(row.label, max(total - lo - 2, 1)):
                        more.append(lifelines())
                        _put(more[-1], lo + 2, text)
        else:
            at = col.get(row.lane, gutter) if row.lane is not None else gutter
            kind = row.kind if row.kind in ("crash", "restart") else (
                "note" if row.lane in col else "anon")
            used.add(kind)
            sign = {"crash": "■", "restart": "▲", "note": "●", "anon": "◇"}[kind]
            more = _in_lane(cells, lifelines, at, sign, row.text, total - at - 2, at - gutter - 1)
        for line in [cells, *more]:
            lines.append(("".join(line).rstrip(), style))
    if chart.rows:
        lines.extend((text, "dim") for text in _legend(used, total))
    if chart.violation is not None:
        v = chart.violation
        where = f" ({v.where})" if v.where else ""
        lines.append(("", None))
        lines.extend((text, "bold red") for text in _wrap(
            f"✗ {v.property} at row {v.row + 1}{where}: {v.message}", total, "  "))
        if v.rule:
            lines.extend((text, "red") for text in _wrap(f"  the rule: {v.rule}", total, "    "))
        if v.related:
            lines.extend((text, "red") for text in _wrap(
                f"  • the events that prove it: rows {', '.join(str(r + 1) for r in v.related)}",
                total, "    "))
    return lines


def show_chart(chart: Chart, out: Console | None = None, width: int | None = None) -> None:
    """Draw a chart in the terminal, as wide as the console, or `width` columns. The
    lines come wrapped to the width; only a chart too wide for it (many lanes) is
    cropped at the edge."""
    out = out or console()
    if width:
        out.width = width
    for text, style in chart_lines(chart, out.width):
        out.print(Text(text, style=style or ""), markup=False, no_wrap=True, overflow="crop",
                  crop=True)
