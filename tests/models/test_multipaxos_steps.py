"""MultiPaxos steps one by one: each action's guard lists only actions its effect
knows, an unknown action is an error (never silently another step), and the learner
counts a phase-2 quorum with the one quorum function the model has."""

from __future__ import annotations

import pytest

from smrcheck.models.multipaxos import actions as act
from smrcheck.models.multipaxos.spec import MultiPaxosModel


def reachable(model: MultiPaxosModel, limit: int) -> list:
    seen, frontier = set(), list(model.init_states())
    while frontier and len(seen) < limit:
        s = frontier.pop()
        if s in seen:
            continue
        seen.add(s)
        frontier.extend(model.next_state(s, a) for a in model.actions(s))
    return list(seen)


@pytest.mark.parametrize("params", [
    {}, {"network": "bag"}, {"network": "fifo"}, {"crashes": 1, "recovery": "durable"},
])
def test_every_enabled_action_is_a_known_step(params):
    model = MultiPaxosModel(**params)
    names = set()
    for s in reachable(model, 3000):
        for a in model.actions(s):
            assert a[0] in act.STEPS
            names.add(a[0])
            model.next_state(s, a)
    assert {"Prepare", "Promise", "Lead", "Propose", "Accept"} <= names


def test_an_unknown_action_is_an_error():
    model = MultiPaxosModel(crashes=1, recovery="durable")
    s = model.init_states()[0]
    with pytest.raises(ValueError, match="not a MultiPaxos action: \\('Reboot', 0\\)"):
        model.next_state(s, ("Reboot", 0))


def test_a_phase_2_quorum_is_counted_in_one_place():
    cfg = MultiPaxosModel(replicas=5, quorums="flexible:q1=2,q2=4").cfg
    assert not cfg.chooses({0, 1, 2}) and cfg.chooses({0, 1, 2, 3})
    assert cfg.quorums == tuple(q for q in cfg.quorums if len(q) == 2)
