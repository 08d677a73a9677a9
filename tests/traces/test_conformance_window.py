"""Conformance follows runs far beyond the models' bounds (issue 6): the model sees a
window of the run that slides as every replica executes (models/*/window.py).

The runs come from the real replicas on the in-process simulator (impl/simrun), a
few hundred slots or sequence numbers long, with leader crashes (multipaxos) and
view changes (pbft); the old trace maps stopped after 4 slots or 3 numbers."""

from __future__ import annotations

import json
import random

import pytest

from smrcheck.checker.cli import main
from smrcheck.checker.conformance import Conformance
from smrcheck.checker.validate import validate
from smrcheck.impl.simrun import build, run_to_completion
from smrcheck.models.multipaxos import trace_map as mp_map
from smrcheck.models.multipaxos import window as mp_window
from smrcheck.models.multipaxos.spec import MultiPaxosModel
from smrcheck.models.pbft import trace_map as pbft_map
from smrcheck.models.pbft import window as pbft_window
from smrcheck.models.pbft.spec import PbftModel
from smrcheck.models.registry import monitor_for
from smrcheck.traces.reader import Merger, open_run

from ..support.runs import corrupt


def _events(folder, kind=None):
    out = []
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text().splitlines()[1:]:
            ev = json.loads(line)
            if kind is None or ev["kind"] == kind:
                out.append(ev)
    return out


@pytest.fixture(scope="module")
def multipaxos_run(tmp_path_factory):
    """450 slots; the leader r0 crashes at 100 (r2 takes over), r2 at 200, and the
    leader at 300; every crashed replica restarts and catches up."""
    folder = tmp_path_factory.mktemp("mp")
    c = build("multipaxos", n=3, clients=3, requests=150, seed=1, trace_dir=str(folder))
    net = c.net

    def bounce(r, seconds):
        net.crash(r)
        net.run(max_time=net.time + seconds)
        net.restart(r)

    net.run(until=lambda: c.replica("r1").slot_out >= 100)
    bounce("r0", 1.0)
    net.run(until=lambda: c.replica("r1").slot_out >= 200)
    bounce("r2", 0.2)
    net.run(until=lambda: c.replica("r0").slot_out >= 300)
    leader = max((c.replica(r).leader, r) for r in c.replicas if net.up[r])[1]
    bounce(leader, 1.0)
    assert run_to_completion(c)
    c.close()
    return folder


@pytest.fixture(scope="module")
def pbft_run(tmp_path_factory):
    """330 sequence numbers; the primary r0 crashes at 300, so the others change
    view (and change again while r0 stays behind)."""
    folder = tmp_path_factory.mktemp("pbft")
    c = build("pbft", n=4, clients=3, requests=110, seed=1, trace_dir=str(folder))
    net = c.net
    net.run(until=lambda: c.replica("r1").last_exec >= 300)
    net.crash("r0")
    net.run(max_time=net.time + 6.0)
    net.restart("r0")
    assert run_to_completion(c)
    c.close()
    return folder


def validate_json(capsys, *args):
    code = main(["validate", *map(str, args), "--json"])
    return code, json.loads(capsys.readouterr().out)


# -- long runs conform ------------------------------------------------------------------


def test_long_multipaxos_run_with_crashes_and_new_leaders_conforms(multipaxos_run, capsys):
    executed = _events(multipaxos_run, "execute")
    ballots = {tuple(e["msg"]["ballot"]) for e in _events(multipaxos_run, "send")
               if e["msg"]["type"] == "prepare"}
    assert max(e["slot"] for e in executed) >= 400
    assert len(ballots) >= 4 and len(_events(multipaxos_run, "restart")) == 3
    code, report = validate_json(capsys, multipaxos_run)  # conformance is on by default
    assert (code, report["result"], report["conformance"]) == (0, "ok", "conforms"), report


def test_long_pbft_run_with_view_changes_conforms(pbft_run, capsys):
    assert max(e["n"] for e in _events(pbft_run, "execute")) >= 320
    new_views = [e for e in _events(pbft_run, "send") if e["msg"]["type"] == "new-view"]
    assert new_views and len(new_views[0]["msg"]["pre_prepares"]) >= 300
    code, report = validate_json(capsys, pbft_run)
    assert (code, report["result"], report["conformance"]) == (0, "ok", "conforms"), report


def test_no_conformance_switches_it_off(multipaxos_run, capsys):
    code, report = validate_json(capsys, multipaxos_run, "--no-conformance")
    assert (code, report["conformance"]) == (0, None)


# -- corruptions far beyond the old bounds fail, at their line ----------------------------


def _conformance_failure(capsys, folder):
    code, report = validate_json(capsys, folder)
    assert (code, report["result"], report["conformance"]) == (1, "violation", "fails"), report
    failure = report["conformance_failure"]
    return failure["file"], failure["line"], report


def test_multipaxos_vote_for_an_unproposed_value_at_slot_300_fails(multipaxos_run, tmp_path,
                                                                   capsys):
    def vote(ev):
        return ev["kind"] == "send" and ev["msg"]["type"] == "accepted" and ev["msg"]["slot"] == 300

    def unproposed(ev):
        ev["msg"]["cmd"] = {"client": "c0", "req": 99, "op": "get k1"}

    at = corrupt(multipaxos_run, tmp_path / "run", "r2", vote, unproposed)
    assert _conformance_failure(capsys, tmp_path / "run")[:2] == at


def test_multipaxos_execute_out_of_the_chosen_value_at_slot_310_fails(multipaxos_run, tmp_path,
                                                                      capsys):
    def execute(ev):
        return ev["kind"] == "execute" and ev["slot"] == 310

    def other(ev):
        ev["cmd"] = None  # a no-op instead of the chosen command

    at = corrupt(multipaxos_run, tmp_path / "run", "r1", execute, other)
    assert _conformance_failure(capsys, tmp_path / "run")[:2] == at


def test_multipaxos_restarted_replica_catching_up_wrong_below_the_window_fails(
        multipaxos_run, tmp_path, capsys):
    # r0 was down while the others executed far past it: its catch-up executions lie
    # below the window and are checked against what was executed there first.
    restart = next(e["seq"] for e in _events(multipaxos_run, "restart") if e["node"] == "r0")

    def catch_up(ev):
        return ev["kind"] == "execute" and ev["seq"] > restart + 20

    def other(ev):
        ev["cmd"] = None

    at = corrupt(multipaxos_run, tmp_path / "run", "r0", catch_up, other)
    file, line, report = _conformance_failure(capsys, tmp_path / "run")
    assert (file, line) == at
    assert "below the window" in report["conformance_failure"]["mapped_to"]


def test_pbft_commit_of_another_digest_at_300_fails(pbft_run, tmp_path, capsys):
    def commit(ev):
        return ev["kind"] == "send" and ev["msg"]["type"] == "commit" and ev["msg"]["n"] == 300

    def other(ev):
        ev["msg"]["digest"] = "0123456789abcdef"

    at = corrupt(pbft_run, tmp_path / "run", "r2", commit, other)
    assert _conformance_failure(capsys, tmp_path / "run")[:2] == at


def test_pbft_new_view_that_changes_an_executed_number_fails(pbft_run, tmp_path, capsys):
    # NEW-VIEW re-proposes every number from 1 (impl/ takes no checkpoints); number 5
    # was executed long before, so O must give it the digest executed there.
    def new_view(ev):
        return ev["kind"] == "send" and ev["msg"]["type"] == "new-view"

    def swap(ev):
        o = ev["msg"]["pre_prepares"]
        o[4][1], o[5][1] = o[5][1], o[4][1]

    file, line = corrupt(pbft_run, tmp_path / "run", "r1", new_view, swap)
    got_file, got_line, report = _conformance_failure(capsys, tmp_path / "run")
    assert (got_file, got_line) == (file, line)
    assert "executed there" in report["conformance_failure"]["mapped_to"]


# -- what the window cannot hold is unchecked, not blamed ---------------------------------


def test_window_widens_for_many_requests_in_flight(tmp_path, capsys):
    c = build("multipaxos", n=3, clients=3, requests=20, seed=2, window=8,
              trace_dir=str(tmp_path))
    assert run_to_completion(c)
    c.close()
    r, conf = _validated(tmp_path)
    assert r.conformance == "conforms"
    assert conf.model.slots > mp_map.SLOTS and conf.model.commands > mp_map.COMMANDS


def test_pbft_window_widens_for_pipelined_clients_and_follows_an_equivocating_primary(
        tmp_path):
    # r0, the primary, sends half the backups a request's pre-prepare and the others
    # the null request under the same number; its own log is not trusted, so the
    # digests are learnt from the backups' recvs.
    c = build("pbft", n=4, clients=3, requests=40, seed=1, window=4, trace_dir=str(tmp_path),
              byzantine={"r0": "equivocate"})
    assert run_to_completion(c)
    c.close()
    r, conf = _validated(tmp_path)
    assert (r.result, r.conformance) == ("ok", "conforms")
    # 120 requests: the window has slid past most of them (how far exactly at the end
    # depends on the merge order of the last events)
    assert conf.map.base >= 90 and conf.model.setup.max_seq > pbft_map.SEQS


def test_more_slots_in_flight_than_the_widest_window_is_outside_the_model(
        tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(mp_map, "MAX_SLOTS", 16)
    c = build("multipaxos", n=3, clients=3, requests=20, seed=2, window=8,
              trace_dir=str(tmp_path))  # 24 requests at once fill 24 slots
    assert run_to_completion(c)
    c.close()
    code, report = validate_json(capsys, tmp_path)
    assert (code, report["result"], report["conformance"]) == (0, "ok", "outside-model")
    assert "the window holds 16 slots" in report["warnings"][-1]


def test_run_the_model_cannot_describe_is_validated_without_conformance(tmp_path, capsys):
    c = build("multipaxos", n=mp_map.MAX_REPLICAS + 2, clients=1, requests=2, seed=0,
              trace_dir=str(tmp_path))
    assert run_to_completion(c)
    c.close()
    code, report = validate_json(capsys, tmp_path)  # by default: the invariants, and a warning
    assert (code, report["result"], report["conformance"]) == (0, "ok", "outside-model")
    assert "at most 5 replicas" in report["warnings"][-1]
    assert main(["validate", str(tmp_path), "--conformance"]) == 2  # asked for by name
    assert "at most 5 replicas" in capsys.readouterr().err


# -- memory follows the protocol state, not the log ---------------------------------------


def _validated(folder):
    """The validation result of a run's folder, and its Conformance (window and all)."""
    run = open_run([str(folder)])
    try:
        module = mp_map if run.header.protocol == "multipaxos" else pbft_map
        monitor = monitor_for(run.header)
        conf = Conformance(*module.for_header(run.header, monitor))
        r = validate(Merger(run), monitor, protocol=run.header.protocol,
                     files=run.files, conformance=conf)
        return r, conf
    finally:
        run.close()


def _conformance_of(folder):
    return _validated(folder)[1]


def test_multipaxos_window_keeps_only_live_slots_ballots_and_commands(multipaxos_run):
    conf = _conformance_of(multipaxos_run)
    tmap = conf.map
    assert conf.compactions > 40 and tmap.base >= 400
    assert len(tmap.keys) <= mp_map.ROUNDS and len(tmap.names) <= mp_map.COMMANDS
    # the record keeps the slots some replica (r1, down at the end) has yet to execute
    assert len(tmap.record) <= max(tmap.executed) - min(tmap.executed) + mp_map.SLOTS
    for s in conf.frontier:
        assert all(len(log) <= mp_map.SLOTS for log in s.log)
        assert len(s.msgs) <= 4 * mp_map.SLOTS * mp_map.ROUNDS


def test_pbft_window_keeps_only_live_numbers_and_requests(pbft_run):
    conf = _conformance_of(pbft_run)
    tmap = conf.map
    assert tmap.base >= 300 and len(tmap.names) <= pbft_map.REQUESTS
    for s in conf.frontier:
        assert all(len(log) <= pbft_map.SEQS for log in s.executed)
        assert all(m[2] <= pbft_map.SEQS for m in s.msgs if m[0] in (0, 1, 2))


# -- pruning forgets only what no step reads ----------------------------------------------


def _walk(model, steps, seed):
    rng = random.Random(seed)
    s = model.init_states()[0]
    for _ in range(steps):
        yield s
        acts = model.actions(s)
        if not acts:
            return
        s = model.next_state(s, rng.choice(acts))


def test_multipaxos_prune_changes_no_enabled_step():
    model = MultiPaxosModel(replicas=3, slots=4, max_round=4, commands=3, crashes=2,
                            recovery="durable")
    pruned = 0
    for seed in range(20):
        for s in _walk(model, 60, seed):
            t = mp_window.prune(s)
            pruned += len(s.msgs) - len(t.msgs)
            assert model.actions(t) == model.actions(s)
            # and the successors agree but for the pruned messages
            for a in model.actions(s)[:8]:
                assert (mp_window.prune(model.next_state(t, a))
                        == mp_window.prune(model.next_state(s, a)))
    assert pruned > 100  # the walks do reach states with dead messages


def test_pbft_prune_changes_no_enabled_step():
    model = PbftModel(replicas=4, f=1, byzantine="none", requests=2, max_view=3, max_seq=2)
    c = model.setup
    pruned = 0
    for seed in range(10):
        for s in _walk(model, 40, seed):
            t = pbft_window.prune(s, c)
            pruned += len(s.msgs) - len(t.msgs)
            assert model.actions(t) == model.actions(s)
    assert pruned > 0


@pytest.mark.parametrize("seed", range(20))
def test_multipaxos_compaction_by_nothing_is_the_identity(seed):
    model = MultiPaxosModel(replicas=3, slots=4, max_round=4, commands=3, crashes=2,
                            recovery="durable")
    for s in _walk(model, 60, seed):
        t = mp_window.prune(s)
        ballots, values = mp_window.mentioned(t, 0)
        same = mp_window.compact(t, 0, {b: b for b in ballots}, {v: v for v in values}, 4, 4)
        claimed = tuple(w if b in ballots else -1 for b, w in enumerate(t.owner))
        assert same == t._replace(owner=claimed)


# -- late messages below the window -------------------------------------------------------


@pytest.fixture(scope="module")
def synth_multipaxos(tmp_path_factory):
    """tests/support/synth.py's run: acceptors answer every replica, so the third acceptor's
    accepted often comes after every replica executed the slot (a late 2b)."""
    from ..support.synth import multipaxos_run

    path = tmp_path_factory.mktemp("synth") / "mp.jsonl"
    path.write_text("".join(json.dumps(ev) + "\n"
                            for ev in multipaxos_run(clients=3, requests=120, seed=3)))
    return path


def _late_vote_line(path):
    """The line of the first accepted whose slot is below the window when it comes."""
    run = open_run([str(path)])
    try:
        conf = Conformance(*mp_map.for_header(run.header))
        for ev in Merger(run):
            if (ev["kind"] == "send" and ev["msg"]["type"] == "accepted"
                    and ev["msg"]["slot"] < conf.map.base):
                return ev["_loc"][1]
            assert conf.step(ev)
    finally:
        run.close()
    raise AssertionError("no late vote")


def test_late_votes_below_the_window_conform(synth_multipaxos, capsys):
    _late_vote_line(synth_multipaxos)
    code, report = validate_json(capsys, synth_multipaxos)
    assert (code, report["conformance"]) == (0, "conforms"), report


def test_late_vote_for_a_value_never_proposed_fails(synth_multipaxos, tmp_path, capsys):
    line = _late_vote_line(synth_multipaxos)
    lines = synth_multipaxos.read_text().splitlines()
    ev = json.loads(lines[line - 1])
    ev["msg"]["cmd"] = None  # no 2a proposed a no-op there
    lines[line - 1] = json.dumps(ev)
    bad = tmp_path / "mp.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    file, got, report = _conformance_failure(capsys, bad)
    assert (file, got) == (str(bad), line)
    assert "never sent" in report["conformance_failure"]["mapped_to"]


# -- a new leader that lags, and a lossy network --------------------------------------------


def _lagging_leader_run(folder, faults=None):
    """r1 is down while r0 and r2 run 60 slots; it restarts, r0 crashes, and r1 (seed 1)
    becomes the leader: it re-proposes from its own execution point, far below the
    window."""
    from smrcheck.impl.runtime.faults import FaultSpec

    c = build("multipaxos", n=3, clients=3, requests=60, seed=1, window=2,
              trace_dir=str(folder), faults=faults and FaultSpec(**faults))
    net = c.net
    net.run(until=lambda: c.replica("r0").slot_out >= 20)
    net.crash("r1")
    net.run(until=lambda: c.replica("r0").slot_out >= 80)
    net.restart("r1")
    net.run(max_time=net.time + 0.002)
    net.crash("r0")
    net.run(max_time=net.time + 1.5)
    net.restart("r0")
    assert run_to_completion(c)
    c.close()


def _below_window(folder, kind):
    """The (line, slot) of each `kind` send whose slot is below the window then."""
    run = open_run([str(folder)])
    try:
        conf = Conformance(*mp_map.for_header(run.header))
        out = []
        for ev in Merger(run):
            if (ev["kind"] == "send" and ev["msg"]["type"] == kind
                    and ev["msg"]["slot"] < conf.map.base):
                out.append((ev["_loc"][1], ev["msg"]["slot"]))
            assert conf.step(ev), conf.failure
        return out
    finally:
        run.close()


def test_lagging_new_leader_re_proposing_below_the_window_conforms(tmp_path, capsys):
    _lagging_leader_run(tmp_path)
    assert len(_below_window(tmp_path, "accept")) > 30
    code, report = validate_json(capsys, tmp_path)
    assert (code, report["conformance"]) == (0, "conforms"), report


def test_lagging_new_leader_re_proposing_another_value_fails(tmp_path, capsys):
    _lagging_leader_run(tmp_path / "good")
    line, slot = _below_window(tmp_path / "good", "accept")[5]

    def that(ev):
        return ev["seq"] == line - 2  # the header is line 1, seq 0 is line 2

    def noop(ev):
        ev["msg"]["cmd"] = None

    at = corrupt(tmp_path / "good", tmp_path / "bad", "r1", that, noop)
    assert at[1] == line
    file, got, report = _conformance_failure(capsys, tmp_path / "bad")
    assert (file, got) == at and "executed there" in report["conformance_failure"]["mapped_to"]


def test_lossy_duplicating_network_conforms(tmp_path, capsys):
    # retransmitted accepts are accepted again, duplicated prepares promised again
    _lagging_leader_run(tmp_path, {"drop": 0.05, "dup": 0.05, "delay": 0.002})
    code, report = validate_json(capsys, tmp_path)
    assert (code, report["conformance"]) == (0, "conforms"), report


# -- many views ----------------------------------------------------------------------------


def test_pbft_view_change_storm_conforms_as_views_slide(tmp_path, monkeypatch):
    """Crashing two primaries in turn sets off a storm of view changes in impl/ (each
    new primary times out before its NEW-VIEW lands), with replicas joining later
    views directly (§4.5.2). With a window of 2n views the model holds views vbase..
    vbase + 2n - 1 and drops older ones n at a time."""
    monkeypatch.setattr(pbft_map, "VIEWS_PER_REPLICA", 2)
    c = build("pbft", n=4, clients=1, requests=36, seed=1, trace_dir=str(tmp_path))
    net = c.net
    net.run(until=lambda: max(c.replica(r).last_exec for r in c.replicas) >= 10)
    for k in range(2):
        if k:
            net.run(max_steps=8000)
        primary = c.replicas[max(c.replica(r).view for r in c.replicas) % 4]
        net.crash(primary)
        net.run(max_time=net.time + 3.0, max_steps=8000)
        net.restart(primary)
    net.run(max_steps=8000)
    c.close()
    assert min(c.replica(r).view for r in c.replicas) >= 16
    r, conf = _validated(tmp_path)
    assert (r.result, r.conformance) == ("ok", "conforms"), r.conformance_failure
    assert conf.model.setup.max_view == 7 and conf.map.vbase >= 12


def test_compaction_with_a_replica_back_from_below_the_window_fails_cleanly(tmp_path, capsys):
    """Found in review: r1, restarted, caught up from below the base to near the top;
    a new ballot then made the window slide by a negative count, and validation died
    with an IndexError (exit 4) instead of naming the event."""
    rng = random.Random(4)
    folder = tmp_path / "run"
    c = build("multipaxos", n=3, clients=1, requests=80, seed=4, window=1, trace_dir=str(folder))
    net = c.net
    net.run(until=lambda: c.replica("r0").slot_out >= 5)
    victim = rng.choice(["r1", "r2"])
    net.crash(victim)
    net.run(until=lambda: c.replica("r0").slot_out >= 30 + rng.randrange(10))
    net.restart(victim)
    assert run_to_completion(c)
    c.close()

    def lower_prepare(ev):
        seq, node = ev["seq"], ev["node"]
        ev.clear()
        ev.update(kind="send", node=node, seq=seq, msg_id="injected", to=["r0", "r1", "r2"],
                  msg={"type": "prepare", "ballot": [0, "r1"]})

    path, line = corrupt(folder, tmp_path / "bad", "r1", lambda ev: ev["seq"] == 164,
                         lower_prepare)
    assert line == 166
    code, data = validate_json(capsys, tmp_path / "bad")
    assert code == 1 and data["conformance"] == "fails", data
    # The lower prepare itself is legal Paxos (a proposer may pick any ballot above those
    # it used, §2.5; the acceptors just refuse it); the run fails cleanly at the next
    # line, where r1 executes slot 35 without slot 34 (whose execute the prepare replaced).
    assert (data["conformance_failure"]["file"], data["conformance_failure"]["line"]) == (path, 167)


def test_pbft_correct_primary_giving_a_named_digest_another_request_fails(
        pbft_run, tmp_path, capsys):
    """A digest names one request: a correct primary's pre-prepare at 299 that reuses
    the digest of the one at 298 for its own request is reported where it is sent."""
    def pre_prepare(n):
        return lambda ev: (ev["kind"] == "send" and ev["msg"]["type"] == "pre-prepare"
                           and ev["msg"]["n"] == n)

    at298 = {}
    corrupt(pbft_run, tmp_path / "probe", "r0", pre_prepare(298),
            lambda ev: at298.update(digest=ev["msg"]["digest"]))

    def reuse(ev):
        ev["msg"]["digest"] = at298["digest"]

    at = corrupt(pbft_run, tmp_path / "run", "r0", pre_prepare(299), reuse)
    file, line, report = _conformance_failure(capsys, tmp_path / "run")
    assert (file, line) == at
    assert "gives digest" in report["conformance_failure"]["mapped_to"]
