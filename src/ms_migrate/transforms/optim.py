"""Transforms for torch.optim: what the optimizer and scheduler tables cannot say."""
from __future__ import annotations

import libcst as cst

from ..core.callrewrite import Bound, Unsupported
from ..core.traversal import FastTransformer, traverse
from .base import literal, transform


class _TrainableParams(FastTransformer):
    """`m.parameters()` -> `m.trainable_params()` anywhere inside an expression.

    torch's parameters() are what a Cell calls trainable_params(): BatchNorm
    statistics are buffers in torch but (non-trainable) Parameters in MindSpore.
    """

    def leave_Call(self, original, updated):
        func = updated.func
        if not isinstance(func, cst.Attribute):
            return updated
        name = func.attr.value
        if name == "parameters" and not updated.args:
            return updated.with_changes(func=func.with_changes(attr=cst.Name("trainable_params")))
        if name == "named_parameters":
            raise Unsupported("named_parameters(): MindSpore parameter names differ "
                              "(BatchNorm gamma/beta/moving_*); select from "
                              "trainable_params() by `.name` by hand")
        return updated


# Hyper-parameters MindSpore type-checks as float (AdamW's lr, ASGD's t0, StepLR's gamma).
_FLOAT_ARGS = ("lr", "eps", "weight_decay", "lambd", "alpha", "t0", "betas", "gamma", "power")


def _float_literals(bound: Bound) -> None:
    """`weight_decay=0` -> `0.0`, `betas=(0, 0.9)` -> `(0.0, 0.9)`: torch accepts ints."""
    for name in _FLOAT_ARGS:
        value = bound.get(name)
        if isinstance(value, cst.Integer):
            bound.set(name, cst.Float(value.value + ".0"))
        elif isinstance(value, cst.Tuple):
            bound.set(name, value.with_changes(elements=[
                el.with_changes(value=cst.Float(el.value.value + ".0"))
                if isinstance(el.value, cst.Integer) else el for el in value.elements]))


@transform
def optimizer_params(ctx, rule, bound: Bound, call=None):
    """The optimizer's `params` (a Module's parameters or parameter groups)."""
    params = bound.get("params")
    if params is not None:
        bound.set("params", traverse(params, _TrainableParams()))
    _float_literals(bound)


@transform
def float_literals(ctx, rule, bound: Bound, call=None):
    _float_literals(bound)


@transform
def cyclic_lr(ctx, rule, bound: Bound, call=None):
    """CyclicLR: MindSpore cycles the learning rate only, never the momentum."""
    cycle = literal(bound.get("cycle_momentum"))
    if cycle != "False":
        raise Unsupported("MindSpore's CyclicLR does not cycle momentum; "
                          "only cycle_momentum=False converts")
    for name in ("cycle_momentum", "base_momentum", "max_momentum"):
        bound.pop(name)
    _float_literals(bound)
