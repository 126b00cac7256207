"""`nn.Softmax()`, `nn.LogSoftmax()`, `nn.Softmin()` without `dim`: the axis from the rank.

Without `dim` torch picks the axis from each input's rank (0 for 0-, 1- and 3-D
inputs, else 1; the legacy rule `F.softmax` without `dim` follows too), which a
MindSpore layer, built with one axis, cannot. Such a layer becomes
`SoftmaxByRank(ops.softmax)` (or `ops.log_softmax`, `ops.softmin`), a small Cell
written into the file that picks the axis as torch does. A layer given `dim` is
the table's (`nn.Softmax(axis=...)`).
"""
from __future__ import annotations

import re

import libcst as cst

from ..core.context import Context
from ..core.report import CONVERTED
from ..core.traversal import traverse
from .statement_pass import StatementPass, with_helper_class
from .text_search import found

HELPER = "SoftmaxByRank"
_LAYERS = {
    "torch.nn.Softmax": "mindspore.ops.softmax",
    "torch.nn.LogSoftmax": "mindspore.ops.log_softmax",
    "torch.nn.Softmin": "mindspore.ops.softmin",
}
_APPLIES = re.compile(r"\b(?:Log)?Softm(?:ax|in)\(\s*(?:dim\s*=\s*)?(?:None\s*)?\)")

_HELPER = f'''\
class {HELPER}(mindspore.nn.Cell):
    """torch's softmax layers built without dim: the axis from the input's rank (0 for
    0-, 1- and 3-D inputs, else 1)."""

    def __init__(self, function):
        super().__init__()
        self.function = function

    def construct(self, x):
        return self.function(x, axis=0 if x.ndim in (0, 1, 3) else 1)
'''


def applies(source: str) -> bool:
    return found(_APPLIES, source, "Softm", "LogSoftm")


def convert_implicit_dims(ctx: Context, module: cst.Module) -> cst.Module:
    taken = {s.name.value for s in module.body if isinstance(s, (cst.FunctionDef, cst.ClassDef))}
    if HELPER in taken:
        return module
    layers = _Layers(ctx)
    converted = traverse(module, layers)
    layers.place_findings()
    if not layers.used:
        return converted
    ctx.require("import mindspore")
    return with_helper_class(converted, _HELPER)


class _Layers(StatementPass):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, _APPLIES)
        self.used = False

    def leave_Call(self, original, updated):
        api = self.ctx.resolve(original.func)
        function = _LAYERS.get(api or "")
        if function is None or not _no_dim(original):
            return updated
        self.used = True
        self.add(original, api, CONVERTED, f"no dim -> {HELPER}({function.split('.')[-1]}), a "
                 "small Cell written into this file that picks the axis from the input's "
                 "rank as torch does")
        return cst.Call(cst.Name(HELPER), [cst.Arg(self.ctx.name(function))])


def _no_dim(call: cst.Call) -> bool:
    if not call.args:
        return True
    if len(call.args) != 1 or call.args[0].star:
        return False
    arg = call.args[0]
    keyword = arg.keyword.value if arg.keyword is not None else "dim"
    return keyword == "dim" and isinstance(arg.value, cst.Name) and arg.value.value == "None"
