"""smrcheck.testing: a model check or a trace validation as an assertion (issue #16).

The models are written as files, as a user's would be, and named by `path:NAME`, the
way `smrcheck check` takes them: what is tested is the whole path from the loader to the
failure message a person reads in a pytest report.
"""

from __future__ import annotations

import json
import pathlib

import pytest

import smrcheck
from smrcheck.testing import (CheckFailed, assert_holds, assert_trace_valid,
                              assert_trace_violates, assert_violates, counterexample_text,
                              run_check)

from ..support.toy_models import MUTEX

ROOT = pathlib.Path(__file__).resolve().parents[2]
GOOD = ROOT / "traces" / "samples" / "good"
BAD = ROOT / "traces" / "samples" / "bad"


@pytest.fixture
def mutex(tmp_path: pathlib.Path) -> str:
    path = tmp_path / "mutex.py"
    path.write_text(MUTEX, encoding="utf-8")
    return f"{path}:Mutex"


# -- assert_holds --------------------------------------------------------------------------


def test_a_correct_model_holds_and_its_result_is_returned(mutex):
    result = assert_holds(mutex, procs=3)
    assert result.result == "ok"
    assert result.distinct_states == 4  # all idle, or one of three inside
    assert result.params == {"procs": 3}


def test_a_model_object_and_a_spec_are_targets_too(mutex):
    spec = smrcheck.load(mutex)
    assert assert_holds(spec, procs=2).distinct_states == 3
    assert assert_holds(spec.build({"procs": 2}, None)).distinct_states == 3


def test_a_violation_fails_with_the_property_and_the_counterexample(mutex):
    with pytest.raises(AssertionError) as failed:
        assert_holds(mutex, mutant="no-lock", procs=3)
    message = str(failed.value)
    assert message.splitlines() == [
        "Mutex(procs=3) mutant=no-lock: expected every property to hold",
        "MUTEX: at most one process is in its critical section",
        "counterexample, 2 steps:",
        "  0. initial state",
        "       pc = <<0, 0, 0>>",
        "       lock = -1",
        "  1. Enter(0)",
        "       pc: <<0, 0, 0>> -> <<1, 0, 0>>",
        "       lock: -1 -> 0",
        "  2. Enter(1)",
        "       pc: <<1, 0, 0>> -> <<1, 1, 0>>",
        "       lock: 0 -> 1",
    ]
    # The result rides along, for a report that wants its numbers.
    assert isinstance(failed.value, CheckFailed) and failed.value.result.result == "violation"


def test_a_run_stopped_by_a_bound_fails_and_names_it(mutex):
    with pytest.raises(AssertionError, match=r"stopped at a bound \(max-states\) after 2 "):
        assert_holds(mutex, max_states=2)
    with pytest.raises(AssertionError, match=r"\(max-depth\)"):
        assert_holds(mutex, max_depth=1)


def test_options_are_taken_and_inline_bounds_override_them(mutex):
    options = smrcheck.Options(symmetry=False)
    assert assert_holds(mutex, options=options).distinct_states == 3
    with pytest.raises(AssertionError, match="max-states"):
        assert_holds(mutex, options=options, max_states=1)


def test_every_other_keyword_is_a_model_parameter(mutex):
    """`workers` or `symmetry` could be a model's parameter as well as an explorer's
    switch: the assertions leave them to the model (`options` says the explorer's)."""
    with pytest.raises(smrcheck.UsageError, match="unknown parameter 'workers' for model Mutex"):
        assert_holds(mutex, workers=2)
    result = run_check(mutex, {"procs": 3}, workers=1, symmetry=False, max_depth=9)
    assert result.result == "ok" and result.params == {"procs": 3}


def test_inline_bounds_keep_the_specs_own_symmetry_default(mutex):
    if "symmetry" not in smrcheck.ModelSpec.__dataclass_fields__:
        pytest.skip("this ModelSpec has no symmetry default")
    inner = smrcheck.load(mutex).build({"procs": 3}, None)

    class Symmetric:
        """The mutex with its processes interchangeable: the holder is process 0."""

        def __getattr__(self, name):
            return getattr(inner, name)

        def canonical(self, s):
            return s if s.lock == -1 else type(s)((1, 0, 0), 0)

    spec = smrcheck.ModelSpec(name="Symmetric", summary="", params=(), mutants=(),
                              build=lambda values, mutant: Symmetric(), symmetry=False)
    assert assert_holds(spec).distinct_states == 4  # all idle, or one of three inside
    assert assert_holds(spec, max_states=100).distinct_states == 4
    assert run_check(spec, max_states=100, symmetry=True).distinct_states == 2


# -- assert_violates -----------------------------------------------------------------------


def test_a_violation_is_returned_so_a_test_can_pin_its_length(mutex):
    result = assert_violates(mutex, "MUTEX", mutant="no-lock")
    assert result.violation.property == "MUTEX"
    assert len(result.violation.trace) - 1 == 2
    assert assert_violates(mutex, mutant="no-lock").violation.property == "MUTEX"


def test_a_model_that_passes_fails_assert_violates(mutex):
    with pytest.raises(AssertionError, match=r"expected a violation of MUTEX, but every "
                                             r"property holds \(3 distinct states\)"):
        assert_violates(mutex, "MUTEX")


def test_another_property_breaking_fails_and_shows_its_counterexample(mutex):
    with pytest.raises(AssertionError) as failed:
        assert_violates(mutex, "ENTERED", mutant="no-lock")
    message = str(failed.value)
    assert "expected a violation of ENTERED, but MUTEX broke first" in message
    assert "  2. Enter(1)" in message


def test_a_property_the_model_lacks_is_a_usage_error(mutex):
    with pytest.raises(smrcheck.UsageError, match="checks no property 'MUTX'; it checks: "
                                                  "MUTEX, ENTERED"):
        assert_violates(mutex, "MUTX", mutant="no-lock")


def test_a_violation_bound_reached_first_says_so(mutex):
    with pytest.raises(AssertionError, match=r"none was found before the run stopped at a "
                                             r"bound \(max-depth\)"):
        assert_violates(mutex, "MUTEX", mutant="no-lock", max_depth=2)


# -- bad references ------------------------------------------------------------------------


@pytest.mark.parametrize("ref, message", [
    ("{dir}/absent.py:Mutex", "model file '{dir}/absent.py' not found"),
    ("{dir}/mutex.py:Mutx", "{dir}/mutex.py has no 'Mutx'; it defines: Mutex"),
    ("{dir}/mutex.py:NOT_A_MODEL", "{dir}/mutex.py:NOT_A_MODEL is a"),  # "... not a model"
    ("paxoss", "unknown model 'paxoss'"),
])
def test_a_bad_reference_is_the_loaders_one_line_usage_error(mutex, ref, message):
    folder = mutex.rpartition("/")[0]
    with pytest.raises(smrcheck.UsageError) as err:
        assert_holds(ref.format(dir=folder))
    assert str(err.value).startswith(message.format(dir=folder))
    assert "\n" not in str(err.value)


def test_a_bad_parameter_or_mutant_is_a_usage_error(mutex):
    with pytest.raises(smrcheck.UsageError, match="unknown parameter 'nodes'"):
        assert_holds(mutex, nodes=3)
    with pytest.raises(smrcheck.UsageError, match="unknown mutant 'no-lok'"):
        assert_violates(mutex, mutant="no-lok")


def test_counterexample_text_without_a_violation():
    class Result:
        violation = None
    assert counterexample_text(Result()) == "no violation"


# -- traces --------------------------------------------------------------------------------


def test_a_good_run_validates():
    result = assert_trace_valid(GOOD / "multipaxos.jsonl")
    assert result.result == "ok" and result.conformance == "conforms"
    # A list of paths, as `smrcheck validate` takes several; conformance can be left out.
    assert assert_trace_valid([str(GOOD / "multipaxos.jsonl")],
                              conformance=False).conformance is None


def test_a_bad_run_fails_listing_each_violation_where_it_is():
    sample = BAD / "mp-agreement.jsonl"
    expected = json.loads((BAD / "mp-agreement.expected.json").read_text())
    with pytest.raises(AssertionError) as failed:
        assert_trace_valid(sample)
    message = str(failed.value)
    assert message.startswith(f"{sample}: expected a valid run, found ")
    for v in expected["violations"]:
        assert f"{v['property']} {BAD / v['file']}:{v['line']}: " in message
    assert f"CONFORMANCE {sample}:" in message  # the model cannot explain it either


def test_an_unreadable_run_fails_as_invalid_input():
    with pytest.raises(AssertionError, match=r"invalid input: .*bad-json.jsonl line 4: not "
                                             "valid JSON"):
        assert_trace_valid(BAD / "bad-json.jsonl")
    with pytest.raises(AssertionError, match="invalid input"):
        assert_trace_violates(BAD / "bad-json.jsonl")


def test_assert_trace_violates_names_the_property_that_must_break():
    result = assert_trace_violates(BAD / "mp-agreement.jsonl", "MP-AGREEMENT")
    assert result.result == "violation"
    assert_trace_violates(BAD / "mp-agreement.jsonl", "CONFORMANCE")
    with pytest.raises(AssertionError, match="expected a violation of MP-VALIDITY, found "):
        assert_trace_violates(BAD / "mp-agreement.jsonl", "MP-VALIDITY", conformance=False)
    with pytest.raises(AssertionError, match="expected a violation, but the run is valid"):
        assert_trace_violates(GOOD / "multipaxos.jsonl")


def test_no_trace_is_a_usage_error():
    with pytest.raises(smrcheck.UsageError, match="no trace given"):
        assert_trace_valid([])
