"""The values of string literals, as libcst's `evaluated_value` gives them.

libcst reads a literal with `ast.literal_eval`, which in CPython 3.11 defines nested
functions that refer to each other on every call: a reference cycle per literal read,
left for the cyclic collector to find. `string_value` makes the same parse without them.
"""
from __future__ import annotations

import ast
from typing import Optional, Union

import libcst as cst


def string_value(node: Union[cst.SimpleString, cst.ConcatenatedString]
                 ) -> Optional[Union[str, bytes]]:
    """`node.evaluated_value`: the str or bytes a literal stands for (None for a
    concatenation with an f-string in it, or of str with bytes)."""
    if isinstance(node, cst.ConcatenatedString):
        return _concatenated_value(node)
    # literal_eval's own parse; a string literal is a Constant, and anything else
    # gets literal_eval's own answer (or error)
    body = ast.parse(node.value.lstrip(" \t"), mode="eval").body
    return body.value if isinstance(body, ast.Constant) else ast.literal_eval(node.value)


def _concatenated_value(node: cst.ConcatenatedString) -> Optional[Union[str, bytes]]:
    # libcst's ConcatenatedString.evaluated_value, step for step
    left, right = node.left, node.right
    if isinstance(left, cst.FormattedString) or isinstance(right, cst.FormattedString):
        return None
    left_value, right_value = string_value(left), string_value(right)
    if right_value is None:
        return None
    if isinstance(left_value, bytes) and isinstance(right_value, bytes):
        return left_value + right_value
    if isinstance(left_value, str) and isinstance(right_value, str):
        return left_value + right_value
    return None
