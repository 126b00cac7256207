"""core.parsed: code the converter writes is parsed once per process, and the lines of
helper code are written once per process for the passes that search them."""
import libcst as cst

from ms_migrate.core.parsed import helper_line_code, is_helper_line, parsed_statement
from ms_migrate.core.positions import StatementLines
from ms_migrate.transforms.helper_code import HELPERS

EMPTY = cst.Module([])


def test_the_same_text_is_one_tree():
    code = "def _helper(x):\n    return x + 1\n"
    assert parsed_statement(code) is parsed_statement(code)


def test_each_line_of_helper_code_has_its_code():
    name, code = sorted(HELPERS.items())[0]
    tree = parsed_statement(code)
    lines = [node for node in _lines(tree)]
    assert lines
    for line in lines:
        assert helper_line_code(line) == EMPTY.code_for_node(line)


def test_helper_lines_are_known_before_their_code_is_written():
    tree = parsed_statement("def _known(x):\n    y = x - 1\n    return y\n")
    lines = list(_lines(tree))
    assert lines and all(is_helper_line(line) for line in lines)
    assert [helper_line_code(line) for line in lines] == ["y = x - 1\n", "return y\n"]
    again = cst.parse_statement("def _known(x):\n    y = x - 1\n    return y\n")
    assert not any(is_helper_line(line) for line in _lines(again))


def test_other_lines_have_none():
    code = "def _other(x):\n    y = x * 2\n    return y\n"
    again = cst.parse_statement(code)  # the same text, not the tree parsed here
    assert all(helper_line_code(line) is None for line in _lines(again))
    assert helper_line_code(parsed_statement("import mindspore\n")) is None


def test_passes_search_a_helper_line_by_its_code():
    tree = parsed_statement("def _scaled(x):\n    return mindspore.ops.mul(x, 2)\n")
    line = next(_lines(tree))
    module = cst.parse_module("import torch\n")
    lines = StatementLines(module, module.code)  # the helper's line has no parsed span
    assert lines.written_code(line) == "return mindspore.ops.mul(x, 2)\n"


def _lines(tree):
    todo = [tree]
    while todo:
        node = todo.pop()
        if type(node) is cst.SimpleStatementLine:
            yield node
        else:
            todo.extend(reversed(node.children))
