"""In-place methods that change a tensor's shape (or detach it) rebind the name instead.

    x.unsqueeze_(0)           ->  x = x.unsqueeze(0)
    y = x.transpose_(0, 1)    ->  x = y = x.transpose(0, 1)
    x.detach_()               ->  x = ops.stop_gradient(x)

MindSpore writes values into an existing tensor (ops.assign) but not a new shape,
so the out-of-place method (converted by its rule) is assigned to the receiver's
name, with a warning: torch changes the tensor object, the assignment rebinds the
name, so other references to the old tensor do not see it. Only a call that is a
whole statement or the whole value of an assignment is rewritten, on a receiver
the statement may assign (a local name, or an attribute); other uses are refused
by the rule (transform inplace_reshape).
"""
from __future__ import annotations

import re

import libcst as cst

from ..core.callrewrite import code
from ..core.context import Context
from ..core.traversal import traverse
from .rebinding import Rebinding

METHODS = ("squeeze_", "unsqueeze_", "t_", "transpose_", "swapdims_", "swapaxes_", "detach_",
           "resize_", "resize_as_")
# converted by their own rule (the out-of-place `x.resize(...)` is also PIL's Image.resize,
# which no Tensor rule may touch): the rule checks that the call was rebound here
_OWN_RULE = ("resize_",)
# what the in-place call changes, for the warning
_CHANGES = {"detach_": "detaches the tensor from the graph in place"}
_APPLIES = re.compile(r"\.\s*(?:%s)\s*\(" % "|".join(METHODS))
# the lines a rewritten call may stand on (its method's name, whatever the spacing)
_METHOD_WORDS = re.compile(r"\b(?:%s)\b" % "|".join(METHODS))


def applies(source: str) -> bool:
    return bool(_APPLIES.search(source))


def rebind_reshaped(ctx: Context, module: cst.Module) -> cst.Module:
    return traverse(module, _Rebind(ctx, _METHOD_WORDS))


class _Rebind(Rebinding):
    def rebind(self, targets, call):
        func = call.func
        if not (isinstance(func, cst.Attribute) and func.attr.value in METHODS):
            return None
        receiver = func.value
        if not self._assignable(receiver):
            return None
        own = func.attr.value in _OWN_RULE
        rule = self.ctx.rules.method(func.attr.value if own else func.attr.value[:-1])
        if rule is None or rule.unsupported:
            return None
        new_call = call if own else call.with_changes(
            func=func.with_changes(attr=cst.Name(func.attr.value[:-1])))
        name = code(receiver).strip()
        change = _CHANGES.get(func.attr.value, "changes the shape in place")
        self.notes[id(new_call)] = (new_call, f"{func.attr.value} {change}: "
                                              f"{name} is rebound; other references to the "
                                              f"old tensor do not see it")
        targets.insert(0, cst.AssignTarget(receiver))
        return cst.Assign(targets, new_call)

    def _assignable(self, node: cst.BaseExpression) -> bool:
        if isinstance(node, cst.Name):
            if self.ctx.resolve(node) is not None:  # a torch module, not a tensor
                return False
            return self.may_bind({node.value})
        # `self.x.t_()`: an attribute holds the tensor; assigning it is the same rebinding
        return (isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name)
                and self.ctx.resolve(node) is None)
