"""`nn.ParameterList`: a small Cell written into the converted file.

MindSpore has no ParameterList (ParameterTuple cannot grow, and holds no lists).
Vision transformers keep per-stage tokens and scales in them, appended in a loop and
zipped with the layers in forward. A file that makes one gets `ParameterList`, a Cell
that keeps its Parameters (or ParameterLists) in order as its own, with torch's
append/extend, indexing, len and iteration, and torch's parameter names
(`register_tokens.0`, `scales.1.0`), so weights convert by name.
"""
from __future__ import annotations

import re

import libcst as cst

from ..core.context import Context
from ..core.report import CONVERTED
from ..core.traversal import traverse
from .statement_pass import StatementPass, with_helper_class
from .text_search import found

HELPER = "ParameterList"
API = "torch.nn.ParameterList"
_APPLIES = re.compile(r"\bParameterList\b")

_PARAMETER_LIST = f'''\
class {HELPER}(mindspore.nn.Cell):
    """torch's nn.ParameterList: Parameters (or ParameterLists) kept in order as this
    Cell's own, named <its name>.0, .1, ...; append, index, len and iterate as in torch."""

    def __init__(self, values=None):
        super().__init__()
        self._prefix = ""
        self._length = 0
        for value in values or []:
            self.append(value)

    def update_parameters_name(self, prefix="", recurse=True):
        self._prefix = prefix
        for index, value in enumerate(self):
            if isinstance(value, {HELPER}):
                value.update_parameters_name(f"{{prefix}}{{index}}.")
            else:
                value.name = f"{{prefix}}{{index}}"

    def append(self, value):
        setattr(self, str(self._length), value)
        self._length += 1
        self.update_parameters_name(self._prefix)
        return self

    def extend(self, values):
        for value in values:
            self.append(value)
        return self

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(self._length)[index]]
        return getattr(self, str(range(self._length)[index]))

    def __len__(self):
        return self._length

    def __iter__(self):
        return (self[i] for i in range(self._length))
'''


def applies(source: str) -> bool:
    return found(_APPLIES, source, "ParameterList")


def convert_parameter_lists(ctx: Context, module: cst.Module) -> cst.Module:
    taken = {s.name.value for s in module.body if isinstance(s, (cst.FunctionDef, cst.ClassDef))}
    if HELPER in taken:
        return module
    lists = _ParameterLists(ctx)
    converted = traverse(module, lists)
    lists.place_findings()
    if not lists.used:
        return converted
    if ctx.aliases.get(HELPER) == API:  # `from torch.nn import ParameterList`: the helper now
        del ctx.aliases[HELPER]
        body = [_without_import(s) for s in converted.body]
        converted = converted.with_changes(body=[s for s in body if s is not None])
    ctx.require("import mindspore")  # the file's `nn` is still torch's here
    return with_helper_class(converted, _PARAMETER_LIST)


class _ParameterLists(StatementPass):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, _APPLIES)
        self.used = False

    def leave_Call(self, original: cst.Call, updated: cst.Call):
        if self.ctx.resolve(original.func) != API:
            return updated
        if len(original.args) > 1 or any(a.star or (a.keyword is not None and a.keyword.value
                                                    != "values") for a in original.args):
            return updated
        self.used = True
        self.add(original, API, CONVERTED,
                 f"-> {HELPER}(), a Cell written into this file (MindSpore has no ParameterList)")
        return updated.with_changes(func=cst.Name(HELPER))


def _without_import(statement):
    """`from torch.nn import Module, ParameterList` without ParameterList (None: empty)."""
    if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], cst.ImportFrom)):
        return statement
    node = statement.body[0]
    module = cst.Module([]).code_for_node(node.module) if node.module else ""
    if module != "torch.nn" or isinstance(node.names, cst.ImportStar):
        return statement
    names = [a for a in node.names if a.asname is not None or a.name.value != HELPER]
    if len(names) == len(node.names):
        return statement
    if not names:
        return None
    names[-1] = names[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return statement.with_changes(body=[node.with_changes(names=names)])
