"""The contract between a protocol model and the explorer.

A model is four pure functions over immutable, hashable states (Stateright's `Model`
trait, TLA+'s Init/Next): initial states, the enabled actions of a state in a
deterministic order, the successor of a state under an action, and the named
properties to check. The explorer stores only 64-bit fingerprints of states, so a
state's hash must be stable across processes: states are built from small ints,
tuples, frozensets and named tuples, never from `str`, `None`, enums or floats, whose
hashes CPython salts per process or derives from addresses.

A `ModelSpec` describes a model to the CLI: its parameters with defaults and ranges,
its mutants (named variants that break one rule of the protocol) and a builder.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Any, Generic, Literal, Protocol, TypeVar

from .errors import UsageError

S = TypeVar("S", bound=Hashable)
R = TypeVar("R")
A = TypeVar("A", bound=tuple)

PropertyKind = Literal["always", "sometimes"]


@dataclass(frozen=True, slots=True)
class Property(Generic[S]):
    """A named predicate over states with a stable id (`PAXOS-AGREEMENT`).

    `always` properties are invariants: `holds(s)` must be true in every reachable
    state. `sometimes` properties are reachability goals: `holds(s)` must be true in
    at least one reachable state, which proves the model is not vacuous. `explain(s)`
    says, for a state where an invariant fails, which ballot, slot and nodes are
    involved; it runs only off the hot path.
    """

    id: str
    kind: PropertyKind
    holds: Callable[[S], bool]
    description: str
    explain: Callable[[S], str] | None = None

    def message(self, state: S) -> str:
        if self.explain is not None:
            return self.explain(state)
        return self.description


def always(id: str, holds: Callable[[S], bool], description: str = "",
           explain: Callable[[S], str] | None = None) -> Property[S]:
    """An invariant: `holds(s)` is true in every reachable state."""
    return Property(id, "always", holds, description or id, explain)


def sometimes(id: str, holds: Callable[[S], bool], description: str = "",
              explain: Callable[[S], str] | None = None) -> Property[S]:
    """A goal: `holds(s)` is true in some reachable state. An exhaustive run that never
    reaches it is a violation, so a model where nothing can happen does not pass."""
    return Property(id, "sometimes", holds, description or id, explain)


class Model(Protocol[S, A]):
    """What the explorer needs of a protocol; it knows nothing else about it.

    `describe` and `format_action` are optional: without them a state is shown field
    by field (`describe_state`) and an action as `Name(arg, ...)` (`action_text`).
    An optional `canonical(s)` returns one representative of the states equal to `s`
    up to a permutation of interchangeable nodes or values; `check --symmetry` then
    counts each orbit once.
    """

    def init_states(self) -> Iterable[S]: ...

    def actions(self, s: S) -> Iterable[A]: ...

    def next_state(self, s: S, a: A) -> S: ...

    def properties(self) -> Sequence[Property[S]]: ...

    # Presentation, used off the hot path to print and export counterexamples.
    def describe(self, s: S) -> dict[str, Any]: ...

    def format_action(self, a: A) -> str: ...


# Value vocabulary of `Model.describe`: plain ints, strs and bools, tuples (TLA+
# sequences), `Record`s (TLA+ records), `FnMap`s (TLA+ functions) and `TlaSet`s. The
# distinction matters for the ITF writer, which tags each kind differently.
class Record(dict):
    """A TLA+ record: string field names to values."""


class FnMap(dict):
    """A TLA+ function, e.g. maxBal: [Acceptor -> Ballot]."""


class TlaSet(tuple):
    """A TLA+ set, its elements in a canonical (sorted) order."""


def describe_state(model: Any, s: Any) -> Any:
    """The model's `describe(s)`, or the state's own fields when it has none."""
    describe = getattr(model, "describe", None)
    return describe(s) if describe is not None else plain(s)


def plain(value: Any) -> Any:
    """A state in the `describe` vocabulary: a frozen dataclass or a named tuple is a
    record of its fields, a frozenset a set, a tuple a sequence."""
    if is_dataclass(value) and not isinstance(value, type):
        return Record({f.name: plain(getattr(value, f.name)) for f in fields(value)})
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return Record({k: plain(v) for k, v in zip(value._fields, value)})
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    if isinstance(value, frozenset):
        return TlaSet(sorted((plain(v) for v in value), key=repr))
    return value


def action_text(model: Any, a: Any) -> str:
    """The model's `format_action(a)`, or `Name(arg, ...)` for a tuple action whose
    first item names the step."""
    fmt = getattr(model, "format_action", None)
    if fmt is not None:
        return fmt(a)
    if isinstance(a, tuple) and a and isinstance(a[0], str):
        return f"{a[0]}({', '.join(map(str, a[1:]))})"
    return str(a)


@dataclass(frozen=True, slots=True)
class Param:
    """A model parameter the user sets with `-p NAME=VALUE`."""

    name: str
    default: int | str
    help: str
    # Allowed values: an inclusive int range, a tuple of strings, or free text that the
    # model's builder validates (e.g. a quorum system, which depends on other params).
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] | None = None
    text: str | None = None  # for free text: what is allowed, in words

    def parse(self, raw: str) -> int | str:
        if self.text is not None:
            return raw
        if self.choices is not None:
            if raw not in self.choices:
                raise UsageError(
                    f"parameter {self.name} must be one of {', '.join(self.choices)}; "
                    f"got {raw!r}"
                )
            return raw
        try:
            value = int(raw)
        except ValueError:
            raise UsageError(
                f"parameter {self.name} must be {self._int_words()}; got {raw!r}"
            ) from None
        if (self.minimum is not None and value < self.minimum) or (
            self.maximum is not None and value > self.maximum
        ):
            raise UsageError(
                f"parameter {self.name} must be {self._int_words()}; got {value}"
            )
        return value

    def _int_words(self) -> str:
        allowed = self.allowed()
        if allowed == "any integer":
            return "an integer"
        return allowed if allowed.startswith("an ") else f"an integer in {allowed}"

    def allowed(self) -> str:
        if self.text is not None:
            return self.text
        if self.choices is not None:
            return ", ".join(self.choices)
        if self.minimum is None and self.maximum is None:
            return "any integer"
        if self.maximum is None:
            return f"an integer >= {self.minimum}"
        if self.minimum is None:
            return f"an integer <= {self.maximum}"
        return f"{self.minimum}..{self.maximum}"


@dataclass(frozen=True, slots=True)
class Mutant:
    """A named variant of a model that breaks one rule of the protocol."""

    name: str
    breaks: str  # the rule it breaks, in a sentence
    # The smallest parameters that expose it, where the defaults cannot: a bug that
    # needs a third ballot or a restart passes a default run as OK.
    exposed_by: tuple[tuple[str, Any], ...] = ()

    def short_of(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The declared parameters that `params` falls short of: a number below the one
        declared (more rounds, slots or crashes only add behaviours), any other value
        different from it."""
        short = {}
        for name, want in self.exposed_by:
            have = params.get(name)
            if isinstance(want, int) and isinstance(have, int):
                if have < want:
                    short[name] = want
            elif have != want:
                short[name] = want
        return short


class Mutants(Generic[R]):
    """A model's mutants: each is the correct rules (a frozen dataclass of switches that
    the actions consult) with some switches flipped, so the correct model and every
    mutant run the same code."""

    def __init__(self, correct: R) -> None:
        self.correct = correct
        self._table: dict[str, tuple[R, Mutant]] = {}

    def add(self, name: str, breaks: str, *, exposed_by: Mapping[str, Any] | None = None,
            **flip: object) -> None:
        info = Mutant(name, breaks, tuple((exposed_by or {}).items()))
        self._table[name] = (replace(self.correct, **flip), info)

    def rules_for(self, mutant: str | None) -> R:
        return self.correct if mutant is None else self._table[mutant][0]

    def infos(self) -> tuple[Mutant, ...]:
        return tuple(m for _, m in self._table.values())

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)


@dataclass(frozen=True)
class ModelSpec:
    """A model as the CLI lists and builds it."""

    name: str
    summary: str
    params: tuple[Param, ...]
    mutants: tuple[Mutant, ...]
    build: Callable[[Mapping[str, Any], str | None], Model]
    property_ids: tuple[str, ...] = field(default=())
    notes: str = ""
    # Which failure models the protocol survives, and with how many replicas, in a
    # sentence (`smrcheck models` shows it; JSON key "tolerates").
    tolerates: str = ""
    # Whether `check` reduces by the model's `canonical` unless told (--symmetry /
    # --no-symmetry): TLC applies a symmetry set only where the model's cfg names one,
    # so a model whose counts are compared with TLC's plain run says False.
    symmetry: bool = True

    def resolve_params(self, assignments: Sequence[str]) -> dict[str, Any]:
        """Defaults overridden by `NAME=VALUE` strings; bad input is a UsageError."""
        by_name = {p.name: p for p in self.params}
        values: dict[str, Any] = {p.name: p.default for p in self.params}
        for text in assignments:
            name, sep, raw = text.partition("=")
            name = name.strip()
            if not sep:
                raise UsageError(f"-p takes NAME=VALUE; got {text!r}")
            if name not in by_name:
                allowed = ", ".join(by_name) or "(none)"
                raise UsageError(
                    f"unknown parameter {name!r} for model {self.name}; allowed: {allowed}"
                )
            values[name] = by_name[name].parse(raw.strip())
        return values

    def mutant_warnings(self, mutant: str | None, params: Mapping[str, Any]) -> list[str]:
        """A warning when `params` cannot expose `mutant`, naming the parameters that do."""
        info = next((m for m in self.mutants if m.name == mutant), None)
        if info is None or not info.short_of(params):
            return []
        smallest = " ".join(f"-p {k}={v}" for k, v in info.exposed_by)
        return [f"these parameters cannot expose mutant {mutant} (a run passes it as OK); "
                f"the smallest that do: {smallest}"]

    def check_mutant(self, mutant: str | None) -> None:
        if mutant is None:
            return
        names = [m.name for m in self.mutants]
        if mutant not in names:
            raise UsageError(
                f"unknown mutant {mutant!r} for model {self.name}; allowed: "
                + (", ".join(names) or "(none)")
            )
