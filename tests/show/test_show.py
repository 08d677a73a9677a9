"""`smrcheck show`: charts as data, the terminal drawing (golden), HTML, bad input."""

from __future__ import annotations

import ast
import io
import json
import os
import pathlib
import re
import time

import pytest
from rich.console import Console

from smrcheck.checker.cli import main
from smrcheck.checker.render import chart_html, chart_lines, show_chart
from smrcheck.checker.render.chart import ALL, Arrow, Chart, Note, chart_from_itf, load_itf
from smrcheck.checker.render.html_chart import page_data
from smrcheck.checker.render.run_chart import chart_from_run

from ..support.synth import pbft_run

ROOT = pathlib.Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "traces" / "samples"
GOLDEN = pathlib.Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def paxos_itf(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("cex") / "paxos.itf.json")
    assert main(["check", "paxos", "--mutant", "minority-quorums", "--itf", path, "--json"]) == 1
    return path


@pytest.fixture(scope="module")
def paxos_chart(paxos_itf) -> Chart:
    return chart_from_itf(load_itf(paxos_itf))


def terminal(chart: Chart, width: int = 100) -> str:
    out = Console(record=True, width=width, file=io.StringIO(), color_system=None)
    show_chart(chart, out)
    return out.export_text()


def test_chart_module_is_pure_data():
    """render/chart.py: no rich, and nothing of models/, traces/ or impl/."""
    tree = ast.parse((ROOT / "checker" / "render" / "chart.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert all(not a.name.startswith("rich") for a in node.names)
        if isinstance(node, ast.ImportFrom):
            target = "." * node.level + (node.module or "")
            assert not target.startswith("rich")
            assert not any(p in target for p in ("models", "traces", "impl")), target


def test_itf_chart_of_paxos_counterexample(paxos_chart):
    c = paxos_chart
    assert c.lanes == ["a1", "a2", "a3"]
    actions = [n for n in c.notes if n.kind == "action"]
    assert [n.text.split("(")[0] for n in actions] == [
        "Phase1a", "Phase1a", "Phase1b", "Phase2a", "Phase1b", "Phase2a", "Phase2b", "Phase2b"]
    assert [n.lane for n in actions] == [None, None, "a1", None, "a1", None, "a1", "a2"]
    assert len(c.arrows) == 8 and all(a.dst == ALL for a in c.arrows)
    assert [a.src for a in c.arrows if a.label.startswith("2b")] == ["a1", "a2"]
    assert c.violation is not None and c.violation.property == "PAXOS-AGREEMENT"
    assert "two values chosen" in c.violation.message
    assert c.rows[c.violation.row] is actions[-1]


def test_terminal_golden(paxos_chart):
    """The drawing at 100 columns; SMRCHECK_UPDATE_GOLDEN=1 rewrites the file."""
    text = terminal(paxos_chart, 100)
    golden = GOLDEN / "paxos-minority-quorums.txt"
    if os.environ.get("SMRCHECK_UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")
    assert "✗ PAXOS-AGREEMENT" in text


def test_terminal_violation_row_is_red(paxos_chart):
    lines = chart_lines(paxos_chart, 100)
    red = [t for t, style in lines if style and "red" in style]
    assert red[0].lstrip().startswith("15✗")
    assert any("PAXOS-AGREEMENT" in t for t in red)


def test_many_lanes_abbreviate_within_width():
    lanes = [f"replica-{i}" for i in range(12)]
    rows = [Arrow(lanes[0], lanes[11], "PREPARE(v=0,n=1,d=abcdef)", "m1", 1),
            Arrow(lanes[3], ALL, "COMMIT(v=0,n=1,d=abcdef)", "m2", 2),
            Note(lanes[11], "decide v=0 n=1 abcdef and a long tail of text", 3, "decide")]
    chart = Chart("many", lanes, rows)
    for width in (60, 100):
        lines = [t for t, _ in chart_lines(chart, width)]
        assert all(len(t) <= width for t in lines), width
    narrow = [t for t, _ in chart_lines(chart, 60)]
    assert "…" in narrow[1]  # lane names abbreviated
    assert "▶" in narrow[2] and "┼" in narrow[3]


def test_pbft_itf_chart(tmp_path):
    path = str(tmp_path / "p.itf.json")
    assert main(["check", "pbft", "-p", "replicas=3", "-p", "f=1", "--itf", path, "--json"]) == 1
    c = chart_from_itf(load_itf(path))
    assert c.lanes == ["c1", "c2", "r0", "r1", "r2"]
    assert c.reached() == ["r0", "r1", "r2"]  # a sent-set message reaches replicas, not clients
    assert [a.src for a in c.arrows] == ["r1", "r1", "r2", "r2"]
    assert c.violation.property == "PBFT-AGREEMENT"


def test_trace_chart_lanes_and_arrows():
    c, result = chart_from_run([str(SAMPLES / "good" / "pbft.jsonl")])
    assert result.result == "ok" and c.violation is None
    assert c.lanes == ["c0", "r0", "r1", "r2", "r3"]
    assert len(c.arrows) == 39
    # 3 requests: 3 pre-prepares, 3 x 3 prepares (backups), 3 x 4 commits
    assert sum(1 for a in c.arrows if a.dst == ALL) == 24
    assert {n.kind for n in c.notes} == {"request", "result", "decide", "execute"}
    assert any("received by" in a.detail for a in c.arrows)


def test_trace_chart_of_a_directory_run():
    c, result = chart_from_run([str(SAMPLES / "good" / "pbft-per-node")])
    assert result.result == "ok"
    assert c.lanes == ["c0", "r0", "r1", "r2", "r3"] and c.arrows


def test_trace_chart_highlights_the_violation():
    c, result = chart_from_run([str(SAMPLES / "bad" / "mp-decides-twice.jsonl")])
    assert result.result == "violation"
    v = c.violation
    assert v.property == "MP-AGREEMENT" and "slot 0" in v.message and v.rule
    row = c.rows[v.row]
    assert isinstance(row, Note) and row.lane == "r0" and row.text.startswith("decide slot=0")


def test_kv_linearizable_failure_marks_every_event_of_its_operations(tmp_path):
    """The highlighted row is the result that completes the failing sub-history; the
    requests and results of its other operations are marked beside it (issue #14)."""
    c, result = chart_from_run([str(SAMPLES / "bad" / "kv-stale-read.jsonl")])
    v = c.violation
    assert v.property == "KV-LINEARIZABLE" and "not linearizable" in v.message
    marked = [c.rows[i] for i in [*v.related, v.row]]
    assert all(isinstance(r, Note) and r.lane == "c0" for r in marked)
    assert [r.text for r in marked] == [
        "request 0: put x 1", "result 0: ok", "request 1: put x 2", "result 1: ok",
        "request 2: get x", "result 2: 1"]
    drawn = "\n".join(text for text, _ in chart_lines(c, 120))
    assert sum(line.startswith(f"{i + 1:>4}•") for i in v.related
               for line in drawn.splitlines()) == len(v.related)
    assert "the events that prove it: rows" in drawn
    data = page_data(chart_html(c))["violation"]
    assert data["related"] == v.related and data["row"] == v.row


def test_rows_are_numbered_as_the_header_counts_them(paxos_chart):
    """Every row carries its number, 1 to the header's count, with no gaps; the violation
    line names that number (the row with the ✗), and says where the source has it."""
    lines = [t for t, _ in chart_lines(paxos_chart, 100)]
    assert lines[0].endswith(f"{len(paxos_chart.rows)} rows")
    numbers = [int(m.group(1)) for t in lines[2:] if (m := re.match(r"\s*(\d+)[ ✗•]", t))]
    assert numbers == list(range(1, len(paxos_chart.rows) + 1))
    (verdict,) = [t for t in lines if t.startswith("✗ ")]
    row = int(re.search(r"at row (\d+)", verdict).group(1))
    assert lines[1 + row].lstrip().startswith(f"{row}✗")
    step = paxos_chart.rows[row - 1].step
    assert f"(step {step} of the counterexample, as `smrcheck check`" in verdict
    assert "step" not in verdict.split("(")[0]  # one number before the explanation: the row


def test_run_violation_names_its_row_and_trace_line():
    c, _ = chart_from_run([str(SAMPLES / "bad" / "mp-decides-twice.jsonl")])
    text = "\n".join(t for t, _ in chart_lines(c, 200))
    assert f"✗ MP-AGREEMENT at row {c.violation.row + 1} (" in text
    assert re.search(r"at row \d+ \([^)]*mp-decides-twice\.jsonl line \d+\)", text)
    line = int(re.search(r"jsonl line (\d+)", text).group(1))
    with open(SAMPLES / "bad" / "mp-decides-twice.jsonl") as f:
        event = json.loads(f.readlines()[line - 1])
    assert event["kind"] == "decide" and event["node"] == "r0"


def test_row_numbers_past_9999_widen_the_gutter():
    chart = Chart("wide", ["a", "b"], [Note("a", f"n{i}", i) for i in range(12345)])
    lines = [t for t, _ in chart_lines(chart, 60)]
    assert lines[2].startswith("    1  ") and lines[2 + 12344].startswith("12345  ")
    assert lines[2].index("●") == lines[2 + 12344].index("●") > 7  # lanes right of the gutter
    assert all(len(t) <= 60 for t in lines)


def test_legend_lists_only_the_marks_drawn(paxos_chart, tmp_path):
    text = terminal(paxos_chart, 100)
    legend = text[text.index("legend:"):text.index("✗ PAXOS")]
    for mark in ("◇", "●", "╶─▶", "┼", "✗"):
        assert mark in legend, mark
    for mark in ("■", "▲", "↺", "•"):
        assert mark not in legend, mark
    lanes = ["r0", "r1", "r2"]
    c = Chart("crash", lanes, [Note("r1", "crash", 1, "crash"), Note("r1", "restart", 2, "restart"),
                               Arrow("r0", "r0", "PING()", "m1", 3)])
    legend = terminal(c, 80).split("legend:")[1]
    assert "■ crash" in legend and "▲ restart" in legend and "↺" in legend
    assert "●" not in legend and "✗" not in legend and "├─▶" not in legend
    # ┼ is listed only where a lane it reaches is still seen through the arrow.
    for lanes, crossing in ((["r0", "r1", "r2"], False), (["r0", "r1", "r2", "r3"], True)):
        c = Chart("b", lanes, [Arrow(lanes[-1], ALL, "P", "m1", 1)])
        lines = [t for t, _ in chart_lines(c, 60)]
        assert ("┼" in lines[2]) == crossing == ("┼" in "".join(lines[3:])), lanes


def test_long_notes_and_labels_wrap_never_cut():
    """A note longer than its room goes on below its row (lifelines kept), as does a
    label cut on its arrow: every word is drawn, within the width."""
    words = " ".join(f"word{i}" for i in range(40))
    lanes = ["r0", "r1", "r2", "r3"]
    label = "ACCEPT(ballot=12.r0,slot=7,cmd=c3.41,extra=" + "x" * 30 + ")"
    c = Chart("long", lanes, [Note("r1", "decide " + words, 1, "decide"),
                              Arrow("r1", "r2", label, "m1", 2),
                              Note("r3", "execute " + words, 3, "execute")])
    for width in (60, 100):
        lines = [t for t, _ in chart_lines(c, width)]
        assert all(len(t) <= width for t in lines), width
        body = "\n".join(lines[2:next(i for i, t in enumerate(lines) if t.startswith("legend:"))])
        assert all("…" not in t for t in body.splitlines() if "├" not in t)  # but on the arrow
        flat = re.sub(r"[│●\s]+", " ", body)
        assert f"decide {words}" in flat and f"execute {words}" in flat
        assert re.sub(r"\s", "", label) in re.sub(r"[│\s]", "", body)
        numbered = [t for t in lines[2:] if re.match(r"\s*\d+ ", t)]
        assert len(numbered) == 3  # the lines a note goes on to carry no number


def test_html_is_self_contained(paxos_chart):
    html = chart_html(paxos_chart)
    data = page_data(html)
    assert data["lanes"] == ["a1", "a2", "a3"] and data["reach"] == [0, 1, 2]
    assert len(data["rows"]) == len(paxos_chart.rows) == 16
    assert sum(1 for r in data["rows"] if r[0] == 0) == 8
    assert data["violation"]["row"] == paxos_chart.violation.row
    assert data["violation"]["property"] == "PAXOS-AGREEMENT"
    assert "PAXOS-AGREEMENT</b> at row 15 (step 8 of the counterexample" in html
    assert 'id="filter"' in html and 'id="row"' in html
    assert not re.search(r"https?://", html)
    assert "<link" not in html and " src=" not in html


def test_html_rows_decode_to_the_chart(paxos_chart):
    """Each row array names its lanes and strings (html_chart's docstring); a broadcast
    keeps its sender and goes to every lane in `reach`, which the page draws as a dot at
    the sender and a head at each receiver."""
    data = page_data(chart_html(paxos_chart))
    S, lanes = data["strings"], data["lanes"]

    def lane(ref):
        return None if ref == -1 else lanes[ref] if isinstance(ref, int) else ref

    for row, r in zip(paxos_chart.rows, data["rows"]):
        if isinstance(row, Arrow):
            assert r[0] == 0 and lane(r[1]) == row.src and S[r[3]] == row.label
            assert S[r[4]] == row.msg_id and r[5] == row.step
            assert (r[2] == -1) == (row.dst == ALL)
        else:
            assert r[0] == 1 and lane(r[1]) == row.lane and S[r[3]] == row.text
            assert S[r[2]] == row.kind and r[4] == row.step
        assert (len(r) > 6 - r[0]) == bool(row.detail)
    # A broadcast from a1 and one whose sender is not known (a Phase2a's "2a").
    assert [r[1] for r in data["rows"] if r[0] == 0][:3] == [-1, -1, 0]
    template = (ROOT / "checker" / "render" / "chart.html").read_text()
    assert 'class="head"' in template and "xs.forEach" in template


def test_html_strings_are_written_once():
    lanes = ["r0", "r1", "r2"]
    rows = [Arrow("r0", ALL, "PREPARE(v=0,n=1)", f"m{i}", i, f"m{i} to r1, r2; received by r1")
            for i in range(100)]
    rows.append(Note("r1", "x" * 500, 100, "note"))  # never cut: the page wraps it
    data = page_data(chart_html(Chart("t", lanes, rows)))
    assert data["strings"].count("PREPARE(v=0,n=1)") == 1
    assert data["strings"].count("to r1, r2; received by r1") == 1  # less the message id
    assert "x" * 500 in data["strings"]


def test_html_escapes_what_could_end_its_script():
    rows = [Note("r0", "</script><b>&amp;", 1)]
    html = chart_html(Chart("<t>", ["r0"], rows))
    assert html.count("</script>") == 2 and "<b>" not in html
    assert page_data(html)["strings"][1] == "</script><b>&amp;"


def test_html_of_ten_thousand_events_holds_every_row(tmp_path):
    path = tmp_path / "big.jsonl"
    with open(path, "w") as f:
        for ev in pbft_run(f=1, clients=2, requests=250, seed=1):
            f.write(json.dumps(ev) + "\n")
    start = time.perf_counter()
    c, result = chart_from_run([str(path)])
    html = chart_html(c)
    assert time.perf_counter() - start < 30
    assert result.result == "ok" and len(c.rows) > 5000
    assert len(page_data(html)["rows"]) == len(c.rows)


# -- the command ------------------------------------------------------------------------


def test_show_itf_in_the_terminal(paxos_itf, capsys):
    assert main(["show", paxos_itf, "--width", "100"]) == 1  # it shows a violation
    out = capsys.readouterr().out
    assert "a1" in out and "Phase2b(a=a2" in out and "✗ PAXOS-AGREEMENT" in out


def test_show_good_trace_exits_0(capsys):
    assert main(["show", str(SAMPLES / "good" / "multipaxos.jsonl")]) == 0
    assert "PREPARE" in capsys.readouterr().out


def test_show_html_and_check_html(tmp_path, paxos_itf, capsys):
    out = tmp_path / "show.html"
    assert main(["show", str(SAMPLES / "bad" / "mp-decides-twice.jsonl"), "--html", str(out)]) == 1
    html = out.read_text()
    assert "MP-AGREEMENT" in html and len(page_data(html)["lanes"]) == 4
    cex = tmp_path / "check.html"
    assert main(["check", "paxos", "--mutant", "minority-quorums", "--html", str(cex)]) == 1
    assert f"HTML chart written to {cex}" in capsys.readouterr().out
    assert cex.read_text() == chart_html(chart_from_itf(load_itf(paxos_itf)))


@pytest.mark.parametrize("argv", [
    ["paxos", "--mutant", "ignore-1b-values"],
    ["multipaxos", "--mutant", "accept-below-promise", "-p", "slots=1"],
    ["pbft", "-p", "replicas=3", "-p", "f=1"],  # clients and replicas: a sent-set group
])
def test_check_html_is_the_chart_of_its_itf_file(tmp_path, argv):
    """`check --html` charts the result straight from its steps; the page is the one
    `show` draws from the ITF file of the same counterexample."""
    itf, html = tmp_path / "cex.itf.json", tmp_path / "cex.html"
    assert main(["check", *argv, "--itf", str(itf), "--html", str(html), "--json"]) == 1
    assert html.read_text() == chart_html(chart_from_itf(load_itf(str(itf))))


@pytest.mark.parametrize("make", ["missing", "text", "json", "empty-jsonl", "bad-html-dir"])
def test_show_bad_input_exits_2_with_one_line(tmp_path, capsys, make):
    argv = {"missing": [str(tmp_path / "nope.itf.json")]}.get(make)
    if make == "text":
        (tmp_path / "notes.txt").write_text("hello\n")
        argv = [str(tmp_path / "notes.txt")]
    elif make == "json":
        (tmp_path / "x.json").write_text('{"states": 3}\n')
        argv = [str(tmp_path / "x.json")]
    elif make == "empty-jsonl":
        (tmp_path / "e.jsonl").write_text("")
        argv = [str(tmp_path / "e.jsonl")]
    elif make == "bad-html-dir":
        argv = [str(SAMPLES / "good" / "pbft.jsonl"), "--html", str(tmp_path / "no" / "x.html")]
    assert main(["show", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("smrcheck: error: ") and err.count("\n") == 1
    assert "Traceback" not in err


def test_fabricated_recv_is_its_own_highlighted_arrow():
    c, _ = chart_from_run([str(SAMPLES / "bad" / "net-fabricated.jsonl")])
    row = c.rows[c.violation.row]
    assert c.violation.property == "NET-AUTHENTIC"
    assert isinstance(row, Arrow) and (row.src, row.dst) == ("r0", "r1")
    assert "fabricated" in row.detail


def test_crash_and_restart_are_notes(tmp_path):
    events = [
        {"kind": "header", "format": "smrtrace", "version": 1, "protocol": "multipaxos",
         "nodes": ["r0", "r1", "r2"], "f": 1},
        {"kind": "crash", "node": "r1", "seq": 0},
        {"kind": "send", "node": "r0", "seq": 0, "msg_id": "m1", "to": ["r1", "r2"],
         "msg": {"type": "prepare", "ballot": [1, "r0"]}},
        {"kind": "recv", "node": "r2", "seq": 0, "msg_id": "m1", "from": "r0"},
        {"kind": "restart", "node": "r1", "seq": 1},
    ]
    path = tmp_path / "crash.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    c, result = chart_from_run([str(path)])
    assert result.result == "ok" and c.violation is None
    assert [(n.lane, n.kind) for n in c.notes] == [("r1", "crash"), ("r1", "restart")]
    (arrow,) = c.arrows
    assert (arrow.src, arrow.dst, arrow.label) == ("r0", ALL, "PREPARE(ballot=1.r0)")
    assert "received by r2" in arrow.detail
    lines = [t for t, _ in chart_lines(c, 80)]
    assert "■ crash" in lines[2] and "▲ restart" in lines[4]


@pytest.mark.parametrize("doc", [
    {"vars": [], "states": []},
    {"vars": ["x"], "states": [1, 2]},
    {"vars": ["x"], "states": [{"x": {"#bigint": "one"}}]},
    {"vars": ["x"], "states": [{"x": {"#map": [[1]]}}]},
])
def test_malformed_itf_exits_2(tmp_path, capsys, doc):
    path = tmp_path / "bad.itf.json"
    path.write_text(json.dumps(doc))
    assert main(["show", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("smrcheck: error: ") and err.count("\n") == 1


def test_itf_of_another_tool_names_actions_in_a_variable():
    doc = {"vars": ["action_taken", "msgs", "x"], "states": [
        {"action_taken": "init", "msgs": {"#set": []}, "x": {"#map": [["p1", 0], ["p2", 0]]}},
        {"action_taken": "Send(p1)", "msgs": {"#set": [{"src": "p1", "dst": "p2", "type": "ping"}]},
         "x": {"#map": [["p1", 1], ["p2", 0]]}},
    ]}
    c = chart_from_itf(doc)
    assert c.lanes == ["p1", "p2"] and c.violation is None
    assert [(n.lane, n.text) for n in c.notes] == [("p1", "Send(p1)")]
    (a,) = c.arrows
    assert (a.src, a.dst, a.label) == ("p1", "p2", "ping()")


def test_show_agrees_with_validate_on_a_run_only_conformance_rejects(capsys):
    """`show` runs the same pipeline as `validate`: a run whose invariants hold but that
    no model run explains exits 1 in both, with the failing event highlighted."""
    path = str(SAMPLES / "bad" / "mp-unproposed-vote.jsonl")
    c, result = chart_from_run([path])
    assert (result.violations, result.conformance) == ([], "fails")
    assert c.violation is not None and c.violation.property == "CONFORMANCE"
    assert main(["show", path]) == 1 and main(["validate", path]) == 1
