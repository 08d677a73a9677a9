"""Every package in the tree is one that `pip install .` installs.

pyproject.toml lists the packages by name (the folders are mapped under `smrcheck`), so
a new model package that is not added there works in an editable install and in the
tests run from the tree, and is missing from a plain `pip install .`: `smrcheck check
generals` would then fail for every user. This test walks the folders instead."""

from __future__ import annotations

import pathlib
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_every_package_folder_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setup = config["tool"]["setuptools"]
    listed = set(setup["packages"])
    # Longest folder first, so that checker/api maps to `smrcheck`, not smrcheck.checker.api.
    dirs = sorted(setup["package-dir"].items(), key=lambda kv: -len(kv[1]))
    found = set()
    inits = {i for _, where in dirs for i in (ROOT / where).rglob("__init__.py")}
    for init in sorted(inits):
        folder = init.parent.relative_to(ROOT).as_posix()
        for package, where in dirs:
            if folder == where or folder.startswith(where + "/"):
                rest = folder[len(where):].strip("/")
                found.add(package + ("." + rest.replace("/", ".") if rest else ""))
                break
    assert found, "no package folders found"
    assert found - listed == set(), "packages missing from pyproject.toml"
