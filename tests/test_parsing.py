"""core.parsing: the parse skips libcst's checks of each node, and only the parse."""
import threading
from pathlib import Path

import libcst as cst
import pytest

from ms_migrate.core.parsing import parse_source

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
