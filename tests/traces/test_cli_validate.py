"""`smrcheck validate`: exit codes, --json fields, --junit, the rich report, no tracebacks."""

from __future__ import annotations

import json
import pathlib
import xml.etree.ElementTree as ET

from smrcheck.checker.cli import main

SAMPLES = pathlib.Path(__file__).resolve().parents[2] / "traces" / "samples"
GOOD = SAMPLES / "good" / "multipaxos.jsonl"
BAD = SAMPLES / "bad" / "mp-agreement.jsonl"


def test_json_has_the_contract_fields(capsys):
    assert main(["validate", str(BAD), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert {"result", "events", "violations"} <= set(report)
    # r1's proposal over the reported value, the vote that chooses a second value, and r2's
    # decision of it
    first, chosen, v = report["violations"]
    assert first["property"] == "MP-PROPOSAL" and chosen["property"] == "MP-AGREEMENT"
    assert first["line"] < chosen["line"] < v["line"]
    assert {"property", "file", "line", "message"} <= set(v)
    assert v["property"] == "MP-AGREEMENT" and v["file"].endswith("mp-agreement.jsonl")
    assert v["related"], "the earlier decision that proves it is named"


def test_rich_report_names_property_file_line_and_explains(capsys):
    assert main(["validate", str(BAD)]) == 1
    out = capsys.readouterr().out
    assert "VIOLATION" in out and "MP-AGREEMENT at" in out and "line 37" in out
    assert "two values chosen in one slot" in out


def test_ok_report(capsys):
    assert main(["validate", str(GOOD)]) == 0
    assert "OK" in capsys.readouterr().out


def test_junit_one_testcase_per_property(tmp_path, capsys):
    junit = tmp_path / "report.xml"
    assert main(["validate", str(BAD), "--junit", str(junit)]) == 1
    suite = ET.parse(junit).getroot().find("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert "MP-VALIDITY" in cases and "MP-AGREEMENT" in cases
    assert cases["MP-AGREEMENT"].find("failure") is not None
    assert cases["MP-VALIDITY"].find("failure") is None
    # conformance runs by default: no model run explains the second value either
    assert cases["CONFORMANCE"].find("failure") is not None
    assert cases["MP-PROPOSAL"].find("failure") is not None
    assert suite.get("failures") == "3"


def test_junit_on_invalid_input_has_an_error_case(tmp_path, capsys):
    junit = tmp_path / "report.xml"
    assert main(["validate", str(SAMPLES / "bad" / "bad-json.jsonl"), "--junit", str(junit)]) == 2
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("errors") == "1"


def test_invalid_input_is_one_line_on_stderr_exit_2(capsys):
    assert main(["validate", str(SAMPLES / "bad" / "duplicate-seq.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "line 6" in err and "Traceback" not in err


def test_usage_errors(capsys, tmp_path):
    assert main(["validate"]) == 2
    assert main(["validate", str(tmp_path / "missing.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["validate", str(GOOD), "--junit", str(tmp_path / "no" / "x.xml")]) == 2
    empty = tmp_path / "d"
    empty.mkdir()
    assert main(["validate", str(empty)]) == 2
    assert "holds no *.jsonl" in capsys.readouterr().err


def test_conformance_failure_report_shows_states_and_enabled_actions(capsys, tmp_path):
    trace = SAMPLES / "bad" / "pbft-unprepared-commit.jsonl"
    junit = tmp_path / "j.xml"
    assert main(["validate", str(trace), "--conformance", "--junit", str(junit)]) == 1
    out = capsys.readouterr().out
    assert "CONFORMANCE at" in out and "candidate state" in out and "enabled:" in out
    assert "COMMIT" in out
    suite = ET.parse(junit).getroot().find("testsuite")
    case = next(c for c in suite.findall("testcase") if c.get("name") == "CONFORMANCE")
    assert case.find("failure") is not None


def test_a_long_conformance_failure_is_clipped_on_the_terminal():
    """A window of a long run holds hundreds of requests; the report stays readable."""
    import io

    from rich.console import Console

    from smrcheck.checker import render
    from smrcheck.checker.validate import ConformanceFailure, ValidateResult

    failure = ConformanceFailure("r0.jsonl", 4551, "{}", "PRE-PREPARE " + "x" * 5000,
                                 [{"executed": "y" * 50_000}],
                                 [[f"action {k}" for k in range(100)]], 1)
    r = ValidateResult("pbft", ["r0.jsonl"], "violation", 1, 0.1, [], [],
                       conformance="fails", conformance_failure=failure)
    buf = io.StringIO()
    render.validate_result(r, Console(file=buf, width=2000))
    out = buf.getvalue()
    assert len(out) < 4000
    assert "5,012 characters in all" in out and "50,009 characters in all" in out
    assert "action 11," in out and "action 12," not in out and "and 88 more" in out
    assert r.to_json()["conformance_failure"]["enabled"][0][-1] == "action 99"
