"""Every model the CLI can check, by name."""

from __future__ import annotations

from ..checker.model import ModelSpec
from .multipaxos.spec import SPEC as MULTIPAXOS
from .paxos.spec import SPEC as PAXOS
from .pbft.spec import SPEC as PBFT

MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in (PAXOS, MULTIPAXOS, PBFT)}
