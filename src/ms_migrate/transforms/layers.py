"""Transforms for torch.nn layers whose arguments differ beyond renames."""
from __future__ import annotations

import libcst as cst

from ..callrewrite import Bound, Unsupported
from . import literal as _literal
from . import quoted as _quoted
from . import transform


@transform
def conv_padding(ctx, rule, bound: Bound, call=None):
    """torch padding (int, tuple, "same", "valid") -> MindSpore pad_mode + padding.

    torch pads symmetrically; MindSpore's "pad" mode does the same, while its
    "same" pads the other side first, so explicit numbers always use "pad".
    """
    mode = _literal(bound.get("padding_mode"))
    if mode not in (None, "'zeros'", '"zeros"'):
        raise Unsupported(f"padding_mode={mode} has no MindSpore Conv equivalent")
    bound.pop("padding_mode")
    padding = bound.get("padding")
    text = _literal(padding)
    if text is None or text in ("0", "(0, 0)", "(0, 0, 0)", "(0,)"):
        bound.pop("padding")
        bound.set("pad_mode", _quoted("valid"))
    elif text in ("'valid'", '"valid"', "'same'", '"same"'):
        bound.pop("padding")
        if text.strip("'\"") == "same" and _literal(bound.get("stride")) not in (None, "1"):
            raise Unsupported("padding='same' needs stride 1 in torch")
        bound.set("pad_mode", _quoted(text.strip("'\"")))
    else:
        bound.set("pad_mode", _quoted("pad"))
        if isinstance(padding, (cst.Tuple, cst.List)) and len(padding.elements) in (2, 3):
            # torch: one value per spatial dim; MindSpore: before/after per dim.
            doubled = [el.value for el in padding.elements for _ in (0, 1)]
            bound.set("padding", cst.Tuple([cst.Element(v, comma=cst.Comma(
                whitespace_after=cst.SimpleWhitespace(" "))) for v in doubled[:-1]]
                + [cst.Element(doubled[-1])]))
        # keep `padding` last in the output, after pad_mode, as a person would write it
        value = bound.pop("padding")
        bound.set("padding", value)


@transform
def pool_padding(ctx, rule, bound: Bound, call=None):
    """MaxPool/AvgPool: stride defaults to kernel_size; padding/ceil_mode need "pad"."""
    if bound.get("stride") is None or _literal(bound.get("stride")) == "None":
        bound.pop("stride")
        bound.set("stride", bound.get("kernel_size"))
    padding = _literal(bound.get("padding"))
    ceil = _literal(bound.get("ceil_mode"))
    if padding in (None, "0") and ceil in (None, "False"):
        bound.pop("padding")
        bound.pop("ceil_mode")
        return None
    if padding in (None, "0"):
        bound.pop("padding")
    bound.set("pad_mode", _quoted("pad"))
    if "padding" in bound.values:
        bound.set("padding", bound.pop("padding"))
    return None
