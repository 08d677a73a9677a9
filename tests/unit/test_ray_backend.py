"""The Ray backend: the same partitioned BFS on a local Ray instance, two actors."""

from __future__ import annotations

import pytest

from smrcheck.checker.search import Bounds, Checkpointing, Distribution, Options, check
from smrcheck.models.paxos.spec import PaxosModel

ray = pytest.importorskip("ray", reason="the ray extra is not installed")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             configure_logging=False, _node_ip_address="127.0.0.1")
    yield
    ray.shutdown()


def test_ray_counts_and_counterexample_match_local(local_ray):
    one = check(PaxosModel(3, 2, 1), Options())
    r = check(PaxosModel(3, 2, 1), Options(distribution=Distribution(2, "ray")))
    assert (r.result, r.distinct_states, r.generated_states, r.depth) == (
        one.result, one.distinct_states, one.generated_states, one.depth)
    local = check(PaxosModel(3, 2, 1, "minority-quorums"), Options(distribution=Distribution(2)))
    remote = check(PaxosModel(3, 2, 1, "minority-quorums"),
                   Options(distribution=Distribution(2, "ray")))
    assert remote.violation.property == "PAXOS-AGREEMENT"
    # Same partitioned algorithm, same fixed rounds: the very same counterexample.
    assert [s.action for s in remote.violation.trace] == [s.action for s in local.violation.trace]


def test_ray_run_checkpointed_resumes_on_local_workers(local_ray, tmp_path):
    one = check(PaxosModel(3, 2, 1), Options())
    first = check(PaxosModel(3, 2, 1), Options(
        bounds=Bounds(max_depth=8), distribution=Distribution(2, "ray"),
        checkpointing=Checkpointing(save_to=str(tmp_path), every=0)))
    assert (first.result, first.bound) == ("incomplete", "max-depth")
    resumed = check(PaxosModel(3, 2, 1), Options(
        distribution=Distribution(3), checkpointing=Checkpointing(resume_from=str(tmp_path))))
    assert (resumed.distinct_states, resumed.generated_states, resumed.depth) == (
        one.distinct_states, one.generated_states, one.depth)


COUNTER = """
from dataclasses import dataclass
from smrcheck import always

@dataclass(frozen=True, slots=True)
class State:
    x: int

class Counter:
    def __init__(self, n: int = 21):
        self.n = n
    def init_states(self):
        return [State(0)]
    def actions(self, s):
        return [("Inc",)] if s.x < self.n else []
    def next_state(self, s, a):
        return State(s.x + 2)
    def properties(self):
        return [always("BOUNDED", lambda s: s.x <= self.n)]
"""


def test_a_user_model_file_runs_on_ray_actors(local_ray, tmp_path):
    """Actors are other processes, where a model file (`check path/model.py:NAME`) is no
    importable module: they load the file before they open the model and its states."""
    import smrcheck

    (tmp_path / "overshoot.py").write_text(COUNTER)
    r = smrcheck.check(f"{tmp_path}/overshoot.py:Counter",
                       options=Options(distribution=Distribution(2, "ray")))
    assert r.violation.property == "BOUNDED" and len(r.violation.trace) == 12
