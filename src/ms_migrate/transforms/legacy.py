"""Legacy torch spellings still common in public code: `Variable(x)` (a Tensor since
torch 0.4) and the typed tensor classes (`torch.FloatTensor`, `torch.cuda.LongTensor`)
used as constructors or as `.type()` targets.
"""
from __future__ import annotations

import libcst as cst

from ..core.callrewrite import Bound, Unsupported
from ..core.names import dotted_name
from .base import literal, transform
from .torch_functions import typed_tensor


@transform
def legacy_variable(ctx, rule, bound: Bound, call=None):
    """Variable(x) -> x; Variable(x, requires_grad=True) -> mindspore.Parameter(x):
    the leaf torch optimises is what MindSpore's optimizers and grad take."""
    data = bound.get("data")
    if data is None:
        raise Unsupported("Variable() without data")
    requires_grad = literal(bound.get("requires_grad"))
    if requires_grad in (None, "False"):
        return data.with_changes(lpar=[], rpar=[]) if _bare(data) else data
    parameter = cst.Call(ctx.name("mindspore.Parameter"), [cst.Arg(data)])
    if requires_grad != "True":
        flag = bound.get("requires_grad")
        if not isinstance(flag, (cst.Name, cst.Attribute)):
            raise Unsupported("requires_grad= that is not a literal or a name: write "
                              "mindspore.Parameter(x) where it is True, x where it is False")
        bound.warnings.append("a Variable that requires grad is a leaf to optimise: a "
                              "mindspore.Parameter where the flag is true")
        return cst.IfExp(test=flag, body=parameter, orelse=data)
    bound.warnings.append("a Variable that requires grad is a leaf to optimise: a "
                          "mindspore.Parameter")
    return parameter


def _bare(node: cst.BaseExpression) -> bool:
    """A parenthesised name/call/attribute keeps no meaning from its parentheses."""
    return bool(getattr(node, "lpar", None)) and isinstance(
        node, (cst.Name, cst.Attribute, cst.Call, cst.Subscript))


@transform
def legacy_typed_tensor(ctx, rule, bound: Bound, call=None):
    """torch.FloatTensor(n, m) (several sizes, any expressions) -> ops.zeros((n, m),
    dtype), noted: torch's values were uninitialised; the rest as typed_tensor.
    `device=` (where the tensor is placed) goes, as for the other constructors."""
    bound.pop("device")
    items = bound.packed.get("data") or []
    if len(items) > 1 and not set(bound.values) - {"data"} and not any(
            isinstance(v, (cst.List, cst.Tuple, cst.ListComp)) for v in items):
        if not all(isinstance(v, cst.Integer) for v in items):
            bound.warnings.append("torch leaves these values uninitialised: zeros here")
        comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        size = cst.Tuple([cst.Element(v, comma=comma) for v in items[:-1]]
                         + [cst.Element(items[-1])])
        dtype = cst.Arg(ctx.name(rule.defaults["dtype"]), keyword=cst.Name("dtype"),
                        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
        return cst.Call(ctx.name("mindspore.ops.zeros"), [cst.Arg(size, comma=comma), dtype])
    if (len(items) == 1 and not set(bound.values) - {"data"} and isinstance(items[0], cst.Call)
            and (dotted_name(items[0].func) or "").split(".")[0] in ("np", "numpy")):
        # numpy's result is an array: no need to warn that a tensor keeps its dtype
        return cst.Call(ctx.name(rule.target), [
            cst.Arg(items[0], comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
            cst.Arg(ctx.name(rule.defaults["dtype"]), keyword=cst.Name("dtype"), equal=cst.AssignEqual(
                cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))])
    return typed_tensor(ctx, rule, bound, call)
