"""Transforms for torchvision.transforms arguments that MindSpore spells as enums."""
from __future__ import annotations

import libcst as cst

from ..core.callrewrite import Bound, Unsupported
from .base import literal, transform

# torchvision's padding_mode strings -> mindspore.dataset.vision.Border members; both
# pad as numpy.pad's modes of the same names
_BORDERS = {"constant": "CONSTANT", "edge": "EDGE", "reflect": "REFLECT",
            "symmetric": "SYMMETRIC"}


@transform
def border_mode(ctx, rule, bound: Bound, call=None):
    """padding_mode='reflect' -> padding_mode=vision.Border.REFLECT."""
    mode = bound.get("padding_mode")
    if mode is None:
        return None
    text = (literal(mode) or "").strip("'\"")
    if text not in _BORDERS or not isinstance(mode, cst.SimpleString):
        raise Unsupported("padding_mode is not a literal: MindSpore takes a "
                          "vision.Border value")
    if text == "constant":
        bound.pop("padding_mode")
    else:
        bound.set("padding_mode", ctx.name(f"mindspore.dataset.vision.Border.{_BORDERS[text]}"))
    return None
