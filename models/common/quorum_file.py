"""Explicit quorum systems read from a JSON file (`smrcheck quorums --system explicit
--file F`): `{"n": 5, "quorums": [[0, 1, 2], ...]}`, or `phase1` and `phase2` lists for
Flexible Paxos, with `f` and `byzantine` as the prover needs them.

pydantic checks the file at this I/O boundary, field by field; it lives apart from
`quorums` so that a replica, which loads the quorum vocabulary, never loads pydantic.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ...checker.errors import UsageError
from .quorums import AnyOf, QuorumSystem


class _ExplicitFile(BaseModel):
    """The JSON of `smrcheck quorums --system explicit --file F`."""

    model_config = ConfigDict(extra="forbid")
    n: int = Field(ge=1, le=1000)
    f: int = Field(default=0, ge=0)
    byzantine: bool = False
    quorums: list[list[int]] | None = None
    phase1: list[list[int]] | None = None
    phase2: list[list[int]] | None = None


def load_explicit(path: str) -> QuorumSystem:
    try:
        with open(path, encoding="utf-8") as fh:
            raw = fh.read()
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text; give a JSON file") from None
    try:
        spec = _ExplicitFile.model_validate_json(raw)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise UsageError(f"{path}: field {where}: {first['msg']}") from None
    phase1 = spec.phase1 if spec.phase1 is not None else spec.quorums
    phase2 = spec.phase2 if spec.phase2 is not None else spec.quorums
    if not phase1 or not phase2:
        raise UsageError(f"{path}: give quorums, or both phase1 and phase2, as lists of node lists")
    for label, sets in (("phase1", phase1), ("phase2", phase2)):
        for q in sets:
            bad = [i for i in q if not 0 <= i < spec.n]
            if bad or not q:
                raise UsageError(f"{path}: field {label}: quorum {q} must name nodes in 0..{spec.n - 1}")
    return QuorumSystem("explicit", spec.n, spec.f, spec.byzantine,
                        AnyOf(tuple(frozenset(q) for q in phase1)),
                        AnyOf(tuple(frozenset(q) for q in phase2)))
