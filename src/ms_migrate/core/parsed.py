"""Code the converter writes into files (rule templates, helper code, import lines),
parsed once per process: it is the same text in every file, and libcst trees are
immutable, so one tree can be shared."""
from __future__ import annotations

from functools import lru_cache

import libcst as cst

from .quick_libcst import parse_expression, parse_statement


@lru_cache(maxsize=1024)
def parsed_expression(text: str) -> cst.BaseExpression:
    """A rule's template, default or value lambda."""
    return parse_expression(text)


@lru_cache(maxsize=1024)
def parsed_statement(code: str) -> cst.BaseStatement:
    """Helper code or an import line."""
    return parse_statement(code)
