"""The package's shape: no import circles, no upward imports, a declared pipeline.

Imports are read from the source (ast), function-level ones included: a lazy import
is still a dependency.
"""
import ast
from pathlib import Path
from typing import Dict, List, Set

import pytest

from ms_migrate import pipeline

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "ms_migrate"

# Lower layers never import higher ones. Within a layer, modules may import each
# other as long as no circle forms.
LAYERS = ["core", "transforms", "tables", "passes", "pipeline", "engine", "runtime", "cli"]


def module_names() -> Dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = module_names()


def imports_of(name: str) -> Set[str]:
    """The package's modules that `name` imports (a package counts as its __init__)."""
    path = MODULES[name]
    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = here[:len(here) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in MODULES
                          else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    result = set()
    for target in found:
        while target not in MODULES and "." in target:
            target = target.rsplit(".", 1)[0]
        if target in MODULES and target != name:
            result.add(target)
    return result


GRAPH = {name: imports_of(name) for name in MODULES}


def layer(name: str) -> int:
    """Its layer's rank; the root package and `python -m ms_migrate` sit on top."""
    parts = name.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else len(LAYERS)


def circles() -> List[List[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    groups: List[List[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return groups


def test_every_module_belongs_to_a_layer():
    assert all(len(n.split(".")) == 1 or n.split(".")[1] in LAYERS or n.endswith("__main__")
               for n in MODULES), sorted(MODULES)


def test_no_import_circle():
    assert circles() == []


def test_no_upward_import():
    # The root package is the public façade (convert_source, __version__): Python loads
    # it before any submodule, so importing from it adds no dependency.
    upward = sorted(f"{name} -> {target}" for name, targets in GRAPH.items()
                    for target in targets
                    if target != "ms_migrate" and layer(target) > layer(name))
    assert upward == []


def test_the_check_finds_a_circle_and_an_upward_import():
    saved = {k: set(v) for k, v in GRAPH.items()}
    try:
        GRAPH["ms_migrate.core.names"].add("ms_migrate.core.context")
        assert any("ms_migrate.core.names" in group for group in circles())
    finally:
        GRAPH.clear()
        GRAPH.update(saved)
    assert layer("ms_migrate.core.names") < layer("ms_migrate.passes.api")


def test_the_converter_core_imports_no_framework():
    heavy = {"torch", "mindspore", "numpy", "click"}
    for name, path in MODULES.items():
        if layer(name) > LAYERS.index("engine"):
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level:
                roots = {(node.module or "").split(".")[0]}
            else:
                continue
            assert not roots & heavy, f"{name} imports {roots & heavy}"


def test_pipeline_order_is_consistent():
    pipeline.check_order()
    ids = [p.id for p in pipeline.STATEMENT_PASSES]
    assert len(ids) == len(set(ids))


def test_pipeline_check_refuses_a_need_before_its_provider():
    passes = list(pipeline.STATEMENT_PASSES)
    training = next(i for i, p in enumerate(passes) if "data_parallel" in p.needs)
    provider = next(i for i, p in enumerate(passes) if "data_parallel" in p.provides)
    passes[training], passes[provider] = passes[provider], passes[training]
    with pytest.raises(ValueError, match="data_parallel"):
        pipeline.check_order(tuple(passes))


def test_every_statement_pass_module_is_in_the_pipeline():
    listed = {p.run.__module__ for p in pipeline.STATEMENT_PASSES}
    with_applies = set()
    for name, path in MODULES.items():
        if name.startswith("ms_migrate.passes."):
            tree = ast.parse(path.read_text("utf-8"))
            if any(isinstance(n, ast.FunctionDef) and n.name == "applies" for n in tree.body):
                with_applies.add(name)
    assert with_applies == listed


def test_the_worked_example_pass_of_the_docs_runs(tmp_path, monkeypatch):
    """docs/architecture.md adds a pass with one module and one pipeline line: do that."""
    import importlib.util
    import re
    import sys

    from ms_migrate import convert_source, engine

    doc = (PACKAGE.parent.parent / "docs" / "architecture.md").read_text("utf-8")
    blocks = re.findall(r"```python\n(.*?)```", doc, re.S)
    module_code = next(b for b in blocks if "def remove_empty_cache" in b)
    assert any('Pass("empty-cache"' in b for b in blocks)
    path = tmp_path / "empty_cache.py"
    path.write_text(module_code, "utf-8")
    name = "ms_migrate.passes.empty_cache"
    spec = importlib.util.spec_from_file_location(name, path)
    empty_cache = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, empty_cache)
    spec.loader.exec_module(empty_cache)

    passes = list(pipeline.STATEMENT_PASSES)
    at = next(i for i, p in enumerate(passes) if p.id == "devices") + 1
    passes.insert(at, pipeline.Pass("empty-cache", empty_cache.applies,
                                    empty_cache.remove_empty_cache))
    monkeypatch.setattr(engine, "STATEMENT_PASSES", tuple(passes))
    source = ("import torch\n\nx = torch.zeros(2)\n# free what the last step held\n"
              "torch.cuda.empty_cache()\ny = x + 1\n")
    result = convert_source(source, "a.py")
    assert "empty_cache" not in result.code and "y = x + 1" in result.code
    assert "# free what the last step held" in result.code  # its comment stays
    found = [f for f in result.report.findings if f.check == "empty-cache"]
    assert [(f.line, f.api) for f in found] == [(5, "torch.cuda.empty_cache")]


def test_the_note_prefix_is_spelled_in_one_place():
    """Notes written into code start with report.MARK_PREFIX (through mark_text)."""
    spelled = sorted(name for name, path in MODULES.items()
                     if '"# ms-migrate:' in path.read_text("utf-8")
                     or "f\"# ms-migrate:" in path.read_text("utf-8"))
    assert spelled == ["ms_migrate.core.report"]


def test_statement_passes_release_no_torch_names():
    """Statement passes run before the main traversal, which counts the torch references
    it meets: a reference a pass replaced is never counted, so releasing it too would
    drop an import that another reference still needs."""
    offenders = [p.relative_to(PACKAGE).as_posix() for p in (PACKAGE / "passes").rglob("*.py")
                 if p.name != "api.py" and ".release(" in p.read_text(encoding="utf-8")]
    assert offenders == []
