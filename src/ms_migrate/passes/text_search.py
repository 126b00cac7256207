"""Fast text tests for the passes' `applies(source)`, which run on every file for every pass.

A regex that starts with `\\b`, `^` or an alternation is tried at every position of the
file (about 30 ns a character); `str.find` and `in` look for a literal with a fast string
search. So the tests look for literals first, and try a pattern only where they are.
"""
from __future__ import annotations

from typing import Pattern


def found(pattern: Pattern, source: str, *starts: str) -> bool:
    """`pattern.search(source)`, for a pattern each match of which starts with one of the
    literals `starts`: it is tried only where they are (a `\\b` or lookbehind before the
    match still reads the text before it)."""
    for start in starts:
        at = source.find(start)
        while at >= 0:
            if pattern.match(source, at):
                return True
            at = source.find(start, at + 1)
    return False


def contains_any(source: str, words) -> bool:
    """One of `words` is in `source`."""
    return any(word in source for word in words)
