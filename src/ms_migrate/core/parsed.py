"""Code the converter writes into files (rule templates, helper code, import lines),
parsed once per process: it is the same text in every file, and libcst trees are
immutable, so one tree can be shared."""
from __future__ import annotations

from functools import lru_cache
from typing import Dict, Optional, Tuple

import libcst as cst

from .names import walk_statements
from .quick_libcst import parse_expression, parse_statement

_EMPTY = cst.Module([])

# id(line) -> (line, its code or None until asked), for each line of statements inside the
# helper code parsed here: later passes search a line a pass wrote as code
# (positions.RelevantLines), and each file given a helper has the same lines. (The entry
# holds the line: its id stays its own.) A line's code is written on the first question:
# most lines of helper code are only ever written out with their indentation (codegen).
_HELPER_LINES: Dict[int, Tuple[cst.SimpleStatementLine, Optional[str]]] = {}


@lru_cache(maxsize=1024)
def parsed_expression(text: str) -> cst.BaseExpression:
    """A rule's template, default or value lambda."""
    return parse_expression(text)


@lru_cache(maxsize=1024)
def parsed_statement(code: str) -> cst.BaseStatement:
    """Helper code or an import line."""
    statement = parse_statement(code)
    if type(statement) is not cst.SimpleStatementLine:  # helper code: a def or a class
        for line in walk_statements([statement]):
            if type(line) is cst.SimpleStatementLine:
                _HELPER_LINES[id(line)] = (line, None)
    return statement


def is_helper_line(line: cst.SimpleStatementLine) -> bool:
    """Whether the line is a line of helper code parsed here."""
    found = _HELPER_LINES.get(id(line))
    return found is not None and found[0] is line


def helper_line_code(line: cst.SimpleStatementLine) -> Optional[str]:
    """The code of a line of helper code parsed here; None for any other line."""
    found = _HELPER_LINES.get(id(line))
    if found is None or found[0] is not line:
        return None
    if found[1] is None:
        found = _HELPER_LINES[id(line)] = (line, _EMPTY.code_for_node(line))
    return found[1]
