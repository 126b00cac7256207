"""Transforms for Tensor methods."""
from __future__ import annotations

import libcst as cst

from ..callrewrite import Bound
from . import transform


@transform
def tensor_size(ctx, rule, bound: Bound, call=None):
    """x.size() -> x.shape ; x.size(i) -> x.shape[i] (MindSpore's size is a count)."""
    receiver = bound.values["self"]
    shape = cst.Attribute(receiver, cst.Name("shape"))
    dim = bound.get("dim")
    if dim is None:
        return shape
    return cst.Subscript(shape, [cst.SubscriptElement(cst.Index(dim))])
