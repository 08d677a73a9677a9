"""`smrcheck linearizable HISTORY`: a client history checked on its own (issue #14).

Exit 0 linearizable, 1 not (with the smallest failing sub-history), 2 input error (one
line naming the file, the line and the field; with --json an `invalid-input` object),
3 undecided within --max-steps. Specs: `kv` (default), `file.py:Class`, `module:Class`.
"""

from __future__ import annotations

import json
import pathlib
import sys

import pytest

from smrcheck.checker.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "linearizability"
COUNTER = f"{EXAMPLES / 'counter.py'}:Counter"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["linearizable", *argv])
    got = capsys.readouterr()
    return code, got.out, got.err


def test_linearizable_history_exits_0(capsys):
    code, out, _ = run(capsys, str(EXAMPLES / "counter-ok.jsonl"), "--spec", COUNTER, "--json")
    report = json.loads(out)
    assert (code, report["result"], report["exit_code"]) == (0, "ok", 0)
    assert (report["property"], report["operations"], report["pending"], report["keys"]) == (
        "COUNTER-LINEARIZABLE", 5, 1, 1)


def test_violation_exits_1_with_the_failing_sub_history(capsys):
    code, out, _ = run(capsys, str(EXAMPLES / "kv-stale-read.jsonl"), "--json")
    report = json.loads(out)
    assert (code, report["result"], report["property"]) == (1, "violation", "KV-LINEARIZABLE")
    v = report["violation"]
    assert v["key"] == "'x'"
    assert [(o["op"], o["output"]) for o in v["operations"]] == [
        ("put 'x' '1'", "?"), ("put 'x' '2'", "?"), ("get 'x'", "'1'")]
    assert all(o["call_ref"].endswith(f"kv-stale-read.jsonl:{line}")
               for o, line in zip(v["operations"], (1, 3, 7)))
    assert "the spec returns '2' there" in v["explanation"]["message"]


def test_text_report_names_operations_intervals_and_why(capsys):
    code, out, _ = run(capsys, str(EXAMPLES / "counter-bad.jsonl"), "--spec", COUNTER)
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("COUNTER-LINEARIZABLE: violation")
    assert "operations (interval [call, return]):" in out
    assert "counter-bad.jsonl:6" in out and "why:" in out


def test_spec_as_module_and_class(capsys, tmp_path, monkeypatch):
    (tmp_path / "my_counter.py").write_text((EXAMPLES / "counter.py").read_text())
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, _ = run(capsys, str(EXAMPLES / "counter-ok.jsonl"), "--spec", "my_counter:Counter")
    assert code == 0 and out.startswith("COUNTER-LINEARIZABLE: ok")
    sys.modules.pop("my_counter", None)


def test_budget_reached_exits_3(capsys):
    code, out, _ = run(capsys, str(EXAMPLES / "counter-ok.jsonl"), "--spec", COUNTER,
                       "--max-steps", "1")
    assert code == 3
    assert out.startswith("COUNTER-LINEARIZABLE: incomplete")
    assert "search budget reached on 1 key(s): the history" in out


@pytest.mark.parametrize("text, line, field", [
    ('{"process": 0, "type": "invoke", "f": "read", "key": "x"}\n{"process": 0, "type": "done"}',
     2, "type"),
    ('{"process": 0, "type": "invoke", "f": "read", "key": "x"}\n{"process": 0, "type": "invoke", '
     '"f": "read", "key": "y"}', 2, "process"),
    ('{"process": 0, "type": "invoke", "f": "fly", "key": "x"}', 1, "f"),
    ('{"process": 0, "type": "invoke", "f": "read", "time": "noon"}', 1, "time"),
])
def test_input_error_exits_2_naming_file_line_and_field(capsys, tmp_path, text, line, field):
    path = tmp_path / "h.jsonl"
    path.write_text(text + "\n")
    code, out, err = run(capsys, str(path))
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{path}:{line}: field '{field}'" in err
    code, out, _ = run(capsys, str(path), "--json")
    report = json.loads(out)
    assert (code, report["result"], report["exit_code"]) == (2, "invalid-input", 2)
    assert f"{path}:{line}:" in report["error"]


def test_not_json_and_missing_file_and_unknown_spec_exit_2(capsys, tmp_path):
    path = tmp_path / "h.jsonl"
    path.write_text('{"process": 0, "type": "invoke", "f": "read"}\n{"process": \n')
    code, _, err = run(capsys, str(path))
    assert code == 2 and f"{path}:2: not a JSON object" in err
    code, _, err = run(capsys, str(tmp_path / "none.jsonl"))
    assert code == 2 and "cannot read the history" in err
    code, _, err = run(capsys, str(path), "--spec", "stack")
    assert code == 2 and "unknown spec 'stack'" in err
