"""Names of nodes and values at the edge of a model.

Inside a hot state every node and value is a small int (a `str` hash is salted per
process, which would change fingerprints between runs); these functions give them
the names users read in counterexamples, in TLA+'s style (a1, v1, None).
"""

from __future__ import annotations

NONE = -1  # stands for TLA+'s `None` / "no ballot": ints only inside states


def acceptor_name(a: int) -> str:
    return f"a{a + 1}"


def replica_name(r: int) -> str:
    return f"r{r}"


def value_name(v: int) -> str:
    return "None" if v == NONE else f"v{v + 1}"


def node_set(nodes) -> str:
    return "{" + ", ".join(acceptor_name(a) for a in sorted(nodes)) + "}"
