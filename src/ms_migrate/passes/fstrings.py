"""Converted code inside f-strings: before Python 3.12 an expression in an f-string
cannot hold the quote that encloses it (nor a backslash, nor, in a one-line f-string,
a line break). Strings the conversion wrote there (`pad_mode="valid"`) take the other
quote; what cannot be written so is left unconverted by the caller.
"""
from __future__ import annotations

from typing import Collection, Optional

import libcst as cst

from ..core.traversal import FastTransformer, traverse

_QUOTES = ('"', "'")


class _Requote(FastTransformer):
    def __init__(self, forbidden: Collection[str]):
        super().__init__()
        self.forbidden = forbidden
        self.failed = False

    def visit_FormattedString(self, node):
        return False  # a nested f-string was made right when it was left

    def leave_SimpleString(self, original, updated):
        quote = updated.quote[0]
        prefix = updated.prefix
        body = updated.value[len(prefix) + len(updated.quote):-len(updated.quote)]
        if "\\" in body:
            self.failed = True
            return updated
        if quote not in self.forbidden:
            return updated
        free = [q for q in _QUOTES if q not in self.forbidden and q not in body]
        if not free or len(updated.quote) == 3:
            self.failed = True
            return updated
        return updated.with_changes(value=f"{prefix}{free[0]}{body}{free[0]}")


def fit_fstring(node: cst.FormattedString,
                enclosing: Collection[str]) -> Optional[cst.FormattedString]:
    """`node` with its expressions' strings quoted so that Python 3.9-3.11 read it, or
    None when that cannot be done. `enclosing`: quotes of the f-strings around it."""
    forbidden = {q[0] for q in (*enclosing, node.quote)}
    one_line = len(node.quote) == 1 and all(len(q) == 1 for q in enclosing)
    changes = []
    for part in node.parts:
        if isinstance(part, cst.FormattedStringExpression):
            fixer = _Requote(forbidden)
            new = traverse(part, fixer)
            text = cst.Module([]).code_for_node(new)
            if fixer.failed or (one_line and "\n" in text):
                return None
            if (cst.Module([]).code_for_node(new.expression).startswith("{")
                    and not new.whitespace_before_expression.value):
                # `f"{ {'cuda': 'GPU'}.get(d)}"`: `{{` would be an escaped brace
                new = new.with_changes(whitespace_before_expression=cst.SimpleWhitespace(" "))
            changes.append(new)
        else:
            changes.append(part)
    return node.with_changes(parts=changes)
