"""Exact references for tests and audits: slow, whole-state, and obviously right.

Fingerprints and symmetry reduction are claims about the explorer's counts; on small
models these functions give the numbers to hold them against, with no fingerprint, no
store and no batching: `reachable_states` keeps every state whole, and `replays` checks
a printed counterexample against the model, step by step.
"""

from __future__ import annotations

from collections.abc import Hashable

from ..model import Model, action_text, describe_state
from ..report import Step


def reachable_states(model: Model) -> set[Hashable]:
    """Every reachable state, kept whole: the exact set that fingerprints and symmetry
    reduction are checked against on small models. Memory grows with the space."""
    seen = set(model.init_states())
    level = list(seen)
    while level:
        nxt = []
        for s in level:
            for a in model.actions(s):
                t = model.next_state(s, a)
                if t not in seen:
                    seen.add(t)
                    nxt.append(t)
        level = nxt
    return seen


def replays(model: Model, trace: list[Step]) -> bool:
    """Whether a printed counterexample is real: each step is an enabled action of the
    state before it (matched by its printed name) whose successor prints as shown."""
    state = next((s for s in model.init_states() if describe_state(model, s) == trace[0].state), None)
    if state is None:
        return False
    for step in trace[1:]:
        for a in model.actions(state):
            t = model.next_state(state, a)
            if action_text(model, a) == step.action and describe_state(model, t) == step.state:
                state = t
                break
        else:
            return False
    return True
