"""The HTML chart opened in headless Chromium: the script runs, pages and filters.

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


def test_chart_opens_pages_and_filters_in_chromium(tmp_path):
    chart = big_chart()
    html = tmp_path / "chart.html"
    write_chart_html(chart, str(html))
    page = dom(str(html))
    # The script ran: it paged the 1,200 rows by 500 and said so.
    assert info(page) == "rows 1-500 of 1200 (page 1/3)"
    assert page.count('class="lane"') == 4
    arrows = sum(1 for r in chart.rows if isinstance(r, Arrow))
    assert len(re.findall(r'class="row (?:violation )?arrow', page)) == arrows
    assert page.count('class="row violation') == 1
    assert "http://" not in page and "https://" not in page
    # Filtering by sequence number keeps the rows whose label names it.
    labels = re.findall(r'data-label="([^"]*)"', page)
    matching = sum(1 for label in labels if "n=3" in label)
    assert 0 < matching < 500
    assert info(dom(str(html), "#filter=n%3D3")) == f"rows 1-{matching} of {matching} (page 1/1)"


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
    assert "PBFT-AGREEMENT" in page and info(page).startswith("rows 1-")
