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
from typing import Optional, Set

import libcst as cst

from ..core.codegen import module_code
from ..core.context import Context
from ..core.names import imported_names, root_name
from ..core.parsed import parsed_statement
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
    return traverse(module, _UnpackedIndices(ctx, module))


# What the pass writes after a call, `_N_` standing for the name, `_` for mindspore.int64
# (parsed once: the same text for every file).
_PAIR = "_N_ = _N_[0], _N_[1].astype(_)\n"
_INDICES = "_N_ = _N_.astype(_)\n"


class _UnpackedIndices(StatementPass):
    def __init__(self, ctx: Context, module: cst.Module) -> None:
        super().__init__(ctx, _APPLIES)
        self.module = module
        self._kept: Optional[Set[str]] = None
        self._modules: Optional[Set[str]] = None

    @property
    def kept(self) -> Set[str]:
        """Names left as they are, read from the code (once, on the first call found):
        a pair read as `pair.values` / `pair.indices` stays as it is (its fields become
        [0] / [1] where the name holds the call's result: passes/tuple_results.py), and
        names cast already (converted code: a Tensor method reads the same in both)."""
        if self._kept is None:
            code = module_code(self.module, self.ctx.lines)
            self._kept = set(re.findall(r"\b(\w+)\.(?:values|indices)\b", code)) | set(
                _CAST.findall(code))
        return self._kept

    @property
    def modules(self) -> Set[str]:
        """Names of imported modules: `ops.sort(x)` is no method call."""
        if self._modules is None:
            self._modules = imported_names(self.module)
        return self._modules

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
        if isinstance(target, cst.Name) and target.value not in self.kept:
            # result = torch.sort(x): the pair, rebuilt
            return cst.FlattenSentinel([updated, self._filled(_PAIR, target.value)])
        if not isinstance(target, (cst.Tuple, cst.List)) or len(target.elements) != 2:
            return updated
        indices = target.elements[1].value
        if (not isinstance(indices, cst.Name) or indices.value == "_"
                or indices.value in self.kept):
            return updated
        return cst.FlattenSentinel([updated, self._filled(_INDICES, indices.value)])

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

    def _filled(self, template: str, name: str) -> cst.SimpleStatementLine:
        """`template` with `name` for `_N_` and mindspore.int64 for `_`."""
        return _with_names(parsed_statement(template), name, self.ctx.name("mindspore.int64"))


def _with_names(statement: cst.SimpleStatementLine, name: str, dtype: cst.BaseExpression):
    return statement.visit(_Fill(name, dtype))


class _Fill(FastTransformer):
    def __init__(self, name: str, dtype: cst.BaseExpression):
        super().__init__()
        self.name = name
        self.dtype = dtype

    def leave_Name(self, original, updated):
        if original.value == "_N_":
            return cst.Name(self.name)  # one node each place: ids tell uses apart
        return self.dtype if original.value == "_" else updated
