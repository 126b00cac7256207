"""libcst without two costs this converter does not need.

- The parse checks every node it builds (`CSTNode.__post_init__` calls `_validate`): a
  name is not empty, parentheses pair up, a keyword has the spaces it needs. Those
  checks guard trees built by hand. A tree the parser builds from source meets them by
  construction (its code is that source again), and checking its ~20 nodes a line
  costs about a sixth of the parse. `parse_source` parses without them, as do
  `parse_statement` and `parse_expression` for code the converter writes, and
  `unchecked()` for the few statements built node for node as the parser builds them
  (passes/training/quick_statements); every other node the passes build is checked as
  before.
- Codegen enters two generator-based context managers for each expression it writes:
  one writes its parentheses, the other is a hook for position-recording codegen that
  plain codegen leaves empty. They are a third of the codegen's time. And each node
  costs three calls before it writes a token (`_codegen`, two empty hooks, then
  `_codegen_impl`). Inside `quick_codegen()`, plain codegen uses small objects in
  place of the context managers, and the most common nodes (names, whitespace,
  punctuation, calls, arguments, lines) write their tokens from one method each;
  codegen that records positions keeps libcst's own. The swap is made only where a
  sample written both ways comes out the same (a libcst that writes some node another
  way keeps its own).

The parse's checks are skipped by a `CSTNode.__post_init__` put in when this module is
imported: it runs libcst's own unless a parse here is in progress, in any thread (a node
another thread builds meanwhile goes unchecked too: a malformed one, a bug, would not be
refused when made). The codegen swaps methods of libcst's classes while in use, for all
threads; it writes the same code either way.
"""
from __future__ import annotations

import threading
from contextlib import nullcontext
from contextvars import ContextVar
from functools import lru_cache
from typing import Callable, ContextManager, List, Optional, Tuple

import libcst as cst
from libcst import CSTNode

try:  # libcst's own module; where it moved, nothing is swapped
    from libcst._nodes.internal import CodegenState
except ImportError:  # pragma: no cover
    CodegenState = None

# the class that gives expressions their `lpar`, `rpar` and `_parenthesize`
Parenthesized = next((kind for kind in cst.Name.__mro__ if "_parenthesize" in kind.__dict__),
                     None)


_INHERITED = object()  # a method the class only inherits: deleted again on the way out


class _Swap:
    """Methods of libcst's classes replaced while anyone is inside (in any thread).

    A method the class defines is put back on the way out; one it inherits (a node's
    own `_codegen`) is given to it, then taken away."""

    def __init__(self, replacements: List[Tuple[type, str, object]]):
        self._replacements = [(cls, name, new, cls.__dict__.get(name, _INHERITED))
                              for cls, name, new in replacements
                              if cls is not None and hasattr(cls, name)]
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
                    if old is _INHERITED:
                        delattr(cls, name)
                    else:
                        setattr(cls, name, old)


class _Parsing:
    """Counts the parses in progress here (in any thread): while there are any, nodes
    are not checked."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        with self._lock:
            self.count += 1

    def __exit__(self, *exc) -> None:
        with self._lock:
            self.count -= 1


_UNCHECKED = _Parsing()
_LIBCST_POST_INIT = CSTNode.__post_init__


def _post_init(self: CSTNode) -> None:
    """libcst's `__post_init__` (the checks), except while a parse here is in progress."""
    if not _UNCHECKED.count:
        _LIBCST_POST_INIT(self)


def _validate_unless_parsing(self: CSTNode) -> None:
    """The same, where libcst's is `self._validate()`: without a second call per node,
    so that nodes built elsewhere in the process cost what they cost before."""
    if not _UNCHECKED.count:
        self._validate()


_CODE = getattr(_LIBCST_POST_INIT, "__code__", None)
# Put in once, for good: changing a class that every node type inherits from makes the
# interpreter drop what it has learnt about all of them, a cost paid again for each
# parse when the method was swapped in and out around it (3% of a conversion).
CSTNode.__post_init__ = (_validate_unless_parsing
                         if _CODE is not None and _CODE.co_names == ("_validate",)
                         and _LIBCST_POST_INIT.__module__.startswith("libcst")
                         else _post_init)


def unchecked() -> _Parsing:
    """Nodes made inside are not checked, as in a parse here: for trees built node for
    node as the parser builds them from code (passes/training/quick_statements)."""
    return _UNCHECKED


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


# --- the most common nodes, written from one method each -----------------------------
# Each writes what its class's `_codegen_impl` writes, for plain codegen only; any other
# codegen (one that records positions) goes through libcst's own `_codegen`.

_LIBCST_CODEGEN = CSTNode._codegen


def _node(self: CSTNode, state: CodegenState, **kwargs) -> None:
    """Any node: plain codegen's before and after hooks do nothing."""
    if type(state) is CodegenState:
        self._codegen_impl(state, **kwargs)
    else:
        _LIBCST_CODEGEN(self, state, **kwargs)


def _token(self, state: CodegenState, **kwargs) -> None:
    """Whitespace and comments: their text."""
    if type(state) is CodegenState:
        state.tokens.append(self.value)
    else:
        _LIBCST_CODEGEN(self, state, **kwargs)


def _newline(self: cst.Newline, state: CodegenState, **kwargs) -> None:
    if type(state) is CodegenState:
        value = self.value
        state.tokens.append(state.default_newline if value is None else value)
    else:
        _LIBCST_CODEGEN(self, state, **kwargs)


def _word(self, state: CodegenState, **kwargs) -> None:
    """A name or a number: its text, in its parentheses."""
    if type(state) is CodegenState and not self.lpar and not self.rpar:
        state.tokens.append(self.value)
    else:
        _LIBCST_CODEGEN(self, state, **kwargs)


def _one_token_op(self, state: CodegenState, **kwargs) -> None:
    """A comma, a dot, an operator: its token between its whitespace."""
    if type(state) is CodegenState:
        self.whitespace_before._codegen(state)
        state.tokens.append(self._get_token())
        self.whitespace_after._codegen(state)
    else:
        _LIBCST_CODEGEN(self, state, **kwargs)


def _attribute(self: cst.Attribute, state: CodegenState, **kwargs) -> None:
    if type(state) is CodegenState and not self.lpar and not self.rpar:
        self.value._codegen(state)
        self.dot._codegen(state)
        self.attr._codegen(state)
    else:
        _LIBCST_CODEGEN(self, state, **kwargs)


def _call(self: cst.Call, state: CodegenState, **kwargs) -> None:
    if type(state) is not CodegenState or self.lpar or self.rpar:
        _LIBCST_CODEGEN(self, state, **kwargs)
        return
    self.func._codegen(state)
    self.whitespace_after_func._codegen(state)
    state.tokens.append("(")
    self.whitespace_before_args._codegen(state)
    args = self.args
    last = len(args) - 1
    for i, arg in enumerate(args):
        arg._codegen(state, default_comma=(i != last))
    state.tokens.append(")")


def _arg(self: cst.Arg, state: CodegenState, default_comma: bool = False, **kwargs) -> None:
    if type(state) is not CodegenState:
        _LIBCST_CODEGEN(self, state, default_comma=default_comma, **kwargs)
        return
    tokens = state.tokens
    tokens.append(self.star)
    self.whitespace_after_star._codegen(state)
    keyword = self.keyword
    if keyword is not None:
        keyword._codegen(state)
    equal = self.equal
    if equal is cst.MaybeSentinel.DEFAULT and keyword is not None:
        tokens.append(" = ")
    elif type(equal) is cst.AssignEqual:
        equal._codegen(state)
    self.value._codegen(state)
    comma = self.comma
    if comma is cst.MaybeSentinel.DEFAULT and default_comma:
        tokens.append(", ")
    elif type(comma) is cst.Comma:
        comma._codegen(state)
    self.whitespace_after_arg._codegen(state)


def _end_of_line(self, state: CodegenState, **kwargs) -> None:
    """TrailingWhitespace and EmptyLine (whose `indent` says whether it is indented)."""
    if type(state) is not CodegenState:
        _LIBCST_CODEGEN(self, state, **kwargs)
        return
    if getattr(self, "indent", False):
        state.tokens.extend(state.indent_tokens)
    self.whitespace._codegen(state)
    comment = self.comment
    if comment is not None:
        comment._codegen(state)
    self.newline._codegen(state)


# While core/codegen.py's module_code writes a tree, it writes the statements it knows
# the text of (as parsed): asked for each statement, it says whether it wrote it.
STATEMENT_TEXT: ContextVar[Optional[Callable[[CSTNode, CodegenState], bool]]] = ContextVar(
    "ms_migrate_statement_text", default=None)


def _compound_statement(self, state: CodegenState, **kwargs) -> None:
    if type(state) is not CodegenState:
        _LIBCST_CODEGEN(self, state, **kwargs)
        return
    write = STATEMENT_TEXT.get()
    # (an `elif` is an If written with `is_elif`: its text is not a statement's)
    if write is None or kwargs or not write(self, state):
        self._codegen_impl(state, **kwargs)


def _simple_statement_line(self: cst.SimpleStatementLine, state: CodegenState,
                           **kwargs) -> None:
    if type(state) is not CodegenState or not self.body:
        _LIBCST_CODEGEN(self, state, **kwargs)
        return
    write = STATEMENT_TEXT.get()
    if write is not None and write(self, state):
        return
    for line in self.leading_lines:
        line._codegen(state)
    state.tokens.extend(state.indent_tokens)
    body = self.body
    last = len(body) - 1
    for i, small in enumerate(body):
        small._codegen(state, default_semicolon=(i != last))
    self.trailing_whitespace._codegen(state)


# every punctuation and operator node libcst writes as a comma (one token between two
# whitespace nodes)
_ONE_TOKEN_OPS = [kind for kind in vars(cst).values()
                  if isinstance(kind, type) and CSTNode in kind.__mro__
                  and getattr(kind, "_codegen_impl", None) is cst.Comma._codegen_impl]

# def, class, if, for, while, with, try, match
_COMPOUND_STATEMENTS = [kind for kind in vars(cst).values()
                        if isinstance(kind, type) and cst.BaseCompoundStatement in kind.__mro__
                        and kind is not cst.BaseCompoundStatement]

_QUICK_CODEGEN = _Swap([
    (Parenthesized, "_parenthesize", _parenthesize),
    (CodegenState, "record_syntactic_position", _no_position),
    (CSTNode, "_codegen", _node),
    (cst.SimpleWhitespace, "_codegen", _token),
    (cst.Comment, "_codegen", _token),
    (cst.Newline, "_codegen", _newline),
    (cst.Name, "_codegen", _word),
    (cst.Integer, "_codegen", _word),
    (cst.Float, "_codegen", _word),
    (cst.Imaginary, "_codegen", _word),
    (cst.SimpleString, "_codegen", _word),
    *[(kind, "_codegen", _one_token_op) for kind in _ONE_TOKEN_OPS],
    (cst.Attribute, "_codegen", _attribute),
    (cst.Call, "_codegen", _call),
    (cst.Arg, "_codegen", _arg),
    (cst.TrailingWhitespace, "_codegen", _end_of_line),
    (cst.EmptyLine, "_codegen", _end_of_line),
    (cst.SimpleStatementLine, "_codegen", _simple_statement_line),
    *[(kind, "_codegen", _compound_statement) for kind in _COMPOUND_STATEMENTS],
])

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
