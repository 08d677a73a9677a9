"""smrcheck's public API: what a model of your own is written against.

    from smrcheck import Model, ModelSpec, Param, always, sometimes

A model is four pure functions over immutable, hashable states (`Model`): its initial
states, the actions enabled in a state, the state an action leads to, and its named
properties, `always` invariants and `sometimes` goals. Optional: `describe(s)` and
`format_action(a)` for how a counterexample reads, `canonical(s)` for symmetry
reduction. A `ModelSpec` adds a name, `-p` parameters and mutants; a plain class whose
constructor takes int or str keyword parameters works without one. Check it with
`smrcheck check path/to/file.py:NAME`, from Python with `smrcheck.check`, or in a
pytest suite with `smrcheck.testing` (docs/writing-a-model.md walks through all
three). Our own models (Paxos, MultiPaxos, PBFT) are written against these same names.

This package is the folder checker/api, installed as the top-level `smrcheck`
(pyproject.toml); the engine itself is `smrcheck.checker`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .checker.errors import InvalidModel, SmrcheckError, UsageError
from .checker.model import (FnMap, Model, ModelSpec, Mutant, Mutants, Param, Property,
                            PropertyKind, Record, TlaSet, always, sometimes)

__version__ = "0.1.0"

__all__ = [
    "Model", "ModelSpec", "Param", "Property", "PropertyKind", "Mutant", "Mutants", "always",
    "sometimes",
    "Record", "FnMap", "TlaSet", "SmrcheckError", "UsageError", "InvalidModel",
    "check", "load", "Options", "Strategy", "Bounds", "Distribution", "Checkpointing",
    "CheckResult",
]


def load(ref: str) -> ModelSpec:
    """The model a name means, as `smrcheck check` reads it: one of ours (`paxos`), an
    installed plugin's, `path/to/file.py:NAME` or `package.module:NAME`."""
    from .checker.loader import load_spec

    return load_spec(ref)


def spec_and_params(target: str | ModelSpec, mutant: str | None,
                    params: dict[str, Any]) -> tuple[ModelSpec, dict[str, Any]]:
    """The spec `target` names and its parameters: its defaults, with `params` (given
    as Python values) checked as `-p NAME=VALUE` would be."""
    spec = target if isinstance(target, ModelSpec) else load(target)
    values = spec.resolve_params([f"{k}={v}" for k, v in params.items()])
    spec.check_mutant(mutant)
    return spec, values


def check(target: Any, *, mutant: str | None = None, options: Any = None,
          **params: Any) -> Any:
    """Explore a model and return its `CheckResult` (`.result` is "ok", "violation" or
    "incomplete"; `.violation.trace` the shortest counterexample, a list of steps). `target` is a name
    as `load` takes it, a `ModelSpec`, or a model object; `params` are its `-p`
    parameters; `options` a `smrcheck.Options` (default: exhaustive BFS, one process,
    symmetry as the spec says)."""
    from .checker.search import Options, check as explore

    if isinstance(target, str | ModelSpec):
        spec, values = spec_and_params(target, mutant, params)
        options = Options() if options is None else options
        if options.symmetry is None:
            options = replace(options, symmetry=spec.symmetry)
        return explore(spec.build(values, mutant), options, name=spec.name, params=values,
                       mutant=mutant)
    if params or mutant:
        raise UsageError("parameters and mutants need a ModelSpec or a model name, not a "
                         "model object")
    return explore(target, Options() if options is None else options,
                   name=type(target).__name__)


def __getattr__(name: str) -> Any:
    # The explorer and its result types load on first use: `import smrcheck` in a model
    # file stays as cheap as the few names it needs.
    if name in ("Options", "Strategy", "Bounds", "Distribution", "Checkpointing"):
        from .checker import search

        return getattr(search, name)
    if name == "CheckResult":
        from .checker.report import CheckResult

        return CheckResult
    raise AttributeError(f"module 'smrcheck' has no attribute {name!r}")
