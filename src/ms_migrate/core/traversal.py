"""Faster libcst traversal for our visitors and transformers.

For every node libcst looks up `visit_<Node>` and `leave_<Node>` by building the
name and calling getattr, and does the same for every field of every node
(`visit_<Node>_<field>`), which none of our passes define. Measured here this
dispatch is about a quarter of a traversal. These mixins cache the lookups per
node type and skip the per-field hooks when a class defines none; behaviour is
libcst's own.
"""
from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Dict, List, Optional, Tuple
from weakref import WeakKeyDictionary

import libcst as cst


def _has_field_hooks(cls: type) -> bool:
    """True when the class defines `visit_<Node>_<field>` or `leave_<Node>_<field>`."""
    for name in dir(cls):
        prefix, _, rest = name.partition("_")
        if prefix in ("visit", "leave") and "_" in rest:
            node = rest.split("_", 1)[0]
            if isinstance(getattr(cst, node, None), type):
                return True
    return False


class _Cached:
    _hooks: Dict[Tuple[type, str, type], Optional[Callable]] = {}

    def _hook(self, prefix: str, node_type: type) -> Optional[Callable]:
        key = (type(self), prefix, node_type)
        try:
            return _Cached._hooks[key]
        except KeyError:
            fn = getattr(type(self), f"{prefix}{node_type.__name__}", None)
            _Cached._hooks[key] = fn
            return fn

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if _has_field_hooks(cls):  # keep libcst's per-field dispatch for this class
            cls.on_visit_attribute = cst.CSTTransformer.on_visit_attribute
            cls.on_leave_attribute = cst.CSTTransformer.on_leave_attribute

    def on_visit(self, node):
        fn = self._hook("visit_", type(node))
        return True if fn is None else fn(self, node) is not False

    def on_visit_attribute(self, node, attribute) -> None:
        return None

    def on_leave_attribute(self, original_node, attribute) -> None:
        return None


class FastTransformer(_Cached, cst.CSTTransformer):
    def on_leave(self, original_node, updated_node):
        fn = self._hook("leave_", type(original_node))
        return updated_node if fn is None else fn(self, original_node, updated_node)


class FastVisitor(_Cached, cst.CSTVisitor):
    def on_leave(self, original_node) -> None:
        fn = self._hook("leave_", type(original_node))
        if fn is not None:
            fn(self, original_node)


# --- a traversal that rebuilds only what changed ---------------------------------
#
# `node.visit(visitor)` rebuilds (and re-validates) every node of the tree, even for
# a visitor that changes nothing: measured here that is half of a traversal's cost.
# `traverse` visits the same fields in libcst's order with the same hooks and sentinel
# rules, but a node is rebuilt only when one of its children changed, so a pass that
# changes nothing hands on the very tree it was given (and its cached code), and a
# changed tree shares its unchanged statements with the original.

# Pure syntax (whitespace, punctuation, operators): never holds a name or a call.
_SYNTAX = (cst.SimpleWhitespace, cst.ParenthesizedWhitespace, cst.EmptyLine, cst.Newline,
           cst.TrailingWhitespace, cst.Comment, cst.Comma, cst.Dot, cst.Colon,
           cst.AssignEqual, cst.Semicolon, cst.LeftParen, cst.RightParen,
           cst.LeftSquareBracket, cst.RightSquareBracket, cst.LeftCurlyBrace,
           cst.RightCurlyBrace, cst.BaseBinaryOp, cst.BaseUnaryOp, cst.BaseBooleanOp,
           cst.BaseCompOp, cst.BaseAugOp)

_FIELDS: Dict[type, Tuple[str, ...]] = {}


class _FieldOrder(cst.CSTVisitor):
    """Records the fields libcst's own traversal visits, in its order."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: List[str] = []

    def on_visit(self, node) -> bool:
        return False

    def on_leave(self, original_node) -> None:
        return None

    def on_visit_attribute(self, node, attribute) -> None:
        self.fields.append(attribute)


def _fields(node: cst.CSTNode) -> Tuple[str, ...]:
    kind = type(node)
    found = _FIELDS.get(kind)
    if found is None:
        recorder = _FieldOrder()
        node._visit_and_replace_children(recorder)
        order = list(dict.fromkeys(recorder.fields))
        # libcst skips a few fields when they are None (an f-string's format_spec)
        order += [f.name for f in dataclasses.fields(node)
                  if f.name not in order and getattr(node, f.name) is None]
        found = _FIELDS[kind] = tuple(order)
    return found


def _removed(node: cst.CSTNode, name: str):
    """What a field becomes when its child is removed, as libcst's visit_* helpers say."""
    default = {f.name: f.default for f in dataclasses.fields(node)}.get(name)
    if default is None or isinstance(default, cst.MaybeSentinel):
        return default
    raise TypeError(f"a {type(node).__name__}'s {name} cannot be removed")


# Statements: the unit of line numbers (positions.StatementLines) and of skipping.
_STATEMENTS = (cst.BaseStatement, cst.BaseSmallStatement)

# Where a pass rebuilt a statement, the statement it replaced (see positions.py).
_ORIGINS: ContextVar[Optional[Dict[int, Tuple[cst.CSTNode, cst.CSTNode]]]] = ContextVar(
    "ms_migrate_origins", default=None)


@contextmanager
def recording_origins(origins: Dict[int, Tuple[cst.CSTNode, cst.CSTNode]]):
    """While open, every statement a traversal replaces is noted in `origins`:
    id(new) -> (new, the statement first parsed)."""
    token = _ORIGINS.set(origins)
    try:
        yield origins
    finally:
        _ORIGINS.reset(token)


def rebuilt(old: cst.CSTNode, new):
    """`new` stands where the statement `old` was (its comments moved, or replaced by
    a pass): noted for line numbers while recording_origins is open. Returns `new`."""
    origins = _ORIGINS.get()
    if origins is not None:
        first = _first(origins, old)
        for item in (new if isinstance(new, (list, tuple, cst.FlattenSentinel)) else (new,)):
            if isinstance(item, cst.CSTNode) and item is not old:
                origins[id(item)] = (item, first)
    return new


def _first(origins, node: cst.CSTNode) -> cst.CSTNode:
    """The statement first parsed that `node` stands for."""
    found = origins.get(id(node))
    return found[1] if found is not None and found[0] is node else node


class _Plan:
    """Per visitor class and node type: the hooks to call, or None.

    A visitor with a `statements` list gets the statements it is inside pushed on it;
    one with a `skips(statement)` method can pass over whole statements.
    """

    def __init__(self, visitor) -> None:
        cls = type(visitor)
        self.transformer = isinstance(visitor, cst.CSTTransformer)
        self.hooked = isinstance(visitor, _Cached) and (
            cls.on_visit is _Cached.on_visit
            and cls.on_leave in (FastTransformer.on_leave, FastVisitor.on_leave))
        self.stack = isinstance(getattr(visitor, "statements", None), list)
        self.skips = callable(getattr(visitor, "skips", None))
        self.by_type: Dict[type, tuple] = {}

    def hooks(self, visitor, kind: type):
        found = self.by_type.get(kind)
        if found is None:
            statement = issubclass(kind, _STATEMENTS)
            if self.hooked:
                cls = type(visitor)
                visit = getattr(cls, f"visit_{kind.__name__}", None)
                leave = getattr(cls, f"leave_{kind.__name__}", None)
                skip = visit is None and leave is None and issubclass(kind, _SYNTAX)
                found = (visit, leave, skip, statement)
            else:
                found = (type(visitor).on_visit, type(visitor).on_leave, False, statement)
            self.by_type[kind] = found
        return found


# Weak: passes define visitor classes inside functions, one class per call.
_PLANS: "WeakKeyDictionary[type, _Plan]" = WeakKeyDictionary()


def traverse(node: cst.CSTNode, visitor):
    """`node.visit(visitor)`, rebuilding only the nodes whose children changed."""
    plan = _PLANS.get(type(visitor))
    if plan is None:
        plan = _PLANS[type(visitor)] = _Plan(visitor)
    return _walk(node, visitor, plan)


def _walk(node, visitor, plan: _Plan):
    kind = type(node)
    hooks = plan.by_type.get(kind) or plan.hooks(visitor, kind)
    if hooks[2]:  # syntax the visitor has no hook for
        return node
    if hooks[3]:
        return _walk_statement(node, visitor, plan, hooks[0], hooks[1])
    return _visit(node, visitor, plan, hooks[0], hooks[1])


def _walk_statement(node, visitor, plan: _Plan, visit, leave):
    if plan.skips and visitor.skips(node):
        return node
    if plan.stack:
        visitor.statements.append(node)
        result = _visit(node, visitor, plan, visit, leave)
        visitor.statements.pop()
    else:
        result = _visit(node, visitor, plan, visit, leave)
    if result is not node:
        rebuilt(node, result)
    return result


# Per type of field value: 1 a node, 2 a sequence, 0 anything else (isinstance on
# libcst's abstract classes is slow, and this runs for every field of every node).
_VALUE_KINDS: Dict[type, int] = {tuple: 2, list: 2, type(None): 0, str: 0}


def _value_kind(kind: type) -> int:
    _VALUE_KINDS[kind] = 1 if issubclass(kind, cst.CSTNode) else 0
    return _VALUE_KINDS[kind]


def _visit(node, visitor, plan: _Plan, visit, leave):
    updated = node
    if visit is None or visit(visitor, node) is not False:
        changes = None
        fields = _FIELDS.get(type(node)) or _fields(node)
        for name in fields:
            value = getattr(node, name)
            value_kind = _VALUE_KINDS.get(type(value))
            if value_kind is None:
                value_kind = _value_kind(type(value))
            if value_kind == 1:
                new = _walk(value, visitor, plan)
                if new is value:
                    continue
                if isinstance(new, cst.RemovalSentinel):
                    new = _removed(node, name)
                elif isinstance(new, cst.FlattenSentinel):
                    raise TypeError(f"a {type(node).__name__}'s {name} takes one node")
            elif value_kind == 2 and value:
                new = _walk_sequence(value, visitor, plan)
                if new is value:
                    continue
            else:
                continue
            if changes is None:
                changes = {}
            changes[name] = new
        if changes:
            updated = node.with_changes(**changes)
    if leave is None:
        return updated
    if plan.transformer:
        return leave(visitor, node, updated)
    leave(visitor, node)
    return node


def _walk_sequence(values, visitor, plan: _Plan):
    out = None
    for i, child in enumerate(values):
        new = _walk(child, visitor, plan)
        if new is child and out is None:
            continue
        if out is None:
            out = list(values[:i])
        if isinstance(new, cst.RemovalSentinel):
            continue
        # as libcst: a statement line emptied by removals goes with them
        was_removable = child._is_removable()
        for item in (new if isinstance(new, cst.FlattenSentinel) else (new,)):
            if was_removable or not item._is_removable():
                out.append(item)
    return values if out is None else tuple(out)
