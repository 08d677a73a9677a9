"""The model registry: a model is loaded when it is used, and a spec lists its property
ids from data, the same ids, in the same order, as a model built from it checks."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from smrcheck.models.registry import MODELS

PROTOCOLS = ("paxos", "multipaxos", "pbft", "generals", "fastpaxos")


def loaded_models(code: str) -> list[str]:
    """The protocol packages of smrcheck.models that `code` loads, in a fresh process."""
    probe = (code + "\nimport sys\nprint(sorted(p for p in " + repr(PROTOCOLS) +
             " if 'smrcheck.models.' + p in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    return ast.literal_eval(out)


def test_models_load_when_used():
    assert loaded_models("from smrcheck.models.registry import MODELS\nlist(MODELS)") == []
    assert loaded_models("from smrcheck.models.registry import MODELS\nMODELS['pbft']") == ["pbft"]
    assert loaded_models("from smrcheck.models.registry import MODELS\n"
                         "MODELS.get('paxos')") == ["paxos"]


def test_registry_lists_every_model_by_its_name():
    assert list(MODELS) == list(PROTOCOLS) and len(MODELS) == len(PROTOCOLS)
    assert [spec.name for spec in MODELS.values()] == list(PROTOCOLS)
    assert MODELS.get("nope") is None and "nope" not in MODELS


@pytest.mark.parametrize("name", PROTOCOLS)
def test_property_ids_from_data_are_the_built_models(name):
    spec = MODELS[name]
    defaults = {p.name: p.default for p in spec.params}
    model = spec.build(defaults, None)
    assert spec.property_ids == tuple(p.id for p in model.properties())
