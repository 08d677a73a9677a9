"""Shared checks for impl/ tests: run the validator on a trace directory."""

from __future__ import annotations

import pytest

from smrcheck.checker.validate import validate_run


def check_traces(path: str, conformance: bool = False):
    """The run's result through the one pipeline `smrcheck validate` runs."""
    return validate_run([path], conformance=conformance)


@pytest.fixture
def validate_dir():
    return check_traces
