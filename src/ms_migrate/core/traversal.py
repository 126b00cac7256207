"""Faster libcst traversal for our visitors and transformers.

For every node libcst looks up `visit_<Node>` and `leave_<Node>` by building the
name and calling getattr, and does the same for every field of every node
(`visit_<Node>_<field>`), which none of our passes define. Measured here this
dispatch is about a quarter of a traversal. These mixins cache the lookups per
node type and skip the per-field hooks when a class defines none; behaviour is
libcst's own. The `visit_<Node>`/`leave_<Node>` every class inherits from libcst
are no-ops (libcst marks them `_is_no_op`): they count as absent, so a node type
the class has no hook of its own for costs no call, and whitespace and punctuation
are not entered at all.
"""
from __future__ import annotations

import collections.abc
import dataclasses
import typing
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Dict, FrozenSet, List, NamedTuple, Optional, Tuple

import libcst as cst


def _has_field_hooks(cls: type) -> bool:
    """True when the class itself defines `visit_<Node>_<field>` or `leave_<Node>_<field>`
    (a base class that does has switched the dispatch back already, for its subclasses
    too). Its own names only: passes define visitor classes inside functions, one class
    per call."""
    for name in vars(cls):
        prefix, _, rest = name.partition("_")
        if prefix in ("visit", "leave") and "_" in rest:
            node = rest.split("_", 1)[0]
            if isinstance(getattr(cst, node, None), type):
                return True
    return False


class _Cached:
    # Per class (each subclass gets its own in __init_subclass__): a cache keyed by the
    # class in a module-level dict would keep the classes passes define per call, and
    # the trees their hooks close over, alive for good.
    _hooks: Dict[Tuple[str, type], Optional[Callable]] = {}

    def _hook(self, prefix: str, node_type: type) -> Optional[Callable]:
        key = (prefix, node_type)
        try:
            return self._hooks[key]
        except KeyError:
            fn = self._hooks[key] = _own_hook(type(self), prefix, node_type)
            return fn

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._hooks = {}
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


def child_nodes(node: cst.CSTNode) -> List[cst.CSTNode]:
    """`node.children` less syntax (whitespace, punctuation), in the same order, without
    libcst's rebuilding visit: the children that may hold a name, a call or a statement."""
    names = _pruned_fields(node)
    found = []
    for name in names:
        value = getattr(node, name)
        if isinstance(value, (list, tuple)):
            found.extend(value)
        elif _kind(type(value))[0]:  # a node (isinstance against an ABC is slow)
            found.append(value)
    return found


def _removed(node: cst.CSTNode, name: str):
    """What a field becomes when its child is removed, as libcst's visit_* helpers say."""
    default = {f.name: f.default for f in dataclasses.fields(node)}.get(name)
    if default is None or isinstance(default, cst.MaybeSentinel):
        return default
    raise TypeError(f"a {type(node).__name__}'s {name} cannot be removed")


# Statements: pushed on a visitor's `statements`; what `skips` may pass over.
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
        many = isinstance(new, (list, tuple)) or type(new) is cst.FlattenSentinel
        for item in (new if many else (new,)):
            if isinstance(item, cst.CSTNode) and item is not old:
                origins[id(item)] = (item, first)
    return new


def _first(origins, node: cst.CSTNode) -> cst.CSTNode:
    """The statement first parsed that `node` stands for."""
    found = origins.get(id(node))
    return found[1] if found is not None and found[0] is node else node


class _Plan:
    """Per visitor class, what to do with each type of field value: skip it, walk a
    sequence, or walk a node with its hooks (`_Step`).

    A visitor with a `statements` list gets the statements it is inside pushed on it;
    one with a `skips(statement)` method can pass over whole statements.
    """

    def __init__(self, visitor) -> None:
        cls = type(visitor)
        # by the class's own bases: isinstance against libcst's abstract classes checks a
        # class it has not seen against every subclass of them (passes define visitor
        # classes per call)
        self.transformer = cst.CSTTransformer in cls.__mro__
        self.hooked = isinstance(visitor, _Cached) and (
            cls.on_visit is _Cached.on_visit
            and cls.on_leave in (FastTransformer.on_leave, FastVisitor.on_leave))
        # with no hook on any syntax node, fields that can hold only syntax (whitespace,
        # punctuation: most fields of most nodes) are not looked at
        self.prunes = self.hooked and not _hooks_syntax(cls)
        self.stack = isinstance(getattr(visitor, "statements", None), list)
        self.skips = callable(getattr(visitor, "skips", None))
        self.steps: Dict[type, object] = {tuple: _SEQUENCE, list: _SEQUENCE}

    def step(self, visitor, value):
        """What to do with a value of this type (looked up once per type)."""
        kind = type(value)
        node, syntax, statement = _kind(kind)
        if not node:  # a string, None, MaybeSentinel
            found = _SKIP
        elif self.hooked:
            cls = type(visitor)
            visit, leave = _own_hook(cls, "visit_", kind), _own_hook(cls, "leave_", kind)
            fields = _pruned_fields(value) if self.prunes else _fields(value)
            if visit is None and leave is None and (syntax or (self.prunes and not fields)):
                found = _SKIP  # syntax, or a leaf (a number, a string), with no hook
            else:
                found = _step(visit, leave, statement, fields)
        else:
            found = _step(type(visitor).on_visit, type(visitor).on_leave,
                          statement, _fields(value))
        self.steps[kind] = found
        return found


_KINDS: Dict[type, Tuple[bool, bool, bool]] = {}


def _kind(kind: type) -> Tuple[bool, bool, bool]:
    """(a libcst node, pure syntax, a statement) for a type, once per type. Read from
    the class's bases: issubclass against libcst's abstract classes runs ABCMeta's
    subclass search for each type it has not seen yet, for every one of them."""
    found = _KINDS.get(kind)
    if found is None:
        bases = set(kind.__mro__)
        found = _KINDS[kind] = (cst.CSTNode in bases, not bases.isdisjoint(_SYNTAX),
                                not bases.isdisjoint(_STATEMENTS))
    return found


_PRUNED_FIELDS: Dict[type, Tuple[str, ...]] = {}


def _pruned_fields(node: cst.CSTNode) -> Tuple[str, ...]:
    """_fields less those that can hold only syntax."""
    kind = type(node)
    found = _PRUNED_FIELDS.get(kind)
    if found is None:
        syntax = _syntax_fields(kind)
        found = _PRUNED_FIELDS[kind] = tuple(n for n in _fields(node) if n not in syntax)
    return found


def _hooks_syntax(cls: type) -> bool:
    """The class has a `visit_<Node>`/`leave_<Node>` of its own for a syntax node (libcst's
    own classes have only no-ops)."""
    for klass in cls.__mro__:
        if klass.__module__.startswith("libcst"):
            continue
        for name in vars(klass):
            prefix, _, node = name.partition("_")
            if prefix in ("visit", "leave") and node:
                kind = getattr(cst, node, None)
                if (isinstance(kind, type) and issubclass(kind, _SYNTAX)
                        and _own_hook(cls, prefix + "_", kind) is not None):
                    return True
    return False


_SYNTAX_FIELDS: Dict[type, FrozenSet[str]] = {}


def _syntax_fields(kind: type) -> FrozenSet[str]:
    """The fields of a node type whose annotations allow only syntax, strings and
    sentinels: they never hold a name, a call or a statement."""
    found = _SYNTAX_FIELDS.get(kind)
    if found is None:
        hints = typing.get_type_hints(kind)
        found = _SYNTAX_FIELDS[kind] = frozenset(
            f.name for f in dataclasses.fields(kind) if _only_syntax(hints.get(f.name)))
    return found


def _only_syntax(annotation) -> bool:
    if annotation is None:
        return False
    if annotation in (str, bool, type(None), cst.MaybeSentinel):
        return True
    if isinstance(annotation, type):  # whitespace is annotated by its base class
        return issubclass(annotation, (*_SYNTAX, cst.BaseParenthesizableWhitespace))
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return all(isinstance(arg, str) for arg in typing.get_args(annotation))
    if origin in (typing.Union, list, tuple, collections.abc.Sequence):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        return bool(args) and all(_only_syntax(arg) for arg in args)
    return False  # anything else may hold anything


def _own_hook(cls: type, prefix: str, kind: type) -> Optional[Callable]:
    """The class's `visit_<Node>`/`leave_<Node>`, or None where it has only libcst's
    inherited no-op (which libcst marks `_is_no_op`)."""
    fn = getattr(cls, f"{prefix}{kind.__name__}", None)
    return None if getattr(fn, "_is_no_op", False) else fn


class _Step(NamedTuple):
    visit: Optional[Callable]
    leave: Optional[Callable]
    statement: bool  # the unit of line numbers (positions.StatementLines) and of skipping
    fields: Tuple[str, ...]  # in libcst's order, those that may hold what the visitor sees
    walk: Callable  # _walk_statement, _visit, or _leaf for a node with no fields to walk


def _step(visit, leave, statement: bool, fields: Tuple[str, ...]) -> _Step:
    walk = _walk_statement if statement else _visit if fields else _leaf
    return _Step(visit, leave, statement, fields, walk)


_SKIP = "skip"          # a value with nothing to visit in it
_SEQUENCE = "sequence"  # a tuple or list of nodes


def traverse(node: cst.CSTNode, visitor):
    """`node.visit(visitor)`, rebuilding only the nodes whose children changed."""
    # The plan lives on the visitor's class (its own, not a base's): passes define
    # visitor classes inside functions, one class per call, and a module-level table
    # keyed by class would keep them, and what their hooks close over, alive.
    cls = type(visitor)
    plan = cls.__dict__.get("_traversal_plan")
    if plan is None:
        plan = _Plan(visitor)
        cls._traversal_plan = plan
    step = plan.steps.get(type(node)) or plan.step(visitor, node)
    return node if step is _SKIP else step.walk(node, visitor, plan, step)


def _walk_statement(node, visitor, plan: _Plan, step: _Step):
    if plan.skips and visitor.skips(node):
        return node
    if plan.stack:
        visitor.statements.append(node)
        result = _visit(node, visitor, plan, step)
        visitor.statements.pop()
    else:
        result = _visit(node, visitor, plan, step)
    if result is not node:
        rebuilt(node, result)
    return result


def _visit(node, visitor, plan: _Plan, step: _Step):
    updated = node
    visit, leave, _statement, fields, _walk = step
    if visit is None or visit(visitor, node) is not False:
        changes = None
        steps = plan.steps
        for name in fields:
            value = getattr(node, name)
            step = steps.get(type(value)) or plan.step(visitor, value)
            if step is _SKIP:
                continue
            if step is _SEQUENCE:
                if not value:
                    continue
                new = _walk_sequence(value, visitor, plan)
                if new is value:
                    continue
            else:
                new = step.walk(value, visitor, plan, step)
                if new is value:
                    continue
                if isinstance(new, cst.RemovalSentinel):
                    new = _removed(node, name)
                elif type(new) is cst.FlattenSentinel:  # (an ABC: isinstance is slow)
                    raise TypeError(f"a {type(node).__name__}'s {name} takes one node")
            if changes is None:
                changes = {}
            changes[name] = new
        if changes:
            updated = _with_changes(node, changes)
    if leave is None:
        return updated
    if plan.transformer:
        return leave(visitor, node, updated)
    leave(visitor, node)
    return node


_INIT_FIELDS: Dict[type, Tuple[str, ...]] = {}


def _with_changes(node: cst.CSTNode, changes: Dict[str, object]) -> cst.CSTNode:
    """`node.with_changes(**changes)` without `dataclasses.replace`'s walk over every
    field's metadata (per node type once here): the node type called with its fields."""
    kind = type(node)
    names = _INIT_FIELDS.get(kind)
    if names is None:
        names = _INIT_FIELDS[kind] = tuple(f.name for f in dataclasses.fields(kind) if f.init)
    for name in names:
        if name not in changes:
            changes[name] = getattr(node, name)
    return kind(**changes)


def with_fields(node: cst.CSTNode, **changes) -> cst.CSTNode:
    """`node.with_changes(**changes)`, made as the traversal makes it (the rewrites
    that run for most converted calls, and the training pass's edits, use it)."""
    return _with_changes(node, changes)


def _leaf(node, visitor, plan: _Plan, step: _Step):
    """_visit for a node with no fields to walk (a name): its hooks only (the end of
    _visit written out again: a call less for each of the most common nodes)."""
    visit, leave = step.visit, step.leave
    if visit is not None:
        visit(visitor, node)
    if leave is None:
        return node
    if plan.transformer:
        return leave(visitor, node, node)
    leave(visitor, node)
    return node


def _walk_sequence(values, visitor, plan: _Plan):
    out = None
    steps = plan.steps
    for i, child in enumerate(values):
        step = steps.get(type(child)) or plan.step(visitor, child)
        new = child if step is _SKIP else step.walk(child, visitor, plan, step)
        if new is child and out is None:
            continue
        if out is None:
            out = list(values[:i])
        if isinstance(new, cst.RemovalSentinel):
            continue
        # as libcst: a statement line emptied by removals goes with them
        was_removable = child._is_removable()
        for item in (new if type(new) is cst.FlattenSentinel else (new,)):
            if was_removable or not item._is_removable():
                out.append(item)
    return values if out is None else tuple(out)
