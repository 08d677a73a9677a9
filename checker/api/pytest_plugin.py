"""The pytest plugin: a project keeps its model checks and trace validations as tests,
written as data, with no Python glue.

pytest collects every file named `smrcheck*.toml` (the `smrcheck_files` ini option
changes the patterns); each `[[check]]` table is one test, each `[[validate]]` table
another:

    [[check]]
    model = "twophase.py:SPEC"          # relative to this file's folder
    params = {rms = 3}

    [[check]]
    model = "twophase.py:SPEC"
    params = {rms = 3}
    mutant = "commit-on-one-vote"
    expect = "violation"                # "ok" (the default) or "violation"
    property = "TP-CONSISTENT"          # the one that must break (optional)

    [[validate]]
    traces = ["runs/nightly/"]
    expect = "ok"

They run through `smrcheck.testing`, so a failure reads as an `assert_holds` failure
does: the property, its message and the shortest counterexample, a line per step. That
text is the report pytest prints and the one `--junitxml` writes, so CI shows the
counterexample where it shows any failed test; each check also records its result and
state count as JUnit properties. The items carry the `smrcheck` marker, so
`-m "not smrcheck"` leaves them out while iterating on unit tests.

pytest loads this module in every run of every project where smrcheck is installed (the
`pytest11` entry point), so it imports nothing at module level beyond what pytest has
loaded already: TOML is parsed when a matching file is collected, and the checker is
loaded when a collected item runs.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

INI_FILES = "smrcheck_files"
DEFAULT_FILES = ["smrcheck*.toml"]

CHECK_KEYS = ("model", "params", "mutant", "expect", "property", "symmetry", "max_states",
              "max_depth", "workers")
VALIDATE_KEYS = ("traces", "expect", "property", "conformance")
EXPECT = ("ok", "violation")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(INI_FILES, type="args", default=DEFAULT_FILES,
                  help="glob patterns of the file names whose [[check]] and [[validate]] "
                       "tables smrcheck collects as tests (default: smrcheck*.toml)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "smrcheck: a model check or trace validation collected "
                                       "from a smrcheck*.toml file")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix != ".toml":
        return None
    patterns = parent.config.getini(INI_FILES)
    if any(fnmatch.fnmatch(file_path.name, p) for p in patterns):
        return SmrcheckFile.from_parent(parent, path=file_path)
    return None


# -- the file format ---------------------------------------------------------------------


class CheckEntry:
    """A `[[check]]` table, read. (Plain classes, not dataclasses, here: building a
    dataclass costs milliseconds at import, and this module loads in every pytest run.)"""

    def __init__(self, where: str, model: str, ref: str, params: dict[str, Any],
                 mutant: str | None, expect: str, property: str | None,
                 options: dict[str, Any]) -> None:
        self.where = where  # "[[check]] 2", for messages
        self.model = model  # as written; `ref` is what the loader gets
        self.ref = ref
        self.params = params
        self.mutant = mutant
        self.expect = expect
        self.property = property
        self.options = options  # symmetry, max_states, max_depth, workers

    def name(self) -> str:
        tags = [f"{k}={v}" for k, v in self.params.items()]
        if self.mutant:
            tags.append(f"mutant={self.mutant}")
        return self.model + (f"[{','.join(tags)}]" if tags else "")


class ValidateEntry:
    """A `[[validate]]` table, read."""

    def __init__(self, where: str, traces: tuple[str, ...], paths: tuple[str, ...],
                 expect: str, property: str | None, conformance: bool) -> None:
        self.where = where
        self.traces = traces  # as written
        self.paths = paths  # resolved against the file's folder
        self.expect = expect
        self.property = property
        self.conformance = conformance

    def name(self) -> str:
        return f"validate[{','.join(self.traces)}]"


class FormatError(Exception):
    """A table that is not a check: its message names the table and the key."""


def parse(data: dict[str, Any], folder: Path) -> Iterator[CheckEntry | ValidateEntry]:
    """The entries of a parsed smrcheck TOML file, or a FormatError for the first bad
    table. Nothing is loaded: a model is imported only when its test runs."""
    unknown = sorted(set(data) - {"check", "validate"})
    if unknown:
        raise FormatError(f"unknown table {unknown[0]!r}; allowed: [[check]], [[validate]]")
    for kind, read in (("check", _check), ("validate", _validate)):
        tables = data.get(kind, [])
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
            raise FormatError(f"{kind!r} must be an array of tables, written [[{kind}]]")
        for i, table in enumerate(tables, 1):
            yield read(table, f"[[{kind}]] {i}", folder)


def _check(t: dict[str, Any], where: str, folder: Path) -> CheckEntry:
    _known(t, CHECK_KEYS, where)
    model = _get(t, "model", str, where, required=True)
    params = _get(t, "params", dict, where) or {}
    for k, v in params.items():
        if isinstance(v, bool) or not isinstance(v, int | str):
            raise FormatError(f"{where}: params.{k} must be an integer or a string; got "
                              f"{_toml_type(v)}")
    expect = _expect(t, where)
    options: dict[str, Any] = {}
    if "symmetry" in t:
        options["symmetry"] = _get(t, "symmetry", bool, where)
    for key in ("max_states", "max_depth", "workers"):
        if key in t:
            options[key] = _positive(t, key, where)
    return CheckEntry(where, model, _model_ref(model, folder), dict(params),
                      _get(t, "mutant", str, where), expect, _property(t, expect, where),
                      options)


def _validate(t: dict[str, Any], where: str, folder: Path) -> ValidateEntry:
    _known(t, VALIDATE_KEYS, where)
    traces = t.get("traces")
    if isinstance(traces, str):
        traces = [traces]
    if not isinstance(traces, list) or not traces or not all(
            isinstance(p, str) and p for p in traces):
        raise FormatError(f"{where}: traces must be a path or a non-empty list of paths"
                          + ("" if "traces" in t else " (it is missing)"))
    if "-" in traces:
        raise FormatError(f"{where}: traces cannot be '-': a test does not read standard "
                          "input; name the files")
    conformance = _get(t, "conformance", bool, where)
    expect = _expect(t, where)
    return ValidateEntry(where, tuple(traces), tuple(str(folder / p) for p in traces),
                         expect, _property(t, expect, where),
                         True if conformance is None else conformance)


def _known(t: dict[str, Any], keys: tuple[str, ...], where: str) -> None:
    for key in t:
        if key not in keys:
            raise FormatError(f"{where}: unknown key {key!r}; allowed: {', '.join(keys)}")


def _get(t: dict[str, Any], key: str, kind: type, where: str, required: bool = False) -> Any:
    if key not in t:
        if required:
            raise FormatError(f"{where}: {key!r} is missing")
        return None
    value = t[key]
    # TOML's booleans are Python bools, which are ints too: a number must not pass as one.
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise FormatError(f"{where}: {key} must be {_WORDS[kind]}; got {_toml_type(value)}")
    if kind is str and not value:
        raise FormatError(f"{where}: {key} must not be empty")
    return value


_WORDS = {str: "a string", bool: "true or false", dict: "a table ({name = value, ...})",
          int: "an integer"}


def _positive(t: dict[str, Any], key: str, where: str) -> int:
    value = _get(t, key, int, where)
    if value < 1:
        raise FormatError(f"{where}: {key} must be at least 1; got {value}")
    return value


def _expect(t: dict[str, Any], where: str) -> str:
    expect = _get(t, "expect", str, where) or "ok"
    if expect not in EXPECT:
        raise FormatError(f"{where}: expect must be one of {', '.join(EXPECT)}; got {expect!r}")
    return expect


def _property(t: dict[str, Any], expect: str, where: str) -> str | None:
    prop = _get(t, "property", str, where)
    if prop is not None and expect != "violation":
        raise FormatError(f"{where}: property names the one that must break; it needs "
                          "expect = \"violation\"")
    return prop


def _toml_type(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a float", str: "a string",
            list: "an array", dict: "a table"}.get(type(value), type(value).__name__)


def _model_ref(model: str, folder: Path) -> str:
    """`model` with a relative file path made relative to the TOML file's folder, so the
    suite passes from any working directory; names of models and modules unchanged."""
    path, sep, name = model.rpartition(":")
    is_file = path.endswith(".py") or "/" in path or os.sep in path
    if sep and path and is_file and not os.path.isabs(path):
        return f"{folder / path}:{name}"
    return model


# -- collection and items ----------------------------------------------------------------


class SmrcheckFile(pytest.File):
    """A `smrcheck*.toml` file: one item per table."""

    def collect(self) -> Iterator[pytest.Item]:
        import tomllib

        try:
            data = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as err:
            raise self.CollectError(f"{self.path}: cannot be read: {err}") from None
        except tomllib.TOMLDecodeError as err:
            raise self.CollectError(f"{self.path}: not valid TOML: {err}") from None
        try:
            entries = list(parse(data, self.path.parent))
        except FormatError as err:
            raise self.CollectError(f"{self.path}: {err}") from None
        seen: dict[str, int] = {}
        for entry in entries:
            name = entry.name()
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:  # the same check twice, with other bounds: both run
                name = (name[:-1] + f",#{seen[name]}]" if name.endswith("]")
                        else f"{name}[#{seen[name]}]")
            cls = CheckItem if isinstance(entry, CheckEntry) else ValidateItem
            yield cls.from_parent(self, name=name, entry=entry)


class _SmrcheckItem(pytest.Item):
    entry: Any

    def __init__(self, *, entry: CheckEntry | ValidateEntry, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.entry = entry
        self.add_marker("smrcheck")

    def runtest(self) -> None:
        from .testing import CheckFailed

        try:
            result = self.run()
        except CheckFailed as failed:
            self.record(failed.result)
            raise
        self.record(result)

    def run(self) -> Any:
        raise NotImplementedError

    def record(self, result: Any) -> None:
        raise NotImplementedError

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> Any:
        """The failure as smrcheck words it, without a traceback into smrcheck: what
        was expected and the counterexample, or the one-line error for a bad model or
        input. A model's own exception keeps pytest's traceback, which ends in the
        model's code."""
        from .checker.errors import SmrcheckError
        from .testing import CheckFailed

        # The verdict first: pytest's summary line and JUnit's message attribute
        # show the first line; the table that asked for it last.
        where = f"({self.entry.where} of {self.path.name})"
        if isinstance(excinfo.value, CheckFailed):
            return f"{excinfo.value}\n{where}"
        if isinstance(excinfo.value, SmrcheckError):
            return f"{type(excinfo.value).__name__}: {excinfo.value}\n{where}"
        # The model's own bug: its frames are the story, the explorer's are noise.
        # Shown from where the explorer called into the model; one raised inside
        # smrcheck itself is our bug, and keeps its whole traceback.
        from . import checker

        engine = os.path.dirname(os.path.abspath(checker.__file__)) + os.sep
        entries = list(excinfo.traceback)
        calls = [i for i, e in enumerate(entries) if str(e.path).startswith(engine)]
        if calls and calls[-1] + 1 < len(entries):
            excinfo.traceback = type(excinfo.traceback)(entries[calls[-1] + 1:])
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        # The headline of a failure. Not the bare name: pytest reads a name's dots
        # as a module path and would print `counter::py:SPEC` in verbose lines.
        return self.path, None, f"{self.entry.where}: {self.name}"


class CheckItem(_SmrcheckItem):
    """A `[[check]]` table: `assert_holds` or `assert_violates`."""

    entry: CheckEntry

    def run(self) -> Any:
        from .testing import expect_holds, expect_violation, run_check

        e = self.entry
        result = run_check(e.ref, e.params, mutant=e.mutant, **e.options)
        if e.expect == "violation":
            return expect_violation(result, e.property)
        return expect_holds(result)

    def record(self, result: Any) -> None:
        if result is None:
            return
        self.user_properties += [("result", result.result),
                                 ("distinct_states", result.distinct_states),
                                 ("depth", result.depth)]
        if result.violation is not None:
            self.user_properties += [("property", result.violation.property),
                                     ("counterexample_steps",
                                      max(len(result.violation.trace) - 1, 0))]
        if result.bound:
            self.user_properties.append(("bound", result.bound))


class ValidateItem(_SmrcheckItem):
    """A `[[validate]]` table: `assert_trace_valid` or `assert_trace_violates`."""

    entry: ValidateEntry

    def run(self) -> Any:
        from .testing import assert_trace_valid, assert_trace_violates

        e = self.entry
        if e.expect == "violation":
            return assert_trace_violates(list(e.paths), e.property, conformance=e.conformance)
        return assert_trace_valid(list(e.paths), conformance=e.conformance)

    def record(self, result: Any) -> None:
        if result is None:
            return
        self.user_properties += [("result", result.result), ("events", result.events)]
        if result.conformance is not None:
            self.user_properties.append(("conformance", result.conformance))
