"""Which names a statement reads and writes: the dataflow the training pass needs.

Reads are in source order (a forward function's parameters follow it). Names bound
inside a comprehension or lambda are local to it and are not reads of the
enclosing code; nested function and class bodies are skipped.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Set, Tuple

import libcst as cst

from ...core.names import dotted_name
from ...core.traversal import FastVisitor, traverse


def target_names(target: cst.BaseExpression) -> List[str]:
    """Names a target binds: `x`, `(x, y)`, `[a, *rest]`; not `a.b` or `a[i]`."""
    kind = type(target)  # types compared: isinstance against libcst's ABCs is slow
    if kind is cst.Name:
        return [target.value]
    if kind is cst.Tuple or kind is cst.List:
        return [n for el in target.elements for n in target_names(el.value)]
    if kind is cst.StarredElement:
        return target_names(target.value)
    return []


# Statements whose flow Flows keeps: lines and compound statements (small statements
# are parts of a line; suites are walked with the statement that holds them).
_KEPT = frozenset({cst.SimpleStatementLine, cst.If, cst.For, cst.While, cst.With, cst.Try,
                   cst.TryStar, cst.FunctionDef, cst.ClassDef, cst.Match})


class _Flow(FastVisitor):
    def __init__(self, known: Optional["Flows"] = None,
                 root: Optional[cst.CSTNode] = None) -> None:
        self.reads: List[str] = []
        self.writes: List[str] = []
        self.free: List[str] = []  # reads of names not bound before them, in order
        self._bound: Set[str] = set()
        self._local: List[Set[str]] = []
        self._known = known
        self._root = root

    def skips(self, stmt: cst.CSTNode) -> bool:
        """A statement nested in the one asked about: its flow, worked out once, is
        added instead of walking it again (statements are never inside a lambda or a
        comprehension, so no local names hide its reads)."""
        if self._known is None or stmt is self._root or type(stmt) not in _KEPT:
            return False
        inner = self._known._visit(stmt)
        self.reads.extend(inner.reads)
        bound = self._bound
        self.free.extend(n for n in inner.free if n not in bound)
        self.writes.extend(inner.writes)
        bound.update(inner.writes)  # all it binds, whichever branch binds it
        return True

    # --- bindings ------------------------------------------------------------
    def _bind(self, target: cst.BaseExpression) -> None:
        names = target_names(target)
        if names:
            self.writes.extend(names)
            self._bound.update(names)
            if type(target) is not cst.Name:  # `a, b.c = ...` still reads `b`
                for el in target.elements:
                    if not target_names(el.value):
                        traverse(el.value, self)
        else:
            traverse(target, self)  # `a.b = ...`, `a[i] = ...` read `a` and `i`

    def visit_Assign(self, node):
        traverse(node.value, self)
        for t in node.targets:
            self._bind(t.target)
        return False

    def visit_AnnAssign(self, node):
        if node.value is not None:
            traverse(node.value, self)
        self._bind(node.target)
        return False

    def visit_AugAssign(self, node):
        traverse(node.value, self)
        traverse(node.target, self)
        self._bind(node.target)
        return False

    def visit_NamedExpr(self, node):
        traverse(node.value, self)
        self._bind(node.target)
        return False

    def visit_For(self, node):
        traverse(node.iter, self)
        self._bind(node.target)
        traverse(node.body, self)
        if node.orelse is not None:
            traverse(node.orelse, self)
        return False

    def visit_WithItem(self, node):
        traverse(node.item, self)
        if node.asname is not None:
            self._bind(node.asname.name)
        return False

    def visit_ExceptHandler(self, node):
        if node.type is not None:
            traverse(node.type, self)
        if node.name is not None:
            self.writes.append(node.name.name.value)
            self._bound.add(node.name.name.value)
        traverse(node.body, self)
        return False

    def visit_If(self, node):  # `else` does not see what the `if` branch bound
        traverse(node.test, self)
        before = set(self._bound)
        traverse(node.body, self)
        if node.orelse is not None:
            after, self._bound = self._bound, before
            traverse(node.orelse, self)
            self._bound |= after
        return False

    # --- scopes of their own ----------------------------------------------------
    def visit_FunctionDef(self, node):
        self.writes.append(node.name.value)
        self._bound.add(node.name.value)
        return False

    def visit_ClassDef(self, node):
        self.writes.append(node.name.value)
        self._bound.add(node.name.value)
        return False

    def _enter_local(self, names: Iterable[str]) -> None:
        self._local.append(set(names))

    def visit_Lambda(self, node):
        self._enter_local(p.name.value for p in node.params.params)

    def leave_Lambda(self, node):
        self._local.pop()

    def _comprehension(self, node) -> None:
        names: Set[str] = set()
        comp = node.for_in
        while comp is not None:
            names.update(target_names(comp.target))
            comp = comp.inner_for_in
        self._enter_local(names)

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension

    def _leave_comprehension(self, node) -> None:
        self._local.pop()

    leave_ListComp = leave_SetComp = leave_GeneratorExp = leave_DictComp = _leave_comprehension

    # --- reads --------------------------------------------------------------------
    def visit_Attribute(self, node):
        traverse(node.value, self)
        return False

    def visit_Arg(self, node):
        traverse(node.value, self)
        return False

    def visit_Name(self, node):
        if not (self._local and any(node.value in scope for scope in self._local)):
            self.reads.append(node.value)
            if node.value not in self._bound:
                self.free.append(node.value)


def _visit(node: cst.CSTNode) -> _Flow:
    visitor = _Flow()
    traverse(node, visitor)
    return visitor


def flow(node: cst.CSTNode) -> Tuple[List[str], List[str]]:
    """(reads, writes) of a statement or expression, reads in source order."""
    visitor = _visit(node)
    return visitor.reads, visitor.writes


def writes(node: cst.CSTNode) -> Set[str]:
    return set(flow(node)[1])


def attribute_targets(node: cst.CSTNode) -> Set[str]:
    """Dotted attributes a simple statement assigns: `self.loss` in
    `logits, self.loss = model(x, y)` (what a loss held on `self` is computed by)."""
    found: Set[str] = set()
    if isinstance(node, cst.SimpleStatementLine):
        for small in node.body:
            if isinstance(small, cst.Assign):
                for t in small.targets:
                    _add_attribute_targets(t.target, found)
            elif isinstance(small, cst.AnnAssign):
                _add_attribute_targets(small.target, found)
    return found


def _add_attribute_targets(target: cst.BaseExpression, found: Set[str]) -> None:
    # at module level: a nested function that calls itself is a reference cycle
    if isinstance(target, (cst.Tuple, cst.List)):
        for el in target.elements:
            _add_attribute_targets(el.value, found)
    elif isinstance(target, cst.Attribute):
        text = dotted_name(target)
        if text is not None:
            found.add(text)


class Flows:
    """Reads and writes of statements, each worked out once for one conversion (the
    training pass asks about the same statements many times). The nodes are kept
    with the answers, so that an id stays its own while the pass runs."""

    def __init__(self) -> None:
        self._known: Dict[int, Tuple[cst.CSTNode, _Flow]] = {}

    def _visit(self, node: cst.CSTNode) -> _Flow:
        known = self._known.get(id(node))
        if known is not None and known[0] is node:
            return known[1]
        visitor = _Flow(self, node)
        traverse(node, visitor)
        visitor._known = None  # no cycle with self: the trees are freed as soon as unused
        self._known[id(node)] = (node, visitor)
        return visitor

    def reads(self, node: cst.CSTNode) -> List[str]:
        return self._visit(node).reads

    def writes(self, node: cst.CSTNode) -> Set[str]:
        return set(self._visit(node).writes)

    def ordered_writes(self, node: cst.CSTNode) -> List[str]:
        return self._visit(node).writes

    def free_reads(self, stmts: Iterable[cst.CSTNode]) -> List[str]:
        """Names a statement sequence reads before it binds them, first use first.

        Inside a statement too: a loop's target and what its body assigns before
        reading are the loop's own, not values the sequence needs from before it.
        """
        bound: Set[str] = set()
        free: List[str] = []
        for stmt in stmts:
            visitor = self._visit(stmt)
            for name in visitor.free:
                if name not in bound and name not in free:
                    free.append(name)
            bound.update(visitor.writes)
        return free

    def plain_uses(self, node: cst.CSTNode) -> Set[str]:
        """Names used as values, not only as a callee (`model(x)`) or an object (`self.f`)."""
        roots = _Roots()
        traverse(node, roots)
        total = self.reads(node)
        return {n for n in set(total) if total.count(n) > roots.names.count(n)}


class _Roots(FastVisitor):
    """Names called (`model(x)`) or whose attributes are read (`self.f`)."""

    def __init__(self) -> None:
        self.names: List[str] = []

    def visit_Call(self, call):
        if isinstance(call.func, cst.Name):
            self.names.append(call.func.value)

    def visit_Attribute(self, attr):
        if isinstance(attr.value, cst.Name):
            self.names.append(attr.value.value)