"""Models of the user's own: `smrcheck check FILE.py:NAME`, `package.module:NAME`, an
installed plugin's entry point, and the contract the engine holds them to (issue #16).

Each reference form is run through the real CLI in a subprocess, as a user types it;
bad references and models whose states would hash differently per process are refused
with one line naming what is wrong, exit 2, never a traceback or wrong counts.
"""

from __future__ import annotations

import ast
import json
import os
import pathlib
import subprocess
import sys
import textwrap
from dataclasses import dataclass

import pytest

import smrcheck
from smrcheck.checker.cli import main
from smrcheck.checker.contract import unstable_part
from smrcheck.checker.errors import InvalidModel, UsageError

ROOT = pathlib.Path(__file__).resolve().parents[2]

COUNTER = '''
"""A counter that counts up to n; a mutant overshoots."""
from dataclasses import dataclass
from smrcheck import ModelSpec, Mutants, Param, always, sometimes

@dataclass(frozen=True, slots=True)
class Rules:
    step: int = 1

MUTANTS = Mutants(Rules())
MUTANTS.add("overshoot", "counts past n", step=2)

@dataclass(frozen=True, slots=True)
class State:
    x: int
    hits: frozenset = frozenset()

class Counter:
    """Counts from 0 to n, one step at a time."""
    mutants = MUTANTS

    def __init__(self, n: int = 3, mutant: str | None = None):
        self.n = n
        self.rules = MUTANTS.rules_for(mutant)

    def init_states(self):
        return [State(0)]

    def actions(self, s):
        return [("Inc", 1)] if s.x < self.n else []

    def next_state(self, s, a):
        return State(s.x + self.rules.step, s.hits | {s.x})

    def properties(self):
        return [always("BOUNDED", lambda s: s.x <= self.n, "never past n"),
                sometimes("TOP", lambda s: s.x == self.n, "reaches n")]

def counter(n: int = 3):
    return Counter(n)

SPEC = ModelSpec(name="counter", summary="a counter", mutants=MUTANTS.infos(),
                 params=(Param("n", 3, "the top", minimum=1, maximum=50),),
                 build=lambda p, m: Counter(p["n"], m))
INSTANCE = Counter(5)
NOT_A_MODEL = 42

def not_a_factory(n: int = 3):
    return n
'''


def smrcheck_cli(*args: str, cwd: pathlib.Path | None = None,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The command as a user runs it, in a fresh interpreter."""
    return subprocess.run([sys.executable, "-m", "smrcheck.checker.cli", *args], cwd=cwd,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=120)


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys, monkeypatch):
    """The command in this process (a fresh interpreter each costs seconds)."""
    def run(*args: str, cwd: pathlib.Path | None = None) -> Ran:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        code = main(list(args))
        out = capsys.readouterr()
        return Ran(code, out.out, out.err)

    return run


@pytest.fixture
def counter_file(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "counter.py"
    path.write_text(COUNTER)
    return path


@pytest.mark.parametrize("name, params, distinct", [
    ("SPEC", ["-p", "n=4"], 5),        # a ModelSpec
    ("Counter", ["-p", "n=4"], 5),     # a class: its keyword parameters are -p options
    ("counter", ["-p", "n=6"], 7),     # a factory function
    ("INSTANCE", [], 6),               # a model object
])
def test_every_kind_of_name_is_checked(counter_file, name, params, distinct):
    r = smrcheck_cli("check", f"{counter_file}:{name}", *params, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert (out["result"], out["distinct_states"]) == ("ok", distinct)
    assert out["model"] in (name, "counter")


def test_a_class_mutant_is_checked_and_listed(cli, counter_file):
    r = cli("check", f"{counter_file}:Counter", "--mutant", "overshoot", "--json")
    assert r.returncode == 1, r.stderr
    out = json.loads(r.stdout)
    assert out["violation"]["property"] == "BOUNDED"
    assert [s["action"] for s in out["violation"]["trace"]] == [None, "Inc(1)", "Inc(1)"]
    # a state shown field by field without a describe(): the frozenset as a set
    assert out["violation"]["trace"][-1]["state"] == {"x": 4, "hits": [0, 2]}
    r = cli("check", f"{counter_file}:Counter", "--mutant", "nope")
    assert r.returncode == 2 and "allowed: overshoot" in r.stderr


def test_a_module_reference_from_the_working_directory(cli, counter_file):
    r = cli("check", "counter:SPEC", "-p", "n=2", cwd=counter_file.parent)
    assert r.returncode == 0, r.stderr
    assert "3" in r.stdout and "OK" in r.stdout


@pytest.mark.parametrize("ref, words", [
    ("{dir}/missing.py:SPEC", "model file '{dir}/missing.py' not found"),
    ("{dir}/counter.py:NOPE", "has no 'NOPE'; it defines: Counter, SPEC, INSTANCE"),
    ("{dir}/counter.py:NOT_A_MODEL", "is an int, not a model"),
    ("{dir}/counter.py:State", "is the class State, not a model"),
    ("{dir}/counter.py:not_a_factory", "built an int, not a model"),
    ("no_such_module_here:SPEC", "no module named 'no_such_module_here'"),
    ("nosuchmodel", "unknown model 'nosuchmodel'; allowed: paxos, multipaxos, pbft"),
    ("{dir}/broken.py:SPEC", "failed to import: NameError"),
])
def test_bad_references_are_one_line_exit_2(cli, counter_file, ref, words):
    d = counter_file.parent
    (d / "broken.py").write_text("x = undefined_name\n")
    r = cli("check", ref.format(dir=d), cwd=d)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert words.format(dir=d) in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


@pytest.mark.parametrize("value, path", [
    ("'a'", "state.label is a str"),
    ("None", "state.label is a NoneType"),
    ("0.5", "state.label is a float"),
    ("Color.RED", "state.label is the enum Color.RED"),
    ("[1]", "state.label is a list"),
    ("(1, ('x',))", "state.label[1][0] is a str"),
    ("Loose(1)", "state.label is a Loose, a dataclass that is not frozen"),
])
def test_states_that_hash_per_process_are_refused_naming_the_field(cli, tmp_path, value, path):
    (tmp_path / "bad.py").write_text(textwrap.dedent(f'''
        import enum
        from dataclasses import dataclass
        from smrcheck import always

        class Color(enum.Enum):
            RED = 1

        @dataclass
        class Loose:
            x: int

        @dataclass(frozen=True)
        class State:
            x: int
            label: object

        class Bad:
            def init_states(self):
                return [State(0, 0)]
            def actions(self, s):
                return [("Go",)] if s.x == 0 else []
            def next_state(self, s, a):
                return State(1, {value})
            def properties(self):
                return [always("T", lambda s: True)]
        '''))
    r = cli("check", f"{tmp_path}/bad.py:Bad")
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert path in r.stderr and "the state after Go()" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_stable_values_pass_the_contract():

    assert unstable_part((1, True, frozenset({(2, 3)}), ())) is None
    assert unstable_part(smrcheck.Param) is not None  # a class hashes by identity


def test_a_model_that_raises_is_named_with_file_and_line(cli, tmp_path):
    (tmp_path / "raises.py").write_text(textwrap.dedent('''
        from smrcheck import always

        class Raises:
            def init_states(self):
                return [0]
            def actions(self, s):
                return [("Go",)] if s < 3 else []
            def next_state(self, s, a):
                return {0: 1, 1: 2}[s]
            def properties(self):
                return [always("T", lambda s: True)]
        '''))
    r = cli("check", f"{tmp_path}/raises.py:Raises")
    assert r.returncode == 2
    assert "model Raises raised KeyError: 2 at raises.py:10" in r.stderr


def test_factory_parameters_need_defaults(tmp_path):
    (tmp_path / "nodefault.py").write_text("def Make(n):\n    return None\n")
    with pytest.raises(UsageError, match="parameter 'n' of Make needs an int or str default"):
        smrcheck.load(f"{tmp_path}/nodefault.py:Make")


def test_the_same_counts_with_workers(counter_file):
    one = smrcheck.check(f"{counter_file}:SPEC", n=30)
    two = smrcheck.check(f"{counter_file}:SPEC", n=30, options=smrcheck.Options(
        distribution=smrcheck.Distribution(workers=2)))
    assert (one.distinct_states, one.generated_states, one.depth) == (
        two.distinct_states, two.generated_states, two.depth) == (31, 31, 31)


def test_python_api_checks_params_as_the_cli_does(counter_file):
    with pytest.raises(UsageError, match="parameter n must be an integer in 1..50"):
        smrcheck.check(f"{counter_file}:SPEC", n=99)
    with pytest.raises(UsageError, match="unknown parameter 'm'"):
        smrcheck.check(f"{counter_file}:SPEC", m=1)
    with pytest.raises(InvalidModel):
        smrcheck.check(_StrState())


class _StrState:
    def init_states(self):
        return [("a",)]

    def actions(self, s):
        return []

    def next_state(self, s, a):
        return s

    def properties(self):
        return []


# -- an installed package adds a model: the `smrcheck.models` entry-point group ---------


@pytest.fixture
def plugin_path(tmp_path: pathlib.Path, counter_file: pathlib.Path) -> pathlib.Path:
    """What `pip install` of a package declaring
    `[project.entry-points."smrcheck.models"] toycounter = "toyplugin:SPEC"` leaves in
    site-packages: the package and a dist-info folder with its entry_points.txt."""
    site = tmp_path / "site"
    (site / "toyplugin").mkdir(parents=True)
    (site / "toyplugin" / "__init__.py").write_text(
        COUNTER.replace('name="counter"', 'name="toycounter"'))
    info = site / "toyplugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toyplugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[smrcheck.models]\ntoycounter = toyplugin:SPEC\npaxos = toyplugin:SPEC\n")
    return site


def test_an_installed_plugin_is_listed_and_checkable(plugin_path):
    env = {"PYTHONPATH": str(plugin_path)}
    r = smrcheck_cli("models", "--json", env=env)
    assert r.returncode == 0, r.stderr
    listed = {m["name"]: m for m in json.loads(r.stdout)}
    assert list(listed)[:3] == ["paxos", "multipaxos", "pbft"]
    assert listed["toycounter"]["properties"] == ["BOUNDED", "TOP"]
    assert listed["toycounter"]["mutants"][0]["name"] == "overshoot"
    # a plugin may not take one of our names: it is said, not silently shadowed
    assert "entry point paxos = toyplugin:SPEC" in r.stderr and "ignored" in r.stderr
    r = smrcheck_cli("check", "toycounter", "-p", "n=7", "--json", env=env)
    assert r.returncode == 0 and json.loads(r.stdout)["distinct_states"] == 8
    r = smrcheck_cli("check", "--help", env=env)
    assert "toycounter" in r.stdout


# -- our own models are written against the public API -----------------------------------


def test_our_models_use_only_the_public_api():
    """Every name models/ import from the engine's model contract is one `smrcheck`
    exports: our three models are built from nothing a user cannot import."""
    public = set(smrcheck.__all__)
    used = set()
    for path in (ROOT / "models").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith(
                    "checker.model"):
                used |= {a.name for a in node.names}
    assert used and used <= public, used - public
    for name in smrcheck.__all__:
        assert getattr(smrcheck, name) is not None



def test_a_model_file_checkpoints_resumes_and_draws(counter_file, tmp_path, cli):
    """Checkpoints hold pickled states of the file's classes: a fresh process resuming
    one loads the file first. And the counterexample files (ITF, HTML) work as ours."""
    ck = tmp_path / "ck"
    first = smrcheck_cli("check", f"{counter_file}:SPEC", "-p", "n=40", "--max-depth", "20",
                         "--checkpoint", str(ck), "--checkpoint-every", "0", "--json")
    assert first.returncode == 3 and json.loads(first.stdout)["distinct_states"] == 20
    rest = smrcheck_cli("check", f"{counter_file}:SPEC", "-p", "n=40", "--resume", str(ck),
                        "--json")
    assert rest.returncode == 0, rest.stderr
    assert json.loads(rest.stdout)["distinct_states"] == 41
    itf, html = tmp_path / "cx.itf.json", tmp_path / "cx.html"
    r = cli("check", f"{counter_file}:SPEC", "--mutant", "overshoot", "--itf", str(itf),
            "--html", str(html))
    assert r.returncode == 1
    assert json.loads(itf.read_text())["states"][-1]["x"] == {"#bigint": "4"}
    assert "BOUNDED" in html.read_text()
    shown = cli("show", str(itf))
    assert shown.returncode == 1 and "BOUNDED" in shown.stdout
