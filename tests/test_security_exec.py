"""The converter never runs what it reads: source files, rule tables, its own cache.

Each exploit below writes a marker file if any code it carries is executed; every
test checks that no marker appears, and that the conversion still gives a sound
result (or a clear error), never a traceback.
"""
import ast
import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from ms_migrate.core import rule as rules_module
from ms_migrate.core.callrewrite import CannotFold, TooLarge, fold
from ms_migrate.cli.main import main
from ms_migrate.engine import convert_source
from ms_migrate.tables.load import TableError, load_table

SRC = Path(__file__).resolve().parents[1] / "src" / "ms_migrate"

# Escapes a restricted `__builtins__` (the old "numbers only" eval) to reach open().
ESCAPE = ("[c for c in ().__class__.__base__.__subclasses__() "
          "if c.__name__ == 'catch_warnings'][0]()._module.__builtins__['open']({!r}, 'w')"
          ".close() or 0")


def _payload(marker: Path) -> str:
    return ESCAPE.format(str(marker))


def test_the_payload_is_a_real_exploit_of_a_restricted_eval(tmp_path):
    """Guard for the tests below: this text does run code under the old sandbox."""
    marker = tmp_path / "sandbox-escaped"
    result = eval("1 - (" + _payload(marker) + ")", {"__builtins__": {"int": int}})
    assert marker.exists() and result == 1


def _torch_file(folder: Path, marker: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model.py"
    payload = _payload(marker)
    path.write_text(
        "import torch.nn as nn\n\n"
        "w = nn.Linear(2, 2).weight\n"
        f"nn.init.uniform_(w, a={payload}, b=1)\n"
        f"nn.init.uniform_(w, {payload}, 0.5)\n"
        f"nn.init.uniform_(w, 0.25, {payload})\n"
        f"layer = nn.BatchNorm2d(4, momentum={payload})\n", encoding="utf-8")
    return path


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MS_MIGRATE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)  # no pyproject.toml above it but the tests' own
    return tmp_path / "cache"


def test_no_entry_point_runs_code_from_a_converted_file(tmp_path, private_cache):
    marker = tmp_path / "MARKER"
    path = _torch_file(tmp_path / "project", marker)
    runner = CliRunner()
    runs = [["convert", str(path)],
            ["convert", "--check", str(path)],
            ["convert", str(path.parent), "-o", str(tmp_path / "out"), "-j", "1"],
            ["analyze", str(path)],
            ["analyze", str(path.parent)],
            ["pre-commit", "--check", str(path)]]
    for args in runs:
        result = runner.invoke(main, args)
        assert not isinstance(result.exception, Exception) or isinstance(
            result.exception, SystemExit), (args, result.output)
        assert not marker.exists(), args
    converted = convert_source(path.read_text(), str(path)).code
    assert not marker.exists()
    # the payload is carried over as code (for the user to read), not run
    assert converted.count("catch_warnings") == 6  # a twice, b once, per call
    assert "* (1 - (" in converted and "momentum=1 - ([c for c" in converted


def test_a_non_literal_bound_of_uniform_is_written_out_not_evaluated():
    code = ("import torch.nn as nn\ninitrange = 0.1\nw = nn.Linear(2, 2).weight\n"
            "nn.init.uniform_(w, -initrange, initrange)\n"
            "nn.init.uniform_(w, -initrange, 0.1)\n"
            "nn.init.uniform_(w, -0.1, 0.1)\n")
    lines = convert_source(code, "t.py").code.splitlines()
    assert lines[-3:] == [
        "w.set_data(ops.rand(w.shape, dtype=w.dtype) * (initrange - (-initrange)) + (-initrange))",
        "w.set_data(ops.rand(w.shape, dtype=w.dtype) * (0.1 - (-initrange)) + (-initrange))",
        "w.set_data(ops.rand(w.shape, dtype=w.dtype) * 0.2 + (-0.1))"]


# --- the folder: a whitelist of number arithmetic, bounded --------------------------

@pytest.mark.parametrize("text,value", [
    ("1 - 0.1", 0.9), ("1.0 * -3", -3.0), ("int(2.7)", 2), ("float(2)", 2.0),
    ("2 ** 10", 1024), ("7 // 2 + 7 % 2", 4), ("-0.5 != 0", True), ("+1 / 4", 0.25),
    ("2 ** -2", 0.25), ("1 < 2 <= 2", True), ("not True", False),
    ("'reduced' if False else 'complete'", "complete"), ("1 if True else 2", 1),
])
def test_constant_arithmetic_folds(text, value):
    result = fold(text)
    assert result == pytest.approx(value) and type(result) is type(value)


@pytest.mark.parametrize("text", [
    "x", "x + 1", "abs(-1)", "__import__('os')", "int(x=1)", "int(*[1])", "'a' * 3",
    "(1).__class__", "[1][0]", "(lambda: 1)()", "[c for c in ()]", "open('f', 'w')",
    "True + 1", "1 if 1 else 2", "not 1", "1 and 2", "-True", "int(True)", "True < 2",
    "'a' if x else 'b'", "'a'", "'a' if 'b' else 'c'", "{}", "f'{1}'", "1 +", "",
    "(-8) ** 0.5", "1 / 0", "1e308 * 10", "float('inf')", "1j * 1",
    _payload(Path("never-made")),
])
def test_anything_else_is_not_folded(text):
    with pytest.raises(CannotFold):
        fold(text)
    assert not Path("never-made").exists()


@pytest.mark.parametrize("text", [
    "10**10**10", "9**9**9", "2**129", "2**64 * 2**64 * 2", "10**10**10*0.5",
    "int(1e300)", "(2**100) ** 2", "2 ** 2 ** 2 ** 2 ** 2",
])
def test_folding_is_bounded_and_instant(text):
    start = time.perf_counter()
    with pytest.raises(TooLarge):
        fold(text)
    assert time.perf_counter() - start < 0.5


# --- rule tables: templates checked at load time ------------------------------------

TABLE = 'namespace = "torch.nn"\n\n[Dropout]\ntarget = "mindspore.nn.Dropout"\n' \
        'args = ["p", "inplace"]\ndrop = ["inplace"]\n'


@pytest.mark.parametrize("extra,field", [
    ('values = { p = "1 - p" }', "'values'"),              # no {}
    ('values = { p = "{} - {}" }', "'values'"),            # two
    ('values = { p = "{0} + 1" }', "'values'"),            # a named or numbered field
    ('values = { p = "{p} + 1" }', "'values'"),
    ('values = { p = "{!r}" }', "'values'"),
    ('values = { p = "1 - {" }', "'values'"),              # unbalanced
    ('values = { p = "1 - {} +" }', "'values'"),           # not an expression
    ('values = { p = "{}." }', "'values'"),
    ('values = { p = "10**10**10*{}" }', "'values'"),      # folding would never end
    ('values = { p = "{} ** 1000" }', "'values'"),
    ('defaults = { p = "0.5 +" }', "'defaults'"),
    ('template = "mindspore.ops.erf({p}"', "'template'"),
    ('template = "1 + {p=0.5 *}"', "'template'"),
])
def test_a_malformed_template_fails_when_its_table_loads(tmp_path, extra, field):
    table = tmp_path / "mine.toml"
    table.write_text(TABLE + extra + "\n")
    start = time.perf_counter()
    with pytest.raises(TableError) as info:
        load_table(table)
    assert time.perf_counter() - start < 2
    message = str(info.value)
    assert message.startswith("mine.toml:Dropout: field " + field), message


def test_a_sound_user_template_loads_and_folds(tmp_path):
    table = tmp_path / "mine.toml"
    table.write_text(TABLE + 'values = { p = "1 - {}" }\n')
    (rule,) = load_table(table)
    code = convert_source("import torch.nn as nn\nd = nn.Dropout(0.25)\n", "t.py",
                          rules=rules_module.RuleSet([rule])).code
    assert "d = nn.Dropout(0.75)" in code.splitlines()


def _project(tmp_path: Path, values: str) -> Path:
    project = tmp_path / "cloned"
    project.mkdir()
    (project / "pyproject.toml").write_text('[tool.ms-migrate]\nrules = ["rules/nn.toml"]\n')
    (project / "rules").mkdir()
    (project / "rules" / "nn.toml").write_text(TABLE + f"values = {{ p = {values} }}\n")
    (project / "model.py").write_text("import torch.nn as nn\nd = nn.Dropout(0.5)\n")
    return project


def _cli(args, cwd, env_extra=None, timeout=120):
    env = {**os.environ, "GLOG_v": "3", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "ms_migrate", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_a_cloned_projects_rule_table_runs_no_code(tmp_path, private_cache):
    marker = tmp_path / "MARKER"
    project = _project(tmp_path, json.dumps(_payload(marker) + " or {}"))
    result = CliRunner().invoke(main, ["convert", str(project / "model.py")])
    assert result.exit_code == 0, result.output
    assert not marker.exists()
    assert "catch_warnings" in result.output  # written into the output, as the table says


def test_a_hanging_template_in_a_cloned_project_is_refused_at_once(tmp_path):
    project = _project(tmp_path, '"10**10**10*{}"')
    done = _cli(["convert", "model.py"], project, {"MS_MIGRATE_CACHE_DIR": ""}, timeout=60)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "nn.toml:Dropout: field 'values'" in done.stderr
    assert "bounds" in done.stderr


# --- the rule cache ------------------------------------------------------------------

class _Marker:
    path = ""

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_planted_cache_file_runs_nothing(tmp_path):
    cache = tmp_path / "cache"
    env = {"MS_MIGRATE_CACHE_DIR": str(cache)}
    source = tmp_path / "m.py"
    source.write_text("import torch.nn as nn\nlayer = nn.Linear(4, 3)\n")
    first = _cli(["convert", str(source)], tmp_path, env)
    assert first.returncode == 0, first.stderr
    (stored,) = cache.glob("rules-*.json")
    marker = tmp_path / "MARKER"
    _Marker.path = str(marker)
    for planted in (pickle.dumps(_Marker()), b'{"format": "ms-migrate rules 1"}', b"[]"):
        stored.write_bytes(planted)
        again = _cli(["convert", str(source)], tmp_path, env)
        assert again.returncode == 0 and again.stdout == first.stdout, again.stderr
        assert not marker.exists()


# --- the source tree itself ----------------------------------------------------------

# Modules that run what they are given on purpose: the rule-example checker runs the
# tables' own test data, and `verify` imports the models the user names.
_ALLOWED = {"equivalence.py": {"eval", "exec", "compile"}, "equivalence_steps.py": {"eval"},
            "verify.py": {"exec_module"}}
_BUILTIN_RUNNERS = {"eval", "exec", "compile", "__import__", "breakpoint"}
_UNSAFE_MODULES = {"pickle", "marshal", "shelve", "dill", "cloudpickle", "yaml"}


def test_the_converter_has_no_way_to_run_what_it_reads():
    found = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        allowed = _ALLOWED.get(path.name, set())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if any(n.split(".")[0] in _UNSAFE_MODULES for n in names):
                    found.append(f"{path.name}:{node.lineno}: imports {names}")
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id in _BUILTIN_RUNNERS - allowed:
                found.append(f"{path.name}:{node.lineno}: calls {func.id}")
            if isinstance(func, ast.Attribute) and func.attr == "exec_module" \
                    and "exec_module" not in allowed:
                found.append(f"{path.name}:{node.lineno}: runs a module")
    assert found == []


def test_braces_in_user_code_never_reach_a_format_template():
    """User text is an argument of str.format at most, never part of its template."""
    code = ("import torch\nfrom torch.utils.data import random_split, TensorDataset\n"
            "data = TensorDataset(torch.zeros(3))\n"
            "a, b = random_split({'k': data}['k'], [1, 2])\n"
            "w = torch.nn.Linear(2, 2).weight\n"
            "torch.nn.init.uniform_(w, {'lo': -1}['lo'], 1)\n")
    out = convert_source(code, "t.py").code
    assert "len({'k': data}['k'])" in out
    assert "* (1 - ({'lo': -1}['lo'])) + {'lo': -1}['lo']" in out
