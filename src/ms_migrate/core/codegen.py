"""The code of a converted tree, with what no pass changed copied from the source.

libcst writes a statement back exactly as it was parsed, at about a third of the
cost of parsing it. Passes hand unchanged statements on as the very objects that
were parsed (traversal.traverse), so their text is already known: the lines
Python's `ast` gives them (positions.StatementLines), with the comment lines
libcst hangs on them. Such a statement is written as that text, unless it now
stands at another indentation (a pass moved it into a new block); then libcst
writes it as ever. The tree is not rebuilt for this: while `module_code` writes,
libcst's codegen of each statement asks it first (quick_libcst.STATEMENT_TEXT).

Lines of helper code (core/parsed.py) are the same objects in every file that gets
the helper: each is written by libcst once per process for each indentation, and
copied after that.
"""
from __future__ import annotations

import re
from typing import Dict, Optional, Tuple

import libcst as cst

from .names import COMPOUND_STATEMENTS
from .parsed import is_helper_line
from .positions import StatementLines
from .quick_libcst import STATEMENT_TEXT, CodegenState, quick_codegen

_INDENT = re.compile(r"[ \t]*")


def module_code(module: cst.Module, lines: StatementLines) -> str:
    """`module.code`, the same text, copying the statements that are as parsed."""
    token = STATEMENT_TEXT.set(_Texts(lines).write)
    try:
        with quick_codegen():  # (where libcst's codegen is not swapped, it writes it all)
            return module.code
    finally:
        STATEMENT_TEXT.reset(token)


# (id(line), indentation, default indent, default newline) -> (line, its text less the
# last line break, that line break); the entry holds the line, so its id stays its own
_HELPER_TEXTS: Dict[tuple, Tuple[cst.CSTNode, str, str]] = {}


def _helper_text(line: cst.SimpleStatementLine, indent: Tuple[str, ...],
                 default_indent: str, default_newline: str) -> Tuple[str, str]:
    key = (id(line), indent, default_indent, default_newline)
    found = _HELPER_TEXTS.get(key)
    if found is None or found[0] is not line:
        state = CodegenState(default_indent=default_indent, default_newline=default_newline,
                             indent_tokens=list(indent))
        line._codegen_impl(state)  # (not `_codegen`: that would ask `write` again)
        found = _HELPER_TEXTS[key] = (line, "".join(state.tokens[:-1]), state.tokens[-1])
    return found[1], found[2]


class _Texts:
    def __init__(self, lines: StatementLines):
        self.lines = lines

    def write(self, stmt: cst.CSTNode, state: CodegenState) -> bool:
        """Writes a statement as its text, if known: as parsed, at the indentation it had,
        or a line of helper code. False: libcst is to write it."""
        tokens = state.tokens
        text = self._source_text(stmt)
        if text is not None:
            if "".join(state.indent_tokens) != text[2]:
                return False  # moved into another block: libcst writes it
            tokens.append(text[0])
            tokens.append(text[1])  # a token of its own, as libcst writes it
            return True
        if type(stmt) is cst.SimpleStatementLine and is_helper_line(stmt):
            line, newline = _helper_text(stmt, tuple(state.indent_tokens),
                                         state.default_indent, state.default_newline)
            tokens.append(line)
            tokens.append(newline)
            return True
        return False

    def _source_text(self, stmt: cst.CSTNode) -> Optional[Tuple[str, str, str]]:
        """(its lines, comment lines above it included, less the last line break; that
        line break; the indentation it had), for a statement as parsed."""
        if not self.lines.is_parsed(stmt):
            return None
        span = self.lines.span(stmt)
        if span is None:
            return None
        first, last = span[0] - len(stmt.leading_lines), span[1] + _footer_lines(stmt)
        source = self.lines.source
        start, end = self.lines.line_start(first), self.lines.line_start(last + 1)
        if end is None or start is None or not source.endswith("\n", 0, end):
            return None  # the file's last line, with no line break
        newline = "\r\n" if source.endswith("\r\n", 0, end) else "\n"
        line = self.lines.line_start(span[0])
        indent = _INDENT.match(source, line).group()
        return source[start:end - len(newline)], newline, indent


def _footer_lines(stmt: cst.CSTNode) -> int:
    """The comment lines after a compound statement's last statement that libcst
    counts as the end of its blocks (`footer`): past the lines `ast` gives it."""
    count = 0
    block = _last_block(stmt)
    while type(block) is cst.IndentedBlock:
        count += len(block.footer)
        block = _last_block(block.body[-1]) if block.body else None
    return count


def _last_block(stmt: cst.CSTNode):
    """The block a statement's text ends with (None for a simple statement)."""
    kind = type(stmt)
    if kind is cst.If:
        orelse = stmt.orelse
        if orelse is None:
            return stmt.body
        return _last_block(orelse) if type(orelse) is cst.If else orelse.body
    if kind is cst.For or kind is cst.While:
        return stmt.orelse.body if stmt.orelse is not None else stmt.body
    if kind is cst.Try or kind is cst.TryStar:
        for part in (stmt.finalbody, stmt.orelse):
            if part is not None:
                return part.body
        return stmt.handlers[-1].body if stmt.handlers else stmt.body
    if kind is cst.Match:
        return stmt.cases[-1].body if stmt.cases else None
    if kind in COMPOUND_STATEMENTS:
        return stmt.body
    return None
