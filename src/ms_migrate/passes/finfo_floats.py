"""Limits of a float type as Python floats: `torch.finfo(t).max` is a Python float in torch.

    mask_value = -torch.finfo(dots.dtype).max
    dots = dots.masked_fill(mask, mask_value)

finfo converts to numpy's, whose limits are numpy scalars of the type (np.float32);
MindSpore's masked_fill, fill and the like take Python numbers only. A limit read off
finfo becomes `float(...)` of it, as torch gives (iinfo's limits are already Python ints
in numpy). One already passed to float() is left as it is.
"""
from __future__ import annotations

import re

import libcst as cst

from ..core.context import Context
from ..core.traversal import traverse
from .statement_pass import StatementPass
from .text_search import found

_LIMITS = ("max", "min", "eps", "tiny", "smallest_normal", "resolution")
_APPLIES = re.compile(rf"\bfinfo\([^)\n]*\)\.(?:{'|'.join(_LIMITS)})\b")


def applies(source: str) -> bool:
    return found(_APPLIES, source, "finfo(")


def float_finfo_limits(ctx: Context, module: cst.Module) -> cst.Module:
    return traverse(module, _FinfoLimits(ctx))


class _FinfoLimits(StatementPass):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, _APPLIES)
        self._floated = set()

    def visit_Call(self, node):
        if (isinstance(node.func, cst.Name) and node.func.value == "float"
                and len(node.args) == 1 and not self.ctx.is_shadowed("float")):
            self._floated.add(id(node.args[0].value))
        return super().visit_Call(node)

    def leave_Attribute(self, original, updated):
        if (original.attr.value not in _LIMITS or id(original) in self._floated
                or not isinstance(original.value, cst.Call)
                or self.ctx.resolve(original.value.func) != "torch.finfo"
                or self.ctx.is_shadowed("float")):
            return updated
        return cst.Call(cst.Name("float"), [cst.Arg(updated)])
