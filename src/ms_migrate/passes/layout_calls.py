"""Calls that only change how torch lays out memory or how fast it loads: the
statement goes, with a note.

`rnn.flatten_parameters()` packs an RNN's weights into one contiguous block for
cuDNN; the values do not change, and MindSpore's RNN cells have no such method.
`torchvision.set_image_backend("accimage")` decodes images faster with accimage;
the converted code reads them with PIL, torchvision's default.
`torchaudio.set_audio_backend("sox_io")` chooses the library that decodes audio files;
the converted code reads them with soundfile (torchaudio.load's conversion).
"""
from __future__ import annotations

import re

import libcst as cst

from ..core.context import Context
from ..core.report import WARNING, mark_text
from ..core.traversal import traverse
from .statement_pass import StatementPass
from .text_search import found

_LAYOUT = {
    "flatten_parameters": "torch.nn.RNNBase.flatten_parameters",
}
_FUNCTIONS = {
    "torchvision.set_image_backend": ("removed: accimage only decodes images faster; "
                                      "images are read with PIL, torchvision's default"),
    "torchaudio.set_audio_backend": ("removed: it only chooses the library that decodes "
                                     "audio files (torchaudio.load converts to a reader "
                                     "with soundfile)"),
}
_APPLIES = re.compile(rf"\.(?:{'|'.join(_LAYOUT)})\(\s*\)|\bset_(?:image|audio)_backend\(")
_WHY = "removed: it only packs the weights in memory for cuDNN; the values are the same"


def applies(source: str) -> bool:
    return found(_APPLIES, source, *(f".{name}(" for name in _LAYOUT), "set_image_backend(",
                 "set_audio_backend(")


def drop_layout_calls(ctx: Context, module: cst.Module) -> cst.Module:
    drop = _LayoutCalls(ctx)
    result = traverse(module, drop)
    drop.place_findings()
    return result


class _LayoutCalls(StatementPass):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, _APPLIES)

    def leave_SimpleStatementLine(self, original, updated):
        if len(original.body) != 1 or not isinstance(original.body[0], cst.Expr):
            return updated
        call = original.body[0].value
        if not isinstance(call, cst.Call):
            return updated
        api = self.ctx.resolve(call.func)
        if api in _FUNCTIONS:
            why = _FUNCTIONS[api]
        elif (not call.args and isinstance(call.func, cst.Attribute)
                and call.func.attr.value in _LAYOUT):
            api, why = _LAYOUT[call.func.attr.value], _WHY
        else:
            return updated
        self.add(call, api, WARNING, why)
        return self.drop(updated, [mark_text(f"{api}: {why}")])
