"""libcst without two costs this converter does not need.

- The parse checks every node it builds (`CSTNode.__post_init__` calls `_validate`): a
  name is not empty, parentheses pair up, a keyword has the spaces it needs. Those
  checks guard trees built by hand. A tree the parser builds from source meets them by
  construction (its code is that source again), and checking its ~20 nodes a line
  costs about a sixth of the parse. `parse_source` parses without them, as do
  `parse_statement` and `parse_expression` for code the converter writes; every node the
  passes build otherwise is checked as before.
- Codegen enters two generator-based context managers for each expression it writes:
  one writes its parentheses, the other is a hook for position-recording codegen that
  plain codegen leaves empty. They are a third of the codegen's time. Inside
  `quick_codegen()`, plain codegen uses small objects that do the same; codegen that
  records positions keeps libcst's own. The swap is made only where a sample written
  both ways comes out the same (a libcst that writes parentheses some other way keeps
  its own).

Both replace methods of libcst's classes while in use, for all threads: a node another
thread builds during a parse goes unchecked too (a malformed one, a bug, would not be
refused when made); codegen writes the same code either way.
"""
from __future__ import annotations

import threading
from contextlib import nullcontext
from functools import lru_cache
from typing import ContextManager, List, Tuple

import libcst as cst
from libcst import CSTNode

try:  # libcst's own module; where it moved, nothing is swapped
    from libcst._nodes.internal import CodegenState
except ImportError:  # pragma: no cover
    CodegenState = None

# the class that gives expressions their `lpar`, `rpar` and `_parenthesize`
Parenthesized = next((kind for kind in cst.Name.__mro__ if "_parenthesize" in kind.__dict__),
                     None)


class _Swap:
    """Methods of libcst's classes replaced while anyone is inside (in any thread)."""

    def __init__(self, replacements: List[Tuple[type, str, object]]):
        self._replacements = [(cls, name, new, cls.__dict__[name])
                              for cls, name, new in replacements
                              if cls is not None and name in cls.__dict__]
        self.complete = len(self._replacements) == len(replacements)
        self._lock = threading.Lock()
        self._inside = 0

    def __enter__(self) -> None:
        with self._lock:
            if not self._inside:
                for cls, name, new, _old in self._replacements:
                    setattr(cls, name, new)
            self._inside += 1

    def __exit__(self, *exc) -> None:
        with self._lock:
            self._inside -= 1
            if not self._inside:
                for cls, name, _new, old in self._replacements:
                    setattr(cls, name, old)


def _unchecked(self: CSTNode) -> None:
    pass


_UNCHECKED = _Swap([(CSTNode, "__post_init__", _unchecked)])


def parse_source(source: str) -> cst.Module:
    """`cst.parse_module(source)`, without checking each node."""
    with _UNCHECKED:
        return cst.parse_module(source)


def parse_statement(code: str) -> cst.BaseStatement:
    """`cst.parse_statement(code)`, without checking each node."""
    with _UNCHECKED:
        return cst.parse_statement(code)


def parse_expression(code: str) -> cst.BaseExpression:
    """`cst.parse_expression(code)`, without checking each node."""
    with _UNCHECKED:
        return cst.parse_expression(code)


class _NoPosition:
    """What plain codegen's `record_syntactic_position` does: nothing."""
    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc) -> bool:
        return False


_NO_POSITION = _NoPosition()


class _Parentheses:
    """What `Parenthesized._parenthesize` does, as a plain object."""
    __slots__ = ("node", "state")

    def __init__(self, node: Parenthesized, state: CodegenState):
        self.node = node
        self.state = state

    def __enter__(self) -> None:
        for lpar in self.node.lpar:
            lpar._codegen(self.state)

    def __exit__(self, kind, *exc) -> bool:
        if kind is None:  # as the generator: no closing parenthesis after an error
            for rpar in self.node.rpar:
                rpar._codegen(self.state)
        return False


_LIBCST_PARENTHESIZE = getattr(Parenthesized, "_parenthesize", None)


def _parenthesize(self: Parenthesized, state: CodegenState):
    if type(state) is CodegenState:
        return _Parentheses(self, state)
    return _LIBCST_PARENTHESIZE(self, state)


def _no_position(self: CodegenState, node: CSTNode, **_nodes) -> _NoPosition:
    return _NO_POSITION


_QUICK_CODEGEN = _Swap([(Parenthesized, "_parenthesize", _parenthesize),
                        (CodegenState, "record_syntactic_position", _no_position)])

# Parentheses, nested and around every kind of expression, with comments and line breaks
_SAMPLE = '''\
x = ((a)) + (b if (c) else (d))[(1):(-2)] * (lambda q: (q))(  # note
    (yield_) , *(rest), **(kw)) @ ((m) . n)
y = [(i) for (i) in (range(3)) if (i)] or {(k): (v) for k, v in (items)} and not (z)
f"{(x)!r:>{(w)}}" ; (await_) if (p := (1)) else (...)
'''


@lru_cache(maxsize=1)
def _writes_the_same() -> bool:
    if not _QUICK_CODEGEN.complete:
        return False
    tree = cst.parse_module(_SAMPLE)
    with _QUICK_CODEGEN:
        quick = tree.code
    return quick == tree.code == _SAMPLE


def quick_codegen() -> ContextManager[None]:
    """A context in which libcst's plain codegen is faster and writes the same code."""
    return _QUICK_CODEGEN if _writes_the_same() else nullcontext()
