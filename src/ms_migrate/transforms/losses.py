"""Losses: layers whose MindSpore Cell is stricter than the functional form, and losses
composed from ops where MindSpore's kernel does not run on CPU.

MindSpore's nn.CrossEntropyLoss refuses int64 class indices (torch's default
label type, and what a converted data pipeline yields), while ops.cross_entropy
takes them. Such a loss layer becomes the function with its options bound:
`functools.partial(ops.cross_entropy, reduction="sum")` (or `ops.cross_entropy`
itself when no option is given), called like the layer.
"""
from __future__ import annotations

import libcst as cst

from ..core.callrewrite import Bound, Unsupported, operand, render_template, rewrite
from ..core.quick_libcst import parse_expression
from .base import literal, transform


@transform
def loss_function(ctx, rule, bound, call=None):
    """nn.XLoss(opts) -> functools.partial(ops.x_loss, opts) (keywords only)."""
    bound.positional.clear()  # options are passed by name to the function
    options = rewrite(rule, bound, ctx.name(rule.target), cst.Call(cst.Name("_")), ctx.name)
    if not options.args:  # no options: the function itself (`criterion = ops.cross_entropy`)
        return options.func
    ctx.require("import functools")
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    args = [cst.Arg(options.func)] + list(options.args)
    args = [a.with_changes(comma=comma) for a in args[:-1]] + [
        args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]
    return cst.Call(cst.Attribute(cst.Name("functools"), cst.Name("partial")), args)




@transform
def kl_div_function_log_target(ctx, rule, bound: Bound, call=None):
    """F.kl_div(..., log_target=True): MindSpore takes the target itself, so its exp."""
    flag = bound.pop("log_target")
    text = literal(flag) if flag is not None else "False"
    if text == "True":
        bound.set("target", parse_expression(f"{operand(bound.get('target'))}.exp()"))
    elif text != "False":
        raise Unsupported("log_target known only at run time: give True or False")


def _reduction(bound) -> str:
    """The call's reduction as a word: 'mean' (torch's default), 'sum' or 'none'."""
    text = literal(bound.pop("reduction"))
    if text is None:
        return "mean"
    word = text[1:-1] if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"" else None
    if word not in ("mean", "sum", "none"):
        raise Unsupported(f"reduction={text}: only 'mean', 'sum' or 'none' written out converts")
    return word


@transform
def reduced_loss(ctx, rule, bound, call=None):
    """The rule's template is the unreduced loss; reduction= ends it with .mean() or
    .sum() ('none' keeps it), for losses whose MindSpore kernel does not run on CPU."""
    word = _reduction(bound)
    loss = render_template(rule, bound, ctx.name)
    if word == "none":
        return loss
    if not isinstance(loss, (cst.Call, cst.Name, cst.Attribute, cst.Subscript)) and not loss.lpar:
        loss = loss.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return cst.Call(cst.Attribute(loss, cst.Name(word)))


@transform
def broadcast_weight(ctx, rule, bound, call=None):
    """MindSpore reads a loss weight as if it had the input's shape: a weight that
    broadcasts (one per class) is broadcast to the input first."""
    weight, given = bound.get("weight"), bound.get("input")
    if weight is None or literal(weight) == "None":
        bound.pop("weight")
        return None
    if not isinstance(given, (cst.Name, cst.Attribute)):
        raise Unsupported("weight= with an input that is an expression: assign the input "
                          "to a variable first (the weight is broadcast to its shape)")
    if not isinstance(weight, (cst.Name, cst.Attribute, cst.Call, cst.Subscript)):
        weight = weight.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    bound.set("weight", cst.Call(cst.Attribute(weight, cst.Name("broadcast_to")),
                                 [cst.Arg(cst.Attribute(given, cst.Name("shape")))]))
    return None
