"""`torch._assert(condition, message)` as a statement -> `assert condition, message`.

torch._assert is Python's assert written as a call, so that torch.fx can trace it
(models check input shapes with it: `torch._assert(H == self.img_size[0], "...")`).
A tensor condition is tested by its truth value in both, as MindSpore's Tensor has
one. A call inside a larger expression stays, marked by its rule.
"""
from __future__ import annotations

import re

import libcst as cst

from ..core.callrewrite import args_by_name
from ..core.context import Context
from ..core.report import CONVERTED
from ..core.traversal import traverse
from .statement_pass import StatementPass
from .text_search import found

_APPLIES = re.compile(r"\b_assert\(")
_API = "torch._assert"


def applies(source: str) -> bool:
    return found(_APPLIES, source, "_assert(")


def convert_torch_asserts(ctx: Context, module: cst.Module) -> cst.Module:
    asserts = _Asserts(ctx)
    result = traverse(module, asserts)
    asserts.place_findings()
    return result


class _Asserts(StatementPass):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, _APPLIES)

    def leave_SimpleStatementLine(self, original, updated):
        if len(original.body) != 1 or not isinstance(original.body[0], cst.Expr):
            return updated
        call = updated.body[0].value
        if (not isinstance(original.body[0].value, cst.Call)
                or self.ctx.resolve(original.body[0].value.func) != _API
                or any(arg.star for arg in call.args)):
            return updated
        named = args_by_name(call, ["condition", "message"])
        if set(named) - {"condition", "message"} or "condition" not in named:
            return updated
        test = named["condition"].with_changes(lpar=[], rpar=[]) if isinstance(
            named["condition"], cst.Comparison) else named["condition"]
        message = named.get("message")
        statement = cst.Assert(test=test, msg=message,
                               comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                               if message is not None else cst.MaybeSentinel.DEFAULT)
        self.add(original.body[0].value, _API, CONVERTED, "-> an assert statement")
        return updated.with_changes(body=[statement])
