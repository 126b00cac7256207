"""Tensor attributes read on any expression: `x.is_leaf`, `x.is_sparse`, `x.real`.

Their rules are `kind = "attribute"` entries of the torch.Tensor namespace
(mappings/tensor_attributes.toml): a `template` over `{self}`, the receiver. A rule with
`tensor_receiver = true` applies only where the receiver is known to be a Tensor: a
name the file binds only to new tensors (core/receivers.py), a torch function's result
(`torch.fft.rfft(x).real`), or an attribute, subscript or method call of one
(`x.T.real`), as numpy arrays and Python numbers have the same attribute. A name the
file reads as a module (`np.real`) is never a receiver, nor is the callee of a call
(`x.real()` is MindSpore's spelling already) or a written target.
"""
from __future__ import annotations

from typing import Optional

import libcst as cst

from ..core import receivers
from ..core.callrewrite import Unsupported, bind, render_template
from ..core.context import Context, is_torch_api
from ..core.names import root_name
from ..core.positions import Locator
from ..core.report import CONVERTED, WARNING


def convert(ctx: Context, original: cst.Attribute, updated: cst.Attribute,
            locator: Optional[Locator]) -> cst.BaseExpression:
    rule = ctx.rules.tensor_attributes.get(original.attr.value)
    if rule is None or rule.unsupported or not rule.template:
        return updated
    receiver = original.value
    root = root_name(receiver)
    if ctx.resolve(receiver) is not None or (root is not None and ctx.is_module_name(root)):
        return updated  # `torch.float32`, `np.real`: a module's name, not a Tensor's
    if root == "self" and isinstance(receiver, cst.Name):
        return updated  # a Module's own attribute of that name
    if rule.tensor_receiver and not _known_tensor(ctx, receiver):
        return updated
    api = "Tensor." + original.attr.value
    if not ctx.selection.enabled(api):
        return updated
    receiver = updated.value if "{self}" in rule.template else None  # `True`: a constant
    try:
        new = render_template(rule, bind(rule, cst.Call(updated), receiver), ctx.name)
    except Unsupported:
        return updated
    message = f"-> {rule.template.replace('{self}', 'x')}"
    if rule.notes:
        message += f" ({rule.notes})"
    ctx.finding(locator, api, WARNING if rule.notes else CONVERTED, message, node=original,
                rule=rule.source, mark=bool(rule.notes))
    return new


def _known_tensor(ctx: Context, node: cst.BaseExpression) -> bool:
    """A name bound only to new tensors, a torch function's result (`torch.fft.fft(x)`),
    or an attribute, subscript or method call of one."""
    while isinstance(node, (cst.Attribute, cst.Subscript, cst.Call)):
        if isinstance(node, cst.Call):
            if is_torch_api(ctx.resolve(node.func)):
                return True  # torch.fft.rfft(x).real: a torch function's tensor
            node = node.func
        else:
            node = node.value
        if isinstance(node, cst.Attribute) and ctx.resolve(node) is not None:
            return False  # a module's attribute that is no call: not a tensor we know
    return isinstance(node, cst.Name) and receivers.owner(ctx, node.value) in (
        receivers.TENSOR, receivers.FRESH_VIEW)
