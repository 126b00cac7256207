"""Where a scope touches autograd: backward(), optimizer.step()/zero_grad(), clipping.

A scope (the module body or one function body) is walked statement by statement,
nested blocks included, nested functions and classes excluded (they are scopes of
their own). Each statement keeps its block and its enclosing compound statements,
so the training pass can tell "same block", "inside the loop" and "before".
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Optional, Set, Tuple

import libcst as cst

from ...core.context import Context
from ...core.names import SUITES, dotted_name
from ...core.traversal import FastVisitor, traverse
from .names import target_names, writes

CLIP_NORM = frozenset({"torch.nn.utils.clip_grad_norm_", "torch.nn.utils.clip_grad_norm",
                       "torch.nn.utils.clip_grad.clip_grad_norm_"})
CLIP_VALUE = frozenset({"torch.nn.utils.clip_grad_value_",
                        "torch.nn.utils.clip_grad.clip_grad_value_"})
_OPTIMIZER_NAME = re.compile(r"opt", re.IGNORECASE)
GRAD_SCALERS = frozenset({"torch.amp.GradScaler", "torch.cuda.amp.GradScaler",
                          "torch.cpu.amp.GradScaler", "torch.amp.grad_scaler.GradScaler"})


class Unsupported(Exception):
    """This backward() cannot be rewritten; the message says why."""


@dataclass
class Stmt:
    node: cst.BaseStatement
    block: cst.CSTNode                      # the IndentedBlock or Module holding it
    index: int
    ancestors: Tuple[cst.CSTNode, ...]      # enclosing compound statements, outermost first
    order: int


@dataclass
class Site:
    kind: str                  # backward | step | manual | zero_grad | clip | unscale | update
    stmt: Stmt
    call: cst.Call
    receiver: Optional[str] = None          # dotted text of `x` in `x.step()`
    qualified: Optional[str] = None         # clip function's torch name
    result: Optional[cst.BaseExpression] = None  # `norm` in `norm = clip_grad_norm_(...)`
    scaler: Optional[str] = None            # `scaler` in `scaler.step(optimizer)` (AMP)


def sub_blocks(stmt: cst.CSTNode) -> List[cst.IndentedBlock]:
    """The indented blocks directly under a compound statement."""
    kind = type(stmt)  # exact types: isinstance of libcst's classes is an ABC check
    if kind not in _WITH_BLOCKS:
        return []
    blocks: List[cst.CSTNode] = [stmt.body]
    orelse = getattr(stmt, "orelse", None)
    while orelse is not None:
        blocks.append(orelse.body)
        orelse = orelse.orelse if type(orelse) is cst.If else None
    if kind is cst.Try:
        blocks.extend(h.body for h in stmt.handlers)
        if stmt.finalbody is not None:
            blocks.append(stmt.finalbody.body)
    return [b for b in blocks if type(b) is cst.IndentedBlock]


_WITH_BLOCKS = frozenset({cst.If, cst.For, cst.While, cst.With, cst.Try})


def walk(block: cst.CSTNode, ancestors: Tuple[cst.CSTNode, ...] = (),
         counter: Optional[List[int]] = None) -> Iterator[Stmt]:
    counter = counter if counter is not None else [0]
    for index, stmt in enumerate(block.body):
        counter[0] += 1
        yield Stmt(stmt, block, index, ancestors, counter[0])
        if type(stmt) is cst.SimpleStatementLine:
            continue
        for sub in sub_blocks(stmt):  # none in a function or class: scopes of their own
            yield from walk(sub, ancestors + (stmt,), counter)


def is_loop(node: cst.CSTNode) -> bool:
    return isinstance(node, (cst.For, cst.While))


@dataclass
class Scope:
    """One function body (or the module): its statements in order, and its sites."""
    root: cst.CSTNode
    block: cst.CSTNode                      # the statements' owner (Module or IndentedBlock)
    params: List[str]
    stmts: List[Stmt] = field(default_factory=list)
    sites: List[Site] = field(default_factory=list)
    by_node: Dict[int, Stmt] = field(default_factory=dict)

    def stmt_of(self, node: cst.CSTNode) -> Stmt:
        return self.by_node[id(node)]


def scopes(module: cst.Module,
           skips: Optional[Callable[[cst.CSTNode], bool]] = None) -> Iterator[Scope]:
    """The module body and every function body, each a Scope without its sites; not
    the functions `skips(function)` is true for."""
    yield _scope(module, module, [])
    for fn in _compound_statements(module.body):
        # (types compared: isinstance against libcst's ABCs is slow)
        if type(fn) is cst.FunctionDef and type(fn.body) is cst.IndentedBlock:
            if skips is not None and skips(fn):
                continue
            p = fn.params
            params = [x.name.value for x in (*p.posonly_params, *p.params, *p.kwonly_params)]
            yield _scope(fn, fn.body, params)


def _compound_statements(body) -> Iterator[cst.CSTNode]:
    """The compound statements of `body` (and their else and except parts), nested
    ones included, in iter_statements' order; lines of small statements hold none.
    (Types compared, not isinstance: libcst's classes are ABCs, slow to check against.)"""
    for stmt in body:
        if type(stmt) is cst.SimpleStatementLine:
            continue
        yield stmt
        for attr in _BLOCK_FIELDS:
            child = getattr(stmt, attr, None)
            if child is None:
                continue
            kind = type(child)
            if kind is cst.IndentedBlock:
                yield from _compound_statements(child.body)
            elif kind is list or kind is tuple:
                yield from _compound_statements(child)
            elif kind not in SUITES:  # an `else`, an `elif`, a `finally`
                yield from _compound_statements([child])


def _scope(root, block, params) -> Scope:
    scope = Scope(root, block, params)
    scope.stmts = list(walk(block))
    scope.by_node = {id(s.node): s for s in scope.stmts}
    return scope


def optimizer_and_scaler_names(ctx: Context, module: cst.Module) -> Tuple[Set[str], Set[str]]:
    """Dotted names that hold torch optimizers built from torch.optim; those that hold
    a GradScaler (one look at the file's assignments for both)."""
    optimizers: Set[str] = set()
    scalers: Set[str] = set()
    for node in _assigned_calls(module.body):
        qualified = ctx.resolve(node.value.func) or ""
        if qualified.startswith("torch.optim.") and ".lr_scheduler" not in qualified:
            names = optimizers
        elif qualified in GRAD_SCALERS:
            names = scalers
        else:
            continue
        names.update(filter(None, (dotted_name(t.target) for t in node.targets)))
    return optimizers, scalers


def _assigned_calls(body) -> Iterator[cst.Assign]:
    """Every `x = f(...)` among the statements of `body`, nested ones included, in no
    particular order (exact types: a walk of the statements only, no isinstance of
    libcst's abstract classes)."""
    todo = list(body)
    while todo:
        node = todo.pop()
        if type(node) is cst.SimpleStatementLine or type(node) is cst.SimpleStatementSuite:
            for small in node.body:
                if type(small) is cst.Assign and type(small.value) is cst.Call:
                    yield small
            continue
        for name in _BLOCK_FIELDS:  # a compound statement, or a clause of one
            child = getattr(node, name, None)
            if child is None:
                continue
            if type(child) is cst.IndentedBlock:
                todo.extend(child.body)
            elif type(child) is tuple or type(child) is list:  # handlers, cases
                todo.extend(child)
            else:  # a one-line suite, an `else`, an `elif`, a `finally`
                todo.append(child)


_BLOCK_FIELDS = ("body", "orelse", "handlers", "finalbody", "cases")


def is_optimizer(text: Optional[str], known: Set[str]) -> bool:
    if text is None:
        return False
    if text in known:
        return True
    last = text.rsplit(".", 1)[-1].lower()
    return bool(_OPTIMIZER_NAME.search(last)) and "sched" not in last


def is_scaler(text: Optional[str], known: Set[str]) -> bool:
    return text is not None and (text in known or "scaler" in text.rsplit(".", 1)[-1].lower())


def manual_update(node: cst.CSTNode) -> Optional[Tuple[cst.For, cst.Call]]:
    """`for p in model.parameters(): p.data.add_(-lr * p.grad)`, alone or as the only
    statement of a `with` (`torch.no_grad()`): the loop and its `parameters()` call."""
    if isinstance(node, cst.With) and isinstance(node.body, cst.IndentedBlock) \
            and len(node.body.body) == 1:
        node = node.body.body[0]
    if not (isinstance(node, cst.For) and isinstance(node.target, cst.Name)
            and node.orelse is None and node.asynchronous is None):
        return None
    call = node.iter
    if not (isinstance(call, cst.Call) and not call.args and isinstance(call.func, cst.Attribute)
            and call.func.attr.value == "parameters"
            and dotted_name(call.func.value) is not None):
        return None
    grad = _Grad(node.target.value)
    traverse(node.body, grad)
    return (node, call) if grad.reads_grad and grad.updates else None


class _Grad(FastVisitor):
    """The reads of `<variable>.grad` and the updates of the parameter `variable`."""

    def __init__(self, variable: str):
        super().__init__()
        self.variable = variable
        self.reads_grad: List[cst.Attribute] = []
        self.updates: List[cst.CSTNode] = []

    def parameter(self, target: cst.BaseExpression) -> bool:  # `p` or `p.data`
        if isinstance(target, cst.Attribute) and target.attr.value == "data":
            target = target.value
        return isinstance(target, cst.Name) and target.value == self.variable

    def visit_Attribute(self, attr):
        if (attr.attr.value == "grad" and isinstance(attr.value, cst.Name)
                and attr.value.value == self.variable):
            self.reads_grad.append(attr)

    def visit_AugAssign(self, stmt):
        if self.parameter(stmt.target):
            self.updates.append(stmt)

    def visit_Assign(self, stmt):
        if any(isinstance(t.target, cst.Attribute) and self.parameter(t.target)
               for t in stmt.targets):
            self.updates.append(stmt)  # p.data = p.data - lr * p.grad

    def visit_Call(self, call):
        func = call.func
        if (isinstance(func, cst.Attribute) and func.attr.value.endswith("_")
                and not func.attr.value.startswith("_") and self.parameter(func.value)):
            self.updates.append(call)  # p.data.add_(p.grad, alpha=-lr)


def find_sites(ctx: Context, scope: Scope, optimizers: Set[str],
               scalers: Set[str] = frozenset()) -> None:
    inside_manual: Set[int] = set()  # a loop that updates parameters is one site
    for stmt in scope.stmts:
        node = stmt.node
        node_type = type(node)
        if inside_manual and any(id(a) in inside_manual for a in stmt.ancestors):
            continue
        manual = manual_update(node) if node_type is cst.For or node_type is cst.With else None
        if manual is not None:
            inside_manual.add(id(node))
            inside_manual.add(id(manual[0]))
            scope.sites.append(Site("manual", stmt, manual[1],
                                    receiver=dotted_name(manual[1].func.value)))
            continue
        if node_type is not cst.SimpleStatementLine or len(node.body) != 1:
            continue
        small = node.body[0]
        value = small.value if type(small) is cst.Expr or type(small) is cst.Assign else None
        if type(value) is not cst.Call:
            continue
        qualified = ctx.resolve(value.func)
        if qualified in CLIP_NORM or qualified in CLIP_VALUE:
            result = small.targets[0].target if isinstance(small, cst.Assign) else None
            scope.sites.append(Site("clip", stmt, value, qualified=qualified, result=result))
            continue
        if not isinstance(small, cst.Expr) or not isinstance(value.func, cst.Attribute):
            continue
        method = value.func.attr.value
        receiver = dotted_name(value.func.value)
        if method == "backward":
            scope.sites.append(Site("backward", stmt, value))
        elif method == "zero_grad":
            scope.sites.append(Site("zero_grad", stmt, value, receiver=receiver))
        elif method == "step" and is_optimizer(receiver, optimizers) and not _evaluates(value):
            scope.sites.append(Site("step", stmt, value, receiver=receiver))
        elif is_scaler(receiver, scalers) and method in ("step", "unscale_", "update"):
            # scaler.step(optimizer) steps that optimizer; unscale_/update frame it
            target = dotted_name(value.args[0].value) if len(value.args) == 1 else None
            kind = {"step": "step", "unscale_": "unscale", "update": "update"}[method]
            if (kind == "update") == (not value.args) and (kind == "update" or target):
                scope.sites.append(Site(kind, stmt, value, receiver=target, scaler=receiver))


def bound_names(node: cst.CSTNode,
                written: Callable[[cst.CSTNode], Set[str]] = writes) -> Set[str]:
    """Every name a subtree binds, loop targets included (`written`: the caller's
    cached Flows.writes)."""
    names = written(node)
    if isinstance(node, cst.For):
        names.update(target_names(node.target))
    return names


def _evaluates(step: cst.Call) -> bool:
    """`optimizer.step(mindspore.value_and_grad(closure, ...))`: a step that evaluates the
    loss and gradients itself (LBFGS, passes/closure_steps.py)."""
    return bool(step.args) and isinstance(step.args[0].value, cst.Call) and (
        (dotted_name(step.args[0].value.func) or "").endswith("value_and_grad"))
