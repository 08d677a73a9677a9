"""The replicated state machine: a key-value store over string commands.

Ops: `put K V` -> "ok", `get K` -> the value ("" if none), `append K V` -> the new
value. Anything else -> "error: ..." (still deterministic, so replicas agree on it).
`Sessions` keeps, per client, which request ids were applied and their results, so a
retried request runs at most once and its retry gets the first result.
"""

from __future__ import annotations

from collections import OrderedDict


class KVStore:
    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    def apply(self, op: str) -> str:
        parts = op.split(" ", 2)
        verb = parts[0]
        if verb == "get" and len(parts) == 2:
            return self.data.get(parts[1], "")
        if verb == "put" and len(parts) == 3:
            self.data[parts[1]] = parts[2]
            return "ok"
        if verb == "append" and len(parts) == 3:
            v = self.data.get(parts[1], "") + parts[2]
            self.data[parts[1]] = v
            return v
        return f"error: unknown op {op!r}"

    # What injected client-visible bugs answer instead (impl/*/replica.py CLIENT_BUGS).

    def preview(self, op: str) -> str:
        """The result `op` would have if it ran now; the state is left as it is."""
        guess = KVStore()
        guess.data = dict(self.data)
        return guess.apply(op)

    def value_before(self, op: str) -> str:
        """The value of `op`'s key as it stands, before `op` runs ("" for no key)."""
        parts = op.split(" ", 2)
        return self.data.get(parts[1], "") if len(parts) > 1 else ""


class Sessions:
    """At-most-once: per client a watermark of applied request ids (every id below it
    applied) plus the ids above it, and the latest results for retries."""

    KEEP = 4096

    def __init__(self) -> None:
        self.low: dict[str, int] = {}
        self.above: dict[str, set[int]] = {}
        self.results: OrderedDict[tuple[str, int], str] = OrderedDict()

    def applied(self, client: str, req: int) -> bool:
        return req < self.low.get(client, 0) or req in self.above.get(client, ())

    def result(self, client: str, req: int) -> str:
        return self.results.get((client, req), "")

    def execute(self, kv: KVStore, client: str, req: int, op: str, *, rerun: bool = False,
                tell_value_before: bool = False) -> tuple[bool, str, str | None]:
        """Run (client, req)'s `op` on `kv` at most once: (applied, result, told). A retry
        is not applied and gets the first result. `told` is what the reply says when an
        injected bug makes it differ from the result (else None): `tell_value_before`
        answers the key's value before the op; `rerun` applies a duplicate again."""
        if self.applied(client, req) and not rerun:
            return False, self.result(client, req), None
        told = kv.value_before(op) if tell_value_before else None
        result = kv.apply(op)
        self.record(client, req, result)
        return True, result, told

    def record(self, client: str, req: int, result: str) -> None:
        low = self.low.get(client, 0)
        above = self.above.setdefault(client, set())
        if req == low:
            low += 1
            while low in above:
                above.discard(low)
                low += 1
            self.low[client] = low
        elif req > low:
            above.add(req)
        self.results[(client, req)] = result
        if len(self.results) > self.KEEP:
            self.results.popitem(last=False)
