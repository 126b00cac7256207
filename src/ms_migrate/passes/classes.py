"""Module subclasses: `forward` -> `construct`, and `self.forward(...)` with it.

`nn.Module` -> `nn.Cell` itself is a table rule (torch.nn.Module is a class rule).
A class counts as a Module when a base is a torch.nn class, or a class of this
file that is one.
"""
from __future__ import annotations

from typing import List, Optional, Set

import libcst as cst

from ..core.context import Context
from ..core.positions import Locator
from ..core.report import CONVERTED


class ClassTracker:
    def __init__(self) -> None:
        self.module_classes: Set[str] = set()
        # One entry per class/function scope: True for the body of a Module class.
        self.stack: List[bool] = []

    def enter_class(self, ctx: Context, node: cst.ClassDef) -> None:
        is_module = False
        for base in node.bases:
            qualified = ctx.resolve(base.value)
            if qualified is not None and qualified.startswith("torch.nn."):
                is_module = True
            elif isinstance(base.value, cst.Name) and base.value.value in self.module_classes:
                is_module = True
        if is_module:
            self.module_classes.add(node.name.value)
        self.stack.append(is_module)

    def enter_function(self) -> None:
        self.stack.append(False)

    def leave(self) -> None:
        self.stack.pop()

    @property
    def in_module_body(self) -> bool:
        """Directly in a Module class body (a method definition)."""
        return bool(self.stack) and self.stack[-1]

    @property
    def in_module_method(self) -> bool:
        """Inside a method of a Module class."""
        return len(self.stack) >= 2 and self.stack[-2] and not self.stack[-1]


def rename_forward(ctx: Context, tracker: ClassTracker, node: cst.FunctionDef,
                   locator: Optional[Locator] = None) -> cst.FunctionDef:
    if tracker.in_module_body and node.name.value == "forward":
        ctx.finding(locator, "torch.nn.Module.forward", CONVERTED, "-> construct")
        return node.with_changes(name=cst.Name("construct"))
    return node


def rename_forward_call(tracker: ClassTracker, node: cst.Attribute) -> cst.Attribute:
    """`self.forward` / `super().forward` inside a Module method."""
    if node.attr.value != "forward" or not tracker.in_module_method:
        return node
    value = node.value
    is_self = isinstance(value, cst.Name) and value.value == "self"
    is_super = (isinstance(value, cst.Call) and isinstance(value.func, cst.Name)
                and value.func.value == "super")
    if is_self or is_super:
        return node.with_changes(attr=cst.Name("construct"))
    return node
