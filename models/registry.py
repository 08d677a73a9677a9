"""Every protocol smrcheck knows, in one place: its model for `check`, and for traces
its event monitor and the trace map that conformance runs through.

Everything is imported when it is used: `MODELS` names each model's spec module and
loads it on first lookup, so checking PBFT never loads the MultiPaxos model, and
validating a PBFT run loads neither. Listing the models (`smrcheck models`) loads
every spec; a spec lists its property ids from its invariants' table, without
building a model. Which model a trace is checked against follows from its
header: a format-1 MultiPaxos run (every node a replica, phase 1 for all slots) is a
run of the MultiPaxos model; a format-2 run may separate proposers, acceptors and
learners and run phase 1 per slot, which is one single-decree Paxos instance per slot
(Paxos Made Simple §3), so it is checked slot by slot against the Paxos model.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import import_module
from typing import Any

from ..checker.errors import UsageError
from ..checker.model import ModelSpec
from ..checker.conformance import Conformance, OutsideModel
from .common.service import WithService, with_service

# model name -> the module whose SPEC describes it, in the order `smrcheck models` lists
SPECS = {"paxos": "paxos.spec", "multipaxos": "multipaxos.spec", "pbft": "pbft.spec",
         "generals": "generals.spec", "fastpaxos": "fastpaxos.spec"}


class _Specs(Mapping[str, ModelSpec]):
    """The models by name; a model's modules are imported at its first lookup."""

    def __getitem__(self, name: str) -> ModelSpec:
        return import_module(f".{SPECS[name]}", __package__).SPEC

    def __iter__(self) -> Iterator[str]:
        return iter(SPECS)

    def __len__(self) -> int:
        return len(SPECS)


MODELS: Mapping[str, ModelSpec] = _Specs()

# protocol -> (monitor module, monitor class)
MONITORS = {"multipaxos": ("multipaxos.monitor", "MultiPaxosMonitor"),
            "pbft": ("pbft.monitor", "PbftMonitor")}


def monitor_for(header: Any) -> Any:
    """The event monitor of a run: its protocol's invariants over events, and beside
    them what the clients saw (models/common/service.py: KV-LINEARIZABLE and the
    execution cross-checks), in one report."""
    module, cls = MONITORS[header.protocol]
    protocol = getattr(import_module(f".{module}", __package__), cls)(header)
    return with_service(protocol, header)


def trace_map_module(header: Any) -> str:
    """The module whose `for_header(header, monitor)` maps this run's events to steps."""
    if header.protocol == "multipaxos" and getattr(header, "version", 1) >= 2:
        return "paxos.trace_map"
    return f"{header.protocol}.trace_map"


def conformance_for(header: Any, monitor: Any, required: bool = False
                    ) -> tuple[Conformance | None, str | None]:
    """The conformance check of a run, or (None, the reason the model cannot describe
    it). `required`: conformance was asked for by name (`--conformance`), so a run no
    model can describe is a usage error, not a warning."""
    name = trace_map_module(header)
    # The map asks the protocol's monitor (PBFT: prepared, committed_local), directly
    # rather than through the service monitor beside it.
    if isinstance(monitor, WithService):
        monitor = monitor.protocol
    try:
        module = import_module(f".{name}", __package__)
    except ModuleNotFoundError:
        why = f"no trace map for {header.protocol} yet (models/{name.replace('.', '/')}.py)"
        if required:
            raise UsageError(f"conformance: {why}; validate with --no-conformance") from None
        return None, why
    try:
        return Conformance(*module.for_header(header, monitor)), None
    except OutsideModel as why:
        if required:
            raise UsageError(f"conformance: outside the model ({why}); validate with "
                             "--no-conformance") from None
        return None, str(why)


def proof_for(name: str, mutant: str | None = None) -> Any:
    """The proof obligations of model `name` (or of one of its mutants) for
    `smrcheck prove`: its inductive invariant, actions and safety property as z3
    queries. A model without a proof module is a usage error naming those with one."""
    proofs = {"paxos": "paxos.proof",  # model -> module with build(mutant)
              "multipaxos": "multipaxos.proof"}
    if name not in proofs:
        raise UsageError(f"prove: no inductive invariant for model {name} yet; "
                         f"models with one: {', '.join(proofs)}")
    return import_module(f".{proofs[name]}", __package__).build(mutant)
