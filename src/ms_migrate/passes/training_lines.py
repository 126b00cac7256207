"""Line numbers of statements, from Python's `ast` instead of libcst metadata.

libcst's PositionProvider costs about two parses. Python's C parser gives every
statement's line; both trees hold the same statements in the same order, where a
libcst line of `a; b` is two `ast` statements and `elif` is an `if` inside
`orelse` in both. When the counts disagree the map is empty (lines read 0).
"""
from __future__ import annotations

import ast
from typing import Dict, Iterator, List

import libcst as cst


def statement_lines(module: cst.Module, source: str) -> Dict[int, int]:
    """id(libcst statement) -> its 1-based line."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    lines: List[int] = []
    _ast_lines(tree.body, lines)
    found: Dict[int, int] = {}
    position = 0
    for node, size in _cst_statements(module.body):
        if position >= len(lines):
            return {}
        found[id(node)] = lines[position]
        position += size
    return found if position == len(lines) else {}


def _ast_lines(stmts, out: List[int]) -> None:
    for stmt in stmts:
        out.append(stmt.lineno)
        for name in ("body", "orelse", "handlers", "finalbody", "cases"):
            for child in getattr(stmt, name, None) or ():
                if isinstance(child, ast.stmt):
                    _ast_lines([child], out)
                else:  # an except handler or a match case: its body
                    _ast_lines(child.body, out)


def _cst_statements(stmts) -> Iterator:
    """(statement, number of `ast` statements it is) in the order `_ast_lines` uses."""
    for stmt in stmts:
        if isinstance(stmt, cst.SimpleStatementLine):
            yield stmt, len(stmt.body)
            continue
        yield stmt, 1
        yield from _suite(stmt.body)
        if isinstance(stmt, cst.If) and isinstance(stmt.orelse, cst.If):
            yield from _cst_statements([stmt.orelse])
            continue
        for handler in getattr(stmt, "handlers", ()):
            yield from _suite(handler.body)
        for case in getattr(stmt, "cases", ()):
            yield from _suite(case.body)
        for name in ("orelse", "finalbody"):
            child = getattr(stmt, name, None)
            if child is not None:
                yield from _suite(child.body)


def _suite(suite) -> Iterator:
    if isinstance(suite, cst.IndentedBlock):
        yield from _cst_statements(suite.body)
    else:  # `if x: a; b` holds small statements, each an `ast` statement
        for small in suite.body:
            yield small, 1
