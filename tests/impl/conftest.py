"""Shared checks for impl/ tests: run the validator on a trace directory."""

from __future__ import annotations

from importlib import import_module

import pytest

from smrcheck.checker.validate import Conformance, validate
from smrcheck.traces.invariants import monitor_for
from smrcheck.traces.reader import Merger, open_run


def check_traces(path: str, conformance: bool = False):
    run = open_run([path])
    try:
        conf = None
        if conformance:
            trace_map = import_module(f"smrcheck.models.{run.header.protocol}.trace_map")
            conf = Conformance(*trace_map.for_header(run.header))
        return validate(Merger(run), monitor_for(run.header), protocol=run.header.protocol,
                        files=run.files, conformance=conf)
    finally:
        run.close()


@pytest.fixture
def validate_dir():
    return check_traces
