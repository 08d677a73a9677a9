"""Hostile and huge input: each is an input error (exit 2) in one line naming the file
and the line, never a traceback or an internal error (exit 4), in bounded memory."""

from __future__ import annotations

import io
import json
import pathlib
import subprocess
import sys

import pytest

from smrcheck.checker.cli import main
from smrcheck.checker.errors import InvalidTrace, UsageError
from smrcheck.traces.reader import Merger, open_run

SAMPLES = pathlib.Path(__file__).resolve().parents[2] / "traces" / "samples"
HEADER = json.dumps({"kind": "header", "format": "smrtrace", "version": 1, "protocol": "multipaxos",
                     "nodes": ["r0", "r1", "r2"], "clients": ["c0"], "f": 1})
NOTE = '{"kind":"note","node":"r0","seq":0}'


def read_all(paths: list[str], **kw) -> int:
    run = open_run(paths, **kw)
    try:
        return sum(1 for _ in Merger(run))
    finally:
        run.close()


def reported(capsys, path: pathlib.Path | str, *args: str) -> str:
    """The CLI's verdict on the file: exit 2 and one line of error, naming file and line."""
    code = main(["validate", str(path), "--json", *args])
    report = json.loads(capsys.readouterr().out)
    assert (code, report["result"]) == (2, "invalid-input"), report
    error = report["error"]
    assert "\n" not in error and "Traceback" not in error
    return error


@pytest.mark.parametrize("data, line, says", [
    ((HEADER + "\n" + NOTE + "\n").encode() + b'{"kind":"note","node":"r0","seq":1,"text":"\xc3("}\n',
     3, "not UTF-8 text (byte 0xc3 at byte 44 of the line)"),
    (b"\xff" + HEADER.encode() + b"\n", 1, "not UTF-8 text (byte 0xff at byte 1"),
    ((HEADER + "\n" + NOTE + "\n").encode() + b"\x80", 3, "not UTF-8 text"),  # final line
    ((HEADER + "\n").encode("utf-16"), 1, "the file is UTF-16; smrtrace is UTF-8"),  # with BOM
    ((HEADER + "\n").encode("utf-16-le"), 1, "the file is UTF-16; smrtrace is UTF-8"),
    ((HEADER + "\n").encode("utf-16-be"), 1, "the file is UTF-16; smrtrace is UTF-8"),
    ((HEADER + "\n").encode("utf-32"), 1, "the file is UTF-32; smrtrace is UTF-8"),
    ((HEADER + "\n").encode() + b'{"kind":"note","node":"r0","seq":0,"x":' + b"[" * 100_000
     + b"]" * 100_000 + b"}\n", 2, "JSON nested too deeply"),
    ((HEADER + "\n").encode() + b"[" * 100_000 + b"\n", 2, "JSON nested too deeply"),
    (b"[" * 100_000 + b"\n", 1, "JSON nested too deeply"),
    (b'{"kind":"header","x":' + b"{\"a\":" * 50_000 + b"1" + b"}" * 50_001 + b"\n", 1,
     "JSON nested too deeply"),
])
def test_bad_bytes_are_an_input_error_naming_the_line(capsys, tmp_path, data, line, says):
    p = tmp_path / "t.jsonl"
    p.write_bytes(data)
    error = reported(capsys, p)
    assert error.startswith(f"{p} line {line}: ") and says in error, error


def test_a_payload_copy_nested_too_deeply_to_compare_is_an_input_error(tmp_path):
    deep = "[" * 900 + "]" * 900  # parses, but comparing it recurses past Python's limit
    send = ('{"kind":"send","node":"r0","seq":0,"msg_id":"m","to":["r1"],'
            f'"msg":{{"type":"heartbeat","x":{deep}}}}}')
    recv = f'{{"kind":"recv","node":"r1","seq":0,"msg_id":"m","from":"r0","msg":{{"type":"heartbeat","x":{deep}}}}}'
    p = tmp_path / "t.jsonl"
    p.write_text("\n".join([HEADER, send, recv]) + "\n")
    try:  # whether Python can compare it depends on the stack depth: either is fine,
        read_all([str(p)])  # a RecursionError (exit 4) is not
    except InvalidTrace as err:
        assert f"{p} line 3: " in str(err) and "nested too deeply" in str(err)


def test_a_utf8_byte_order_mark_is_still_utf8(tmp_path):
    p = tmp_path / "t.jsonl"
    p.write_bytes(b"\xef\xbb\xbf" + (HEADER + "\n" + NOTE + "\n").encode())
    assert read_all([str(p)]) == 1


def test_an_earlier_fault_is_reported_before_a_later_bad_byte(tmp_path):
    p = tmp_path / "t.jsonl"
    p.write_bytes((HEADER + "\n" + '{"kind":"note","node":"r0","seq":"0"}\n').encode() + b"\xff\n")
    with pytest.raises(InvalidTrace, match=r"line 2: field note.seq"):
        read_all([str(p)])


@pytest.mark.parametrize("limit", [128, 300, 5000])
def test_a_line_longer_than_the_limit_is_refused(tmp_path, limit):
    pad = "x" * (limit - len('{"kind":"note","node":"r0","seq":0,"text":""}'))
    at = '{"kind":"note","node":"r0","seq":0,"text":"%s"}' % pad  # exactly `limit` bytes
    over = '{"kind":"note","node":"r0","seq":1,"text":"%sy"}' % pad
    assert len(at) == limit
    p = tmp_path / "t.jsonl"
    header = json.dumps(json.loads(HEADER), separators=(",", ":"))
    if len(header) > limit:
        pytest.skip("the header alone is longer")
    p.write_text(header + "\n" + at + "\n")
    assert read_all([str(p)], max_line_bytes=limit) == 1
    p.write_text(header + "\n" + at + "\n" + over + "\n" + NOTE + "\n")
    with pytest.raises(InvalidTrace) as info:
        read_all([str(p)], max_line_bytes=limit)
    assert str(info.value) == (f"{p} line 3: the line is longer than {limit:,} bytes (the limit, "
                               "--max-line-bytes); not read further")


def test_the_line_limit_holds_across_read_chunks(tmp_path, monkeypatch):
    from smrcheck.traces import reader

    monkeypatch.setattr(reader, "CHUNK", 7)  # every line spans chunks
    p = tmp_path / "t.jsonl"
    long = '{"kind":"note","node":"r0","seq":1,"text":"' + "z" * 300 + '"}'
    p.write_text(HEADER + "\n" + NOTE + "\n" + long + "\n")
    assert read_all([str(p)], max_line_bytes=len(long)) == 2
    with pytest.raises(InvalidTrace, match=f"line 3: the line is longer than {len(long) - 1} bytes"):
        read_all([str(p)], max_line_bytes=len(long) - 1)
    with pytest.raises(InvalidTrace, match="line 1: the line is longer than"):
        read_all([str(p)], max_line_bytes=len(HEADER) - 1)


def test_a_bad_limit_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError):
        open_run([str(SAMPLES / "good" / "multipaxos.jsonl")], max_line_bytes=0)


_ZERO = """
import sys
from smrcheck.checker.validate import validate_run
r = validate_run(["/dev/zero"])
hwm = [int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM")][0]
print(r.result, hwm // 1024)
print(r.error)
"""


@pytest.mark.skipif(not pathlib.Path("/dev/zero").exists() or sys.platform != "linux",
                    reason="needs /dev/zero and /proc")
def test_dev_zero_is_refused_in_bounded_memory():
    """An endless line: refused after max_line_bytes, never read whole."""
    out = subprocess.run([sys.executable, "-c", _ZERO], capture_output=True, text=True,
                         timeout=60, check=True).stdout.splitlines()
    result, peak_mb = out[0].split()
    assert result == "invalid-input"
    assert out[1].startswith("/dev/zero line 1: the line is longer than 4,194,304 bytes")
    assert int(peak_mb) < 100


# -- standard input -----------------------------------------------------------------------

class _Stdin:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


def test_dash_reads_one_merged_trace_from_stdin(monkeypatch):
    data = (SAMPLES / "good" / "multipaxos-skewed-clocks.jsonl").read_bytes()
    monkeypatch.setattr(sys, "stdin", _Stdin(data))
    run = open_run(["-"])
    try:
        assert run.files == ["<stdin>"]
        events = list(Merger(run))
    finally:
        run.close()
    assert len(events) == data.count(b"\n") - 1
    assert events[0]["_loc"][0] == "<stdin>"
    assert not sys.stdin.buffer.closed  # the run does not close standard input


def test_stdin_faults_are_named_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", _Stdin((HEADER + "\n" + '{"kind":"note","node":"r9","seq":0}\n').encode()))
    with pytest.raises(InvalidTrace, match=r"^<stdin> line 2: field node: 'r9'"):
        read_all(["-"])


def test_dash_with_other_paths_is_a_usage_error():
    with pytest.raises(UsageError, match="standard input"):
        open_run(["-", str(SAMPLES / "good" / "multipaxos.jsonl")])


def test_validate_dash_through_a_pipe():
    """`cat run/*.jsonl | smrcheck validate -`: a real pipe, the real entry point."""
    exe = pathlib.Path(sys.executable).with_name("smrcheck")
    if not exe.exists():
        pytest.skip("the smrcheck console script is not installed beside this Python")
    data = (SAMPLES / "good" / "multipaxos.jsonl").read_bytes()
    proc = subprocess.run([str(exe), "validate", "-", "--json", "--no-conformance"], input=data,
                          capture_output=True, timeout=120)
    report = json.loads(proc.stdout)
    assert report["files"] == ["<stdin>"] and report["events"] == data.count(b"\n") - 1, report
    assert proc.returncode == report["exit_code"]


def _verdict(paths):
    from smrcheck.checker.validate import validate_run

    r = validate_run(paths)
    return r.result, r.events, sorted({v.property for v in r.violations}), r.conformance, r.error


@pytest.mark.parametrize("run", ["pbft-per-node"])
def test_concatenated_per_node_files_on_stdin_are_the_run(monkeypatch, run):
    """`cat run/*.jsonl | smrcheck validate -`: each file's header starts its section,
    and the run is the directory's run, whatever order the files are concatenated in
    (a per-node section whose recv waits for a later section's send is read on)."""
    files = sorted((SAMPLES / "good" / run).glob("*.jsonl"))
    expected = _verdict([str(SAMPLES / "good" / run)])
    assert expected[0] == "ok"
    for order in (files, files[::-1]):
        monkeypatch.setattr(sys, "stdin", _Stdin(b"".join(f.read_bytes() for f in order)))
        assert _verdict(["-"])[:4] == expected[:4]


def test_concatenated_file_whose_headers_disagree_is_an_input_error(monkeypatch):
    files = sorted((SAMPLES / "good" / "pbft-per-node").glob("*.jsonl"))
    second = files[1].read_text().replace('"f":1', '"f":0', 1).encode()
    monkeypatch.setattr(sys, "stdin", _Stdin(files[0].read_bytes() + second))
    result = _verdict(["-"])
    assert result[0] == "invalid-input"
    assert "disagrees: f is 0 here but 1" in result[4] and result[4].startswith("<stdin> line ")


def test_a_section_holds_only_its_nodes_events(monkeypatch):
    files = sorted((SAMPLES / "good" / "pbft-per-node").glob("*.jsonl"))
    lines = files[1].read_text().splitlines(keepends=True)
    stray = files[2].read_text().splitlines(keepends=True)[1]  # another node's event
    monkeypatch.setattr(sys, "stdin", _Stdin((files[0].read_text() + lines[0] + stray).encode()))
    result = _verdict(["-"])
    assert result[0] == "invalid-input" and "in the per-node file of" in result[4]


@pytest.mark.parametrize("line", [
    '{"kind":["note"],"node":"r0","seq":1}',
    '{"kind":{"k":"note"},"node":"r0","seq":1}',
    '{"kind":"send","node":"r0","seq":1,"to":["r1"],"msg_id":"m1",'
    '"msg":{"type":["prepare"],"ballot":[1,"r0"]}}',
    '{"kind":"send","node":"r0","seq":1,"to":["r1"],"msg_id":"m1",'
    '"msg":{"type":{"t":"prepare"},"ballot":[1,"r0"]}}',
])
def test_a_kind_or_type_that_is_not_a_string_is_an_input_error(capsys, tmp_path, line):
    """An unhashable kind or message type is a bad field (exit 2), not an internal error."""
    p = tmp_path / "t.jsonl"
    p.write_text(HEADER + "\n" + NOTE + "\n" + line + "\n")
    error = reported(capsys, p)
    assert error.startswith(f"{p} line 3: field ") and "allowed:" in error, error
