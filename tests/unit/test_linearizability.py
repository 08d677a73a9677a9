"""The linearizability checker: known histories, pending operations, the key-value
spec against impl/kvstore.py, a brute-force and a plain Wing-Gong reference, the
shrunk counterexample, determinism, and the history-file reader.

The register examples are the two of MIT 6.824's 2017 quiz 2 (section VII) that
Porcupine's tests use; the queue ones are the four histories of Herlihy & Wing 1990,
Figure 1 ((a) and (c) linearizable, (b) and (d) not).
"""

from __future__ import annotations

import itertools
import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smrcheck.checker.errors import InvalidModel, InvalidTrace, UsageError
from smrcheck.checker.linearizability import (UNKNOWN, HistoryBuilder, Operation, Spec,
                                              _shrink, _Sub, _Budget, check, partition,
                                              render_text)
from smrcheck.impl.kvstore import KVStore
from smrcheck.models.common.kv import KV, KV_HISTORY, KVSpec
from smrcheck.traces.history import check_history_file, load_spec, read_history


def op(id, input, call, ret=None, output=UNKNOWN, client=None):
    return Operation(id, client or id, input, call, ret, output)


class Register(Spec):
    name, property = "register", "REGISTER-LINEARIZABLE"

    def init(self):
        return 0

    def apply(self, state, input):
        if input[0] == "write":
            return None, input[1]
        return state, state

    def read_only(self, input):
        return input[0] == "read"


class Queue(Spec):
    name = "queue"

    def init(self):
        return ()

    def apply(self, q, input):
        if input[0] == "enq":
            return None, q + (input[1],)
        return (q[0], q[1:]) if q else (None, q)


REG = Register()
W = lambda v: ("write", v)  # noqa: E731
R = ("read",)


# ---------------------------------------------------------------------------------
# Known histories


def test_register_quiz_linearizable():
    ops = [op("w100", W(100), 0, 100), op("r1", R, 25, 75, 100), op("r2", R, 30, 60, 0)]
    assert check(REG, ops).ok


def test_register_quiz_not_linearizable():
    ops = [op("w200", W(200), 0, 100), op("r1", R, 10, 30, 200), op("r2", R, 40, 90, 0)]
    result = check(REG, ops)
    assert result.result == "violation"
    v = result.violation
    assert v.property == "REGISTER-LINEARIZABLE"
    assert [o.id for o in v.operations] == ["w200", "r1", "r2"]
    e = v.explanation
    assert e.prefix == ("w200", "r1") and e.state == "200" and e.blocked == "r2"
    assert "the spec returns 200 there" in e.message


def test_zero_duration_operations_are_concurrent_at_equal_times():
    ok = [op("w", W(100), 0, 100), op("r1", R, 25, 75, 100), op("r2", R, 30, 30, 0),
          op("r3", R, 30, 30, 0)]
    assert check(REG, ok).ok
    bad = [op("w", W(200), 0, 100), op("r1", R, 10, 10, 200), op("r2", R, 10, 10, 200),
           op("r3", R, 40, 90, 0)]
    assert not check(REG, bad).ok
    # A return and a call at the same time overlap: the read may go first.
    assert check(REG, [op("w", W(1), 0, 5), op("r", R, 5, 6, 0)]).ok
    assert not check(REG, [op("w", W(1), 0, 4), op("r", R, 5, 6, 0)]).ok


E = lambda v: ("enq", v)  # noqa: E731
D = ("deq",)


@pytest.mark.parametrize("name, ops, linearizable", [
    # (a) A's enq(x) overlaps B's enq(y); B's deq then returns x.
    ("a", [op("A1", E("x"), 0, 3, None, "A"), op("B1", E("y"), 1, 4, None, "B"),
           op("B2", D, 5, 7, "x", "B"), op("A2", D, 6, 8, "y", "A")], True),
    # (b) enq(x) returns before enq(y) starts, yet deq returns y.
    ("b", [op("A1", E("x"), 0, 2, None, "A"), op("B1", E("y"), 3, 5, None, "B"),
           op("A2", D, 6, 8, "y", "A")], False),
    # (c) the deq overlaps the enq it returns.
    ("c", [op("A1", E("x"), 0, 4, None, "A"), op("B1", D, 1, 5, "x", "B")], True),
    # (d) y dequeued twice.
    ("d", [op("A1", E("x"), 0, 3, None, "A"), op("B1", E("y"), 1, 4, None, "B"),
           op("A2", D, 5, 7, "y", "A"), op("B2", D, 6, 8, "y", "B")], False),
])
def test_herlihy_wing_figure_1_queues(name, ops, linearizable):
    assert check(Queue(), ops).ok is linearizable


# ---------------------------------------------------------------------------------
# Pending operations: anywhere after their call, or never


def test_pending_write_may_explain_a_read():
    assert check(REG, [op("w", W(1), 0), op("r", R, 5, 6, 1)]).ok


def test_pending_write_may_never_take_effect():
    assert check(REG, [op("w", W(1), 0), op("r", R, 5, 6, 0), op("r2", R, 7, 8, 0)]).ok


def test_pending_write_takes_effect_once_and_for_all():
    ops = [op("w", W(1), 0), op("r1", R, 1, 2, 1), op("r2", R, 3, 4, 0)]
    result = check(REG, ops)
    assert not result.ok and result.pending == 1


def test_pending_write_not_before_its_call():
    assert not check(REG, [op("r", R, 1, 2, 1), op("w", W(1), 5)]).ok


def test_unknown_output_still_bounds_the_operation_in_time():
    # A write that completed (output not logged) must take effect before it returned.
    ops = [op("w", W(1), 0, 2, UNKNOWN), op("r", R, 3, 4, 0)]
    assert not check(REG, ops).ok
    assert check(REG, [op("w", W(1), 0, 2, UNKNOWN), op("r", R, 3, 4, 1)]).ok


def test_many_crashed_writers_do_not_blow_up_a_linearizable_history():
    """Pending operations are tried only where no completed one fits."""
    ops = [op(f"p{i}", W(100 + i), i) for i in range(40)]
    ops += [op(f"w{i}", W(i), 50 + 3 * i, 51 + 3 * i) for i in range(200)]
    ops += [op(f"r{i}", R, 52 + 3 * i, 52 + 3 * i, i) for i in range(200)]
    result = check(REG, ops, max_steps=100_000)
    assert result.ok and result.steps < 5_000


def test_crashed_writers_do_not_blow_up_a_violation_either():
    """Subsumption: placing a pending write that a later write overwrites, or one
    right after another, reaches nothing new (365,618 steps without it)."""
    ops = [op(f"p{i}", W(100 + i), i) for i in range(10)]
    for i in range(50):
        ops += [op(f"w{i}", W(i), 100 + 4 * i, 101 + 4 * i),
                op(f"r{i}", R, 102 + 4 * i, 103 + 4 * i, i)]
    ops.append(op("bad", R, 300, 301, -1))
    result = check(REG, ops, max_steps=100_000)
    assert result.result == "violation" and result.steps < 20_000
    v = result.violation
    assert len(v.operations) == 11 and v.before == 100 and v.operations[-1].id == "bad"
    assert "p1, p2, p3, p4, p5, p6, p7, p8 and 1 more fit there" in v.explanation.message


def test_two_crashed_appends_in_a_row_are_found_by_the_full_search():
    """The first search places at most one pending operation between completed ones;
    a read that saw two crashed appends needs the full one."""
    ops = [op("a", KV.parse("append k a"), 0), op("b", KV.parse("append k b"), 1),
           op("r", KV.parse("get k"), 5, 6, "ab")]
    from smrcheck.checker.linearizability import _search
    assert _search(KV, ops, [("", 0)], None, max_chain=1).status == "fail"
    assert _search(KV, ops, [("", 0)], None).status == "ok"
    assert check(KV, ops).ok


def test_empty_and_pending_only_histories():
    assert check(REG, []).ok
    assert check(REG, [op("w", W(1), 0)]).ok


# ---------------------------------------------------------------------------------
# A brute force and a plain Wing-Gong reference, to compare against


def brute_force(spec, ops):
    """Every subset of the pending operations, every order: the definition."""
    done = [o for o in ops if o.ret is not None]
    pending = [o for o in ops if o.ret is None]
    for r in range(len(pending) + 1):
        for chosen in itertools.combinations(pending, r):
            for order in itertools.permutations(done + list(chosen)):
                if any(b.ret is not None and b.ret < a.call
                       for i, a in enumerate(order) for b in order[i + 1:]):
                    continue
                state, ok = spec.init(), True
                for o in order:
                    out, state = spec.apply(state, o.input)
                    if o.ret is not None and o.output is not UNKNOWN and out != o.output:
                        ok = False
                        break
                if ok:
                    return True
    return False


def reference(spec, ops, starts=None):
    """Wing & Gong with a memo over (placed ids, state), no optimisation; per key."""
    groups = {}
    for o in ops:
        groups.setdefault(spec.key(o.input), []).append(o)
    return all(_reference_one(spec, part, starts) for part in groups.values())


def _reference_one(spec, ops, starts):
    done = frozenset(o.id for o in ops if o.ret is not None)
    seen = set()

    def go(placed, state):
        if done <= placed:
            return True
        if (placed, state) in seen:
            return False
        seen.add((placed, state))
        rest = [o for o in ops if o.id not in placed]
        for o in rest:
            if any(x.ret is not None and x.ret < o.call for x in rest):
                continue
            out, nxt = spec.apply(state, o.input)
            if o.ret is not None and o.output is not UNKNOWN and out != o.output:
                continue
            if go(placed | {o.id}, nxt):
                return True
        return False

    starts = starts or [(spec.init(), frozenset())]
    return any(go(frozenset(applied), state) for state, applied in starts)


VALUES = ["a", "b"]


@st.composite
def random_kv_histories(draw, max_ops=6, keys=1):
    ops = []
    for i in range(draw(st.integers(1, max_ops))):
        call = draw(st.integers(0, 12))
        ret = None if draw(st.integers(0, 4)) == 0 else call + draw(st.integers(0, 6))
        verb = draw(st.sampled_from(["get", "put", "append"]))
        key = f"k{draw(st.integers(0, keys - 1))}"
        value = draw(st.sampled_from(VALUES))
        inp = ("get", key, None) if verb == "get" else (verb, key, value)
        if ret is None:
            out = UNKNOWN
        elif verb == "put":
            out = "ok"
        else:
            out = draw(st.sampled_from(["", "a", "b", "ab", "ba", "aa"]))
        ops.append(op(f"o{i}", inp, call, ret, out))
    return ops


@settings(max_examples=300, deadline=None)
@given(random_kv_histories())
def test_agrees_with_brute_force(ops):
    assert check(KV, ops).ok == brute_force(KV, ops)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_kv_histories(max_ops=14, keys=2))
def test_agrees_with_plain_wing_gong_and_the_shrink_is_a_counterexample(ops):
    result = check(KV, ops)
    assert result.ok == reference(KV, ops)
    if result.ok:
        return
    key = next(k for k, part in partition(KV, sorted(ops, key=lambda o: (o.call, o.id)))
               if not reference(KV, part))
    part = [o for o in ops if KV.key(o.input) == key]
    sub, _ = _shrink(KV, _Sub(sorted(part, key=lambda o: (o.call, o.id)),
                              [(KV.init(), 0)]), _Budget(10**6))
    pending = [o.id for o in sub.ops if o.ret is None]
    starts = [(state, {p for k, p in enumerate(pending) if plin >> k & 1})
              for state, plin in sub.starts]
    assert not _reference_one(KV, sub.ops, starts)
    assert {o.id for o in sub.ops} <= {o.id for o in part}
    assert len(result.violation.operations) == len(sub.ops)


# ---------------------------------------------------------------------------------
# Histories of a sequential execution are linearizable


@st.composite
def sequential_runs(draw):
    """Operations run one at a time in the order of their linearization points
    10, 20, 30, ...; each interval is stretched around its point by any amount (so
    operations overlap arbitrarily, but never against the order they ran in); some
    clients crash: their operation is pending and took effect or not."""
    store = KVStore()
    ops = []
    n = draw(st.integers(1, 40))
    for i in range(n):
        point = 10 * (i + 1)
        key = f"k{draw(st.integers(0, 2))}"
        verb = draw(st.sampled_from(["get", "put", "append", "put", "get", "bad"]))
        text = {"get": f"get {key}", "put": f"put {key} v{i}",
                "append": f"append {key} {i % 3}", "bad": "frobnicate"}[verb]
        call = point - draw(st.integers(0, 45))
        crashed = draw(st.integers(0, 9)) == 0
        if crashed and draw(st.booleans()):
            ops.append(op(f"c{i}", KV.parse(text), call))  # never took effect
            continue
        result = store.apply(text)
        if crashed:
            ops.append(op(f"c{i}", KV.parse(text), call))
        else:
            ops.append(op(f"c{i}", KV.parse(text), call, point + draw(st.integers(0, 45)),
                          result))
    return ops


@settings(max_examples=300, deadline=None)
@given(sequential_runs())
def test_sequential_executions_are_linearizable(ops):
    result = check(KV, ops)
    assert result.ok, render_text(result)


@settings(max_examples=100, deadline=None)
@given(sequential_runs(), st.randoms(use_true_random=False))
def test_verdict_and_report_do_not_depend_on_record_order(ops, rnd):
    # Break one read (if any) so that half the runs compare violation reports too.
    reads = [i for i, o in enumerate(ops) if o.input[0] == "get" and o.ret is not None]
    if reads and rnd.random() < 0.5:
        i = rnd.choice(reads)
        ops[i] = Operation(ops[i].id, ops[i].client, ops[i].input, ops[i].call, ops[i].ret,
                           ops[i].output + "?")
    first = check(KV, ops).to_json()
    shuffled = list(ops)
    rnd.shuffle(shuffled)
    assert check(KV, shuffled).to_json() == first
    assert check(KV, list(reversed(ops))).to_json() == first


# ---------------------------------------------------------------------------------
# The key-value spec is impl/kvstore.py's semantics


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["get", "put", "append", "del", "get", ""]),
                          st.sampled_from(["x", "y", "", "x y"]),
                          st.sampled_from(["1", "22", "", "a b"])), max_size=30))
def test_kv_spec_matches_kvstore(commands):
    store = KVStore()
    states: dict = {}
    for verb, key, value in commands:
        text = f"{verb} {key}" if verb == "get" else f"{verb} {key} {value}"
        expected = store.apply(text)
        inp = KV.parse(text)
        k = KV.key(inp)
        before = states.get(k, KV.init())
        out, states[k] = KV.apply(before, inp)
        assert out == expected, text
        if KV.read_only(inp):
            assert states[k] == before
    assert {k: v for k, v in states.items() if k is not None and v != ""} == \
        {k: v for k, v in store.data.items() if v != ""}


def test_kv_retried_request_is_one_operation():
    b = HistoryBuilder()
    b.invoke("c1#0", "c1", KV.parse("append x a"), 0)
    b.invoke("c1#0", "c1", KV.parse("append x a"), 3)  # a retry: the same request
    b.complete("c1#0", "a", 5)
    b.invoke("c2#0", "c2", KV.parse("get x"), 6)
    b.complete("c2#0", "a", 7)
    ops = b.operations()
    assert len(ops) == 2 and ops[0].call == 0
    assert check(KV, ops).ok
    with pytest.raises(ValueError, match="another input"):
        b.invoke("c1#0", "c1", KV.parse("append x b"), 8)
    with pytest.raises(ValueError, match="completed twice"):
        b.complete("c1#0", "aa", 9)
    b.invoke("c3#0", "c3", KV.parse("put x z"), 10)
    b.fail("c3#0")
    b.invoke("c3#0", "c3", KV.parse("put x z"), 11)  # a retry of what did not happen
    assert [o.id for o in b.operations()] == ["c1#0", "c2#0"]
    with pytest.raises(ValueError, match="never invoked"):
        b.complete("c9#0", "", 12)


def test_kv_stale_read_in_a_long_history_is_cut_to_its_core():
    ops = []
    t = 0
    for i in range(60):  # sequential puts and gets on k, then a stale get
        ops.append(op(f"p{i}", KV.parse(f"put k v{i}"), t, t + 1, "ok", "c1"))
        ops.append(op(f"g{i}", KV.parse("get k"), t + 2, t + 3, f"v{i}", "c2"))
        t += 4
    ops.append(op("w", KV.parse("put k new"), t, t + 10, "ok", "c1"))
    ops.append(op("stale", KV.parse("get k"), t + 11, t + 12, "v59", "c2"))
    ops += [op(f"x{i}", KV.parse(f"put other {i}"), i, i + 1, "ok", "c3") for i in range(50)]
    result = check(KV, ops)
    assert result.result == "violation" and result.keys == 2
    assert result.failing_keys == ["'k'"]
    v = result.violation
    assert [o.id for o in v.operations] == ["stale"]
    assert v.before == 121 and v.cut == t + 11 and v.key_operations == 122
    assert [s.state for s in v.starts] == ["'new'"]
    assert [o.id for o in v.context] == ["g58", "p59", "g59", "w"]
    assert v.explanation.prefix == () and v.explanation.blocked == "stale"
    text = render_text(result)
    assert "starts from 'new', the state after the 121 earlier operation(s)" in text
    assert "[251, 252]" in text and "-> 'v59'" in text


def test_kv_append_order_is_checked():
    ops = [op("a1", KV.parse("append x 1"), 0, 10, "1"),
           op("a2", KV.parse("append x 2"), 1, 11, "12"),
           op("g", KV.parse("get x"), 12, 13, "21")]
    result = check(KV, ops)
    assert not result.ok
    assert result.violation.explanation.state == "'12'"


def test_unrecognised_commands_are_their_own_partition():
    ops = [op("a", KV.parse("frob x"), 0, 1, "error: unknown op 'frob x'"),
           op("b", KV.parse("put x 1"), 0, 1, "ok")]
    result = check(KV, ops)
    assert result.ok and result.keys == 2
    bad = [op("a", KV.parse("frob"), 0, 1, "ok")]
    assert check(KV, bad).violation.key == "(unrecognised commands)"


# ---------------------------------------------------------------------------------
# Results, budgets, errors


def test_json_is_plain_data():
    result = check(REG, [op("w", W(2), 0, 1), op("r", R, 2, 3, 1)])
    data = json.loads(json.dumps(result.to_json()))
    assert data["result"] == "violation" and data["property"] == "REGISTER-LINEARIZABLE"
    assert data["violation"]["operations"][1] == {
        "id": "r", "client": "r", "op": "read()", "output": "1", "call": 2, "return": 3,
        "call_ref": "", "ret_ref": "", "open": False}


def test_step_budget_gives_incomplete():
    ops = [op(f"w{i}", W(i), 0, 100) for i in range(12)]
    ops += [op(f"r{i}", R, 1 + i, 99, (i * 7) % 12) for i in range(12)]
    result = check(REG, ops, max_steps=50)
    assert result.result == "incomplete" and result.incomplete_keys == ["the history"]


def test_a_budget_of_one_step_is_a_budget():
    # With pending operations half the budget goes to a first search; half of 1 is 0,
    # which must not mean "no bound".
    ops = [op("w1", W(1), 0, 10), op("w2", W(2), 1, None), op("r", R, 11, 12, 2)]
    result = check(REG, ops, max_steps=1)
    assert (result.result, result.steps) == ("incomplete", 1)
    assert check(REG, ops).ok


def test_bad_operations_and_bad_specs_are_named():
    with pytest.raises(UsageError, match="two operations with id 'a'"):
        check(REG, [op("a", R, 0, 1, 0), op("a", R, 2, 3, 0)])
    with pytest.raises(UsageError, match="before its call"):
        check(REG, [op("a", R, 5, 1, 0)])

    class Unhashable(Register):
        def init(self):
            return []

        def apply(self, state, input):
            return None, state + [1]

    with pytest.raises(InvalidModel, match="hashable"):
        check(Unhashable(), [op("a", W(1), 0, 1)])

    class Raises(Register):
        def apply(self, state, input):
            raise KeyError("oops")

    with pytest.raises(InvalidModel, match="KeyError.*on input"):
        check(Raises(), [op("a", W(1), 0, 1)])


# ---------------------------------------------------------------------------------
# History files (Jepsen / Porcupine shape)


def write(tmp_path, records, name="h.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records)
                    + "\n")
    return path


def rec(process, type, f, value=None, key=None, **extra):
    r = {"process": process, "type": type, "f": f, "value": value}
    if key is not None:
        r["key"] = key
    r.update(extra)
    return r


def test_history_file_kv(tmp_path):
    path = write(tmp_path, [
        rec(0, "invoke", "write", 1, "x"), rec(1, "invoke", "read", None, "x"),
        rec(0, "ok", "write", 1, "x"), rec(1, "ok", "read", 1, "x"),
        rec(2, "invoke", "cas", [1, 2], "x"), rec(2, "ok", "cas", [1, 2], "x"),
        rec(3, "invoke", "cas", [7, 8], "x"), rec(3, "fail", "cas", [7, 8], "x"),
        rec("nemesis", "info", "start", None), rec("nemesis", "info", "start", "partition"),
        rec(4, "invoke", "write", 5, "y"), rec(4, "info", "write", 5, "y"),
        rec(5, "invoke", "read", None, "y"), rec(5, "ok", "read", 5, "y"),
        rec(6, "invoke", "read", None, "x"), rec(6, "ok", "read", 2, "x"),
        rec(7, "invoke", "read", None, "z"), rec(7, "ok", "read", None, "z"),
        rec(8, "invoke", ":append", "a", "l"),
    ])
    result = check_history_file(path, "kv")
    assert result.ok, render_text(result)
    assert (result.operations, result.pending, result.keys) == (8, 2, 4)
    ops = read_history(path, KV_HISTORY)
    assert ops[0].call_ref == f"{path}:1" and ops[0].ret_ref == f"{path}:3"


def test_history_file_violation_and_time_field(tmp_path):
    path = write(tmp_path, [
        rec(1, "invoke", "read", None, "x", time=30), rec(0, "invoke", "write", 1, "x", time=0),
        rec(0, "ok", "write", 1, "x", time=10), rec(1, "ok", "read", None, "x", time=40),
    ])
    result = check_history_file(path, "kv")
    assert not result.ok
    assert [(o.call, o.ret) for o in result.violation.operations] == [(0, 10), (30, 40)]
    assert result.violation.starts[0].state == "(absent)"


@pytest.mark.parametrize("records, where", [
    (["not json"], ":1: not a JSON object"),
    ([[1, 2]], ":1: not a JSON object"),
    ([rec(None, "invoke", "read")], ":1: field 'process'"),
    ([rec(0, "begin", "read")], ":1: field 'type': one of invoke, ok, fail, info"),
    ([rec(0, "invoke", 3)], ":1: field 'f'"),
    ([rec(0, "ok", "read")], ":1: field 'type': 'ok' for process 0, which has no open"),
    ([rec(0, "invoke", "read"), rec(0, "invoke", "read")], ":2: field 'process': 0 invokes again"),
    ([rec(0, "invoke", "read"), rec(0, "ok", "write")], ":2: field 'f': 'write' answers"),
    ([rec(0, "invoke", "read", key="a"), rec(0, "ok", "read", key="b")], ":2: field 'key'"),
    ([rec(0, "invoke", "read", time=1), rec(0, "ok", "read")], ":2: field 'time': present in"),
    ([rec(0, "invoke", "read", time=5), rec(0, "ok", "read", time=4)], ":2: field 'time': 4 is"),
    ([rec(0, "invoke", "read", time="x")], ":1: field 'time': a number"),
    ([rec(0, "invoke", "incr"), rec(0, "ok", "incr")], ":1: field 'f': unknown f 'incr'"),
    ([rec(0, "invoke", "cas", 3), rec(0, "ok", "cas", 3)], ":1: field 'value': a cas takes"),
])
def test_history_file_errors_name_file_line_and_field(tmp_path, records, where):
    path = write(tmp_path, records)
    with pytest.raises(InvalidTrace) as err:
        check_history_file(path, "kv")
    assert f"{path}{where}" in str(err.value)


def test_history_file_encoding_and_missing(tmp_path):
    path = tmp_path / "h.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(rec(0, "invoke", "read", key="x")).encode()
                     + b"\n\n")
    assert check_history_file(path, "kv").pending == 1
    path.write_bytes(b'{"process": 0}\n\xff\n')
    with pytest.raises(InvalidTrace, match=":2: not UTF-8"):
        read_history(path, KV_HISTORY)
    with pytest.raises(UsageError, match="cannot read"):
        read_history(tmp_path / "missing.jsonl", KV_HISTORY)


def test_load_spec(tmp_path):
    assert load_spec("kv") is KV_HISTORY
    with pytest.raises(UsageError, match="unknown spec 'nope'"):
        load_spec("nope")
    with pytest.raises(UsageError, match="cannot import"):
        load_spec("no.such.module:Spec")
    with pytest.raises(UsageError, match="has no 'Nope'"):
        load_spec("smrcheck.models.common.kv:Nope")
    assert isinstance(load_spec("smrcheck.models.common.kv:KVSpec"), KVSpec)
    with pytest.raises(UsageError, match="not a spec"):
        load_spec("smrcheck.models.common.kv:PROPERTY")
    user = tmp_path / "myspec.py"
    user.write_text("from smrcheck.checker.linearizability import Spec\n"
                    "class Flag(Spec):\n"
                    "    def init(self): return False\n"
                    "    def apply(self, s, op): return (s, s) if op[0] == 'get' else (None, True)\n")
    path = write(tmp_path, [rec(0, "invoke", "set"), rec(0, "ok", "set"),
                            rec(1, "invoke", "get"), rec(1, "ok", "get", False)])
    result = check_history_file(path, f"{user}:Flag")
    assert not result.ok and result.property == "LINEARIZABLE"
    assert "the history is not linearizable" in render_text(result)


def test_random_register_histories_are_stable_across_runs():
    """Determinism across repeated calls (caches and ids do not leak between runs)."""
    rng = random.Random(7)
    ops = [op(f"o{i}", W(rng.randrange(3)) if rng.random() < 0.5 else R, c := rng.randrange(50),
              c + rng.randrange(10), rng.randrange(3)) for i in range(30)]
    first = check(REG, ops).to_json()
    assert all(check(REG, ops).to_json() == first for _ in range(3))
