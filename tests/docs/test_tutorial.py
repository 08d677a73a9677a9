"""docs/writing-a-model.md cannot rot: its commands run here, and its excerpts are
read from the files they quote.

The page's fenced blocks are of four kinds, by their info string:
- `console`: lines starting `$ ` are commands, run by the shell in the repository root
  with this interpreter's `smrcheck` and `python` first on PATH; a trailing
  `# exit N` is the exit code the page promises (0 when absent). The lines after a
  command are its output as the page shows it: each must match a line of the real
  output (stdout, then stderr), in order, with `...` inside a line standing for any
  text; a line that is only `...` stands for any number of lines, and without one two
  shown lines must be adjacent in the real output too.
- `python FILE`: a verbatim excerpt of FILE.
- `python run`: a script, run in the repository root; `python pytest`: a test file,
  run by pytest there.
- anything else (`toml`, plain `python`) is illustration and is not run.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "writing-a-model.md"
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```\s*$", re.M | re.S)


def blocks(kind: str) -> list[tuple[str, str]]:
    """(info string, body) of every block whose info string starts with `kind`."""
    found = [(m.group(1).strip(), m.group(2)) for m in FENCE.finditer(PAGE.read_text())]
    return [(info, body) for info, body in found if info.split(" ")[0] == kind]


def commands() -> list[tuple[str, int, list[str]]]:
    out = []
    for _, body in blocks("console"):
        for chunk in re.split(r"^(?=\$ )", body, flags=re.M):
            if not chunk.startswith("$ "):
                continue
            first, *shown = chunk.rstrip("\n").split("\n")
            line, _, code = first[2:].partition("# exit ")
            out.append((line.strip(), int(code) if code else 0, shown))
    return out


def env() -> dict[str, str]:
    bin_dir = os.path.dirname(sys.executable)
    return {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
            "COLUMNS": "100"}


def matches(shown: list[str], actual: list[str]) -> str | None:
    """None when `shown` matches `actual` as the module docstring says, else why not."""
    pos, free = 0, True
    for want in shown:
        if want.strip() == "...":
            free = True
            continue
        pattern = re.compile(".*".join(re.escape(p) for p in want.strip().split("...")))
        start = pos
        while pos < len(actual) and not pattern.fullmatch(actual[pos].strip()):
            if not free:
                break
            pos += 1
        if pos >= len(actual) or not pattern.fullmatch(actual[pos].strip()):
            return f"no line matches {want!r} after line {start} of the output"
        pos += 1
        free = False
    return None


def test_the_page_has_what_this_test_runs():
    assert len(commands()) >= 6
    assert len(EXCERPTS) >= 5 and tagged("run") and tagged("pytest")


@pytest.mark.parametrize("command, code, shown", commands(), ids=[c for c, _, _ in commands()])
def test_console_commands(command, code, shown):
    r = subprocess.run(command, shell=True, cwd=ROOT, env=env(), capture_output=True,
                       text=True, timeout=300)
    actual = (r.stdout + r.stderr).splitlines()
    assert r.returncode == code, (r.stdout, r.stderr)
    why = matches(shown, actual)
    assert why is None, why + "\n" + "\n".join(actual)


def tagged(tag: str) -> list[str]:
    return [body for info, body in blocks("python") if info == f"python {tag}"]


EXCERPTS = [(info, body) for info, body in blocks("python")
            if len(info.split()) > 1 and info.split()[1] not in ("run", "pytest")]


@pytest.mark.parametrize("info, body", EXCERPTS,
                         ids=[f"{i.split()[1]}:{b.strip().splitlines()[0][:40]}"
                              for i, b in EXCERPTS])
def test_excerpts_are_verbatim(info, body):
    source = (ROOT / info.split()[1]).read_text()
    assert body in source, f"{info}: excerpt not found verbatim:\n{body}"


@pytest.mark.parametrize("body", tagged("run"))
def test_scripts_run(body):
    r = subprocess.run([sys.executable, "-c", body], cwd=ROOT, env=env(),
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("body", tagged("pytest"))
def test_pytest_blocks_pass(body, tmp_path):
    test_file = tmp_path / "test_from_the_tutorial.py"
    test_file.write_text(textwrap.dedent(body))
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "--rootdir", str(tmp_path), str(test_file)], cwd=ROOT, env=env(),
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "passed" in r.stdout


def test_matching_rules():
    assert matches(["a", "b"], ["a", "b"]) is None
    assert matches(["a", "b"], ["a", "x", "b"]) is not None
    assert matches(["a", "...", "b"], ["a", "x", "b"]) is None
    assert matches(["...", "4 passed in ..."], ["x", "4 passed in 0.5s"]) is None
    assert matches(["5 passed in ..."], ["4 passed in 0.5s"]) is not None
