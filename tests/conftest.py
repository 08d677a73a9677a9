"""Test-suite switches.

`slow` marks exhaustive runs of a few seconds to a minute. They run by default, and CI
runs them, so every size the README claims is checked on every change; deselect them
with `-m "not slow"` while iterating. The largest pushed-bound runs (minutes each) run
only with SMRCHECK_SLOW_SIZE=full; `slow_size()` tells a test which size it is in.
"""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def slow_size() -> str:
    """"ci" (the default) or "full"."""
    size = os.environ.get("SMRCHECK_SLOW_SIZE", "ci")
    if size not in ("ci", "full"):
        raise pytest.UsageError(f"SMRCHECK_SLOW_SIZE must be ci or full, got {size!r}")
    return size
