"""The code of a converted tree, with what no pass changed copied from the source.

libcst writes a statement back exactly as it was parsed, at about a third of the
cost of parsing it. Passes hand unchanged statements on as the very objects that
were parsed (traversal.traverse), so their text is already known: the lines
Python's `ast` gives them (positions.StatementLines), with the comment lines
libcst hangs on them. Such a statement is written as that text, unless it now
stands at another indentation (a pass moved it into a new block); then libcst
writes it as ever. Only the statements around a change are rebuilt for this.

Lines of helper code (core/parsed.py) are the same objects in every file that gets
the helper: each is written by libcst once per process for each indentation, and
copied after that.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple

import libcst as cst

from .names import COMPOUND_STATEMENTS
from .parsed import helper_line_code
from .positions import StatementLines
from .quick_libcst import CodegenState

_INDENT = re.compile(r"[ \t]*")
# the fields of compound statements (and of their else, except and case parts) that
# hold blocks of statements
_BLOCK_FIELDS = ("body", "orelse", "handlers", "finalbody", "cases")


def module_code(module: cst.Module, lines: StatementLines) -> str:
    """`module.code`, the same text, copying the statements that are as parsed."""
    body = _Texts(lines).body(module.body)
    return module.code if body is module.body else module.with_changes(body=body).code


@dataclass(frozen=True)
class _SourceText(cst.CSTNode):
    """Stands for an unchanged statement while the tree is written."""

    text: str      # its lines, comment lines above it included, less the last line break
    newline: str   # its last line break: a token of its own, as libcst writes it
    indent: str    # the indentation it had
    statement: cst.CSTNode

    def _visit_and_replace_children(self, visitor):
        return self

    def _codegen_impl(self, state, **kwargs) -> None:
        if "".join(state.indent_tokens) != self.indent:
            self.statement._codegen(state, **kwargs)
            return
        state.add_token(self.text)
        state.add_token(self.newline)


@dataclass(frozen=True)
class _HelperLine(cst.CSTNode):
    """Stands for a line of helper code while the tree is written."""

    line: cst.SimpleStatementLine

    def _visit_and_replace_children(self, visitor):
        return self

    def _codegen_impl(self, state, **kwargs) -> None:
        if type(state) is not CodegenState:  # codegen that records positions
            self.line._codegen(state, **kwargs)
            return
        text, newline = _helper_text(self.line, tuple(state.indent_tokens),
                                     state.default_indent, state.default_newline)
        state.add_token(text)
        state.add_token(newline)  # a token of its own, as libcst writes it


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
        line._codegen(state)
        found = _HELPER_TEXTS[key] = (line, "".join(state.tokens[:-1]), state.tokens[-1])
    return found[1], found[2]


class _Texts:
    def __init__(self, lines: StatementLines):
        self.lines = lines

    def body(self, statements: Sequence[cst.CSTNode]):
        """The statements, unchanged ones as their text; the sequence itself when none is."""
        out = [self.statement(stmt) for stmt in statements]
        return statements if all(a is b for a, b in zip(out, statements)) else out

    def statement(self, stmt: cst.CSTNode) -> cst.CSTNode:
        text = self._source_text(stmt)
        if text is not None:
            return text
        kind = type(stmt)
        if kind in COMPOUND_STATEMENTS:
            return self._blocks(stmt)
        if kind is cst.SimpleStatementLine and helper_line_code(stmt) is not None:
            return _HelperLine(stmt)
        return stmt

    def _blocks(self, node: cst.CSTNode) -> cst.CSTNode:
        """A compound statement (or its else, except or case part) with the statements of
        its blocks as their text where unchanged."""
        changes = {}
        for name in _BLOCK_FIELDS:
            value = getattr(node, name, None)
            kind = type(value)  # types compared: isinstance against libcst's ABCs is slow
            if kind is cst.IndentedBlock:
                body = self.body(value.body)
                new = value if body is value.body else value.with_changes(body=body)
            elif kind is cst.Else or kind is cst.Finally or kind is cst.If:  # an elif stays an If
                new = self._blocks(value)
            elif isinstance(value, (tuple, list)):  # except handlers, match cases
                parts = [self._blocks(part) for part in value]
                new = value if all(a is b for a, b in zip(parts, value)) else parts
            else:
                continue
            if new is not value:
                changes[name] = new
        return node.with_changes(**changes) if changes else node

    def _source_text(self, stmt: cst.CSTNode) -> Optional[_SourceText]:
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
        return _SourceText(source[start:end - len(newline)], newline, indent, stmt)


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
