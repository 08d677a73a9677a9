"""Which model a name on the command line means: ours, an installed plugin's, or the
user's own file or module.

`smrcheck check MODEL` takes, in this order:
- the name of one of our models (`paxos`, `multipaxos`, `pbft`, models/registry.py);
- the name an installed package gives a model in the `smrcheck.models` entry-point
  group (`[project.entry-points."smrcheck.models"] leases = "mypkg.leases:SPEC"`);
- `path/to/file.py:NAME` or `package.module:NAME`, as uvicorn and pytest name objects.

NAME is a `ModelSpec`; or a Model class (or a function returning a model) whose
keyword parameters, each with an int or str default, become its `-p` options (a
parameter called `mutant` receives `--mutant`, whose names the class lists in a
`mutants` attribute); or a model object itself. That is Stateright's and TLC's
workflow, a model beside the code, with nothing registered.

A file is imported under a name derived from its stem (`_smrcheck_model_twophase`),
with its folder first on `sys.path` as `python file.py` would have it, so it can import
its neighbours, and so that states pickled by a checkpoint load again on `--resume`.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import replace
from importlib import import_module, util
from importlib.metadata import entry_points
from typing import Any

from .errors import SmrcheckError, UsageError
from .model import ModelSpec, Mutant, Param

GROUP = "smrcheck.models"
FILE_PREFIX = "_smrcheck_model_"


def builtin() -> Mapping[str, ModelSpec]:
    from ..models.registry import MODELS

    return MODELS


def installed() -> tuple[dict[str, Callable[[], ModelSpec]], list[str]]:
    """The models installed packages add, by name (each loaded when called), and a
    warning per entry point that cannot be one (a name clash with ours)."""
    found: dict[str, Callable[[], ModelSpec]] = {}
    warnings: list[str] = []
    ours = set(builtin())
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        if ep.name in ours or ep.name in found:
            warnings.append(f"entry point {ep.name} = {ep.value} in group {GROUP} is "
                            f"ignored: a model named {ep.name} is already known")
            continue
        found[ep.name] = lambda ep=ep: as_spec(_load_entry(ep), ep.name, ep.value)
    return found, warnings


def _load_entry(ep: Any) -> Any:
    try:
        return ep.load()
    except SmrcheckError:
        raise
    except Exception as exc:
        raise UsageError(f"model {ep.name} (entry point {ep.value}) cannot be loaded: "
                         f"{type(exc).__name__}: {exc}") from None


def all_specs() -> tuple[list[ModelSpec], list[str]]:
    """`smrcheck models`: ours, then the installed ones, and warnings for any that
    cannot load (listed, not fatal: one broken plugin must not hide the rest)."""
    specs = list(builtin().values())
    plugins, warnings = installed()
    for name, load in plugins.items():
        try:
            specs.append(load())
        except SmrcheckError as err:
            warnings.append(str(err))
    return specs, warnings


def load_spec(ref: str) -> ModelSpec:
    """The model `ref` names, or a UsageError saying why there is none."""
    models = builtin()
    if ref in models:
        return models[ref]
    plugins, _ = installed()
    if ref in plugins:
        return plugins[ref]()
    path, sep, name = ref.rpartition(":")
    if not sep or not path or not name:
        allowed = ", ".join([*models, *plugins])
        raise UsageError(f"unknown model {ref!r}; allowed: {allowed}, or FILE.py:NAME or "
                         "package.module:NAME for a model of your own")
    module = load_module(path)
    if not hasattr(module, name):
        offered = [k for k, v in vars(module).items()
                   if not k.startswith("_") and _looks_like_model(v)]
        hint = f"; it defines: {', '.join(offered)}" if offered else ""
        raise UsageError(f"{path} has no {name!r}{hint}")
    return as_spec(getattr(module, name), name, ref)


def load_module(where: str, what: str = "model") -> Any:
    """The module `where` names, a file (`path/to/file.py`) or a dotted module, for the
    left side of a `WHERE:NAME` reference to a `what` (a model, a sequential spec);
    a UsageError of one line when it cannot be imported."""
    return load_file(where, what) if _is_file(where) else _load_module(where)


def _is_file(path: str) -> bool:
    return path.endswith(".py") or os.sep in path or "/" in path


def load_file(path: str, what: str = "model") -> Any:
    if not os.path.isfile(path):
        raise UsageError(f"{what} file {path!r} not found")
    full = os.path.abspath(path)
    stem = os.path.splitext(os.path.basename(full))[0]
    mod_name = FILE_PREFIX + "".join(c if c.isalnum() else "_" for c in stem)
    existing = sys.modules.get(mod_name)
    if existing is not None and getattr(existing, "__file__", None) == full:
        return existing
    folder = os.path.dirname(full)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = util.spec_from_file_location(mod_name, full)
    if spec is None or spec.loader is None:
        raise UsageError(f"{what} file {path!r} is not a Python file")
    module = util.module_from_spec(spec)
    # Registered before it runs: a dataclass looks its module up while it is built.
    sys.modules[mod_name] = module
    try:
        spec.loader.exec_module(module)
    except SmrcheckError:
        raise
    except Exception as exc:
        del sys.modules[mod_name]
        raise UsageError(f"{what} file {path!r} failed to import: {_first_line(exc)}"
                         ) from None
    return module


def _load_module(dotted: str) -> Any:
    # As `python -m` would: the working directory's packages are importable.
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    try:
        return import_module(dotted)
    except ModuleNotFoundError as exc:
        if exc.name and dotted.startswith(exc.name):
            raise UsageError(f"no module named {dotted!r} (a file is named path/to/file.py:NAME)"
                             ) from None
        raise UsageError(f"module {dotted!r} failed to import: {_first_line(exc)}") from None
    except SmrcheckError:
        raise
    except Exception as exc:
        raise UsageError(f"module {dotted!r} failed to import: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    where = ""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is not None:
        where = f" at {os.path.basename(tb.tb_frame.f_code.co_filename)}:{tb.tb_lineno}"
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}{where}"


def model_fault(exc: BaseException) -> str | None:
    """For an exception that escaped a search: where in a model of the user's it was
    raised ("KeyError: 3 at twophase.py:41"), or None when it came from smrcheck's own
    code, which is then our bug (exit 4)."""
    ours = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    if last is None or os.path.abspath(last).startswith(ours + os.sep):
        return None
    return _first_line(exc)


def _a(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _looks_like_model(obj: Any) -> bool:
    return isinstance(obj, ModelSpec) or (
        hasattr(obj, "init_states") and hasattr(obj, "next_state"))


def as_spec(obj: Any, name: str, ref: str) -> ModelSpec:
    """`obj` as a ModelSpec: itself, or a spec built around a Model class, a factory
    function or a model object."""
    if isinstance(obj, ModelSpec):
        if obj.property_ids:
            return obj
        # `smrcheck models` lists property ids without building; ours declare them, a
        # user's spec need not: its model with the default parameters tells them.
        defaults = {p.name: p.default for p in obj.params}
        return replace(obj, property_ids=_property_ids(_built(obj.build, defaults, ref, name),
                                                       ref))
    if _looks_like_model(obj) and not inspect.isclass(obj):
        return ModelSpec(name=name, summary=_summary(type(obj)), params=(), mutants=(),
                         build=lambda params, mutant, obj=obj: obj,
                         property_ids=_property_ids(obj, ref))
    if not callable(obj) or (inspect.isclass(obj) and not _looks_like_model(obj)):
        what = f"the class {obj.__name__}" if inspect.isclass(obj) else _a(type(obj).__name__)
        raise UsageError(f"{ref} is {what}, not a model (a model has init_states, actions, "
                         "next_state and properties): give a ModelSpec, a Model class, or a "
                         "function that returns a model")
    return _factory_spec(obj, getattr(obj, "__name__", name), ref)


def _factory_spec(factory: Callable[..., Any], name: str, ref: str) -> ModelSpec:
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        raise UsageError(f"{ref}: cannot read the parameters of {name}") from None
    params: list[Param] = []
    takes_mutant = False
    for p in signature.parameters.values():
        if p.name == "mutant":
            takes_mutant = True
            continue
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.default is p.empty or isinstance(p.default, bool) or not isinstance(
                p.default, int | str):
            raise UsageError(
                f"{ref}: parameter {p.name!r} of {name} needs an int or str default to be a "
                f"-p option (got {'none' if p.default is p.empty else repr(p.default)}); "
                "give it one, or describe the model with a ModelSpec")
        if isinstance(p.default, int):
            params.append(Param(p.name, p.default, f"{name}({p.name}=...)"))
        else:
            params.append(Param(p.name, p.default, f"{name}({p.name}=...)", text="text"))
    mutants = _mutants(getattr(factory, "mutants", ()), ref)
    if mutants and not takes_mutant:
        raise UsageError(f"{ref}: {name} lists mutants but takes no `mutant` parameter")

    def build(values: Mapping[str, Any], mutant: str | None) -> Any:
        kwargs = dict(values)
        if takes_mutant:
            kwargs["mutant"] = mutant
        return factory(**kwargs)

    model = _built(build, {p.name: p.default for p in params}, ref, name)
    return ModelSpec(name=name, summary=_summary(factory), params=tuple(params),
                     mutants=mutants, build=build, property_ids=_property_ids(model, ref))


def _built(build: Callable[[Mapping[str, Any], str | None], Any], defaults: dict[str, Any],
           ref: str, name: str) -> Any:
    try:
        return build(defaults, None)
    except SmrcheckError:
        raise
    except Exception as exc:
        raise UsageError(f"{ref}: {name} with its default parameters failed: "
                         f"{_first_line(exc)}") from None


def _mutants(declared: Any, ref: str) -> tuple[Mutant, ...]:
    infos = declared.infos() if hasattr(declared, "infos") else tuple(declared)
    if not all(isinstance(m, Mutant) for m in infos):
        raise UsageError(f"{ref}: `mutants` must be a Mutants table or Mutant entries")
    return tuple(infos)


def _summary(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().split("\n\n")[0].replace("\n", " ") or getattr(obj, "__name__", "model")


def _property_ids(model: Any, ref: str) -> tuple[str, ...]:
    if not _looks_like_model(model):
        raise UsageError(f"{ref} built {_a(type(model).__name__)}, not a model (a model has "
                         "init_states, actions, next_state and properties)")
    try:
        return tuple(p.id for p in model.properties())
    except AttributeError:
        raise UsageError(f"{ref} is not a model: it has no properties()") from None
