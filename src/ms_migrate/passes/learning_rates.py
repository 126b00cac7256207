"""Reading the learning rate back as a number.

mindspore.experimental.optim keeps each group's rate as a 0-d Parameter and
`get_last_lr()` returns 0-d Tensors, where torch gives floats: printing shows a
Parameter and `f"{lr:.4f}"` raises. `float(...)` reads either as torch's number
(a rate the user assigned as a float stays one):

    optimizer.param_groups[0]['lr']  ->  float(optimizer.param_groups[0]['lr'])
    scheduler.get_last_lr()[0]       ->  float(scheduler.get_last_lr()[0])

A rate written into a group must be a Python float for MindSpore's optimizers to
use it (anything else is silently ignored in favour of the rate they hold), so
writes get `float(...)` too, `*=` included:

    for g in optimizer.param_groups:     for g in optimizer.param_groups:
        g['lr'] *= 0.1               ->      g['lr'] = float(g['lr'] * 0.1)
"""
from __future__ import annotations

from typing import List

import libcst as cst

from ..core.context import Context
from ..core.report import CONVERTED
from ..core.strings import string_value
from ..core.traversal import traverse
from .statement_pass import StatementPass


def applies(source: str) -> bool:
    return "param_groups" in source or "get_last_lr()[" in source


def convert_learning_rate_reads(ctx: Context, module: cst.Module) -> cst.Module:
    reads = _Reads(ctx)
    converted = traverse(module, reads)
    reads.place_findings()
    return converted


def _index(node: cst.BaseExpression):
    if isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(
            node.slice[0].slice, cst.Index):
        return node.slice[0].slice.value
    return None


def _float(value: cst.BaseExpression) -> cst.Call:
    return cst.Call(cst.Name("float"), [cst.Arg(value)])


class _Reads(StatementPass):
    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self.skip: set = set()  # ids of reads that are assigned to or already numbers
        self.groups: List[str] = []  # loop variables over `x.param_groups`
        self.writing = 0             # inside the value of a write to a group's rate

    def _is_group_lr(self, node: cst.BaseExpression) -> bool:
        """`x.param_groups[i]['lr']`, or `g['lr']` in `for g in x.param_groups`."""
        key = _index(node)
        if not (isinstance(key, cst.SimpleString) and string_value(key) == "lr"):
            return False
        value = node.value
        if isinstance(value, cst.Name):
            return value.value in self.groups
        return (_index(value) is not None and isinstance(value.value, cst.Attribute)
                and value.value.attr.value == "param_groups")

    def _is_lr_read(self, node: cst.BaseExpression) -> bool:
        if self._is_group_lr(node):
            return True
        value = node.value if _index(node) is not None else None
        return (isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute)
                and value.func.attr.value == "get_last_lr" and not value.args)

    def visit_For(self, node):
        iterated = node.iter
        if (isinstance(node.target, cst.Name) and isinstance(iterated, cst.Attribute)
                and iterated.attr.value == "param_groups"):
            self.groups.append(node.target.value)
        else:
            self.groups.append("")

    def leave_For(self, original, updated):
        self.groups.pop()
        return updated

    def visit_Assign(self, node):
        if len(node.targets) == 1 and self._is_group_lr(node.targets[0].target):
            self.writing += 1  # the float() around the value covers reads inside it

    def leave_Assign(self, original, updated):
        if len(original.targets) == 1 and self._is_group_lr(original.targets[0].target):
            self.writing -= 1
        if (len(original.targets) == 1 and self._is_group_lr(original.targets[0].target)
                and not isinstance(updated.value, cst.Float) and not _is_float_call(updated.value)):
            self.add(original, "learning rate", CONVERTED,
                     "written as float(): MindSpore's optimizers use a rate only as a float")
            return updated.with_changes(value=_float(updated.value))
        return updated

    def leave_AugAssign(self, original, updated):
        if not self._is_group_lr(original.target):
            return updated
        self.add(original, "learning rate", CONVERTED,
                 "written as float(): MindSpore's optimizers use a rate only as a float")
        operator = getattr(cst, type(updated.operator).__name__.replace("Assign", ""))()
        value = cst.BinaryOperation(updated.target, operator, updated.value)
        return cst.Assign([cst.AssignTarget(updated.target)], _float(value))


    def visit_AssignTarget(self, node):
        self.skip.add(id(node.target))

    def visit_AugAssign(self, node):
        self.skip.add(id(node.target))

    def visit_Call(self, node):
        super().visit_Call(node)
        if _is_float_call(node) and node.args:
            self.skip.add(id(node.args[0].value))

    def leave_Subscript(self, original, updated):
        if self.writing or id(original) in self.skip or not self._is_lr_read(original):
            return updated
        self.add(original, "learning rate", CONVERTED,
                 "read with float(): MindSpore keeps it as a 0-d Parameter/Tensor")
        return _float(updated)


def _is_float_call(node: cst.BaseExpression) -> bool:
    return (isinstance(node, cst.Call) and isinstance(node.func, cst.Name)
            and node.func.value == "float")
