"""The pytest plugin (issue #16): a project's smrcheck*.toml files are collected as
tests, a failing check reports its counterexample in the terminal and in JUnit XML, and
a malformed file is a collection error that names the file and the key.

Each test builds a small project with `pytester` (a toy model beside a TOML file) and
runs pytest on it in-process; the plugin comes in through its `pytest11` entry point,
as it does in a user's project.
"""

from __future__ import annotations

import pathlib
import shutil
import xml.etree.ElementTree as ET
from importlib.metadata import entry_points

import pytest

# Loaded here, once: an in-process pytester run forgets the modules first imported
# inside it, and numpy (which the explorer loads) cannot be imported twice in a process.
import smrcheck.checker.search  # noqa: F401
import smrcheck.checker.validate  # noqa: F401

from ..support.toy_models import MUTEX

pytest_plugins = ["pytester"]
# Each inner run: no cache folder, and no hypothesis plugin, whose end-of-run summary
# imports hypothesis again in every run (seconds each).
QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")

ROOT = pathlib.Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "traces" / "samples"


COUNTEREXAMPLE = ["counterexample, 2 steps:", "  1. Enter(0)",
                  "       pc: <<0, 0>> -> <<1, 0>>", "  2. Enter(1)",
                  "       pc: <<1, 0>> -> <<1, 1>>", "       lock: 0 -> 1"]


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A project with the mutex model in checks/, where its TOML files go too, so that
    a relative model path must resolve against the TOML file, not the working folder."""
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    (pytester.path / "checks").mkdir()
    (pytester.path / "checks" / "mutex.py").write_text(MUTEX, encoding="utf-8")
    return pytester


def write_checks(project: pytest.Pytester, text: str, name: str = "smrcheck_models.toml"
                 ) -> pathlib.Path:
    path = project.path / "checks" / name
    path.write_text(text, encoding="utf-8")
    return path


def expect_lines(result: pytest.RunResult, patterns: list[str]) -> None:
    """`fnmatch_lines`, with `[` a plain character (item names and TOML tables are full
    of them): `*` is the only wildcard."""
    result.stdout.fnmatch_lines([p.replace("[", "[[]") for p in patterns])


def junit(project: pytest.Pytester, result: pytest.RunResult) -> dict[str, ET.Element]:
    root = ET.parse(project.path / "junit.xml").getroot()
    return {case.get("name"): case for case in root.iter("testcase")}


def test_the_plugin_is_registered_as_a_pytest11_entry_point():
    found = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert found.get("smrcheck") == "smrcheck.pytest_plugin"


def test_the_plugin_loads_nothing_heavy(pytester: pytest.Pytester,
                                        monkeypatch: pytest.MonkeyPatch):
    """It loads in every pytest run of every project with smrcheck installed: a fresh
    process, so that what this suite imported does not count."""
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    pytester.makepyfile(test_probe="""
            import sys

            def test_probe():
                assert "smrcheck.pytest_plugin" in sys.modules
                # At most the package's own light imports: no explorer, no validator.
                loaded = {m for m in sys.modules if m.startswith("smrcheck.")}
                assert loaded <= {"smrcheck.checker", "smrcheck.checker.errors",
                                  "smrcheck.checker.model", "smrcheck.pytest_plugin"}, loaded
                assert "tomllib" not in sys.modules
        """)
    result = pytester.runpytest_subprocess(*QUIET, "-q")
    result.assert_outcomes(passed=1)


def test_checks_pass_fail_and_expect_violations(project: pytest.Pytester):
    write_checks(project, """
        [[check]]
        model = "mutex.py:Mutex"
        params = {procs = 3}

        [[check]]
        model = "mutex.py:Mutex"
        mutant = "no-lock"

        [[check]]
        model = "mutex.py:Mutex"
        mutant = "no-lock"
        expect = "violation"
        property = "MUTEX"

        [[check]]
        model = "mutex.py:Mutex"
        expect = "violation"
    """.replace("\n        ", "\n"))
    result = project.runpytest("-v", *QUIET, "--junitxml=junit.xml")
    result.assert_outcomes(passed=2, failed=2)
    expect_lines(result, [
        "checks/smrcheck_models.toml::mutex.py:Mutex[procs=3] PASSED*",
        "checks/smrcheck_models.toml::mutex.py:Mutex[mutant=no-lock] FAILED*",
        "checks/smrcheck_models.toml::mutex.py:Mutex[mutant=no-lock,#2] PASSED*",
        "checks/smrcheck_models.toml::mutex.py:Mutex FAILED*",
    ])
    # The failure: what was expected, the property, the counterexample, where it is.
    expect_lines(result, [
        "*[[check]] 2: mutex.py:Mutex[mutant=no-lock]*",
        "Mutex(procs=2) mutant=no-lock: expected every property to hold",
        "MUTEX: at most one process is in its critical section",
        *COUNTEREXAMPLE,
        "([[check]] 2 of smrcheck_models.toml)",
    ])
    expect_lines(result, [
        "Mutex(procs=2): expected a violation, but every property holds (3 distinct states)",
    ])
    assert "Traceback" not in result.stdout.str()
    assert "testing.py" not in result.stdout.str()  # no frames of smrcheck's own

    cases = junit(project, result)
    failure = cases["mutex.py:Mutex[mutant=no-lock]"].find("failure")
    assert failure is not None
    assert failure.get("message").startswith("Mutex(procs=2) mutant=no-lock: expected every")
    assert all(line in failure.text.splitlines() for line in COUNTEREXAMPLE)
    props = {p.get("name"): p.get("value")
             for p in cases["mutex.py:Mutex[mutant=no-lock,#2]"].iter("property")}
    assert props.pop("distinct_states").isdigit() and props.pop("depth").isdigit()
    assert props == {"result": "violation", "property": "MUTEX", "counterexample_steps": "2"}
    assert cases["mutex.py:Mutex[procs=3]"].find("failure") is None


def test_check_options_reach_the_run(project: pytest.Pytester):
    write_checks(project, """
        [[check]]
        model = "mutex.py:Mutex"
        max_states = 2
        symmetry = false
        workers = 1
    """.replace("\n        ", "\n"))
    result = project.runpytest(*QUIET)
    result.assert_outcomes(failed=1)
    expect_lines(result, ["*the run stopped at a bound (max-states) after 2 distinct*"])


def test_a_python_test_with_assert_holds_reports_the_counterexample(project: pytest.Pytester):
    project.makepyfile(test_mutex="""
        from smrcheck.testing import assert_holds

        def test_mutex():
            assert_holds("checks/mutex.py:Mutex", mutant="no-lock")

        def test_bad_reference():
            assert_holds("checks/absent.py:Mutex")
    """)
    result = project.runpytest(*QUIET, "--junitxml=junit.xml")
    result.assert_outcomes(failed=2)
    expect_lines(result, ["E       smrcheck.testing.CheckFailed: Mutex(procs=2) mutant=no-lock: *",
                          *[f"E       {line}" for line in COUNTEREXAMPLE]])
    failure = junit(project, result)["test_mutex"].find("failure")
    assert "  2. Enter(1)" in failure.text and "lock: 0 -> 1" in failure.text
    # A bad reference: the loader's line under the test's, no frames of smrcheck's.
    expect_lines(result, [">       assert_holds(\"checks/absent.py:Mutex\")",
                          "E       smrcheck.checker.errors.UsageError: model file "
                          "'checks/absent.py' not found"])
    assert "loader.py" not in result.stdout.str()


def test_a_bad_model_reference_fails_in_one_line(project: pytest.Pytester):
    write_checks(project, """
        [[check]]
        model = "absent.py:Mutex"

        [[check]]
        model = "mutex.py:Mutx"

        [[check]]
        model = "mutex.py:Mutex"
        params = {nodes = 3}
    """.replace("\n        ", "\n"))
    result = project.runpytest(*QUIET)
    result.assert_outcomes(failed=3)
    folder = project.path / "checks"
    expect_lines(result, [
        f"UsageError: model file '{folder}/absent.py' not found",
        "([[check]] 1 of smrcheck_models.toml)",
        f"UsageError: {folder}/mutex.py has no 'Mutx'; it defines: Mutex",
        "UsageError: unknown parameter 'nodes' for model Mutex; allowed: procs",
    ])
    assert "Traceback" not in result.stdout.str()


BROKEN = '''
from smrcheck import always


class Raises:
    """Its step function has a bug."""

    def init_states(self):
        return [0]

    def actions(self, s):
        return [("Step",)] if s < 3 else []

    def next_state(self, s, a):
        return {0: 1, 1: 2}[s]  # no entry for 2

    def properties(self):
        return [always("SMALL", lambda s: s < 10)]


class Strings(Raises):
    """Its states hold strings, whose hashes differ per process."""

    def init_states(self):
        return [("a",)]
'''


def test_a_broken_model_shows_its_own_frames_or_the_contract_it_breaks(project):
    (project.path / "checks" / "broken.py").write_text(BROKEN, encoding="utf-8")
    write_checks(project, """
        [[check]]
        model = "broken.py:Raises"

        [[check]]
        model = "broken.py:Strings"
    """.replace("\n        ", "\n"))
    result = project.runpytest(*QUIET)
    result.assert_outcomes(failed=2)
    expect_lines(result, [
        "*[[check]] 1: broken.py:Raises*",
        "",
        "self = <*Raises object at *>, s = 2",
        "*return {0: 1, 1: 2}[s]  # no entry for 2",
        "E       KeyError: 2",
        "",
        "checks/broken.py:15: KeyError",
        "*[[check]] 2: broken.py:Strings*",
        "InvalidModel: state[0] is a str ('a'): *",
    ])
    # From the model's frame on: none of the explorer's.
    assert "contract.py" not in result.stdout.str() and "runner.py" not in result.stdout.str()


MALFORMED = [
    ('[[check]]\nmodle = "mutex.py:Mutex"\n',
     "[[check]] 1: unknown key 'modle'; allowed: model, params, mutant, expect, *"),
    ('[[check]]\nparams = {procs = 2}\n', "[[check]] 1: 'model' is missing"),
    ('[[check]]\nmodel = "mutex.py:Mutex"\n\n[[check]]\nmodel = "mutex.py:Mutex"\n'
     'params = {procs = 2.5}\n',
     "[[check]] 2: params.procs must be an integer or a string; got a float"),
    ('[[check]]\nmodel = "mutex.py:Mutex"\nexpect = "fail"\n',
     "[[check]] 1: expect must be one of ok, violation; got 'fail'"),
    ('[[check]]\nmodel = "mutex.py:Mutex"\nproperty = "MUTEX"\n',
     "[[check]] 1: property names the one that must break; it needs expect = \"violation\""),
    ('[[check]]\nmodel = "mutex.py:Mutex"\nmax_states = true\n',
     "[[check]] 1: max_states must be an integer; got a boolean"),
    ('[[check]]\nmodel = "mutex.py:Mutex"\nworkers = 0\n',
     "[[check]] 1: workers must be at least 1; got 0"),
    ('[[check]]\nmodel = "mutex.py:Mutex"\n\n[[validate]]\ntraces = []\n',
     "[[validate]] 1: traces must be a path or a non-empty list of paths"),
    ('[[validate]]\ntraces = "-"\n', "[[validate]] 1: traces cannot be '-'*"),
    ('[[validate]]\ntraces = "run/"\nconformance = "yes"\n',
     "[[validate]] 1: conformance must be true or false; got a string"),
    ('[check]\nmodel = "mutex.py:Mutex"\n',
     "'check' must be an array of tables, written [[check]]"),
    ('[[checks]]\nmodel = "mutex.py:Mutex"\n',
     "unknown table 'checks'; allowed: [[check]], [[validate]]"),
    ('[[check]\nmodel = "mutex.py:Mutex"\n', "not valid TOML: *line 1*"),
]


def test_a_malformed_file_is_a_collection_error_naming_the_key(project: pytest.Pytester):
    paths = [write_checks(project, text, name=f"smrcheck_{i:02}.toml")
             for i, (text, _) in enumerate(MALFORMED)]
    result = project.runpytest(*QUIET, "--continue-on-collection-errors")
    result.assert_outcomes(errors=len(MALFORMED))
    expect_lines(result, [f"{path}: {message}"
                          for path, (_, message) in zip(paths, MALFORMED)])
    assert "Traceback" not in result.stdout.str()


def test_validate_tables_run_the_trace_validator(project: pytest.Pytester):
    for name in ("good/multipaxos.jsonl", "bad/mp-agreement.jsonl"):
        shutil.copy(SAMPLES / name, project.path / "checks")
    write_checks(project, """
        [[validate]]
        traces = "multipaxos.jsonl"

        [[validate]]
        traces = ["mp-agreement.jsonl"]
        expect = "violation"
        property = "MP-AGREEMENT"

        [[validate]]
        traces = ["mp-agreement.jsonl"]
        conformance = false
    """.replace("\n        ", "\n"))
    result = project.runpytest("-v", *QUIET, "--junitxml=junit.xml")
    result.assert_outcomes(passed=2, failed=1)
    expect_lines(result, [
        "*::validate[multipaxos.jsonl] PASSED*",
        "*::validate[mp-agreement.jsonl] PASSED*",
        "*::validate[mp-agreement.jsonl,#2] FAILED*",
    ])
    sample = project.path / "checks" / "mp-agreement.jsonl"
    expect_lines(result, [f"{sample}: expected a valid run, found 3 violations:",
                                 f"  MP-AGREEMENT {sample}:35: *"])
    failure = junit(project, result)["validate[mp-agreement.jsonl,#2]"].find("failure")
    assert f"MP-AGREEMENT {sample}:37: " in failure.text


def test_the_marker_selects_them_and_the_ini_option_names_the_files(project: pytest.Pytester):
    write_checks(project, '[[check]]\nmodel = "mutex.py:Mutex"\n', name="models.toml")
    write_checks(project, '[[check]]\nmodel = "mutex.py:Mutex"\nmutant = "no-lock"\n')
    project.makepyfile(test_unit="def test_unit():\n    pass\n")
    # The marker is registered: --strict-markers accepts it.
    result = project.runpytest(*QUIET, "--strict-markers",
                               "-m", "not smrcheck")
    result.assert_outcomes(passed=1, deselected=1)
    project.makeini("[pytest]\nsmrcheck_files = models.toml\n")
    result = project.runpytest(*QUIET, "-m", "smrcheck", "-v")
    result.assert_outcomes(passed=1, deselected=1)
    expect_lines(result, ["checks/models.toml::mutex.py:Mutex PASSED*"])
