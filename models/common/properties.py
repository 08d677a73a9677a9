"""A model's properties as data: one named predicate per property, bound per model.

Lamport's Paxos.tla names the conjuncts of its invariant Inv1..Inv4, and MCPaxos.cfg
checks them one by one "to help locate an error". Our `invariants.py` files do the
same: each property is a module-level function of the model's constants and a state,
named after the rule it checks, with a second function that explains a violation.
Most invariants are a named check that lists the broken instances (`split_slots`,
`bad_1b`): `none_of(check)` is then the predicate and the explanation reads the first
instance, so the rule is written once. A table of `PropertySpec`s lists them with
their ids, kinds and descriptions; the table is data, so the registry lists property
ids without building a model, and `bind` turns it into the checker's `Property`s for
one model's constants.

Several properties of one model read the same derived view of a state (its votes,
what is chosen); the explorer checks them one after another on each new state, so
`last_state` computes that view once per state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from ...checker.model import Property, PropertyKind

S = TypeVar("S")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class PropertySpec(Generic[S]):
    """A property before the model's constants are known: `holds(c, s)` and
    `explain(c, s)` take the constants `c` first, as TLA+ operators take CONSTANTS."""

    id: str
    kind: PropertyKind
    description: str
    holds: Callable[[Any, S], bool]
    explain: Callable[[Any, S], str] | None = None


def bind(table: Sequence[PropertySpec[S]], c: Any) -> list[Property[S]]:
    """The properties of one model, in table order, over its constants `c`."""
    # partial, not a lambda: the explorer calls `holds` on every new state, and a
    # partial adds no Python frame to the call.
    return [
        Property(p.id, p.kind, partial(p.holds, c), p.description,
                 None if p.explain is None else partial(p.explain, c))
        for p in table
    ]


def _none(problems: Callable[[Any, S], Sequence[str]], c: Any, s: S) -> bool:
    return not problems(c, s)


def _first(problems: Callable[[Any, S], Sequence[str]], c: Any, s: S) -> str:
    return problems(c, s)[0]


def none_of(problems: Callable[[Any, S], Sequence[str]]) -> Callable[[Any, S], bool]:
    """The predicate "`problems` finds none", for an invariant whose check lists the
    broken instances as sentences (its explanation is then `first_of`)."""
    # A partial of a module-level function, not a closure: a model's properties are
    # pickled to the parallel and Ray workers, and pickle names functions by module.
    return partial(_none, problems)


def first_of(problems: Callable[[Any, S], Sequence[str]]) -> Callable[[Any, S], str]:
    """The explanation of a violation: the first sentence `problems` gives."""
    return partial(_first, problems)


def ids(table: Sequence[PropertySpec[Any]]) -> tuple[str, ...]:
    return tuple(p.id for p in table)


def last_state(fn: Callable[[S], R]) -> Callable[[S], R]:
    """`fn` remembered for the last state it was given (compared by identity)."""
    last: S | None = None
    value: R | None = None

    def memo(s: S) -> R:
        nonlocal last, value
        if s is not last:
            last, value = s, fn(s)
        return value  # type: ignore[return-value]

    return memo
