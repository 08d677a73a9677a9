"""Every sample trace is reported exactly as recorded beside it.

Good runs (both protocols; merged, per-node, clock-skewed, truncated) validate with exit
0. Each bad trace breaks one property or one input rule; its `NAME.expected.json`
names the property, the file and the line (or the input error), and the report must
say exactly that: no fewer violations, and no more.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from smrcheck.checker.cli import main

SAMPLES = pathlib.Path(__file__).resolve().parents[2] / "traces" / "samples"
GOOD = sorted(p for p in (SAMPLES / "good").iterdir())
BAD = sorted((SAMPLES / "bad").glob("*.expected.json"))


def validate_json(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["validate", *argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_good_sample_is_safe(capsys, path):
    code, report = validate_json(capsys, str(path))
    assert (code, report["result"], report["violations"]) == (0, "ok", [])
    assert report["events"] > 50


def test_run_with_more_requests_than_the_model_conforms_in_its_window(capsys):
    # One client with several requests used to leave the pbft model's bounds (one
    # request per client); the window (models/pbft/window.py) follows it now. What
    # still leaves the window is tested in test_conformance_window.py.
    code, report = validate_json(capsys, str(SAMPLES / "good" / "pbft.jsonl"), "--conformance")
    assert (code, report["result"], report["conformance"]) == (0, "ok", "conforms")


@pytest.mark.parametrize("name", ["pbft-three-clients.jsonl", "multipaxos.jsonl",
                                  "multipaxos-skewed-clocks.jsonl"])
def test_run_within_the_models_bounds_conforms(capsys, name):
    code, report = validate_json(capsys, str(SAMPLES / "good" / name), "--conformance")
    assert (code, report["result"], report["conformance"]) == (0, "ok", "conforms")


def test_view_change_sample_changes_view_and_conforms(capsys):
    path = SAMPLES / "good" / "pbft-view-change.jsonl"
    events = [json.loads(line) for line in path.read_text().splitlines()[1:]]
    types = {e["msg"]["type"] for e in events if e["kind"] == "send"}
    assert {"view-change", "new-view"} <= types
    views = {}
    for e in events:
        if e["kind"] == "decide":
            views.setdefault(e["n"], set()).add(e["view"])
    assert {0, 1} in views.values(), "a number committed in view 0 and re-proposed in view 1"
    code, report = validate_json(capsys, str(path), "--conformance")
    assert (code, report["result"], report["conformance"]) == (0, "ok", "conforms")


def test_truncated_final_line_is_reported_and_tolerated(capsys):
    code, report = validate_json(capsys, str(SAMPLES / "good" / "pbft-truncated.jsonl"))
    assert code == 0
    assert len(report["warnings"]) == 1 and "truncated final line" in report["warnings"][0]


def test_at_least_twelve_bad_samples_cover_every_property():
    assert len(BAD) >= 12
    props = set()
    for e in BAD:
        props |= {v["property"] for v in json.loads(e.read_text()).get("violations", [])}
    for ids in ("MP-AGREEMENT MP-VALIDITY MP-LOG-PREFIX MP-AT-MOST-ONCE MP-QUORUM-CERT "
                "MP-PROMISE MP-CLIENT NET-AUTHENTIC PBFT-AGREEMENT PBFT-VALIDITY "
                "PBFT-LOG-PREFIX PBFT-AT-MOST-ONCE PBFT-COMMIT-CERT PBFT-VIEW-MONOTONE "
                "PBFT-CLIENT MP-PROPOSAL MP-PROMISE-REPORT PBFT-PREPARED").split():
        assert ids in props, ids


@pytest.mark.parametrize("expected_path", BAD, ids=lambda p: p.name.removesuffix(".expected.json"))
def test_bad_sample_is_reported_exactly(capsys, expected_path):
    expected = json.loads(expected_path.read_text())
    name = expected_path.name.removesuffix(".expected.json")
    trace = SAMPLES / "bad" / name
    if not trace.is_dir():
        trace = trace.with_suffix(".jsonl")
    code, report = validate_json(capsys, str(trace), *expected.get("args", []))
    assert report["result"] == expected["result"]
    if "conformance" in expected:
        failure = report["conformance_failure"]
        assert report["conformance"] == "fails"
        assert (pathlib.Path(failure["file"]).name, failure["line"]) == (
            expected["conformance"]["file"], expected["conformance"]["line"])
        assert failure["enabled"] and failure["states"], "the report shows where it stood"
    if expected["result"] == "violation":
        assert code == 1
        got = [{"property": v["property"], "file": pathlib.Path(v["file"]).name, "line": v["line"]}
               for v in report["violations"]]
        assert got == expected["violations"]
        assert all(v["message"] for v in report["violations"])
    else:
        assert code == 2
        error = report["error"]
        assert expected["error_contains"] in error
        assert expected["file"] in error
        if expected["line"] is not None:
            assert f"line {expected['line']}:" in error
        assert "\n" not in error and "Traceback" not in error


FORMAT2 = {
    # sample: what its header and messages must show (so that it keeps its shape)
    "multipaxos-roles.jsonl": lambda h, msgs: (
        {r for rs in h["roles"].values() for r in rs} == {"proposer", "acceptor", "learner"}),
    "multipaxos-competing-proposers.jsonl": lambda h, msgs: (
        {m["ballot"][1] for m in msgs if m["type"] == "prepare"} == {"p1", "p2"}
        and all("slot" in m for m in msgs if m["type"] in ("prepare", "promise"))
        and any(m["type"] == "nack" for m in msgs)),
    "multipaxos-explicit-quorums.jsonl": lambda h, msgs: set(h["quorums"]) == {"phase1", "phase2"},
    "multipaxos-7-nodes.jsonl": lambda h, msgs: len(h["nodes"]) == 7,
}


@pytest.mark.parametrize("name", sorted(FORMAT2))
def test_format_2_sample_has_its_shape_and_conforms(capsys, name):
    path = SAMPLES / "good" / name
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    header, msgs = lines[0], [e["msg"] for e in lines[1:] if e["kind"] == "send"]
    assert header["version"] == 2 and FORMAT2[name](header, msgs)
    code, report = validate_json(capsys, str(path), "--conformance")
    assert (code, report["result"], report["conformance"]) == (0, "ok", "conforms"), report
