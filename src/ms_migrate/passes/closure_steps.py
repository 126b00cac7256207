"""`optimizer.step(closure)` of torch.optim.LBFGS: the closure computes the loss, the
step re-evaluates it as often as it needs.

    def closure():                                def closure():
        optimizer.zero_grad()                         out = seq(input)
        out = seq(input)                   ->         loss = criterion(out, target)
        loss = criterion(out, target)                 return loss
        loss.backward()                           optimizer.step(mindspore.value_and_grad(
        return loss                                   closure, None, optimizer.parameters))
    optimizer.step(closure)

The LBFGS class written into the file (transforms/lbfgs_helper_code.py) calls what
value_and_grad gives for the loss and the gradients. Only a closure of this file that
ends in `return <loss>` and calls backward() as a statement of its own converts; its
zero_grad() and backward() statements go.
"""
from __future__ import annotations

import re
from typing import Dict, Set

import libcst as cst

from ..core.context import Context
from ..core.names import dotted_name
from ..core.report import CONVERTED
from ..core.traversal import FastVisitor, traverse
from .statement_pass import StatementPass

_LBFGS = "torch.optim.LBFGS"


def applies(source: str) -> bool:
    return "LBFGS" in source


def convert_closure_steps(ctx: Context, module: cst.Module) -> cst.Module:
    scan = _Scan(ctx)
    traverse(module, scan)
    if not scan.optimizers:
        return module
    stepped = {name for receiver, name in scan.steps if receiver in scan.optimizers}
    closures = {name: fn for name, fn in scan.functions.items()
                if name in stepped and _closure(fn)}
    steps = _Steps(ctx, scan.optimizers, closures)
    converted = traverse(module, steps)
    steps.place_findings()
    return converted


class _Scan(FastVisitor):
    def __init__(self, ctx: Context) -> None:
        super().__init__()
        self.ctx = ctx
        self.optimizers: Set[str] = set()
        self.functions: Dict[str, cst.FunctionDef] = {}
        self.steps: Set[tuple] = set()  # (receiver, closure name) of `x.step(name)`

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (isinstance(func, cst.Attribute) and func.attr.value == "step"
                and len(node.args) == 1 and isinstance(node.args[0].value, cst.Name)):
            self.steps.add((dotted_name(func.value), node.args[0].value.value))

    def visit_Assign(self, node: cst.Assign) -> None:
        if isinstance(node.value, cst.Call) and self.ctx.resolve(node.value.func) == _LBFGS:
            self.optimizers.update(filter(None, (dotted_name(t.target) for t in node.targets)))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions[node.name.value] = node


def _method_statement(statement: cst.CSTNode, method: str) -> bool:
    """`<x>.<method>()` alone on its line."""
    return (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], cst.Expr)
            and isinstance(statement.body[0].value, cst.Call)
            and isinstance(statement.body[0].value.func, cst.Attribute)
            and statement.body[0].value.func.attr.value == method)


def _closure(fn: cst.FunctionDef) -> bool:
    """No parameters, a backward() statement, and `return <name>` last."""
    params = fn.params
    if params.params or params.kwonly_params or isinstance(params.star_arg, cst.Param):
        return False
    body = list(fn.body.body) if isinstance(fn.body, cst.IndentedBlock) else []
    if not body or not any(_method_statement(s, "backward") for s in body):
        return False
    last = body[-1]
    return (isinstance(last, cst.SimpleStatementLine) and isinstance(last.body[0], cst.Return)
            and isinstance(last.body[0].value, cst.Name))


class _Steps(StatementPass):
    def __init__(self, ctx: Context, optimizers: Set[str], closures: Dict[str, cst.FunctionDef]):
        super().__init__(ctx, re.compile(r"\bstep\(|\bdef |backward\(|zero_grad\("))
        self.optimizers, self.closures = optimizers, closures

    def leave_Call(self, original: cst.Call, updated: cst.Call):
        func = original.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "step"
                and dotted_name(func.value) in self.optimizers and len(original.args) == 1):
            return updated
        arg = original.args[0]
        if not (isinstance(arg.value, cst.Name) and arg.value.value in self.closures
                and (arg.keyword is None or arg.keyword.value == "closure")):
            return updated
        self.add(original, "torch.optim.LBFGS.step", CONVERTED,
                 "the closure's loss and gradients from mindspore.value_and_grad")
        grad_fn = cst.Call(self.ctx.name("mindspore.value_and_grad"), [
            cst.Arg(arg.value, comma=_comma()), cst.Arg(cst.Name("None"), comma=_comma()),
            cst.Arg(cst.Attribute(func.value, cst.Name("parameters")))])
        return updated.with_changes(args=[cst.Arg(grad_fn)])

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef):
        name = original.name.value
        if self.closures.get(name) is not original:
            return updated
        body = [s for s in updated.body.body
                if not (_method_statement(s, "backward") or _method_statement(s, "zero_grad"))]
        return updated.with_changes(body=updated.body.with_changes(body=body))


def _comma() -> cst.Comma:
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
