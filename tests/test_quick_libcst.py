"""core.quick_libcst: the parse skips libcst's checks of each node, and only the parse;
codegen inside quick_codegen() writes what libcst writes."""
import threading
from pathlib import Path

import libcst as cst
import pytest

from ms_migrate.core import quick_libcst
from ms_migrate.core.quick_libcst import (parse_expression, parse_source, parse_statement,
                                          quick_codegen)

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "benchmarks" / "corpus").glob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_the_tree_is_libcsts_own(path):
    source = path.read_text(encoding="utf-8")
    tree = parse_source(source)
    assert tree.code == source
    assert tree.deep_equals(cst.parse_module(source))


def test_nodes_built_after_the_parse_are_checked():
    parse_source("import torch\nx = torch.zeros(2)\n")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")  # an empty name: refused when made, as libcst refuses it
    with pytest.raises(cst.CSTValidationError):
        cst.Name("x", lpar=[cst.LeftParen()])  # unbalanced parentheses


def test_statements_and_expressions_parse_as_libcst_parses_them():
    code = "y = f((a), *b, key=c if d else e)[1:2]  # note\n"
    assert parse_statement(code).deep_equals(cst.parse_statement(code))
    assert parse_expression("(a + b) * c").deep_equals(cst.parse_expression("(a + b) * c"))
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")


def test_a_failed_parse_leaves_the_checks_on():
    with pytest.raises(cst.ParserSyntaxError):
        parse_source("def (:\n")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")


def test_parses_in_threads_leave_the_checks_on():
    source = (ROOT / "benchmarks" / "corpus" / SOURCES[0].name).read_text(encoding="utf-8")
    trees = []
    threads = [threading.Thread(target=lambda: trees.append(parse_source(source)))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [tree.code for tree in trees] == [source] * 4
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")


def test_a_parse_leaves_libcsts_classes_as_they_are():
    # a class every node type inherits from, changed around each parse, would make the
    # interpreter drop what it knows of all of them each time
    post_init = cst.CSTNode.__post_init__
    parse_source("import torch\nx = torch.zeros(2)\n")
    parse_statement("y = 1\n")
    assert cst.CSTNode.__post_init__ is post_init


def test_quick_codegen_is_swapped_in_on_this_libcst():
    assert quick_libcst._writes_the_same()  # else the tests below test libcst against itself


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_quick_codegen_writes_what_libcst_writes(path):
    source = path.read_text(encoding="utf-8")
    tree = cst.parse_module(source)
    built = tree.visit(_Parenthesize())  # parentheses the parser never puts there
    with quick_codegen():
        quick = (tree.code, built.code, tree.code_for_node(tree.body[-1]))
    assert quick == (source, built.code, tree.code_for_node(tree.body[-1]))
    assert "((" in built.code


class _Parenthesize(cst.CSTTransformer):
    def leave_Arg(self, original, updated):  # `f(x)` -> `f(((x)))`
        if not isinstance(updated.value, cst.Name):
            return updated
        return updated.with_changes(value=updated.value.with_changes(
            lpar=[cst.LeftParen(), cst.LeftParen()], rpar=[cst.RightParen(), cst.RightParen()]))


def test_libcsts_own_codegen_is_back_after_it():
    parenthesized = quick_libcst.Parenthesized
    with quick_codegen():
        assert parenthesized._parenthesize is not quick_libcst._LIBCST_PARENTHESIZE
        assert "_codegen" in cst.Name.__dict__ and "_codegen" in cst.Comma.__dict__
    assert parenthesized._parenthesize is quick_libcst._LIBCST_PARENTHESIZE
    # a method given to a class that only inherited it is taken away again
    assert "_codegen" not in cst.Name.__dict__ and "_codegen" not in cst.Comma.__dict__
    assert cst.Name._codegen is cst.CSTNode._codegen


def _built_module() -> cst.Module:
    """Nodes as a pass builds them: default commas, equals, semicolons and newlines,
    which the parser never leaves at their defaults."""
    call = cst.Call(cst.Attribute(cst.Name("ms"), cst.Name("ops")), args=[
        cst.Arg(cst.Integer("1")), cst.Arg(cst.Name("x"), star="*"),
        cst.Arg(cst.Float("2.5"), keyword=cst.Name("k")),
        cst.Arg(cst.SimpleString("'s'"), keyword=cst.Name("s"),
                comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))])
    line = cst.SimpleStatementLine(
        [cst.Expr(call), cst.Expr(cst.Name("y", lpar=[cst.LeftParen()],
                                           rpar=[cst.RightParen()]))],
        leading_lines=[cst.EmptyLine(comment=cst.Comment("# built"))])
    body = cst.IndentedBlock([line, cst.SimpleStatementLine([])], header=cst.TrailingWhitespace(
        comment=cst.Comment("# header"), newline=cst.Newline("\n")))
    return cst.Module([cst.If(cst.Name("cond"), body), line], default_newline="\r\n",
                      default_indent="\t")


def test_quick_codegen_writes_built_nodes_as_libcst_writes_them():
    module = _built_module()
    expected = module.code
    with quick_codegen():
        assert module.code == expected
    assert "ms.ops(1, *x, k = 2.5, s = 's', )" in expected and "\tpass" in expected


def test_positions_are_recorded_as_libcst_records_them():
    source = "x = (a +\n     b)  # c\nf((y), z)\n"
    wrapper = cst.metadata.MetadataWrapper(cst.parse_module(source))
    positions = wrapper.resolve(cst.metadata.PositionProvider)
    with quick_codegen():
        quick = cst.metadata.MetadataWrapper(cst.parse_module(source)).resolve(
            cst.metadata.PositionProvider)
    assert sorted((type(n).__name__, p.start.line, p.start.column, p.end.line, p.end.column)
                  for n, p in quick.items()) == sorted(
        (type(n).__name__, p.start.line, p.start.column, p.end.line, p.end.column)
        for n, p in positions.items())
