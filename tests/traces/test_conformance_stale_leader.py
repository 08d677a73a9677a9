"""A deposed leader's 2as below the window (models/multipaxos/trace_map.py, `_below`).

r1 takes over from r0, which is cut off from both other replicas and does not know;
the clients write through r1 (the window passes slot 2000), then reach only r0, which
goes on proposing in its old, lower ballot from its own next slot, far below the
window. Paxos allows that (acceptors that promised r1's ballot ignore those 2as; a
value chosen in a higher ballot cannot change), so the run conforms; the map once
took each such 2a for a lagging new leader's re-proposal and asked it to carry what
was executed there. Two different 2as in one ballot and one slot still fail.
"""

from __future__ import annotations

import json

import pytest

from smrcheck.checker.conformance import Conformance
from smrcheck.checker.validate import validate_run
from smrcheck.impl.simrun import build
from smrcheck.models.multipaxos import trace_map as mp_map
from smrcheck.traces.reader import Merger, open_run

from ..impl.test_bugs_clients import deposed_leader_asked  # the same schedule, no bug
from ..support.runs import corrupt





def _report(result):
    out = result.to_json()
    return json.loads(out) if isinstance(out, str) else out


@pytest.fixture(scope="module")
def deposed_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("deposed")
    c = build("multipaxos", n=3, clients=2, requests=2000, seed=1, window=4,
              trace_dir=str(folder))
    deposed_leader_asked(c)
    c.close()
    return folder


def _stale_accepts(folder):
    """(line, slot, ballot) of each 2a r0 sends in a slot below the window then."""
    run = open_run([str(folder)])
    try:
        conf = Conformance(*mp_map.for_header(run.header))
        out = []
        for ev in Merger(run):
            if (ev["kind"] == "send" and ev["node"] == "r0" and ev["msg"]["type"] == "accept"
                    and ev["msg"]["slot"] < conf.map.base):
                out.append((ev["_loc"][1], ev["msg"]["slot"], ev["msg"]["ballot"]))
            assert conf.step(ev), conf.failure
        return out
    finally:
        run.close()


def test_deposed_leader_proposing_below_the_window_conforms(deposed_run):
    stale = _stale_accepts(deposed_run)
    assert len(stale) > 10 and {tuple(b) for _, _, b in stale} == {(1, "r0")}
    report = _report(validate_run([str(deposed_run)], conformance=True))
    assert (report["exit_code"], report["conformance"]) == (0, "conforms"), report


def test_deposed_leader_proposing_twice_in_one_slot_fails(deposed_run, tmp_path):
    (_, slot, _), (line, _, _) = _stale_accepts(deposed_run)[:2]

    def that(ev):
        return ev["seq"] == line - 2  # the header is line 1, seq 0 is line 2

    def same_slot(ev):  # a second, different 2a in r0's ballot at the first one's slot
        ev["msg"]["slot"] = slot

    at = corrupt(deposed_run, tmp_path / "bad", "r0", that, same_slot)
    report = _report(validate_run([str(tmp_path / "bad")], conformance=True))
    assert (report["exit_code"], report["conformance"]) == (1, "fails"), report
    failure = report["conformance_failure"]
    assert (failure["file"], failure["line"]) == at, failure
    assert "proposed" in failure["mapped_to"], failure
