"""torch.nn.init: in-place initialisers -> `w.set_data(init.initializer(...))`.

torch fills a tensor in place; MindSpore builds an initializer object and gives
its data to the Parameter: `w.set_data(init.initializer(init.HeNormal(), w.shape,
w.dtype))`. The initializer's own arguments follow the rule's data.
"""
from __future__ import annotations

import math

import libcst as cst

from ..core import receivers
from ..core.callrewrite import Unsupported, folded_literal, is_number, operand, rewrite
from ..core.callrewrite import code as code_of
from ..core.quick_libcst import parse_expression
from .base import literal, transform
from .helper_code import request


def _parameter(tensor: cst.BaseExpression) -> cst.BaseExpression:
    """`w.data` -> `w`: torch initialises either alike, but MindSpore's `.data` is a
    Tensor, which has no set_data."""
    if isinstance(tensor, cst.Attribute) and tensor.attr.value == "data":
        return tensor.value
    return tensor


def _set_data(ctx, tensor: cst.BaseExpression, value: cst.BaseExpression) -> cst.Call:
    """`w.set_data(value)`; a parameter of the enclosing function (`lambda x:
    nn.init.zeros_(x)`, a helper's `w`) may hold a Parameter's `.data`, a Tensor without set_data: `x.copy_(value)`
    writes through to the Parameter either way. A name the file binds only to new
    tensors (`w = torch.empty(3)`) is a Tensor: `ops.assign(w, value)`."""
    lazy = isinstance(value, cst.Call) and code_of(value.func).endswith("initializer")
    if isinstance(tensor, cst.Name) and ctx.parameters and tensor.value in ctx.parameters[-1]:
        if lazy:
            value = cst.Call(cst.Attribute(value, cst.Name("init_data")), [])
        return cst.Call(cst.Attribute(tensor, cst.Name("copy_")), [cst.Arg(value)])
    if isinstance(tensor, cst.Name) and receivers.owner(ctx, tensor.value) == receivers.TENSOR:
        if lazy:
            value = cst.Call(cst.Attribute(value, cst.Name("init_data")), [])
        comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        return cst.Call(ctx.name("mindspore.ops.assign"),
                        [cst.Arg(tensor, comma=comma), cst.Arg(value)])
    return cst.Call(cst.Attribute(tensor, cst.Name("set_data")), [cst.Arg(value)])


def _initializer(ctx, tensor, init_obj) -> cst.Call:
    args = [init_obj, cst.Attribute(tensor, cst.Name("shape")),
            cst.Attribute(tensor, cst.Name("dtype"))]
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    return cst.Call(ctx.name("mindspore.common.initializer.initializer"),
                    [cst.Arg(a, comma=comma) for a in args[:-1]] + [cst.Arg(args[-1])])


@transform
def init_inplace(ctx, rule, bound, call=None):
    """nn.init.xavier_uniform_(w, gain=2) -> w.set_data(init.initializer(...))."""
    tensor = bound.pop("tensor")
    if tensor is None:
        raise Unsupported("the tensor to initialise is missing")
    tensor = _parameter(tensor)
    init_call = rewrite(rule, bound, ctx.name(rule.target), cst.Call(cst.Name("_")), ctx.name)
    return _set_data(ctx, tensor, _initializer(ctx, tensor, init_call))


@transform
def init_uniform(ctx, rule, bound, call=None):
    """uniform_(w, a, b): MindSpore's Uniform is symmetric, so shift and scale ops.rand."""
    tensor = _parameter(bound.pop("tensor"))
    low = bound.get("a") or cst.Float("0.0")
    high = bound.get("b") or cst.Float("1.0")
    if bound.get("generator") is not None:
        raise Unsupported("generator= has no MindSpore equivalent")
    rand = cst.Call(ctx.name("mindspore.ops.rand"), [
        cst.Arg(cst.Attribute(tensor, cst.Name("shape")),
                comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
        cst.Arg(cst.Attribute(tensor, cst.Name("dtype")), keyword=cst.Name("dtype"),
                equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))])
    low_text = literal(low)
    if low_text == "0" or low_text == "0.0":
        width = high
    else:
        width = _difference(high, low_text)
    value = cst.BinaryOperation(rand, cst.Multiply(), _wrap(width))
    if low_text not in ("0", "0.0"):
        value = cst.BinaryOperation(value, cst.Add(), _wrap(low))
    return _set_data(ctx, tensor, value)


def _difference(high: cst.BaseExpression, low_text: str) -> cst.BaseExpression:
    """`b - a`, folded when it is constant arithmetic (the user's text is parsed and
    folded by a whitelist, never evaluated, nor made part of a format template)."""
    high_text = literal(high)
    if is_number(high_text):  # `1 - (-0.1)` folds to 1.1; `1 - (-x)` stays code
        folded = folded_literal(f"{high_text} - {_paren(low_text)}")
        if folded is not None:
            return folded
    try:
        return parse_expression(f"{operand(high)} - {_paren(low_text)}")
    except cst.ParserSyntaxError:
        raise Unsupported("the bounds a and b cannot be combined into b - a") from None


def _paren(text: str) -> str:
    return text if text.replace(".", "").replace("e", "").isdigit() else f"({text})"


def _wrap(node):
    if isinstance(node, (cst.BinaryOperation, cst.UnaryOperation)):
        return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return node


# torch.nn.init.calculate_gain's table (it is a pure function of its arguments).
_GAINS = {"linear": 1, "conv1d": 1, "conv2d": 1, "conv3d": 1, "conv_transpose1d": 1,
          "conv_transpose2d": 1, "conv_transpose3d": 1, "sigmoid": 1, "tanh": 5.0 / 3,
          "relu": math.sqrt(2.0), "selu": 3.0 / 4}


@transform
def calculate_gain(ctx, rule, bound, call=None):
    """calculate_gain('relu') -> its value; MindSpore has no public equivalent. A name
    or slope known only at run time calls a helper written into the file."""
    name = literal(bound.get("nonlinearity"))
    if name is None:
        raise Unsupported("needs the argument 'nonlinearity'")
    if name[0] not in "'\"":
        return _gain_helper(ctx, bound)
    name = name.strip("'\"")
    if name == "leaky_relu":
        param = literal(bound.get("param"))
        try:
            slope = 0.01 if param in (None, "None") else float(param)
        except ValueError:
            return _gain_helper(ctx, bound)
        gain = math.sqrt(2.0 / (1 + slope ** 2))
    elif name in _GAINS:
        gain = _GAINS[name]
    else:
        raise Unsupported(f"unknown nonlinearity {name!r}")
    return cst.Integer(str(gain)) if isinstance(gain, int) else cst.Float(repr(gain))


def _gain_helper(ctx, bound) -> cst.Call:
    args = [cst.Arg(bound.get("nonlinearity"))]
    if bound.get("param") is not None:
        args = [args[0].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(
            " "))), cst.Arg(bound.get("param"))]
    return cst.Call(request(ctx, "calculate_gain"), args)
