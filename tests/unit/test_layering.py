"""The layering of the package, read from its imports (DESIGN.md; issue #15).

Every module of checker/, models/, impl/ and traces/ is parsed with `ast`; each
`import`, `from ... import` (relative ones resolved against the importer's package) and
`importlib.import_module("...")` with a literal name becomes an edge from the importer
to the module it loads, wherever it stands: at module level, in a class body, inside a
function (a lazy import still couples two layers) or under `if TYPE_CHECKING:` (a type
still names the layer). The rules:

- checker/ imports no protocol (nothing from smrcheck.models, .impl, .traces), except at
  the composition points of `CHECKER_MAY_IMPORT`, each with its reason;
- models/ import from checker/ only its contracts (`MODELS_MAY_IMPORT_FROM_CHECKER`);
- impl/ imports no model transitions: of models/ only the shared vocabulary (ids,
  quorum systems, roles, message types), and nothing it loads imports more;
- traces/ does not import the validator (smrcheck.checker.validate);
- no import cycles between modules, over the imports that run when a module is
  imported (module level, not under `if TYPE_CHECKING:`);
- no module over 500 lines without a reason: a docstring line starting "Size:".

The scan itself is tested on small sources first, and on the tree for the edges that
must be there, so that a rule cannot hold because the scan found nothing.
"""

from __future__ import annotations

import ast
import pathlib
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
# Folder at the repository root -> the import package it installs as (pyproject.toml).
PACKAGES = {"checker": "smrcheck.checker", "models": "smrcheck.models",
            "impl": "smrcheck.impl", "traces": "smrcheck.traces",
            # the public API, installed as the top-level package
            "checker/api": "smrcheck"}
PROTOCOL = ("smrcheck.models", "smrcheck.impl", "smrcheck.traces")
MAX_LINES = 500

# (importer, function or None for anywhere in it, modules it may import, reason).
# An importer or a target names a module or a package with everything under it; a
# function names a top-level function or method (`Class.method`) with its nested ones.
CHECKER_MAY_IMPORT = (
    ("smrcheck.checker.cli", None, PROTOCOL,
     "the composition root: parses a command and wires the engine to a protocol"),
    ("smrcheck.checker.validate", "validate_run",
     ("smrcheck.traces.reader", "smrcheck.models.registry"),
     "the one validation pipeline: reads the run and looks up its protocol's monitor and "
     "trace map when called, so importing the validator loads no protocol"),
    ("smrcheck.checker.loader", "builtin", ("smrcheck.models.registry",),
     "which model a name means: ours are looked up in the registry when one is asked for"),
    ("smrcheck.checker.quorums", None, ("smrcheck.models.common.quorums",),
     "z3 proofs over the QuorumSystem vocabulary of models/common (DESIGN.md): the prover "
     "imports the vocabulary, never the reverse, so no replica loads z3 (issue #15)"),
    ("smrcheck.checker.render", None, ("smrcheck.traces.reader",),
     "draws traces for a person: may read them with the trace reader"),
)
MODELS_MAY_IMPORT_FROM_CHECKER = {
    "smrcheck.checker.model": "the Model protocol, Property, ModelSpec a model implements",
    "smrcheck.checker.errors": "the one error hierarchy (UsageError for bad parameters)",
    "smrcheck.checker.conformance": "the monitor and trace-map contracts, not the validator",
    "smrcheck.checker.linearizability": "the sequential-spec contract a service's model "
                                        "implements (Spec), and the history checker the "
                                        "service monitor runs at the end of a run",
}
# Of models/, impl/ may import only the words the replicas share with the models.
IMPL_VOCABULARY_PACKAGES = ("smrcheck.models.common",)  # ids, quorum systems, roles
IMPL_VOCABULARY_MODULES = ("messages",)                # models/<protocol>/messages.py
IMPL_NOT_VOCABULARY = ("smrcheck.models.common.monitor",)  # event invariants: checking


@dataclass(frozen=True)
class Import:
    importer: str
    target: str
    path: str  # relative to the repository root
    line: int
    function: str | None  # enclosing function (`f`, `C.m`, `f.g`); None at module level
    type_checking: bool  # under `if TYPE_CHECKING:`
    implicit: bool = False  # not written: the package of a module runs before it

    @property
    def at_import_time(self) -> bool:
        return self.function is None and not self.type_checking

    def __str__(self) -> str:
        if self.implicit:
            return f"{self.importer} runs its package {self.target}"
        where = f" in {self.function}()" if self.function else ""
        where += " (TYPE_CHECKING)" if self.type_checking else ""
        return f"{self.path}:{self.line}: {self.importer} imports {self.target}{where}"


@dataclass(frozen=True)
class Module:
    name: str
    path: str
    is_package: bool
    source: str

    @property
    def package(self) -> str:
        return self.name if self.is_package else self.name.rpartition(".")[0]


def under(name: str, prefixes: Iterable[str]) -> bool:
    """`name` is one of `prefixes` or a module inside one of them."""
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def tree_modules(root: pathlib.Path = ROOT) -> dict[str, Module]:
    modules = {}
    for folder, package in PACKAGES.items():
        for path in sorted((root / folder).rglob("*.py")):
            parts = path.relative_to(root / folder).with_suffix("").parts
            if "__pycache__" in parts:
                continue
            if any(path.is_relative_to(root / other) for other in PACKAGES
                   if other != folder and other.startswith(folder + "/")):
                continue  # a folder installed as a package of its own
            is_package = parts[-1] == "__init__"
            name = ".".join((package, *(parts[:-1] if is_package else parts)))
            modules[name] = Module(name, str(path.relative_to(root)), is_package,
                                   path.read_text(encoding="utf-8"))
    return modules


def resolve(module: Module, level: int, name: str | None) -> str:
    """The absolute name of `from {'.' * level}{name} import ...` written in `module`."""
    if level == 0:
        return name or ""
    base = module.package
    for _ in range(level - 1):
        base = base.rpartition(".")[0]
    return f"{base}.{name}" if name else base


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(module: Module, known: Iterable[str]) -> Iterator[Import]:
    """Every import in `module`; `from P import x` names P.x when P.x is a module of
    `known`, else P (x is then a name defined in P)."""
    known = set(known)
    tree = ast.parse(module.source, module.path)

    def found(node: ast.AST, target: str, function: str | None, tc: bool) -> Import:
        return Import(module.name, target, module.path, node.lineno, function, tc)

    def visit(node: ast.AST, scope: tuple[str, ...], function: str | None,
              tc: bool) -> Iterator[Import]:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield found(node, alias.name, function, tc)
        elif isinstance(node, ast.ImportFrom):
            base = resolve(module, node.level, node.module)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield found(node, sub if sub in known else base, function, tc)
        elif isinstance(node, ast.Call) and _import_module_name(node) is not None:
            name = _import_module_name(node)
            if name.startswith("."):
                level = len(name) - len(name.lstrip("."))
                name = resolve(module, level, name[level:] or None)
            yield found(node, name, function, tc)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            scope = (*scope, node.name)
            if not isinstance(node, ast.ClassDef):
                function = ".".join(scope)
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                yield from visit(child, scope, function, True)
            for child in node.orelse:
                yield from visit(child, scope, function, tc)
            return
        for child in ast.iter_child_nodes(node):
            yield from visit(child, scope, function, tc)

    yield from visit(tree, (), None, False)


def _import_module_name(call: ast.Call) -> str | None:
    """The literal name of `import_module("x")` / `importlib.import_module(".x",
    __package__)`; None for any other call or a computed name."""
    func = call.func
    named = (isinstance(func, ast.Name) and func.id == "import_module") or (
        isinstance(func, ast.Attribute) and func.attr == "import_module")
    if not named or not call.args:
        return None
    first = call.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


@pytest.fixture(scope="module")
def modules() -> dict[str, Module]:
    return tree_modules()


@pytest.fixture(scope="module")
def imports(modules) -> list[Import]:
    # One entry per module imported (`from .x import a, b` is one import of x).
    return list(dict.fromkeys(imp for m in modules.values() for imp in imports_of(m, modules)
                              if under(imp.target, ("smrcheck",))))


def report(violations: list) -> str:
    return "\n" + "\n".join(str(v) for v in violations)


# -- the scan ------------------------------------------------------------------------------


def _scan(name: str, source: str, is_package: bool = False,
          known: Iterable[str] = ()) -> list[tuple[str, str | None, bool]]:
    m = Module(name, name.replace(".", "/") + ".py", is_package, source)
    return [(i.target, i.function, i.type_checking) for i in imports_of(m, known)]


def test_relative_imports_resolve_against_the_package():
    src = ("from . import errors, VERSION\n"
           "from .errors import UsageError\n"
           "from ..models.registry import MODELS\n")
    got = _scan("smrcheck.checker.cli", src, known={"smrcheck.checker.errors"})
    assert [t for t, _, _ in got] == [
        "smrcheck.checker.errors", "smrcheck.checker", "smrcheck.checker.errors",
        "smrcheck.models.registry"]
    assert _scan("smrcheck.models.multipaxos.spec", "from ...checker.model import Model\n") == [
        ("smrcheck.checker.model", None, False)]
    # In a package's __init__, `.` is the package itself.
    assert _scan("smrcheck.checker.render", "from .tables import t\nfrom .. import model\n",
                 is_package=True, known={"smrcheck.checker.model"}) == [
        ("smrcheck.checker.render.tables", None, False), ("smrcheck.checker.model", None, False)]


def test_imports_inside_functions_classes_and_type_checking_are_found():
    src = ("import a.b\n"
           "from typing import TYPE_CHECKING\n"
           "if TYPE_CHECKING:\n"
           "    from .c import C\n"
           "else:\n"
           "    import d\n"
           "class K:\n"
           "    import e\n"
           "    def m(self):\n"
           "        def inner():\n"
           "            from .f import g\n"
           "async def run():\n"
           "    import h\n"
           "def load():\n"
           "    return importlib.import_module('.spec', __package__), import_module('i.j')\n")
    assert [x for x in _scan("p.q", src) if x[0] != "typing"] == [
        ("a.b", None, False), ("p.c", None, True), ("d", None, False), ("e", None, False),
        ("p.f", "K.m.inner", False), ("h", "run", False), ("p.spec", "load", False),
        ("i.j", "load", False)]


def test_the_scan_sees_the_tree(modules, imports):
    """Not vacuous: the tree's modules are all read, and the composition edges that
    must exist are found where they are written."""
    assert {"smrcheck.checker.cli", "smrcheck.checker.validate", "smrcheck.models.registry",
            "smrcheck.impl.multipaxos.replica", "smrcheck.traces.reader"} <= set(modules)
    edges = {(i.importer, i.target, i.function) for i in imports}
    assert ("smrcheck.checker.validate", "smrcheck.traces.reader", "validate_run") in edges
    assert ("smrcheck.checker.validate", "smrcheck.models.registry", "validate_run") in edges
    assert any(i.importer == "smrcheck.checker.cli" and under(i.target, PROTOCOL)
               for i in imports)
    assert any(i.importer.startswith("smrcheck.impl.") and
               i.target == "smrcheck.models.common.quorums" for i in imports)


# -- the rules -----------------------------------------------------------------------------


def _checker_may(imp: Import) -> bool:
    for importer, function, targets, _reason in CHECKER_MAY_IMPORT:
        if not under(imp.importer, (importer,)) or not under(imp.target, targets):
            continue
        if function is None or (imp.function is not None and
                                under(imp.function, (function,))):
            return True
    return False


def test_the_checker_allow_list_is_read_as_written():
    def imp(importer: str, target: str, function: str | None = None) -> Import:
        return Import(importer, target, "", 0, function, False)
    assert _checker_may(imp("smrcheck.checker.validate", "smrcheck.traces.reader", "validate_run"))
    assert _checker_may(imp("smrcheck.checker.validate", "smrcheck.models.registry",
                            "validate_run.inner"))
    assert not _checker_may(imp("smrcheck.checker.validate", "smrcheck.traces.reader"))
    assert not _checker_may(imp("smrcheck.checker.validate", "smrcheck.traces.reader",
                                "validate_runs"))
    assert not _checker_may(imp("smrcheck.checker.validate", "smrcheck.models.pbft.monitor",
                                "validate_run"))
    assert _checker_may(imp("smrcheck.checker.cli", "smrcheck.impl.launch", "cmd_run"))
    assert _checker_may(imp("smrcheck.checker.render.chart", "smrcheck.traces.reader"))
    assert not _checker_may(imp("smrcheck.checker.render.chart", "smrcheck.traces.format"))
    assert not _checker_may(imp("smrcheck.checker.render.run_chart", "smrcheck.models.registry"))
    assert not _checker_may(imp("smrcheck.checker.search.bfs", "smrcheck.models.paxos.spec"))


def test_checker_imports_no_protocol(imports):
    bad = [i for i in imports if under(i.importer, ("smrcheck.checker",))
           and under(i.target, PROTOCOL) and not _checker_may(i)]
    assert not bad, report(bad)


def test_models_import_only_the_checkers_contracts(imports):
    bad = [i for i in imports if under(i.importer, ("smrcheck.models",))
           and under(i.target, ("smrcheck.checker",))
           and i.target not in MODELS_MAY_IMPORT_FROM_CHECKER]
    assert not bad, report(bad)


def _vocabulary(target: str, modules: dict[str, Module]) -> bool:
    """A module of models/ the replicas may share: a package (what its __init__ loads
    is followed apart), the common vocabulary but its event monitor, a protocol's
    message types."""
    if target in modules and modules[target].is_package:
        return True
    if under(target, IMPL_NOT_VOCABULARY):
        return False
    return (under(target, IMPL_VOCABULARY_PACKAGES)
            or target.rpartition(".")[2] in IMPL_VOCABULARY_MODULES)


def test_impl_imports_no_model_transitions(modules, imports):
    """impl/ writes the handlers again (DESIGN.md: share vocabulary, never transition
    code): directly, and through what its imports load when imported."""
    bad = [str(i) for i in imports if under(i.importer, ("smrcheck.impl",))
           and under(i.target, ("smrcheck.models",)) and not _vocabulary(i.target, modules)]
    graph = _import_time_graph(modules, imports)
    for start in sorted(m for m in modules if under(m, ("smrcheck.impl",))):
        for chain in _paths(graph, start, modules):
            transitions = [under(i.target, ("smrcheck.models",))
                           and not _vocabulary(i.target, modules) for i in chain]
            # The first transition module on the way, reached through something else
            # than impl/ (a direct import is reported above).
            if (transitions[-1] and not any(transitions[:-1])
                    and not under(chain[-1].importer, ("smrcheck.impl",))):
                bad.append("\n    then ".join(str(i) for i in chain))
    assert not bad, report(sorted(set(bad)))


def test_traces_do_not_import_the_validator(imports):
    bad = [i for i in imports if under(i.importer, ("smrcheck.traces",))
           and under(i.target, ("smrcheck.checker.validate",))]
    assert not bad, report(bad)


def _import_time_graph(modules, imports) -> dict[str, list[Import]]:
    graph: dict[str, list[Import]] = {m: [] for m in modules}
    for i in imports:
        if i.at_import_time and i.target in modules and i.target != i.importer:
            graph[i.importer].append(i)
    return graph


def _loads(graph: dict[str, list[Import]], modules: dict[str, Module],
           name: str) -> list[Import]:
    """What importing `name` runs: its import-time imports, and its packages'
    __init__ (Python runs those first)."""
    parents = [Import(name, p, modules[name].path, 0, None, False, implicit=True)
               for p in _ancestors(name) if p in modules]
    return parents + graph[name]


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:k]) for k in range(len(parts) - 1, 0, -1)]


def _paths(graph: dict[str, list[Import]], start: str,
           modules: dict[str, Module]) -> Iterator[list[Import]]:
    """The first (shortest) chain of imports by which importing `start` loads each
    module."""
    seen, todo = {start}, deque([i] for i in _loads(graph, modules, start))
    while todo:
        chain = todo.popleft()
        if chain[-1].target in seen:
            continue
        seen.add(chain[-1].target)
        yield chain
        todo.extend([*chain, i] for i in _loads(graph, modules, chain[-1].target))


def _components(graph: dict[str, list[Import]]) -> list[list[str]]:
    """Strongly connected components (Tarjan), iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted({i.target for i in graph[root]})))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted({i.target for i in graph[w]}))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    component = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        component.append(w)
                        if w == v:
                            break
                    out.append(sorted(component))
    return out


def _shortest_cycle(graph: dict[str, list[Import]], component: list[str]) -> list[Import]:
    """The shortest chain of imports from the component's first module back to it."""
    start, inside = component[0], set(component)
    todo, seen = deque([i] for i in graph[start] if i.target in inside), {start}
    while todo:
        chain = todo.popleft()
        if chain[-1].target == start:
            return chain
        if chain[-1].target in seen:
            continue
        seen.add(chain[-1].target)
        todo.extend([*chain, i] for i in graph[chain[-1].target] if i.target in inside)
    raise AssertionError(f"no cycle through {start}")


def test_components_of_a_small_graph():
    def edges(**g: str) -> dict[str, list[Import]]:
        return {v: [Import(v, w, "", 0, None, False) for w in ws.split()]
                for v, ws in g.items()}
    got = _components(edges(a="b", b="c", c="a d", d="e", e="d", f="a"))
    assert sorted(got) == [["a", "b", "c"], ["d", "e"], ["f"]]
    g = edges(a="b c", b="a", c="b")
    assert [(i.importer, i.target) for i in _shortest_cycle(g, ["a", "b", "c"])] == [
        ("a", "b"), ("b", "a")]


def test_no_import_cycles(modules, imports):
    graph = _import_time_graph(modules, imports)
    cycles = []
    for component in _components(graph):
        if len(component) > 1:
            cycle = _shortest_cycle(graph, component)
            cycles.append(f"cycle among {len(component)} modules ({', '.join(component)}), "
                          "for one:\n    " + "\n    ".join(str(i) for i in cycle))
    assert not cycles, report(cycles)


def test_no_module_over_500_lines_without_a_reason(modules):
    bad = []
    for m in modules.values():
        lines = len(m.source.splitlines())
        doc = ast.get_docstring(ast.parse(m.source)) or ""
        if lines > MAX_LINES and not any(x.lstrip().startswith("Size:")
                                         for x in doc.splitlines()):
            bad.append(f"{m.path}: {lines} lines, no 'Size:' line in its docstring")
    assert not bad, report(sorted(bad))
