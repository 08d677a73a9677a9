"""A verdict never depends on the order of lines in a file.

FORMAT.md: a merged file may interleave the nodes' events in any order, as long as
each node's own events appear in seq order; a run may also come as one file per
node. Every sample run (good and bad), and a legal run of each format-2 shape, is
re-laid here in other orders — random interleavings that keep each node's seq order,
the causal order reversed where it can be, and one file per node — and must get the
same verdict every time: the result, the set of violated properties and the
conformance outcome.
"""

from __future__ import annotations

import json
import pathlib
import random

import pytest

from smrcheck.checker.validate import validate_run

from ..support.orders import by_node, interleave, nodes_reversed

SAMPLES = pathlib.Path(__file__).resolve().parents[2] / "traces" / "samples"


def _runs() -> list[pathlib.Path]:
    """Every sample run that validates to a verdict (input-error samples are about
    one line's form, not about order)."""
    out = []
    for p in sorted((SAMPLES / "good").iterdir()):
        out.append(p)
    for expected in sorted((SAMPLES / "bad").glob("*.expected.json")):
        if json.loads(expected.read_text()).get("result") != "violation":
            continue
        run = expected.with_name(expected.name.replace(".expected.json", ".jsonl"))
        if run.exists():
            out.append(run)
    return out


def read_run(path: pathlib.Path) -> tuple[dict, list[dict]]:
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    header, events = None, []
    for f in files:
        lines = []
        for x in f.read_text().splitlines():
            try:
                lines.append(json.loads(x))
            except ValueError:  # a truncated final line: skipped by the reader too
                pass
        header = header or {k: v for k, v in lines[0].items() if k != "node"}
        events += lines[1:]
    return header, events


def verdict(paths: list[str]) -> tuple:
    r = validate_run(paths)
    return r.result, sorted({v.property for v in r.violations}), r.conformance, r.error


def write_merged(tmp: pathlib.Path, name: str, header: dict, events: list[dict]) -> str:
    p = tmp / name
    p.write_text("".join(json.dumps(x) + "\n" for x in [header, *events]))
    return str(p)


def write_per_node(tmp: pathlib.Path, header: dict, events: list[dict]) -> str:
    d = tmp / "per-node"
    d.mkdir()
    for node, evs in by_node(events).items():
        (d / f"{node}.jsonl").write_text(
            "".join(json.dumps(x) + "\n" for x in [{**header, "node": node}, *evs]))
    return str(d)


@pytest.mark.parametrize("path", _runs(), ids=lambda p: p.name)
def test_sample_verdict_is_the_same_in_every_order(tmp_path, path):
    header, events = read_run(path)
    if any(not isinstance(e.get("seq"), int) for e in events):
        pytest.skip("a sample whose lines are not events")
    expected = verdict([str(path)])
    assert expected[0] in ("ok", "violation"), expected
    rng = random.Random(path.name)
    orders = [interleave(events, rng) for _ in range(3)] + [nodes_reversed(events)]
    for i, evs in enumerate(orders):
        got = verdict([write_merged(tmp_path, f"order{i}.jsonl", header, evs)])
        assert got == expected, f"order {i}"
    assert verdict([write_per_node(tmp_path, header, events)]) == expected


SIM_RUNS = {
    "multipaxos-faults": dict(protocol="multipaxos", faults="drop=0.05,dup=0.05,crash=1"),
    "multipaxos-ignore-promised-values": dict(protocol="multipaxos", faults="drop=0.1,crash=2",
                                              bug="ignore-promised-values"),
    "multipaxos-accept-below-promise": dict(protocol="multipaxos", faults="drop=0.1,crash=1",
                                            bug="accept-below-promise"),
    "pbft-equivocating-primary": dict(protocol="pbft", n=4, byzantine={"r0": "equivocate"}),
    "pbft-committed-with-2f": dict(protocol="pbft", n=4, faults="drop=0.1",
                                   bug="committed-with-2f"),
}


@pytest.mark.parametrize("name", sorted(SIM_RUNS))
def test_simulated_run_verdict_is_the_same_in_every_order(tmp_path, name):
    """Runs of our replicas on the simulated network, with faults, Byzantine replicas
    and injected bugs (violations or not), in other orders."""
    from smrcheck.impl.runtime.faults import FaultSpec
    from smrcheck.impl.simrun import build, run_to_completion

    spec = dict(SIM_RUNS[name])
    faults = FaultSpec.parse(spec.pop("faults", None))
    cluster = build(requests=25, seed=3, faults=faults, trace_dir=str(tmp_path / "run"), **spec)
    try:
        run_to_completion(cluster, max_time=120)
    finally:
        cluster.close()
    expected = verdict([str(tmp_path / "run")])
    assert expected[0] in ("ok", "violation"), expected
    header, events = read_run(tmp_path / "run")
    rng = random.Random(name)
    for i, evs in enumerate([interleave(events, rng), interleave(events, rng),
                             nodes_reversed(events)]):
        assert verdict([write_merged(tmp_path, f"order{i}.jsonl", header, evs)]) == expected, i
