"""Loss layers whose MindSpore Cell is stricter than the functional form.

MindSpore's nn.CrossEntropyLoss refuses int64 class indices (torch's default
label type, and what a converted data pipeline yields), while ops.cross_entropy
takes them. Such a loss layer becomes the function with its options bound:
`functools.partial(ops.cross_entropy, reduction="sum")` (or `ops.cross_entropy`
itself when no option is given), called like the layer.
"""
from __future__ import annotations

import libcst as cst

from ..callrewrite import code, operand, rewrite
from . import quoted, transform


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


# torch's deprecated `size_average` / `reduce` (torch.nn._reduction.legacy_get_string):
# None counts as True; 'mean' when both hold, 'sum' when only reduce does, else 'none'.
_TRUTH = {"True": True, "False": False, "1": True, "0": False}


def legacy_reduction(bound) -> None:
    """size_average=/reduce= -> the reduction torch derives from them, in place.

    Known literals fold to a string (`reduce=False` -> `reduction="none"`); an
    expression gives the conditional torch evaluates (`"mean" if avg else "sum"`).
    Given together with reduction=, torch ignores reduction=: so does this.
    """
    size_average, reduce_ = bound.pop("size_average"), bound.pop("reduce")
    # torch derives the reduction only when one of them is not None
    size_average, reduce_ = (None if v is None or code(v).strip() == "None" else v
                             for v in (size_average, reduce_))
    if size_average is None and reduce_ is None:
        return
    explicit = bound.pop("reduction")
    average = True if size_average is None else _TRUTH.get(code(size_average).strip(),
                                                          size_average)
    reduces = True if reduce_ is None else _TRUTH.get(code(reduce_).strip(), reduce_)
    if explicit is not None:
        bound.warnings.append(f"reduction={code(explicit).strip()} is ignored by torch when "
                              f"size_average/reduce is given: the reduction follows them")
    if isinstance(average, bool) and isinstance(reduces, bool):
        result = "none" if not reduces else ("mean" if average else "sum")
        if result != "mean" or explicit is not None:
            bound.set("reduction", quoted(result))
        return
    bound.warnings.append("size_average/reduce given as an expression: the reduction is "
                          "chosen at run time, where None counts as False (torch: True)")
    if isinstance(average, bool):
        when_reduced = '"mean"' if average else '"sum"'
    else:
        when_reduced = f'"mean" if {operand(average)} else "sum"'
    if isinstance(reduces, bool):
        text = when_reduced if reduces else '"none"'
    else:
        if " if " in when_reduced:
            when_reduced = f"({when_reduced})"
        text = f'{when_reduced} if {operand(reduces)} else "none"'
    bound.set("reduction", cst.parse_expression(text))
