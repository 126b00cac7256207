"""`torch.optim.Optimizer` as a type: in annotations and `isinstance` tests.

A converted optimizer is a `mindspore.experimental.optim` one, and every one of
those derives from `mindspore.experimental.optim.Optimizer`: the base class is the
type to annotate with and to test against. A class deriving from
`torch.optim.Optimizer` (a custom optimizer whose step() reads `p.grad`) is not
touched here: passes/custom_optimizers.py makes it a MindSpore optimizer whose
construct(gradients) receives them, and the table refuses the ones it cannot.
"""
from __future__ import annotations

import re

import libcst as cst

from ..core.context import Context
from ..core.quick_libcst import parse_expression
from ..core.report import CONVERTED
from ..core.traversal import traverse
from .statement_pass import StatementPass
from .training.emit import ms_name
from .text_search import found

OPTIMIZER = "torch.optim.Optimizer"
_SPELLINGS = frozenset({OPTIMIZER, "torch.optim.optimizer.Optimizer"})
TARGET = "mindspore.experimental.optim.Optimizer"
_APPLIES = re.compile(r"\bOptimizer\b")


def applies(source: str) -> bool:
    return found(_APPLIES, source, "Optimizer")


def convert_optimizer_types(ctx: Context, module: cst.Module) -> cst.Module:
    types = _OptimizerTypes(ctx)
    result = traverse(module, types)
    types.place_findings()
    return result


class _OptimizerTypes(StatementPass):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, _APPLIES)
        self.depth = 0  # inside an annotation or isinstance's class argument

    def _is_optimizer(self, node: cst.CSTNode) -> bool:
        return isinstance(node, (cst.Name, cst.Attribute)) and \
            self.ctx.resolve(node) in _SPELLINGS

    def _replace(self, original: cst.CSTNode, how: str) -> cst.BaseExpression:
        self.add(original, OPTIMIZER, CONVERTED, f"{how} -> {TARGET} (the base class of "
                 "mindspore.experimental.optim's optimizers)")
        return parse_expression(ms_name(self.ctx, TARGET))

    # `optimizer: torch.optim.Optimizer`, `Optional[torch.optim.Optimizer]`
    def visit_Annotation(self, node):
        self.depth += 1

    def leave_Annotation(self, original, updated):
        self.depth -= 1
        return updated

    def leave_Attribute(self, original, updated):
        if self.depth and self._is_optimizer(original):
            return self._replace(original, "annotation")
        return updated

    def leave_Name(self, original, updated):
        if self.depth and self._is_optimizer(original):
            return self._replace(original, "annotation")
        return updated

    # `isinstance(opt, torch.optim.Optimizer)`, `isinstance(opt, (Optimizer, X))`
    def leave_Call(self, original, updated):
        if not (isinstance(original.func, cst.Name) and original.func.value == "isinstance"
                and len(original.args) == 2 and self.depth == 0):
            return updated
        kind = updated.args[1].value
        if self._is_optimizer(original.args[1].value):
            kind = self._replace(original.args[1].value, "isinstance")
        elif isinstance(kind, cst.Tuple):
            kind = kind.with_changes(elements=[
                el.with_changes(value=self._replace(old.value, "isinstance"))
                if self._is_optimizer(old.value) else el
                for el, old in zip(kind.elements, original.args[1].value.elements)])
        return updated.with_changes(args=[updated.args[0], updated.args[1].with_changes(
            value=kind)])
