"""examples/linearizability: a user's own spec (a counter in a dozen lines) checked on
history files, and the key-value example, with the verdicts and reports its README
shows."""

from __future__ import annotations

from pathlib import Path

from smrcheck.traces.history import check_history_file, load_spec, render_text

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "linearizability"
COUNTER = f"{EXAMPLE / 'counter.py'}:Counter"


def test_counter_spec_is_a_dozen_lines():
    source = (EXAMPLE / "counter.py").read_text().split('"""', 2)[2]
    code = [line for line in source.splitlines()
            if line.strip() and not line.strip().startswith(("#", "from", "import"))]
    assert len(code) <= 14, code


def test_counter_history_ok():
    result = check_history_file(EXAMPLE / "counter-ok.jsonl", COUNTER)
    assert result.ok and result.property == "COUNTER-LINEARIZABLE"
    assert (result.operations, result.pending) == (5, 1)


def test_counter_history_bad_and_its_report():
    result = check_history_file(EXAMPLE / "counter-bad.jsonl", COUNTER)
    assert result.result == "violation"
    v = result.violation
    assert [o.op for o in v.operations] == ["add(1)", "add(2)", "read()", "read()"]
    assert [o.open for o in v.operations] == [False, True, False, False]
    assert v.explanation.state == "3" and v.explanation.blocked == "2@6"
    text = render_text(result)
    readme = (EXAMPLE / "README.md").read_text()
    for line in text.splitlines():  # the README shows this very report
        assert line.replace(str(EXAMPLE), "examples/linearizability") in readme, line


def test_kv_stale_read_example():
    result = check_history_file(EXAMPLE / "kv-stale-read.jsonl", "kv")
    assert result.result == "violation" and result.property == "KV-LINEARIZABLE"
    assert (result.keys, result.pending, result.failing_keys) == (2, 1, ["'x'"])
    assert [o.op for o in result.violation.operations] == ["put 'x' '1'", "put 'x' '2'",
                                                           "get 'x'"]


def test_spec_loads_by_module_path_too():
    spec = load_spec(COUNTER)
    assert spec.init() == 0 and spec.apply(3, ("add", 2)) == (None, 5)
