"""`values, indices = torch.topk(x, k)` (and torch.sort, torch.cummin): MindSpore's ops
give int32 indices where torch's are int64, so the unpacked indices are cast back on
the next line:

    values, indices = ops.topk(x, k)
    indices = indices.astype(mindspore.int64)

Code that concatenates them with other int64 indices, compares dtypes or saves them
then sees torch's dtype. Other uses of the tuple keep MindSpore's int32 (noted by
the rules).
"""
from __future__ import annotations

import re

import libcst as cst

from ..core.context import Context
from ..core.traversal import traverse
from .statement_pass import StatementPass

_APIS = ("torch.topk", "torch.sort", "torch.cummin")
_APPLIES = re.compile(r"\b(?:topk|sort|cummin)\(")


def applies(source: str) -> bool:
    return bool(_APPLIES.search(source))


def cast_unpacked_indices(ctx: Context, module: cst.Module) -> cst.Module:
    return traverse(module, _UnpackedIndices(ctx))


class _UnpackedIndices(StatementPass):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, _APPLIES)

    def leave_SimpleStatementLine(self, original, updated):
        if len(original.body) != 1 or not isinstance(original.body[0], cst.Assign):
            return updated
        assign = original.body[0]
        if (len(assign.targets) != 1 or not isinstance(assign.value, cst.Call)
                or self.ctx.resolve(assign.value.func) not in _APIS
                or any(arg.keyword is not None and arg.keyword.value == "out"
                       for arg in assign.value.args)):
            return updated
        target = assign.targets[0].target
        if not isinstance(target, (cst.Tuple, cst.List)) or len(target.elements) != 2:
            return updated
        indices = target.elements[1].value
        if not isinstance(indices, cst.Name) or indices.value == "_":
            return updated
        cast = cst.Call(cst.Attribute(cst.Name(indices.value), cst.Name("astype")),
                        [cst.Arg(self.ctx.name("mindspore.int64"))])
        follow = cst.SimpleStatementLine(
            [cst.Assign([cst.AssignTarget(cst.Name(indices.value))], cast)])
        return cst.FlattenSentinel([updated, follow])
