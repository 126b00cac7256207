"""Parameter attributes under `isinstance`: `m.weight` of a BatchNorm is `m.gamma`.

Model zoos initialise weights by layer type:

    for m in self.modules():
        if isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1)

Inside such a branch the layer's type is known, so its parameter attributes are
renamed with the layer rule's `params` (the same renames convert-weights uses).
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

import libcst as cst

from ..context import Context
from ..engine import register_pre_pass
from ..report import CONVERTED, UNSUPPORTED
from .statement_pass import StatementPass
from ..dispatch import traverse


# Only layers whose parameters MindSpore names differently can need it.
_APPLIES = re.compile(r"isinstance\([^)\n]*(Norm|Embedding|PReLU|Conv1d|ConvTranspose1d)")


@register_pre_pass(5, "layer_attributes", lambda source: bool(_APPLIES.search(source)))
def rename_layer_attributes(ctx: Context, module: cst.Module) -> cst.Module:
    rename = _LayerAttributes(ctx)
    result = traverse(module, rename)
    rename.place_findings()
    return result


class _LayerAttributes(StatementPass):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        # (variable, {torch attribute: MindSpore attribute}, layer names) per open branch
        self.narrowed: List[Tuple[str, Dict[str, str], str]] = []
        self.branch_of: Dict[int, Tuple[str, Dict[str, str], str]] = {}
        self.notes: List[str] = []  # `# ms-migrate:` lines for the statement being left

    def visit_If(self, node: cst.If) -> None:
        narrowing = self._narrowing(node.test)
        if narrowing is not None:
            self.branch_of[id(node.body)] = narrowing

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        if id(node) in self.branch_of:
            self.narrowed.append(self.branch_of[id(node)])

    def leave_IndentedBlock(self, original, updated):
        if self.branch_of.pop(id(original), None) is not None:
            self.narrowed.pop()
        return super().leave_IndentedBlock(original, updated)

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute):
        if not self.narrowed or not isinstance(original.value, cst.Name):
            return updated
        variable, renames, layers = self.narrowed[-1]
        attr = original.attr.value
        if original.value.value != variable or attr not in renames:
            return updated
        new = renames[attr]
        if new is None:
            message = "the layers tested here name this parameter differently in MindSpore"
            self.add(original, f"{layers}.{attr}", UNSUPPORTED, message)
            self.notes.append(f"# ms-migrate: {variable}.{attr}: {message}")
            return updated
        self.add(original, f"{layers}.{attr}", CONVERTED, f"-> .{new} (MindSpore's name)")
        return updated.with_changes(attr=cst.Name(new))

    def leave_SimpleStatementLine(self, original, updated):
        if not self.notes:
            return updated
        lines = [cst.EmptyLine(comment=cst.Comment(n)) for n in dict.fromkeys(self.notes)]
        self.notes = []
        return updated.with_changes(leading_lines=[*updated.leading_lines, *lines])

    def _narrowing(self, test: cst.BaseExpression):
        """(variable, renames, layer names) when `test` is isinstance(v, torch layers)."""
        if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
            return self._narrowing(test.left) or self._narrowing(test.right)
        if not (isinstance(test, cst.Call) and isinstance(test.func, cst.Name)
                and test.func.value == "isinstance" and len(test.args) == 2
                and isinstance(test.args[0].value, cst.Name)):
            return None
        classes = test.args[1].value
        items = ([e.value for e in classes.elements]
                 if isinstance(classes, (cst.Tuple, cst.List)) else [classes])
        names = [self.ctx.resolve(item) for item in items]
        if not names or any(n is None for n in names):
            return None
        renames = _common_renames(self.ctx, names)
        if not renames:
            return None
        return test.args[0].value.value, renames, "/".join(names)


def _common_renames(ctx: Context, layers: List[str]) -> Optional[Dict[str, Optional[str]]]:
    """Renames shared by every layer tested; None (ambiguous) where they disagree."""
    tables = []
    for layer in layers:
        rule = ctx.rules.get(layer)
        tables.append({k: v for k, v in (rule.params if rule else {}).items()
                       if "." not in k and "." not in v})
    attrs = set().union(*tables)
    result: Dict[str, Optional[str]] = {}
    for attr in attrs:
        targets = {table.get(attr, attr) for table in tables}
        result[attr] = targets.pop() if len(targets) == 1 else None
    return result
