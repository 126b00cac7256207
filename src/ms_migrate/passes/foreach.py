"""torch._foreach_<op>: one unary op over a list of tensors, as a comprehension.

    y = torch._foreach_abs(xs)         ->  y = [torch.abs(t) for t in xs]
    y = torch._foreach_abs_(xs)        ->  y = [t.abs_() for t in xs]
    torch._foreach_abs_(xs)            ->  for t in xs:
                                               t.abs_()

MindSpore has no multi-tensor ops. The result is torch code the API pass then
converts by its rules (`ops.abs(t)`, `ops.assign(t, t.abs())`); so an op converts
here only when torch.<op> (or, in place, Tensor.<op>_) has a rule. Both forms
return the list of results (torch 2.x: a tuple out of place, the input tensors in
place); an in-place call that is a whole statement becomes a loop.
"""
from __future__ import annotations

import re
from typing import Optional

import libcst as cst

from ..core.context import Context
from ..core.names import names_in
from ..core.traversal import FastTransformer, traverse

_APPLIES = re.compile(r"_foreach_\w")
_PREFIX = "torch._foreach_"


def applies(source: str) -> bool:
    return bool(_APPLIES.search(source))


def foreach_loops(ctx: Context, module: cst.Module) -> cst.Module:
    names = names_in(module)
    variable = next(n for n in ("t", "tensor", "t_", "tensor_") + tuple(
        f"t{i}" for i in range(1, 1000)) if n not in names)
    return traverse(module, _Foreach(ctx, variable))


class _Foreach(FastTransformer):
    def __init__(self, ctx: Context, variable: str):
        super().__init__()
        self.ctx = ctx
        self.variable = variable

    def _op(self, call: cst.Call) -> Optional[tuple]:
        """(op, list expression) when `call` is torch._foreach_<op>[_](xs) that converts."""
        qualified = self.ctx.resolve(call.func)
        if not qualified or not qualified.startswith(_PREFIX):
            return None
        op = qualified[len(_PREFIX):]
        in_place = op.endswith("_")
        if not isinstance(call.func, cst.Attribute):
            return None
        if len(call.args) != 1 or call.args[0].star:
            return None
        arg = call.args[0]
        if arg.keyword is not None and arg.keyword.value != "self":
            return None
        if in_place:
            rule = self.ctx.rules.method(op)
        else:
            rule = self.ctx.rules.get(f"torch.{op}")
        if rule is None or rule.unsupported:
            return None
        return op, arg.value

    def leave_Call(self, original, updated):
        found = self._op(updated)
        if found is None:
            return updated
        op, tensors = found
        t = cst.Name(self.variable)
        if op.endswith("_"):
            element = cst.Call(cst.Attribute(t, cst.Name(op)))
        else:
            element = cst.Call(updated.func.with_changes(attr=cst.Name(op)), [cst.Arg(t)])
        return cst.ListComp(
            elt=element,
            for_in=cst.CompFor(target=t, iter=tensors.with_changes(lpar=[], rpar=[])))

    def leave_SimpleStatementLine(self, original, updated):
        if len(original.body) != 1 or not isinstance(original.body[0], cst.Expr):
            return updated
        comprehension = updated.body[0].value
        if not (isinstance(original.body[0].value, cst.Call) and isinstance(comprehension, cst.ListComp)
                and self._op(original.body[0].value) is not None):
            return updated
        body = cst.IndentedBlock([cst.SimpleStatementLine([cst.Expr(comprehension.elt)])])
        return cst.For(target=comprehension.for_in.target, iter=comprehension.for_in.iter,
                       body=body, leading_lines=updated.leading_lines)
