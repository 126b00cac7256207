"""Transforms for torch.* functions whose arguments decide the MindSpore form.

Each one handles a call shape that a rule's data cannot tell apart (an optional
argument that changes the result's type or structure); the rest of the call
follows the rule's data through `rewrite`.
"""
from __future__ import annotations

import libcst as cst

from ..callrewrite import Bound, Unsupported, rewrite
from . import literal, transform

_FLOAT_CALLS = ("float(", "math.")


def _data_call(ctx, rule, bound: Bound, call: cst.Call) -> cst.Call:
    """The call the rule's data gives for these (possibly edited) arguments."""
    return rewrite(rule, bound, ctx.name(rule.target), call, ctx.name)


def _method(value: cst.BaseExpression, name: str, *args: cst.BaseExpression) -> cst.Call:
    """`value.name(args)`, with parentheses around a value that needs them."""
    if not isinstance(value, (cst.Name, cst.Attribute, cst.Call, cst.Subscript)) and not value.lpar:
        value = value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    return cst.Call(cst.Attribute(value, cst.Name(name)),
                    [cst.Arg(a, comma=comma) for a in args[:-1]] + [cst.Arg(a) for a in args[-1:]])


def _fill_dtype(text: str):
    """MindSpore dtype name that torch gives a tensor filled with this literal, or ''
    when ops.full infers the same one; None when the type cannot be seen."""
    bare = text.lstrip("-+ ")
    if bare in ("True", "False"):
        return "mindspore.bool_"
    if bare.isdigit():
        return ""
    if bare.startswith(_FLOAT_CALLS):
        return "mindspore.float32"
    try:
        float(bare)
    except ValueError:
        return None
    return "mindspore.float32"


@transform
def full_dtype(ctx, rule, bound: Bound, call=None):
    """torch.full((2,), 1.5) is float32; ops.full makes it int64 unless told the dtype."""
    if bound.get("dtype") is None:
        dtype = _fill_dtype(literal(bound.get("fill_value")) or "")
        if dtype is None:
            raise Unsupported("the fill value's type is not visible here and ops.full "
                              "turns a float into int64; pass dtype=")
        if dtype:
            bound.set("dtype", ctx.name(dtype))
    return None


@transform
def with_dtype(ctx, rule, bound: Bound, call=None):
    """A `dtype=` MindSpore's function lacks becomes `.astype(dtype)` on the result."""
    dtype = bound.pop("dtype")
    result = _data_call(ctx, rule, bound, call)
    return result if dtype is None else _method(result, "astype", dtype)


def _parens(value: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(value, (cst.BinaryOperation, cst.UnaryOperation, cst.BooleanOperation,
                          cst.Comparison, cst.IfExp, cst.Lambda)) and not value.lpar:
        return value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return value


@transform
def alpha_scale(ctx, rule, bound: Bound, call=None):
    """add/sub(input, other, alpha=a) -> add/sub(input, a * other): MindSpore has no alpha."""
    alpha = bound.pop("alpha")
    if alpha is not None and literal(alpha) not in ("1", "1.0"):
        bound.set("other", cst.BinaryOperation(_parens(alpha), cst.Multiply(),
                                               _parens(bound.get("other"))))
    return None


@transform
def where_indices(ctx, rule, bound: Bound, call=None):
    """where(condition) alone is nonzero(as_tuple=True): the indices, one tensor per dim."""
    if bound.get("input") is not None or bound.get("other") is not None:
        return None
    nonzero = cst.Call(ctx.name("mindspore.ops.nonzero"), [cst.Arg(bound.get("condition"))])
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    return cst.Call(ctx.name("mindspore.ops.unbind"),
                    [cst.Arg(nonzero, comma=comma), cst.Arg(cst.Integer("1"))])
