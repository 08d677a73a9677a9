"""Shared checks for impl/ tests: run the validator on a trace directory."""

from __future__ import annotations

import pytest

from smrcheck.checker.validate import validate
from smrcheck.traces.invariants import monitor_for
from smrcheck.traces.reader import Merger, open_run


def check_traces(path: str):
    run = open_run([path])
    try:
        return validate(Merger(run), monitor_for(run.header), protocol=run.header.protocol,
                        files=run.files)
    finally:
        run.close()


@pytest.fixture
def validate_dir():
    return check_traces
