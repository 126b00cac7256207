"""Tensor.scatter_reduce and scatter's reduce=: a helper written into the file.

MindSpore 2.10 has no scatter_reduce, and its CPU scatter kernels only add
(tensor_scatter_elements refuses "mul"); the `scatter_reduce` helper
(transforms/helper_code.py) marks each index entry's place along dim and reduces the
marked values there, which covers sum, prod, mean, amax and amin.
"""
from __future__ import annotations

import libcst as cst

from ..core.callrewrite import Bound, Unsupported
from ..core.strings import string_value
from .base import literal, transform
from .helper_code import request
from .tensors import inplace, write_back

# torch's deprecated scatter(reduce=) names -> scatter_reduce's
_SCATTER_REDUCE = {"add": "sum", "multiply": "prod"}


def _arg(value: cst.BaseExpression, keyword: str = "") -> cst.Arg:
    if not keyword:
        return cst.Arg(value)
    return cst.Arg(value, keyword=cst.Name(keyword), equal=cst.AssignEqual(
        whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")))


def _helper(ctx, receiver, bound: Bound, reduce: cst.BaseExpression) -> cst.Call:
    src = bound.get("src") if bound.get("src") is not None else bound.get("value")
    for name, node in (("dim", bound.get("dim")), ("index", bound.get("index")), ("src", src)):
        if node is None:
            raise Unsupported(f"argument {name!r} is missing")
    args = [_arg(receiver), _arg(bound.get("dim")), _arg(bound.get("index")), _arg(src),
            _arg(reduce)]
    if bound.get("include_self") is not None:
        args.append(_arg(bound.get("include_self"), "include_self"))
    return cst.Call(request(ctx, "scatter_reduce"), args)


def _reduce(bound: Bound, renames) -> cst.BaseExpression:
    """The reduction's name; torch's older names (scatter's) renamed where literal."""
    reduce = bound.get("reduce")
    if reduce is None:
        raise Unsupported("argument 'reduce' is missing")
    if isinstance(reduce, cst.SimpleString) and string_value(reduce) in renames:
        return cst.SimpleString(f'"{renames[string_value(reduce)]}"')
    if renames and not isinstance(reduce, cst.SimpleString):
        raise Unsupported("reduce= given by a name: write scatter_reduce's 'sum' or 'prod'")
    return reduce


@transform
def scatter_reduce_helper(ctx, rule, bound: Bound, call):
    """x.scatter_reduce(dim, index, src, reduce, include_self=...) ->
    scatter_reduce(x, ...); x.scatter_reduce_(...) writes it back into x."""
    value = _helper(ctx, call.func.value, bound, _reduce(bound, {}))
    return write_back(ctx, rule, call.func.value, value) if rule.torch_name.endswith("_") else value


@transform
def scatter_with_reduce(ctx, rule, bound: Bound, call):
    """x.scatter(dim, index, src, reduce="add"|"multiply") -> scatter_reduce(x, dim, index,
    src, "sum"|"prod"); without reduce= the rule's own call (in place for scatter_)."""
    if bound.get("reduce") is None or literal(bound.get("reduce")) == "None":
        bound.pop("reduce")
        return inplace(ctx, rule, bound, call) if rule.torch_name.endswith("_") else None
    value = _helper(ctx, call.func.value, bound, _reduce(bound, _SCATTER_REDUCE))
    return write_back(ctx, rule, call.func.value, value) if rule.torch_name.endswith("_") else value
