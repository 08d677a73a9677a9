"""Helpers for tests that take a recorded run apart: a copy with one event changed."""

from __future__ import annotations

import json
import shutil


def corrupt(src, dst, node, pick, change):
    """A copy of the run in dst with the first event of `node` that `pick` selects
    changed by `change`; returns the file and line of that event."""
    shutil.copytree(src, dst)
    path = dst / f"{node}.jsonl"
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        ev = json.loads(line)
        if ev["kind"] != "header" and pick(ev):
            change(ev)
            lines[i] = json.dumps(ev, separators=(",", ":"))
            path.write_text("\n".join(lines) + "\n")
            return str(path), i + 1
    raise AssertionError("nothing to corrupt")
