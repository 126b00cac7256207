"""core.codegen writes exactly what libcst writes, copying unchanged statements."""
from pathlib import Path

import libcst as cst
import pytest

from ms_migrate.core.codegen import module_code
from ms_migrate.core.positions import StatementLines
from ms_migrate.core.traversal import FastTransformer, traverse

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "benchmarks" / "corpus").glob("*.py"))

TRICKY = '''# header comment

import a  # trailing
@decorator(a)

# between decorator and def
@other
def f(x):
    # first comment in the body
    if x:
        y = a(x) ; z = 2
        # footer of the if block
    elif x > 1:
        pass
    else:
        for i in a(x):
            w = i
        else:
            w = 0
            # footer of the for-else
    # comment before try, at body level
    try:
        v = a
    except E as e:  # a handler
        v = e
      # odd indentation
    finally:
        v = None
    return a(v)
        # deeper footer of the def

class C:
\tdef g(self):
\t\treturn a
def h(): return a; b = 1
while a:
    match a:
        case 1:
            b = a
        case _:
            # last case
            pass
def unchanged(x):
    if x:
        y = 1
        # footer of an unchanged if
    try:
        y = 2
    finally:
        y = 3
            # deeper footer of an unchanged try
# the file's footer
'''


class _Rename(FastTransformer):
    """Renames `a` to `alpha`: the statements naming it change, the others stay."""

    def leave_Name(self, original, updated):
        return updated.with_changes(value="alpha") if original.value == "a" else updated


class _ImportsOnly(FastTransformer):
    """Changes the imports only: every other statement stays as parsed."""

    def leave_Import(self, original, updated):
        return updated.with_changes(semicolon=cst.MaybeSentinel.DEFAULT)


def _both(source: str, transform=_Rename):
    module = cst.parse_module(source)
    lines = StatementLines(module, source)
    new = traverse(module, transform()) if transform else module
    return module_code(new, lines), new.code


@pytest.mark.parametrize("source", [
    TRICKY,
    TRICKY.replace("\n", "\r\n"),
    TRICKY.rstrip("\n"),                    # no line break at the end
    TRICKY + "x = a",                       # last statement changed, no line break
    "import a\n\n\n# only comments after\n",
    "",
], ids=["tricky", "crlf", "no-final-newline", "changed-last-line", "comments", "empty"])
@pytest.mark.parametrize("transform", [_Rename, _ImportsOnly, None])
def test_the_same_text_as_libcst_writes(source, transform):
    written, expected = _both(source, transform)
    assert written == expected


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_corpus_files_with_some_statements_changed(path):
    source = path.read_text(encoding="utf-8")

    class Rename(FastTransformer):
        def leave_Name(self, original, updated):  # a name of each file: `self`
            return updated.with_changes(value="this") if original.value == "self" else updated

    written, expected = _both(source, Rename)
    assert written == expected


def test_a_statement_moved_to_another_indentation_is_written_by_libcst():
    source = "def f():\n    # note\n    x = 1\n    y = 2\n"
    module = cst.parse_module(source)
    lines = StatementLines(module, source)
    inner = module.body[0].body.body[0]  # `x = 1` with its comment, now at the top level
    moved = module.with_changes(body=[inner, *module.body])
    assert module_code(moved, lines) == moved.code == "# note\nx = 1\n" + source


HELPER = "def helper(x):\n    # why\n    y = mindspore.ops.abs(x)\n    if y:\n        return y\n    return x\n"


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("indent", ["    ", "\t"])
def test_helper_code_is_written_as_libcst_writes_it(newline, indent):
    # helper lines are written once per process for each indentation, then copied: the
    # same helper in files of other line breaks and indentation, at two depths
    from ms_migrate.core.parsed import parsed_statement
    helper = parsed_statement(HELPER)
    for source in (f"import a{newline}", f"class C:{newline}{indent}x = 1{newline}"):
        module = cst.parse_module(source)
        lines = StatementLines(module, source)
        nested = cst.ClassDef(cst.Name("K"), cst.IndentedBlock([helper]))
        for _ in range(2):  # the second time from the copies
            new = module.with_changes(body=[*module.body, helper, nested])
            assert module_code(new, lines) == new.code


def test_unchanged_statements_are_copied_from_the_source_not_written():
    # the source the lines were read from spaces `x  =  1` otherwise than the tree: the
    # copy shows, where libcst writing it would not
    module = cst.parse_module("x = 1\ny = a\n")
    lines = StatementLines(module, "x  =  1\ny = a\n")
    new = traverse(module, _Rename())
    assert module_code(new, lines) == "x  =  1\ny = alpha\n"
