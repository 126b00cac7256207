"""`class Warmup(torch.optim.lr_scheduler._LRScheduler)` -> MindSpore's LRScheduler.

mindspore.experimental.optim.lr_scheduler.LRScheduler is torch's base class: its
__init__(optimizer, last_epoch) fills `initial_lr` and `base_lrs`, calls step(),
which advances `last_epoch` and assigns what get_lr() returns. Its differences, in
the subclass:

- torch's `self._step_count` (step() calls so far, 1 after __init__) is
  `int(self.last_epoch) + 1` (MindSpore keeps last_epoch as a float32 Parameter and
  has no step counter);
- reading `self.last_epoch` outside __init__ gives `int(self.last_epoch)`: a Python
  number, as torch's, for range(), indexing and formatting;
- `super().__init__(optimizer, last_epoch, verbose)`: verbose goes (MindSpore's
  schedulers do not print).
"""
from __future__ import annotations

import re

import libcst as cst

from ..core.context import Context
from ..core.quick_libcst import parse_expression
from ..core.report import CONVERTED, WARNING
from ..core.traversal import traverse
from .statement_pass import StatementPass

_BASES = frozenset({"torch.optim.lr_scheduler._LRScheduler",
                    "torch.optim.lr_scheduler.LRScheduler"})
TARGET = "mindspore.experimental.optim.lr_scheduler.LRScheduler"
_APPLIES = re.compile(r"LRScheduler")


def applies(source: str) -> bool:
    return bool(_APPLIES.search(source))


def convert_scheduler_subclasses(ctx: Context, module: cst.Module) -> cst.Module:
    rewrite = _Schedulers(ctx)
    result = traverse(module, rewrite)
    rewrite.place_findings()
    return result


def _self_attr(node: cst.CSTNode, attr: str) -> bool:
    return isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and \
        node.value.value == "self" and node.attr.value == attr


class _Schedulers(StatementPass):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.depth = 0        # inside a scheduler subclass
        self.method = None    # the method's name there
        self.targets = []     # assignment targets being visited

    def visit_ClassDef(self, node):
        if self.depth or any(self.ctx.resolve(b.value) in _BASES for b in node.bases):
            self.depth += 1

    def leave_ClassDef(self, original, updated):
        if not self.depth:
            return updated
        self.depth -= 1
        bases = list(updated.bases)
        for k, base in enumerate(original.bases):
            api = self.ctx.resolve(base.value)
            if api in _BASES:
                bases[k] = bases[k].with_changes(value=self.ctx.name(TARGET))
                self.add(base, api, CONVERTED, f"-> {TARGET}: _step_count is "
                         "int(last_epoch) + 1, last_epoch read as an int")
        return updated.with_changes(bases=bases)

    def visit_FunctionDef(self, node):
        if self.depth:
            self.method = node.name.value

    def leave_Attribute(self, original, updated):
        if not self.depth or self.method in (None, "__init__"):
            return updated
        if _self_attr(original, "_step_count"):
            return parse_expression("(int(self.last_epoch) + 1)")
        if _self_attr(original, "last_epoch") and not self.targets:
            return parse_expression("int(self.last_epoch)")
        return updated

    def visit_AssignTarget(self, node):
        self.targets.append(node)

    def leave_AssignTarget(self, original, updated):
        self.targets.pop()
        return updated

    def visit_AugAssign(self, node):
        self.targets.append(node)

    def leave_AugAssign(self, original, updated):
        self.targets.pop()
        return updated

    def leave_Call(self, original, updated):
        if not self.depth:
            return updated
        func = original.func
        if isinstance(func, cst.Attribute) and func.attr.value == "__init__" and \
                isinstance(func.value, cst.Call) and isinstance(func.value.func, cst.Name) \
                and func.value.func.value == "super":
            args = [a for i, a in enumerate(updated.args)
                    if not (a.keyword and a.keyword.value == "verbose")
                    and not (a.keyword is None and i >= 2)]
            if len(args) != len(updated.args):
                self.add(original, "torch.optim.lr_scheduler.LRScheduler", WARNING,
                         "verbose goes: MindSpore schedulers do not print")
                if args:
                    args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                return updated.with_changes(args=args)
        return updated
