"""A user's own service, checked for linearizability: a counter in a dozen lines.

    from smrcheck.traces.history import check_history_file, render_text
    result = check_history_file("examples/linearizability/counter-bad.jsonl",
                                "examples/linearizability/counter.py:Counter")
    print(render_text(result))   # COUNTER-LINEARIZABLE: violation ...

A spec is named by `path/to/file.py:Class` or `package.module:Class`. The history
records use the Jepsen shape: `{"process", "type", "f", "value"}` with
`f` one of `add` (value: the amount; answers nothing) and `read` (answers the count).
"""

from smrcheck.checker.linearizability import Spec


class Counter(Spec):
    name, property = "counter", "COUNTER-LINEARIZABLE"

    def init(self):
        return 0

    def apply(self, count, op):  # op: ("add", n) or ("read", None), from the records
        f, n = op
        if f == "add":
            return None, count + n  # (what the client sees, the next state)
        return count, count

    def read_only(self, op):  # lets a counterexample drop reads when it shrinks
        return op[0] == "read"
