"""Model checks and trace validations as assertions, so a project keeps them in its test
suite beside its unit tests and CI fails when a protocol change breaks an invariant.

    from smrcheck.testing import assert_holds, assert_violates

    def test_twophase_is_safe():
        assert_holds("models/twophase.py:SPEC", rms=3)

    def test_the_mutant_is_caught():
        result = assert_violates("models/twophase.py:SPEC", "TP-CONSISTENT",
                                 mutant="commit-on-one-vote", rms=3)
        assert len(result.violation.trace) - 1 == 4

A model file's path is relative to the working directory, as on the command line (pytest
runs from the project's root); the plugin's TOML files name theirs relative to
themselves. A failed check says what `smrcheck check` would: the property, its message and the
shortest counterexample, a line per step with the action and what it changed, as plain
text, since it ends up in a pytest report, a CI log or a JUnit XML file rather than on a
terminal. A run stopped by a bound proves nothing, so `assert_holds` fails on it too,
naming the bound. A bad reference to a model (no such file, no such name, not a model)
is the loader's one-line `UsageError`, not an assertion: the test is wrong, not the model.

The pytest plugin (`smrcheck.pytest_plugin`) collects `smrcheck*.toml` files through
these same functions, so a check reads and fails the same way in either form.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .checker.errors import SmrcheckError, UsageError
from .checker.report import format_value

if TYPE_CHECKING:
    from .checker.report import CheckResult
    from .checker.search import Options
    from .checker.validate import ValidateResult

__all__ = ["assert_holds", "assert_violates", "assert_trace_valid", "assert_trace_violates",
           "expect_holds", "expect_violation", "run_check", "counterexample_text",
           "describe_run", "CheckFailed"]


R = TypeVar("R")


class CheckFailed(AssertionError):
    """A model check or a validation that did not come out as the test expected. An
    AssertionError, so pytest reports it as a failure; it keeps the result for a
    report that wants more than the message (the plugin's JUnit properties)."""

    def __init__(self, message: str, result: Any = None) -> None:
        super().__init__(message)
        self.result = result


def _one_line_errors(assertion: Callable[..., R]) -> Callable[..., R]:
    """A smrcheck error (a bad reference, parameter or trace; a model that breaks the
    contract) raised without the frames of smrcheck that led to it: in a pytest
    report it reads as the one line the CLI prints, under the test's own line. Any
    other exception, a bug in the model's code, keeps its traceback."""

    @functools.wraps(assertion)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        __tracebackhide__ = True
        try:
            return assertion(*args, **kwargs)
        except SmrcheckError as err:
            raise err.with_traceback(None) from None

    return wrapper


# -- model checks ------------------------------------------------------------------------


@_one_line_errors
def assert_holds(target: Any, *, mutant: str | None = None, options: Options | None = None,
                 max_states: int | None = None, max_depth: int | None = None,
                 **params: Any) -> CheckResult:
    """Check `target` exhaustively and fail unless every property holds.

    `target` is what `smrcheck.check` takes: a model name or `path/file.py:NAME`, a
    `ModelSpec`, or a model object; `params` are its `-p` parameters. `max_states` and
    `max_depth` override the bounds of `options` (default: an exhaustive one-process
    BFS). A run that stops at a bound fails: it proved nothing beyond the bound.
    Returns the `CheckResult` (its statistics, for a test to pin)."""
    __tracebackhide__ = True
    return expect_holds(run_check(target, params, mutant=mutant, options=options,
                                  max_states=max_states, max_depth=max_depth))


@_one_line_errors
def assert_violates(target: Any, property: str | None = None, *, mutant: str | None = None,
                    options: Options | None = None, max_states: int | None = None,
                    max_depth: int | None = None, **params: Any) -> CheckResult:
    """Check `target` and fail unless a property breaks: `property` when named (an id
    the model has), any otherwise. Returns the `CheckResult`, so the test can pin the
    counterexample (`len(result.violation.trace) - 1` steps)."""
    __tracebackhide__ = True
    return expect_violation(run_check(target, params, mutant=mutant, options=options,
                                      max_states=max_states, max_depth=max_depth), property)


def expect_holds(result: CheckResult) -> CheckResult:
    """`result`, or a CheckFailed unless every property held on the whole space."""
    __tracebackhide__ = True
    if result.result == "violation":
        raise CheckFailed(f"{describe_run(result)}: expected every property to hold\n"
                          + counterexample_text(result), result)
    if result.result == "incomplete":
        raise CheckFailed(f"{describe_run(result)}: expected every property to hold, but "
                          f"the run stopped at a bound ({result.bound}) after "
                          f"{result.distinct_states:,} distinct states, before the state "
                          "space was exhausted; raise the bound or shrink the model", result)
    return result


def expect_violation(result: CheckResult, property: str | None = None) -> CheckResult:
    """`result`, or a CheckFailed unless it found a violation (of `property`)."""
    __tracebackhide__ = True
    wanted = f"a violation of {property}" if property else "a violation"
    if property is not None and property not in result.properties:
        # A typo would otherwise read as "the model passes", which sends the reader
        # looking for a bug in the model instead of in the test.
        raise UsageError(f"{describe_run(result)} checks no property {property!r}; it checks: "
                         + (", ".join(result.properties) or "(none)"))
    if result.violation is None:
        if result.result == "incomplete":
            raise CheckFailed(f"{describe_run(result)}: expected {wanted}, but none was found "
                              f"before the run stopped at a bound ({result.bound}) after "
                              f"{result.distinct_states:,} distinct states", result)
        raise CheckFailed(f"{describe_run(result)}: expected {wanted}, but every property "
                          f"holds ({result.distinct_states:,} distinct states)", result)
    if property is not None and result.violation.property != property:
        raise CheckFailed(f"{describe_run(result)}: expected {wanted}, but "
                          f"{result.violation.property} broke first\n"
                          + counterexample_text(result), result)
    return result


def run_check(target: Any, params: Mapping[str, Any] | None = None, *,
              mutant: str | None = None, options: Options | None = None,
              max_states: int | None = None, max_depth: int | None = None,
              symmetry: bool | None = None, workers: int | None = None) -> CheckResult:
    """`smrcheck.check` with the bounds and switches a test states inline folded into
    `options`; the verdict is the caller's to judge. The model's parameters come as a
    mapping, so that one called `workers` or `symmetry` stays the model's."""
    from . import check, load
    from .checker.search import Options

    params = dict(params or {})
    if isinstance(target, os.PathLike):
        target = os.fspath(target)
    if isinstance(target, str):
        target = load(target)
    # Options() leaves symmetry None: `check` then applies the spec's own default.
    options = Options() if options is None else options
    bounds: dict[str, Any] = {}
    if max_states is not None:
        bounds["max_states"] = max_states
    if max_depth is not None:
        bounds["max_depth"] = max_depth
    if bounds:
        options = dataclasses.replace(options, bounds=dataclasses.replace(options.bounds,
                                                                          **bounds))
    if symmetry is not None:
        options = dataclasses.replace(options, symmetry=symmetry)
    if workers is not None:
        options = dataclasses.replace(options, distribution=dataclasses.replace(
            options.distribution, workers=workers))
    return check(target, mutant=mutant, options=options, **params)


def describe_run(result: CheckResult) -> str:
    """The model as the run had it: `Name(p=1, q=2) mutant=m`."""
    params = ", ".join(f"{k}={v}" for k, v in result.params.items())
    return f"{result.model}({params})" + (f" mutant={result.mutant}" if result.mutant else "")


def counterexample_text(result: CheckResult) -> str:
    """The violation of `result` as `smrcheck check` prints it, in plain text: the
    property and its message, then the initial state in full and, for each step, the
    action and what it changed."""
    v = result.violation
    if v is None:
        return "no violation"
    lines = [f"{v.property}: {v.message}"]
    if not v.trace:
        if v.kind == "sometimes":
            lines.append(f"no reachable state satisfies the goal "
                         f"({result.distinct_states:,} distinct states explored)")
        return "\n".join(lines)
    lines.append(f"counterexample, {len(v.trace) - 1} steps:")
    for step in v.trace:
        if step.action is None:
            lines.append("  0. initial state")
            lines += [f"       {name} = {format_value(value)}"
                      for name, value in step.state.items()]
            continue
        lines.append(f"{step.index:>3}. {step.action}")
        lines += [f"       {change}"
                  for change in step.changes or ["(no change: a stuttering step)"]]
    return "\n".join(lines)


# -- trace validation --------------------------------------------------------------------


@_one_line_errors
def assert_trace_valid(paths: str | os.PathLike | Sequence[str | os.PathLike], *,
                       conformance: bool | None = True,
                       max_line_bytes: int | None = None) -> ValidateResult:
    """Validate one run's traces as `smrcheck validate` does (a merged file, a folder of
    per-node files, or several files) and fail unless every invariant holds and, with
    `conformance` (the default here), the model explains every event. `conformance=None`
    checks the model only where it can describe the run, as the command does;
    False checks the invariants alone. Returns the `ValidateResult`."""
    __tracebackhide__ = True
    result = _validate(paths, conformance, max_line_bytes)
    if result.result == "invalid-input":
        raise CheckFailed(f"{_files(result)}: invalid input: {result.error}", result)
    if result.result != "ok":
        raise CheckFailed(f"{_files(result)}: expected a valid run, found "
                          + trace_violations_text(result), result)
    return result


@_one_line_errors
def assert_trace_violates(paths: str | os.PathLike | Sequence[str | os.PathLike],
                          property: str | None = None, *, conformance: bool | None = True,
                          max_line_bytes: int | None = None) -> ValidateResult:
    """The reverse of `assert_trace_valid`: fail unless the run breaks a rule
    (`property` when named; `CONFORMANCE` names the model's). A run that cannot be read
    fails too: a broken file proves no bug."""
    __tracebackhide__ = True
    result = _validate(paths, conformance, max_line_bytes)
    if result.result == "invalid-input":
        raise CheckFailed(f"{_files(result)}: invalid input: {result.error}", result)
    broken = {v.property for v in result.violations}
    if result.conformance_failure is not None:
        broken.add("CONFORMANCE")
    if not broken:
        raise CheckFailed(f"{_files(result)}: expected "
                          f"{'a violation of ' + property if property else 'a violation'}, "
                          "but the run is valid", result)
    if property is not None and property not in broken:
        raise CheckFailed(f"{_files(result)}: expected a violation of {property}, found "
                          + trace_violations_text(result), result)
    return result


def trace_violations_text(result: ValidateResult) -> str:
    """What a validation found, a line per violation: property, file:line, message."""
    found = [f"{v.property} {v.file}:{v.line}: {v.message}" for v in result.violations]
    c = result.conformance_failure
    if c is not None:
        found.append(f"CONFORMANCE {c.file}:{c.line}: no model state explains {c.event} "
                     f"(mapped to {c.mapped_to})")
    head = f"{len(found)} violation{'s' if len(found) != 1 else ''}"
    extra = sum(result.counts.values()) - len(result.violations)
    if extra > 0:
        head += f" (and {extra} more of the same properties, not listed)"
    return head + ":\n" + "\n".join(f"  {line}" for line in found)


def _validate(paths: Any, conformance: bool | None,
              max_line_bytes: int | None) -> ValidateResult:
    from .checker.validate import MAX_LINE_BYTES, validate_run

    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    paths = [os.fspath(p) for p in paths]
    if not paths:
        raise UsageError("no trace given: name a merged file, a folder or several files")
    try:
        return validate_run(paths, conformance=conformance,
                            max_line_bytes=max_line_bytes or MAX_LINE_BYTES)
    except UsageError as err:
        # The pipeline words its advice for the command line; here it is an argument.
        message = str(err).replace("validate with --no-conformance",
                                   "pass conformance=False to check the invariants alone")
        raise UsageError(message) from None


def _files(result: ValidateResult) -> str:
    return ", ".join(result.files) or "the run"
