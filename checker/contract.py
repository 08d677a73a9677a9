"""What the explorer demands of a model's states, checked before a search starts.

The explorer keeps 64-bit fingerprints, `hash(state)`, not states, and compares them
across processes (parallel workers, Ray actors, a resumed checkpoint) and across runs
(the same command gives the same counts and the same counterexample). That holds only
for values whose hash is a function of their value alone: ints, bools, tuples,
frozensets, and frozen dataclasses and named tuples of those. CPython salts the hash
of `str` and `bytes` per process (PYTHONHASHSEED), hashes `None` (before 3.12) and
plain objects by address, and an `Enum` by its name string, so a state holding one of
those gets a different fingerprint in each worker: counts drift and counterexamples
fail to replay, silently. Floats hash by value, but 0.1 + 0.2 != 0.3 makes two
"equal" states distinct, so they are refused too. Mutable containers (`list`, `dict`,
`set`) cannot be hashed at all.

Checking every state would tax the hot loop, so `check_model` walks the initial states
and their successors to a small depth, a bounded sample: a wrong type almost always
shows in the first steps, since actions build every state from the same constructors.
The error names the path to the offending value (`state.rms[2]`), in one line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable
from enum import Enum
from typing import Any

from .errors import InvalidModel
from .model import action_text

# How many states `check_model` looks at, breadth first from the initial states.
# A PBFT state holds hundreds of messages, so a few hundred cost milliseconds.
SAMPLE = 300

_ADVICE = {
    str: "strings hash differently in every process; map names to ints at the edge",
    bytes: "bytes hash differently in every process; use ints",
    type(None): "None hashes by address before Python 3.12; use a sentinel int such as -1",
    float: "floats compare inexactly; use ints (scaled, or ranks)",
    list: "lists are mutable and unhashable; use a tuple",
    dict: "dicts are mutable and unhashable; use a tuple of pairs or a frozen dataclass",
    set: "sets are mutable and unhashable; use a frozenset",
}


def unstable_part(value: Any, path: str = "state") -> str | None:
    """The first part of `value` whose hash is not a function of its value, as
    "PATH is TYPE: why", or None when every part is stable."""
    kind = type(value)
    if kind is int or kind is bool:
        return None
    if isinstance(value, Enum):
        return (f"{path} is the enum {kind.__name__}.{value.name}: enums hash by their "
                "name string, which differs per process; use its int value")
    if kind in _ADVICE:
        return f"{path} is a {kind.__name__} ({value!r:.40}): {_ADVICE[kind]}"
    if isinstance(value, int):  # an IntEnum was caught above; other int subclasses are fine
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        params = getattr(kind, "__dataclass_params__", None)
        if params is None or not params.frozen:
            return (f"{path} is a {kind.__name__}, a dataclass that is not frozen: "
                    "declare it @dataclass(frozen=True)")
        for f in dataclasses.fields(value):
            bad = unstable_part(getattr(value, f.name), f"{path}.{f.name}")
            if bad:
                return bad
        return None
    if isinstance(value, tuple):
        names = getattr(kind, "_fields", None)
        for i, item in enumerate(value):
            bad = unstable_part(item, f"{path}.{names[i]}" if names else f"{path}[{i}]")
            if bad:
                return bad
        return None
    if isinstance(value, frozenset):
        for item in value:
            bad = unstable_part(item, f"{path}{{...}}")
            if bad:
                return bad
        return None
    return (f"{path} is a {kind.__name__}, which hashes by object identity or by rules "
            "smrcheck cannot vouch for; build states from ints, bools, tuples, "
            "frozensets and frozen dataclasses")


# Model classes already sampled in this process: one class builds its states from the
# same constructors for every parameter and mutant, and a test suite checks one model
# hundreds of times (the sample costs up to a quarter second on multipaxos).
_CHECKED: set[type] = set()


def check_model(model: Any, sample: int = SAMPLE) -> None:
    """Raise `InvalidModel` when a state near the initial ones holds a value whose hash
    is not stable across processes. (Actions are not fingerprinted: their names may be
    strings.) Each model class is sampled once per process."""
    if type(model) in _CHECKED:
        return
    _sample(model, sample)
    _CHECKED.add(type(model))


def _sample(model: Any, sample: int) -> None:
    seen: set[int] = set()
    frontier: list[Hashable] = []
    for s in model.init_states():
        _check_state(s, "an initial state", model)
        frontier.append(s)
    looked = 0
    while frontier and looked < sample:
        level: list[Hashable] = []
        for s in frontier:
            for a in model.actions(s):
                if looked >= sample:
                    return
                t = model.next_state(s, a)
                looked += 1
                _check_state(t, f"the state after {action_text(model, a)}", model)
                h = hash(t)
                if h not in seen:
                    seen.add(h)
                    level.append(t)
        frontier = level


def _check_state(s: Any, where: str, model: Any) -> None:
    bad = unstable_part(s)
    if bad:
        raise InvalidModel(f"{bad} (in {where}; model {type(model).__name__})")


