"""`values, indices = torch.topk(x, k)` or `pair = torch.sort(x)` (and torch.cummin, and
the Tensor methods `x.topk(k)`, `x.cummin(dim)`, `v, i = x.sort()`): MindSpore's ops and
methods give int32 indices where torch's are int64, so the unpacked indices
are cast back on the next line; a pair kept whole is rebuilt with its indices cast:

    values, indices = ops.topk(x, k)
    indices = indices.astype(mindspore.int64)
    pair = ops.sort(x)
    pair = pair[0], pair[1].astype(mindspore.int64)

Code that concatenates them with other int64 indices, compares dtypes or saves them
then sees torch's dtype. Other uses of the tuple keep MindSpore's int32 (noted by
the rules).
"""
from __future__ import annotations

import re

import libcst as cst

from ..core.context import Context
from ..core.names import imported_names, root_name
from ..core.traversal import FastTransformer, traverse
from .statement_pass import StatementPass
from .text_search import found

_APIS = ("torch.topk", "torch.sort", "torch.cummin")
# Tensor methods; `pair = lst.sort()` on a list is left alone (only unpacked sorts count)
_METHODS = ("topk", "cummin")
_CAST = re.compile(r"^[ \t]*(\w+) = \1(?:\[0\], \1\[1\])?\.astype\(", re.MULTILINE)
_APPLIES = re.compile(r"\b(?:topk|sort|cummin)\(")


def applies(source: str) -> bool:
    return found(_APPLIES, source, "topk(", "sort(", "cummin(")


def cast_unpacked_indices(ctx: Context, module: cst.Module) -> cst.Module:
    # a pair read as `pair.values` / `pair.indices` stays as it is: its fields become
    # [0] / [1] where the name holds the call's result (passes/tuple_results.py)
    fields = set(re.findall(r"\b(\w+)\.(?:values|indices)\b", module.code))
    # names cast already (converted code: a Tensor method reads the same in both)
    cast = set(_CAST.findall(module.code))
    return traverse(module, _UnpackedIndices(ctx, fields | cast, imported_names(module)))


class _UnpackedIndices(StatementPass):
    def __init__(self, ctx: Context, fields, modules) -> None:
        super().__init__(ctx, _APPLIES)
        self.fields = fields
        self.modules = modules  # `ops.sort(x)` is no method call

    def leave_SimpleStatementLine(self, original, updated):
        if len(original.body) != 1 or not isinstance(original.body[0], cst.Assign):
            return updated
        assign = original.body[0]
        if (len(assign.targets) != 1 or not isinstance(assign.value, cst.Call)
                or not self._indexing(assign.value, assign.targets[0].target)
                or any(arg.keyword is not None and arg.keyword.value == "out"
                       for arg in assign.value.args)):
            return updated
        target = assign.targets[0].target
        if isinstance(target, cst.Name) and target.value not in self.fields:
            # result = torch.sort(x): the pair, rebuilt
            name = target.value
            follow = cst.parse_statement(f"{name} = {name}[0], {name}[1].astype(_)\n")
            return cst.FlattenSentinel([updated, self._filled(follow)])
        if not isinstance(target, (cst.Tuple, cst.List)) or len(target.elements) != 2:
            return updated
        indices = target.elements[1].value
        if (not isinstance(indices, cst.Name) or indices.value == "_"
                or indices.value in self.fields):
            return updated
        follow = cst.parse_statement(f"{indices.value} = {indices.value}.astype(_)\n")
        return cst.FlattenSentinel([updated, self._filled(follow)])

    def _indexing(self, call: cst.Call, target: cst.BaseExpression) -> bool:
        """Whether `call` is one of the torch functions, or a Tensor method, whose
        indices MindSpore gives as int32."""
        func = call.func
        if self.ctx.resolve(func) in _APIS:
            return True
        if not isinstance(func, cst.Attribute) or root_name(func.value) in self.modules:
            return False
        unpacked = isinstance(target, (cst.Tuple, cst.List))
        return func.attr.value in _METHODS or (func.attr.value == "sort" and unpacked)

    def _filled(self, statement: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
        """`statement` with its placeholder `_` replaced by mindspore.int64."""
        return _with_name(statement, self.ctx.name("mindspore.int64"))


def _with_name(statement: cst.SimpleStatementLine, name: cst.BaseExpression):

    class _Fill(FastTransformer):
        def leave_Name(self, original, updated):
            return name if original.value == "_" else updated

    return statement.visit(_Fill())
