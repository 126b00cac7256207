"""`nn.Unfold(...)`: a small Cell written into the file that calls ops.unfold.

mindspore.nn.Unfold takes ksizes/strides/rates and lays the patches out another way;
`ops.unfold` is torch's F.unfold, (N, C * kh * kw, L) in torch's order. A file that
makes an Unfold layer (a ViT's patch embedding: `nn.Sequential(nn.Unfold(...),
Rearrange(...))`) gets:

    class Unfold(mindspore.nn.Cell):
        def __init__(self, kernel_size, dilation=1, padding=0, stride=1): ...
        def construct(self, x):
            return mindspore.ops.unfold(x, self.kernel_size, self.dilation, self.padding,
                                        self.stride)
"""
from __future__ import annotations

import re

import libcst as cst

from ..core.context import Context
from ..core.report import CONVERTED
from ..core.traversal import traverse
from .statement_pass import StatementPass, with_helper_class
from .text_search import found

HELPER = "Unfold"
API = "torch.nn.Unfold"
_APPLIES = re.compile(r"\bUnfold\s*\(")
_ARGS = ("kernel_size", "dilation", "padding", "stride")

_UNFOLD = f'''\
class {HELPER}(mindspore.nn.Cell):
    """torch's nn.Unfold: sliding blocks as columns, (N, C * kh * kw, L) in torch's order."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def construct(self, x):
        return mindspore.ops.unfold(x, self.kernel_size, self.dilation, self.padding,
                                    self.stride)
'''


def applies(source: str) -> bool:
    return found(_APPLIES, source, "Unfold")


def convert_unfold_layers(ctx: Context, module: cst.Module) -> cst.Module:
    taken = {s.name.value for s in module.body if isinstance(s, (cst.FunctionDef, cst.ClassDef))}
    if HELPER in taken or HELPER in ctx.aliases:  # `from torch.nn import Unfold`: left
        return module
    layers = _UnfoldLayers(ctx)
    converted = traverse(module, layers)
    layers.place_findings()
    if not layers.used:
        return converted
    ctx.require("import mindspore")  # the file's `nn` is still torch's here
    return with_helper_class(converted, _UNFOLD)


class _UnfoldLayers(StatementPass):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, _APPLIES)
        self.used = False

    def leave_Call(self, original: cst.Call, updated: cst.Call):
        if self.ctx.resolve(original.func) != API:
            return updated
        if len(original.args) > len(_ARGS) or any(
                a.star or (a.keyword is not None and a.keyword.value not in _ARGS)
                for a in original.args):
            return updated
        self.used = True
        self.add(original, API, CONVERTED,
                 f"-> {HELPER}(), a Cell written into this file that calls ops.unfold "
                 "(mindspore.nn.Unfold lays the patches out another way)")
        return updated.with_changes(func=cst.Name(HELPER))
