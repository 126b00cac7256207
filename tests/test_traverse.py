"""dispatch.traverse behaves as libcst's own `node.visit`, only rebuilding less."""
from pathlib import Path

import libcst as cst
import pytest

from ms_migrate.core.traversal import FastTransformer, FastVisitor, child_nodes, traverse

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "benchmarks" / "corpus").glob("*.py")) + sorted(
    (ROOT / "tests" / "fixtures").rglob("*.py"))[:40]

EDGE_CASES = '''
@decorator(arg=f(1))
def g(a: int = h(2), *args, b=k(3), **kw) -> r(4):
    """doc"""
    x = [i for i in range(3) if i] ; y = {k: v for k, v in d.items()}
    z = f"{a!r:>{w}} {b=}" if cond(a) else lambda q=m(5): q.attr
    try:
        pass
    except (E1, E2) as err:
        raise X() from err
    else:
        del x[0], y
    finally:
        yield from gen()
    async with ctx() as (p, q):
        await p
    match z:
        case [1, *rest] if rest:
            return {**kw}
    while (n := next(it)) is not None:
        global G
    return a[1:2, ::3], not b, -c, a @ b, *args
class C(Base, metaclass=M):
    t: "T" = 1
'''


def _sources():
    yield "edge_cases", EDGE_CASES
    for path in SOURCES:
        yield path.name, path.read_text(encoding="utf-8")


class _Record(cst.CSTVisitor):
    def __init__(self):
        super().__init__()
        self.events = []

    def on_visit(self, node):
        self.events.append(("visit", type(node).__name__))
        return True

    def on_leave(self, original_node):
        self.events.append(("leave", type(original_node).__name__))


class _Hooks(FastVisitor):
    """Hooks on a few node types: the syntax nodes it skips hold none of them."""

    def __init__(self):
        super().__init__()
        self.events = []

    def visit_Name(self, node):
        self.events.append(("Name", node.value))

    def visit_Call(self, node):
        self.events.append(("Call", None))

    def leave_Attribute(self, node):
        self.events.append(("Attribute", node.attr.value))

    def visit_SimpleString(self, node):
        self.events.append(("String", node.value))


class _Rename(FastTransformer):
    def leave_Name(self, original, updated):
        return updated.with_changes(value=updated.value + "_") if len(updated.value) == 1 else updated


class _DropPass(cst.CSTTransformer):
    """Removes `pass` statements and doubles every `return` (removal and flattening)."""

    def leave_Pass(self, original, updated):
        return cst.RemoveFromParent()

    def leave_SimpleStatementLine(self, original, updated):
        if any(isinstance(s, cst.Return) for s in updated.body):
            return cst.FlattenSentinel([updated, updated])
        return updated


@pytest.mark.parametrize("name,source", list(_sources()), ids=lambda v: v if len(v) < 40 else "")
def test_same_visits_and_results_as_libcst(name, source):
    module = cst.parse_module(source)
    ours, theirs = _Record(), _Record()
    traverse(module, ours)
    module.visit(theirs)
    assert ours.events == theirs.events

    ours, theirs = _Hooks(), _Hooks()
    traverse(module, ours)
    module.visit(theirs)
    assert ours.events == theirs.events

    for transformer in (_Rename, _DropPass):
        assert traverse(module, transformer()).code == module.visit(transformer()).code


def test_unchanged_trees_keep_their_identity():
    module = cst.parse_module(EDGE_CASES)
    assert traverse(module, FastTransformer()) is module
    two = cst.parse_module("def first(x):\n    return x\n\ndef second(arg):\n    return arg\n")
    renamed = traverse(two, _Rename())
    assert renamed.code.startswith("def first(x_):")
    assert renamed.body[0] is not two.body[0]
    assert renamed.body[1] is two.body[1]  # nothing in it changed: shared, not rebuilt


def test_a_required_child_cannot_be_removed():
    class RemoveNames(cst.CSTTransformer):
        def leave_Name(self, original, updated):
            return cst.RemoveFromParent()

    with pytest.raises(TypeError, match="cannot be removed"):
        traverse(cst.parse_module("x = y\n"), RemoveNames())


def _project_sources():
    for folder, pattern in (("tests/fixtures", "**/*.py"), ("examples", "**/*.py"),
                            ("benchmarks/corpus", "*.py")):
        for path in sorted((ROOT / folder).glob(pattern)):
            yield path.read_text(encoding="utf-8")


def _converted(source):
    from ms_migrate import convert_source
    result = convert_source(source)
    return result.code, sorted((f.line, f.api, f.action, f.message)
                               for f in result.report.findings)


def test_passes_skipping_statements_change_nothing(monkeypatch):
    """Passes visit only statements with a line their pattern matches: the output and
    the findings (lines included) are those of visiting everything."""
    from ms_migrate.core import positions
    sources = list(_project_sources())
    assert len(sources) > 50
    skipping = [_converted(s) for s in sources]
    monkeypatch.setattr(positions.RelevantLines, "skips", lambda self, statement: False)
    assert [_converted(s) for s in sources] == skipping


def test_a_line_a_pass_wrote_is_looked_for_in_its_code():
    import re
    from ms_migrate.core.positions import RelevantLines, StatementLines
    source = "x = 1\nif x:\n    z = torch.zeros(1)\n"
    module = cst.parse_module(source)
    relevant = RelevantLines(StatementLines(module, source), re.compile(r"torch"))
    assert relevant.skips(module.body[0]) and not relevant.skips(module.body[1])
    written = cst.parse_statement("y = torch.ones(2)\n")  # no parsed lines: its code counts
    assert not relevant.skips(written)
    assert relevant.skips(cst.parse_statement("y = 2\n"))
    assert not relevant.skips(cst.parse_statement("if y:\n    y = 2\n"))  # entered


def test_child_nodes_are_children_less_syntax_in_order():
    module = cst.parse_module("@d(1)\ndef f(a, *b, c=lambda x: x.y[0], **k) -> int:\n"
                              "    return [g(i) for i in a if i], {1: 2}, f'{a!r:>{w}}'\n")
    todo = [module]
    while todo:
        node = todo.pop()
        mine = child_nodes(node)
        ids = {id(child) for child in mine}
        assert [child for child in node.children if id(child) in ids] == mine
        for child in node.children:  # what is left out holds no expression
            if id(child) not in ids:
                assert not isinstance(child, (cst.BaseExpression, cst.BaseStatement,
                                              cst.BaseSmallStatement))
        todo.extend(node.children)
