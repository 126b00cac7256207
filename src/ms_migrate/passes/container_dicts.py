"""nn.ModuleDict holding containers: a small Cell written into the converted file.

MindSpore's CellDict raises for a CellList, SequentialCell or CellDict value, and GPT
models keep their blocks that way (`nn.ModuleDict(dict(wte=..., h=nn.ModuleList(...)),
ln_f=...)`). A ModuleDict whose dict (a literal, `dict(...)`, a comprehension or a list
of pairs) holds such a container becomes `NamedCells(...)`: a Cell that keeps each
entry as an attribute, so `self.transformer.wte`, `self.transformer["h"]`, iteration
over `self.transformer.h` and the parameter names (`transformer.h.0.attn.weight`) are
those of torch. Other ModuleDicts stay table rules (CellDict).
"""
from __future__ import annotations

import re
from typing import Optional

import libcst as cst

from ..core.context import Context
from ..core.report import CONVERTED
from ..core.traversal import traverse
from .statement_pass import StatementPass, with_helper_class
from .text_search import found

HELPER = "NamedCells"
_APPLIES = re.compile(r"\bModuleDict\b")
_CONTAINERS = {"torch.nn.ModuleList", "torch.nn.Sequential", "torch.nn.ModuleDict"}

_NAMED_CELLS = f'''\
class {HELPER}(mindspore.nn.Cell):
    """Cells by name, kept as attributes (MindSpore's CellDict refuses CellList,
    SequentialCell and CellDict values)."""

    def __init__(self, cells=None):
        super().__init__()
        for name, cell in dict(cells or {{}}).items():
            setattr(self, name, cell)

    def __getitem__(self, name):
        return getattr(self, name)

    def __contains__(self, name):
        return name in self.name_cells()

    def __len__(self):
        return len(self.name_cells())

    def __iter__(self):
        return iter(self.name_cells())

    def keys(self):
        return self.name_cells().keys()

    def values(self):
        return self.name_cells().values()

    def items(self):
        return self.name_cells().items()
'''


def applies(source: str) -> bool:
    return found(_APPLIES, source, "ModuleDict")


def convert_container_dicts(ctx: Context, module: cst.Module) -> cst.Module:
    taken = {s.name.value for s in module.body if isinstance(s, (cst.FunctionDef, cst.ClassDef))}
    if HELPER in taken:
        return module
    finder = _ContainerDicts(ctx)
    converted = traverse(module, finder)
    finder.place_findings()
    if not finder.used:
        return converted
    ctx.require("import mindspore")  # the file's `nn` is still torch's here
    return with_helper_class(converted, _NAMED_CELLS)


class _ContainerDicts(StatementPass):
    def __init__(self, ctx: Context):
        super().__init__(ctx, _APPLIES)
        self.used = False

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        if self.ctx.resolve(original.func) != "torch.nn.ModuleDict":
            return updated
        if len(original.args) != 1:
            return updated
        arg = original.args[0]
        if arg.star or (arg.keyword is not None and arg.keyword.value != "modules"):
            return updated
        if not self._holds_container(arg.value):
            return updated
        self.used = True
        self.add(original, "torch.nn.ModuleDict", CONVERTED,
                 f"-> {HELPER}, a Cell written into this file: MindSpore's CellDict refuses "
                 "CellList, SequentialCell and CellDict values")
        return updated.with_changes(func=cst.Name(HELPER))

    def _holds_container(self, modules: cst.BaseExpression) -> bool:
        return any(self._is_container(value) for value in _values(modules))

    def _is_container(self, value: Optional[cst.BaseExpression]) -> bool:
        return isinstance(value, cst.Call) and self.ctx.resolve(value.func) in _CONTAINERS


def _values(modules: cst.BaseExpression):
    """The layer expressions of a ModuleDict's argument, where the source spells them."""
    if isinstance(modules, cst.Dict):
        return [el.value for el in modules.elements if isinstance(el, cst.DictElement)]
    if isinstance(modules, cst.DictComp):
        return [modules.value]
    if isinstance(modules, (cst.List, cst.Tuple)):  # [("name", layer), ...]
        return [el.value.elements[-1].value for el in modules.elements
                if isinstance(el.value, cst.Tuple) and el.value.elements]
    if isinstance(modules, cst.Call) and isinstance(modules.func, cst.Name) \
            and modules.func.value in ("dict", "OrderedDict"):
        values = [arg.value for arg in modules.args if arg.keyword is not None]
        positional = [arg.value for arg in modules.args if arg.keyword is None and not arg.star]
        for arg in positional:
            values.extend(_values(arg))
        return values
    return []
