"""Loss layers whose MindSpore Cell is stricter than the functional form.

MindSpore's nn.CrossEntropyLoss refuses int64 class indices (torch's default
label type, and what a converted data pipeline yields), while ops.cross_entropy
takes them. Such a loss layer becomes the function with its options bound:
`functools.partial(ops.cross_entropy, reduction="sum")` (or `ops.cross_entropy`
itself when no option is given), called like the layer.
"""
from __future__ import annotations

import libcst as cst

from ..core.callrewrite import Bound, Unsupported, operand, rewrite
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
        bound.set("target", cst.parse_expression(f"{operand(bound.get('target'))}.exp()"))
    elif text != "False":
        raise Unsupported("log_target known only at run time: give True or False")
