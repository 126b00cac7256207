"""`torch.set_default_dtype(torch.float32)` and `torch.set_default_tensor_type(
torch.FloatTensor)` (or "torch.FloatTensor"): float32 is MindSpore's default float
type too, so the statement changes nothing and goes (reported). Any other default
stays marked by the rule: MindSpore has no global default dtype.
"""
from __future__ import annotations

import re

import libcst as cst

from ..core.context import Context
from ..core.report import CONVERTED
from ..core.strings import string_value
from ..core.traversal import traverse
from .statement_pass import StatementPass
from .text_search import found

_APPLIES = re.compile(r"\bset_default_(?:dtype|tensor_type)\(")
_FLOAT32 = {
    "torch.set_default_dtype": ("torch.float32", "torch.float"),
    "torch.set_default_tensor_type": ("torch.FloatTensor",),
}
_WHY = "removed: float32 is MindSpore's default float type too"


def applies(source: str) -> bool:
    return found(_APPLIES, source, "set_default_")


def drop_float32_defaults(ctx: Context, module: cst.Module) -> cst.Module:
    drop = _Float32Defaults(ctx)
    result = traverse(module, drop)
    drop.place_findings()
    return result


class _Float32Defaults(StatementPass):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, _APPLIES)

    def leave_SimpleStatementLine(self, original, updated):
        if len(original.body) != 1 or not isinstance(original.body[0], cst.Expr):
            return updated
        call = original.body[0].value
        if not isinstance(call, cst.Call) or len(call.args) != 1 or call.args[0].star:
            return updated
        api = self.ctx.resolve(call.func)
        if api not in _FLOAT32:
            return updated
        value = call.args[0].value
        if isinstance(value, cst.SimpleString):
            given = string_value(value)
            given = given if isinstance(given, str) else None
        else:
            given = self.ctx.resolve(value)
        if given not in _FLOAT32[api]:
            return updated
        self.add(call, api, CONVERTED, _WHY)
        return self.drop(updated, [])
