"""Every model the CLI can check, by name."""

from __future__ import annotations

from ..checker.model import ModelSpec
from .paxos.spec import SPEC as PAXOS

MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in (PAXOS,)}
