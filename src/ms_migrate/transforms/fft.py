"""FFTs composed from their dual: MindSpore 2.10's ihfft family is unreliable on CPU.

torch's ihfft of a real signal is the conjugate of its rfft with the opposite
normalisation (`norm` names the scaling of the forward transform, and ihfft is a
backward one): ihfft(x, norm="backward") == conj(rfft(x, norm="forward")).
"""
from __future__ import annotations

from ..core.callrewrite import Bound, Unsupported, render_template
from .base import literal, quoted, transform

_DUAL = {None: "forward", "None": "forward", "backward": "forward", "forward": "backward",
         "ortho": "ortho"}


@transform
def dual_norm(ctx, rule, bound: Bound, call=None):
    """Renders the rule's template (the dual transform) with the opposite norm."""
    text = literal(bound.get("norm"))
    word = text[1:-1] if text and len(text) > 1 and text[0] == text[-1] and text[0] in "'\"" else text
    if word not in _DUAL:
        raise Unsupported(f"norm={text}: only a norm written out converts "
                          "(the dual transform takes the opposite one)")
    bound.set("norm", quoted(_DUAL[word]))
    return render_template(rule, bound, ctx.name)


_PAD_MODES = {"reflect": "REFLECT", "constant": "CONSTANT"}


@transform
def stft_pad_mode(ctx, rule, bound: Bound, call=None):
    """torch.stft's pad_mode in MindSpore's spelling ('reflect' -> 'REFLECT'); torch's
    'replicate' and 'circular' have no MindSpore counterpart (its 'SYMMETRIC' differs)."""
    text = literal(bound.get("pad_mode"))
    if text is None:
        return None
    word = text[1:-1] if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"" else None
    if word not in _PAD_MODES:
        raise Unsupported(f"pad_mode={text}: only 'reflect' or 'constant' written out converts")
    bound.set("pad_mode", quoted(_PAD_MODES[word]))
    return None
