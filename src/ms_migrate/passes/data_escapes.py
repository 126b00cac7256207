"""Loaders of one-value batches whose uses the data pass cannot rewrite.

MindSpore gives every batch as a list of columns, so a loader whose samples are one
value (or a dict) yields `[batch]` where torch yields `batch`; the data pass unpacks it
where the loader is iterated in the file (`for (x,) in loader`, `next(iter(loader))[0]`).
A loader passed on, stored, returned or wrapped (`cycle(loader)`, `self.dl = loader`)
is iterated where that cannot be seen: `escaping` finds those, and the data pass makes
them MindSpore's torch-style DataLoader, whose batches are torch's.
"""
from __future__ import annotations

from typing import Callable, Set, Tuple

import libcst as cst

from ..core.traversal import FastVisitor, traverse

_READ_ATTRIBUTES = ("batch_size", "dataset")


def escaping(module: cst.Module, names: Set[str], is_loader: Callable[[cst.Call], bool],
             skips: Callable[[cst.CSTNode], bool]) -> Tuple[Set[str], Set[int]]:
    """(loader names used elsewhere than where the pass rewrites them, ids of loader
    calls, `is_loader` true, that are neither assigned to a name nor iterated).
    `skips(statement)`: a statement that holds neither `names` nor a loader call."""
    finder = _Uses(names, is_loader, skips)
    traverse(module, finder)
    return finder.names_out, finder.calls_out


class _Uses(FastVisitor):
    def __init__(self, names: Set[str], is_loader, skips):
        self.names = names
        self.is_loader = is_loader
        self.skips = skips
        self.allowed: Set[int] = set()  # nodes where the pass rewrites a loader's use
        self.names_out: Set[str] = set()
        self.calls_out: Set[int] = set()

    def _iterated(self, node: cst.BaseExpression) -> None:
        self.allowed.add(id(node))
        if (isinstance(node, cst.Call) and isinstance(node.func, cst.Name)
                and node.func.value == "enumerate" and node.args):
            self.allowed.add(id(node.args[0].value))

    def visit_For(self, node):
        self._iterated(node.iter)
        self.allowed.add(id(node.target))

    def visit_CompFor(self, node):
        self._iterated(node.iter)
        self.allowed.add(id(node.target))

    def visit_Assign(self, node):
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self.allowed.add(id(node.targets[0].target))
            self.allowed.add(id(node.value))

    def visit_Param(self, node):
        self.allowed.add(id(node.name))

    def visit_Attribute(self, node):
        if node.attr.value in _READ_ATTRIBUTES:
            self.allowed.add(id(node.value))

    def visit_Call(self, node):
        func = node.func
        if isinstance(func, cst.Name) and len(node.args) == 1:
            arg = node.args[0].value
            if func.value == "len":
                self.allowed.add(id(arg))
            elif (func.value == "next" and isinstance(arg, cst.Call)
                  and isinstance(arg.func, cst.Name) and arg.func.value == "iter"
                  and len(arg.args) == 1):
                self.allowed.add(id(arg.args[0].value))
        if id(node) not in self.allowed and self.is_loader(node):
            self.calls_out.add(id(node))

    def visit_Name(self, node):
        if node.value in self.names and id(node) not in self.allowed:
            self.names_out.add(node.value)
