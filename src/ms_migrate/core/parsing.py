"""Parsing a source file: libcst's parser, without its checks of each node it builds.

libcst checks every node when it is made (`CSTNode.__post_init__` calls `_validate`):
a name is not empty, parentheses pair up, a keyword has the spaces it needs. Those
checks guard trees built by hand. A tree the parser builds from source meets them by
construction (its code is that source again), and checking its ~20 nodes a line costs
about a sixth of the parse. So the parse runs without them; every node the passes
build afterwards is checked as before.
"""
from __future__ import annotations

import threading

import libcst as cst
from libcst._nodes.base import CSTNode

_CHECKED = CSTNode.__dict__.get("__post_init__")  # None: a libcst that checks elsewhere
_lock = threading.Lock()
_parsing = 0  # parses under way, in all threads: the checks come back when none is


def _unchecked(self: CSTNode) -> None:
    pass


def parse_source(source: str) -> cst.Module:
    """`cst.parse_module(source)`, faster. While it runs, nodes that other threads build
    go unchecked too: a malformed one (a bug) would not be refused when made."""
    global _parsing
    if _CHECKED is None:
        return cst.parse_module(source)
    with _lock:
        _parsing += 1
        CSTNode.__post_init__ = _unchecked
    try:
        return cst.parse_module(source)
    finally:
        with _lock:
            _parsing -= 1
            if not _parsing:
                CSTNode.__post_init__ = _CHECKED
