"""The HTML chart opened in headless Chromium: the script runs, draws only the rows in
view, filters, goes to a row, and draws a broadcast with its direction.

Chromium is the Debian package (`.ci/run` installs it); `--dump-dom` prints the page
after its script ran, and `--screenshot` leaves a picture of it as a test artifact
(in $SMRCHECK_ARTIFACTS, else the test's temporary folder).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from smrcheck.checker.render.chart import ALL, Arrow, Chart, Highlight, Note
from smrcheck.checker.render import write_chart_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-extensions", "--disable-background-networking"]


def big_chart(rows: int = 1200) -> Chart:
    lanes = ["r0", "r1", "r2", "r3"]
    chart = Chart("synthetic pbft", lanes)
    for i in range(rows):
        if i % 3 == 2:
            chart.rows.append(Note(lanes[i % 4], f"decide n={i % 7}", i, kind="decide"))
        else:
            chart.rows.append(Arrow(lanes[i % 4], ALL if i % 3 else lanes[(i + 1) % 4],
                                    f"PREPARE(v=0,n={i % 7})", f"m{i}", i))
    chart.violation = Highlight(rows - 1, "PBFT-AGREEMENT", "two requests committed at n=3")
    return chart


def dom(path: str, fragment: str = "") -> str:
    proc = subprocess.run([CHROMIUM, *FLAGS, "--dump-dom", f"file://{path}{fragment}"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-500:]
    return proc.stdout


def info(page: str) -> str:
    m = re.search(r'id="info"[^>]*>([^<]*)<', page)
    assert m, "the page has no #info line"
    return m.group(1)


def drawn(page: str) -> list[int]:
    """The rows in the page's DOM, by index."""
    return [int(i) for i in re.findall(r'<g class="row[^"]*" data-i="(\d+)"', page)]


def test_chart_opens_draws_rows_in_view_and_filters_in_chromium(tmp_path):
    chart = big_chart()
    html = tmp_path / "chart.html"
    write_chart_html(chart, str(html))
    page = dom(str(html))
    # The script ran: it drew the first rows, and only those near the view.
    assert info(page).startswith("1200 rows; in view: rows 1-")
    rows = drawn(page)
    assert rows == list(range(len(rows))) and 10 < len(rows) < 100
    # Rows are numbered as the terminal numbers them: 1.., consecutive.
    numbers = re.findall(r'class="rowno"[^>]*>(\d+)<', page)
    assert numbers == [str(i + 1) for i in rows]
    assert re.findall(r'<g class="lane" data-lane="(\w+)"', page) == ["r0", "r1", "r2", "r3"]
    assert "http://" not in page and "https://" not in page
    # Filtering by sequence number keeps the rows whose label names it.
    matching = sum(1 for r in chart.rows if "n=3" in (r.label if isinstance(r, Arrow) else r.text))
    assert 0 < matching < 500
    assert info(dom(str(html), "#filter=n%3D3")).startswith(f"{matching} of 1200 rows match")
    assert info(dom(str(html), "#filter=zzz")) == "no row matches"


def test_a_row_by_its_number_and_the_violation(tmp_path):
    chart = big_chart()
    html = tmp_path / "chart.html"
    write_chart_html(chart, str(html))
    page = dom(str(html), "#row=600")
    assert 599 in drawn(page) and 0 not in drawn(page)
    assert len(re.findall(r'<rect class="tbar"', page)) == 1  # the row asked for, marked
    last = dom(str(html), "#row=1200")
    assert 1199 in drawn(last) and len(re.findall(r'<g class="row violation', last)) == 1


def test_broadcast_has_a_head_at_each_receiver_and_a_dot_at_its_sender(tmp_path):
    lanes = ["r0", "r1", "r2", "r3"]
    chart = Chart("directions", lanes, [
        Arrow("r1", ALL, "COMMIT(v=0,n=1)", "m1", 1),
        Arrow("r0", "r2", "PREPARE(v=0,n=1)", "m2", 2),
        Arrow(None, ALL, "1a(bal=0)", "m3", 3),
        Note("r3", "decide " + " ".join(f"word{i}" for i in range(80)), 4, "decide"),
    ])
    html = tmp_path / "chart.html"
    write_chart_html(chart, str(html))
    page = dom(str(html))
    groups = re.findall(r'<g class="row[^"]*" data-i="(\d+)"(.*?)</g>', page, re.S)
    body = {int(i): g for i, g in groups}
    # The broadcast from r1 reaches r0, r2, r3: three heads; one dot, at r1 (x of lane 1).
    assert body[0].count('class="head"') == 3
    dots = re.findall(r'<circle class="src[^"]*" cx="([\d.]+)"', body[0])
    assert len(dots) == 1 and float(dots[0]) == 64 + 150 + 75
    # The heads at r0 (left of the sender) and r2, r3 (right) point away from it.
    heads = re.findall(r'class="head" d="M([\d.]+),0 l(-?\d+)', body[0])
    assert sorted((float(x) > float(dots[0]), int(dx) < 0) for x, dx in heads) == [
        (False, False), (True, True), (True, True)]
    assert body[1].count('class="head"') == 1
    assert 'class="src unknown"' in body[2] and body[2].count('class="head"') == 4
    # The long note wraps onto lines of its own, every word kept.
    spans = re.findall(r"<tspan[^>]*>([^<]*)</tspan>", body[3])
    assert len(spans) > 1 and " ".join(spans) == chart.rows[3].text


def test_a_hundred_thousand_rows_open_quickly(tmp_path):
    """The figures of test_html_scale.py's docstring, measured here: the page opens
    with a few dozen rows in its DOM, however many the chart has."""
    import time

    from .test_html_scale import synthetic

    html = tmp_path / "big.html"
    write_chart_html(synthetic(100_000), str(html))
    start = time.perf_counter()
    page = dom(str(html))
    took = time.perf_counter() - start
    assert info(page).startswith("100000 rows; in view: rows 1-")
    assert len(drawn(page)) < 100
    assert took < 30, took  # 4 s here, 2.4 s of which Chromium starting; the SVG page took 190 s


def test_screenshot_of_a_counterexample(tmp_path):
    from smrcheck.checker.cli import main

    html = tmp_path / "pbft.html"
    assert main(["check", "pbft", "-p", "replicas=3", "-p", "f=1", "--html", str(html)]) == 1
    out_dir = os.environ.get("SMRCHECK_ARTIFACTS") or str(tmp_path)
    os.makedirs(out_dir, exist_ok=True)
    shot = os.path.join(out_dir, "pbft-counterexample.png")
    proc = subprocess.run([CHROMIUM, *FLAGS, f"--screenshot={shot}", "--window-size=1200,800",
                           f"file://{html}"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-500:]
    with open(shot, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    page = dom(str(html))
    assert "PBFT-AGREEMENT" in page and " rows; in view: rows 1-" in info(page)
