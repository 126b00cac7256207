"""In-place methods that change a tensor's shape rebind the name instead.

    x.unsqueeze_(0)           ->  x = x.unsqueeze(0)
    y = x.transpose_(0, 1)    ->  x = y = x.transpose(0, 1)

MindSpore writes values into an existing tensor (ops.assign) but not a new shape,
so the out-of-place method (converted by its rule) is assigned to the receiver's
name, with a warning: torch changes the tensor object, the assignment rebinds the
name, so other references to the old tensor do not see it. Only a call that is a
whole statement or the whole value of an assignment is rewritten, on a receiver
the statement may assign (a local name, or an attribute); other uses are refused
by the rule (transform inplace_reshape).
"""
from __future__ import annotations

import re
from typing import List, Set

import libcst as cst

from ..core.callrewrite import code
from ..core.context import Context
from ..core.names import function_locals
from ..core.traversal import FastTransformer, traverse
from .out_args import _declared

METHODS = ("squeeze_", "unsqueeze_", "t_", "transpose_", "swapdims_", "swapaxes_")
_APPLIES = re.compile(r"\.\s*(?:%s)\s*\(" % "|".join(METHODS))


def applies(source: str) -> bool:
    return bool(_APPLIES.search(source))


def rebind_reshaped(ctx: Context, module: cst.Module) -> cst.Module:
    return traverse(module, _Rebind(ctx))


class _Rebind(FastTransformer):
    def __init__(self, ctx: Context):
        super().__init__()
        self.ctx = ctx
        self.notes = ctx.facts.out_args  # the API pass adds the note to the call's finding
        self.scopes: List[Set[str]] = []

    def visit_FunctionDef(self, node):
        self.scopes.append(function_locals(node) | _declared(node.body))

    def leave_FunctionDef(self, original, updated):
        self.scopes.pop()
        return updated

    def visit_SimpleStatementLine(self, node):
        return False

    def leave_SimpleStatementLine(self, original, updated):
        if len(updated.body) != 1:
            return updated
        statement = updated.body[0]
        if isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Call):
            targets, call = [], statement.value
        elif isinstance(statement, cst.Assign) and isinstance(statement.value, cst.Call):
            targets, call = list(statement.targets), statement.value
        else:
            return updated
        func = call.func
        if not (isinstance(func, cst.Attribute) and func.attr.value in METHODS):
            return updated
        receiver = func.value
        if not self._assignable(receiver):
            return updated
        rule = self.ctx.rules.method(func.attr.value[:-1])
        if rule is None or rule.unsupported:
            return updated
        new_call = call.with_changes(func=func.with_changes(attr=cst.Name(func.attr.value[:-1])))
        name = code(receiver).strip()
        self.notes[id(new_call)] = (new_call, f"{func.attr.value} changes the shape in place: "
                                              f"{name} is rebound; other references to the "
                                              f"old tensor do not see it")
        targets.insert(0, cst.AssignTarget(receiver))
        return updated.with_changes(body=[cst.Assign(targets, new_call)])

    def _assignable(self, node: cst.BaseExpression) -> bool:
        if isinstance(node, cst.Name):
            if self.ctx.resolve(node) is not None:  # a torch module, not a tensor
                return False
            return not self.scopes or node.value in self.scopes[-1]
        # `self.x.t_()`: an attribute holds the tensor; assigning it is the same rebinding
        return (isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name)
                and self.ctx.resolve(node) is None)
