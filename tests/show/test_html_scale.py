"""The HTML chart of a long run stays small and quick (issue #17: a 3,000-request run
gave a 20 MB page that took ~25 s to open).

Figures for `synthetic(100_000)` below (one client, four replicas; a note, three
broadcasts, a request arrow, four executes and a result per ten rows), measured on the
2-core development machine, shared and loaded, with Chromium 155 headless
(`chromium --headless --dump-dom`, whose start alone takes 2.4 s there):

  page                          size      written   opened (--dump-dom, wall)
  every row drawn as SVG        44.1 MB   0.7 s     188 s
  rows as data, drawn in view    4.2 MB   0.5 s     4.2 s (25 rows in the DOM)

and for a real run of 3,000 requests (`tests.support.synth.pbft_run(f=1, clients=2,
requests=1500, seed=1)`, 69,000 rows): 33.0 MB and 122 s before, 2.9 MB and 4.1 s now.

The page now holds the rows as one JSON document (short arrays, strings interned) and
its script puts only the rows in view, and a few either side, in the DOM. The test
here bounds the size and the time to write it; test_browser.py opens it, where
Chromium is installed.
"""

from __future__ import annotations

import time

from smrcheck.checker.render import chart_html
from smrcheck.checker.render.chart import ALL, Arrow, Chart, Highlight, Note
from smrcheck.checker.render.html_chart import page_data


def synthetic(rows: int) -> Chart:
    """A PBFT-like run of `rows` rows, each request ten rows, run-chart details kept."""
    lanes = ["c0", "r0", "r1", "r2", "r3"]
    chart = Chart("synthetic pbft run", lanes, group=lanes[1:])
    for i in range(rows):
        n, k = i // 10, i % 10
        if k == 0:
            chart.rows.append(Note("c0", f"request {n}: put k{n % 50} {n}", i + 1, "request"))
        elif k in (1, 2, 3):
            chart.rows.append(Arrow(lanes[1 + k % 4], ALL, f"PREPARE(v=0,n={n},d=d-c0-{n})",
                                    f"m{i}", i + 1,
                                    f"m{i} to r0, r1, r2, r3; received by r1, r2, r3"))
        elif k == 4:
            chart.rows.append(Arrow("c0", "r0", f"REQUEST(c=c0,req={n},op=put k{n % 50} {n})",
                                    f"m{i}", i + 1, f"m{i} to r0; received by r0"))
        elif k < 9:
            chart.rows.append(Note(lanes[k - 4], f"execute n={n} c0.{n}", i + 1, "execute"))
        else:
            chart.rows.append(Note("c0", f"result {n}: ok", i + 1, "result"))
    chart.violation = Highlight(rows - 1, "PBFT-AGREEMENT", "two requests committed",
                                related=[rows - 5])
    return chart


def test_a_hundred_thousand_rows_make_a_small_page_quickly():
    chart = synthetic(100_000)
    start = time.perf_counter()
    html = chart_html(chart)
    took = time.perf_counter() - start
    size = len(html.encode("utf-8"))
    assert size < 6_000_000, size  # 4.2 MB; drawn as SVG it was 44 MB
    assert took < 10, took
    data = page_data(html)
    assert len(data["rows"]) == 100_000 and data["violation"]["row"] == 99_999
    # Every row is there, and no row is drawn by the page as written: the script does.
    assert '<g class="row' not in html

