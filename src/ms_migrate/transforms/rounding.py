"""round(x, decimals=d): MindSpore's Round kernel takes decimals=0 only on CPU."""
from __future__ import annotations

import libcst as cst

from ..core.callrewrite import Unsupported
from .base import literal, transform


@transform
def round_decimals(ctx, rule, bound, call=None):
    """round(x) -> ops.round(x); round(x, decimals=d) -> ops.round(x * 10 ** d) / 10 ** d."""
    if bound.get("out") is not None:
        raise Unsupported("out= has no MindSpore equivalent")
    receiver = bound.values.get("self")
    value = receiver if receiver is not None else bound.get("input")
    decimals = literal(bound.get("decimals"))
    func = ctx.name("mindspore.ops.round")
    if decimals in (None, "0"):
        return cst.Call(func, [cst.Arg(value)])
    scale = cst.BinaryOperation(cst.Integer("10"), cst.Power(), bound.get("decimals"))
    if isinstance(value, (cst.BinaryOperation, cst.BooleanOperation, cst.UnaryOperation,
                          cst.Comparison, cst.IfExp, cst.Lambda)) and not value.lpar:
        value = value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    scaled = cst.BinaryOperation(value, cst.Multiply(), scale)
    return cst.BinaryOperation(cst.Call(func, [cst.Arg(scaled)]), cst.Divide(), scale)
