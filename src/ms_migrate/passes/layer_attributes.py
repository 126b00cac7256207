"""Parameter attributes where the layer type is tested: `m.weight` of a BatchNorm is `m.gamma`.

Model zoos initialise weights by layer type, with `isinstance` or by class name:

    for m in self.modules():
        if isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1)

    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find('BatchNorm') != -1:
            nn.init.normal_(m.weight.data, 1.0, 0.02)

Inside such a branch the layer types are known (a class name: the torch layers it
matches, see layer_classnames), so their parameter attributes are renamed with the
layer rules' `params` (the same renames convert-weights uses). A class-name test that
MindSpore's own class names no longer pass (Linear is Dense) is marked.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import libcst as cst

from ..core.context import Context
from ..core.positions import names_pattern
from ..core.report import CONVERTED, UNSUPPORTED, WARNING, mark_text
from ..core.traversal import rebuilt, traverse
from .layer_classnames import ClassNames, read_test, traced_class_names
from .statement_pass import StatementPass
from .text_search import found

# Only layers whose parameters MindSpore names differently can need it, and class names
# kept in a variable or tested (not those only printed: torch's own code is full of them).
_NAME = r"(?:\b\w+\.__class__|\btype\(\w+\))\.__name__"  # \b: linear on long words
_CLASS_NAME = re.compile(rf"^\s*\w+\s*=\s*{_NAME}\s*(?:#.*)?$"
                         rf"|{_NAME}\s*(?:[=!]=|\.(?:find|startswith|endswith)\()|\bin\s+{_NAME}",
                         re.M)
_TYPE_TESTS = names_pattern({"isinstance", "issubclass"})
_APPLIES = re.compile(r"(?:isinstance|issubclass)\([^\n]*(Norm|Embedding|PReLU|Conv1d|ConvTranspose1d)")


def applies(source: str) -> bool:
    return (found(_APPLIES, source, "isinstance(", "issubclass(")
            or (".__name__" in source and bool(_CLASS_NAME.search(source))))


def rename_layer_attributes(ctx: Context, module: cst.Module) -> cst.Module:
    rename = _LayerAttributes(ctx)
    result = traverse(module, rename)
    rename.place_findings()
    return result


@dataclass
class _Narrowing:
    variable: str
    renames: Dict[str, Optional[str]]  # torch attribute -> MindSpore's (None: ambiguous)
    layers: str                        # how the report names them
    elsewhere: Tuple[str, ...] = ()    # matched layers a child of whose MindSpore Cell holds it


class _LayerAttributes(StatementPass):
    def __init__(self, ctx: Context) -> None:
        by_name = bool(_CLASS_NAME.search(ctx.source))  # any class names to read
        # without them, only a statement that spells a type test narrows a branch
        super().__init__(ctx, *(() if by_name else (_TYPE_TESTS,)))
        self.narrowed: List[_Narrowing] = []  # per open branch
        self.branch_of: Dict[int, _Narrowing] = {}
        self.notes: List[str] = []  # `# ms-migrate:` lines for the statement being left
        self.scopes: List[list] = []  # [scope node, its class-name variables or None]
        self.class_names: Optional[ClassNames] = None
        self.marked: Dict[int, List[str]] = {}  # id(If) -> what its class-name tests miss
        self.by_name = by_name

    def skips(self, statement: cst.CSTNode) -> bool:
        # in a narrowed branch every statement may read the layer's attributes
        return not self.narrowed and super().skips(statement)

    # --- scopes: class-name variables are traced within one function -----------------
    def visit_Module(self, node: cst.Module) -> None:
        self.scopes.append([node, None])

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scopes.append([node, None])

    def leave_FunctionDef(self, original, updated):
        self.scopes.pop()
        return updated

    visit_ClassDef, leave_ClassDef = visit_FunctionDef, leave_FunctionDef  # a scope too

    def _traced(self) -> Dict[str, str]:
        scope = self.scopes[-1]
        if scope[1] is None:
            scope[1] = traced_class_names(scope[0])
        return scope[1]

    # --- branches --------------------------------------------------------------------
    def visit_If(self, node: cst.If) -> None:
        narrowing = self._narrowing(node.test)
        if narrowing is not None:
            self.branch_of[id(node.body)] = narrowing
        if self.by_name:
            missed = self._missed_layers(node.test)
            if missed:
                self.marked[id(node)] = missed

    def leave_If(self, original: cst.If, updated: cst.If):
        missed = self.marked.pop(id(original), None)
        if not missed:
            return updated
        for message in missed:
            self.add(original.test, "layer class name", WARNING, message)
        if not isinstance(updated.body, cst.IndentedBlock):
            return updated
        first, *rest = updated.body.body
        notes = [cst.EmptyLine(comment=cst.Comment(mark_text(f"{m}"))) for m in missed]
        first = rebuilt(first, first.with_changes(leading_lines=[*first.leading_lines, *notes]))
        return updated.with_changes(body=updated.body.with_changes(body=[first, *rest]))

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
        narrowing = self.narrowed[-1]
        variable, renames, layers = narrowing.variable, narrowing.renames, narrowing.layers
        attr = original.attr.value
        if original.value.value != variable or attr not in renames:
            return updated
        new = renames[attr]
        if new is None:
            message = "the layers tested here name this parameter differently in MindSpore"
            self.add(original, f"{layers}.{attr}", UNSUPPORTED, message)
            self.notes.append(mark_text(f"{variable}.{attr}: {message}"))
            return updated
        message = f"-> .{new} (MindSpore's name)"
        if narrowing.elsewhere:
            message += f"; a child Cell holds it in MindSpore's {'/'.join(narrowing.elsewhere)}"
        self.add(original, f"{layers}.{attr}", CONVERTED, message)
        return updated.with_changes(attr=cst.Name(new))

    def leave_SimpleStatementLine(self, original, updated):
        if not self.notes:
            return updated
        lines = [cst.EmptyLine(comment=cst.Comment(n)) for n in dict.fromkeys(self.notes)]
        self.notes = []
        return updated.with_changes(leading_lines=[*updated.leading_lines, *lines])

    def _narrowing(self, test: cst.BaseExpression) -> Optional[_Narrowing]:
        tested = self._tested(test)
        if tested is None:
            return None
        variable, names, label, by_name = tested
        # A class name matches layers the model may not have: one whose MindSpore Cell
        # keeps the parameter in a child (visited on its own) does not veto the rename.
        held = tuple(n for n in by_name if _held_by_child(self.ctx, n))
        renames = _common_renames(self.ctx, [n for n in names if n not in held])
        if not renames:
            return None
        return _Narrowing(variable, renames, label, tuple(n.rpartition(".")[2] for n in held))

    def _tested(self, test: cst.BaseExpression):
        """(variable, qualified torch layer names, label, those matched by class name)
        when `test` tells the layer type: isinstance(v, torch layers), a class-name
        test, `and`/`or` of them."""
        if isinstance(test, cst.BooleanOperation):
            left, right = self._tested(test.left), self._tested(test.right)
            if isinstance(test.operator, cst.And):
                return left or right
            if left and right and left[0] == right[0]:  # `or`: either layer
                return left[0], left[1] + right[1], f"{left[2]}/{right[2]}", left[3] + right[3]
            return None
        if self.by_name:
            by_name = read_test(test, self._traced())
            if by_name is not None:
                names = self._class_names().matched(by_name)
                label = f"torch.nn.{by_name.label}"
                return (by_name.variable, names, label, names) if names else None
        if not (isinstance(test, cst.Call) and isinstance(test.func, cst.Name)
                and test.func.value in ("isinstance", "issubclass") and len(test.args) == 2):
            return None
        variable = _tested_variable(test.func.value, test.args[0].value)
        if variable is None:
            return None
        classes = test.args[1].value
        items = ([e.value for e in classes.elements]
                 if isinstance(classes, (cst.Tuple, cst.List)) else [classes])
        names = [self.ctx.resolve(item) for item in items]
        if not names or any(n is None for n in names):
            return None
        return variable, names, "/".join(names), []

    def _missed_layers(self, test: cst.BaseExpression) -> List[str]:
        """What the class-name tests in `test` judge differently on MindSpore's names."""
        if isinstance(test, cst.BooleanOperation):
            return self._missed_layers(test.left) + self._missed_layers(test.right)
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            return self._missed_layers(test.expression)
        by_name = read_test(test, self._traced())
        if by_name is None:
            return []
        lost, gained = self._class_names().mismatches(by_name)
        tested = "/".join(map(repr, by_name.strings))
        missed = []
        if lost:
            missed.append(f"class name {tested} does not match MindSpore's {', '.join(lost)}")
        if gained:
            missed.append(f"class name {tested} also matches MindSpore's {', '.join(gained)}")
        return missed

    def _class_names(self) -> ClassNames:
        if self.class_names is None:
            self.class_names = ClassNames(self.ctx.rules)
        return self.class_names


def _tested_variable(test: str, value: cst.BaseExpression) -> Optional[str]:
    """`v` of isinstance(v, ...), issubclass(v.__class__, ...), issubclass(type(v), ...)."""
    if test == "isinstance":
        return value.value if isinstance(value, cst.Name) else None
    if (isinstance(value, cst.Attribute) and value.attr.value == "__class__"
            and isinstance(value.value, cst.Name)):
        return value.value.value
    if (isinstance(value, cst.Call) and isinstance(value.func, cst.Name)
            and value.func.value == "type" and len(value.args) == 1
            and isinstance(value.args[0].value, cst.Name)):
        return value.args[0].value.value
    return None


def _held_by_child(ctx: Context, layer: str) -> bool:
    """MindSpore's Cell keeps the parameters in a child (BatchNorm3d: `bn2d.gamma`); a
    loop over the cells visits that child too, as its own class."""
    rule = ctx.rules.get(layer)
    return bool(rule) and any("." in v and "." not in k for k, v in rule.params.items())


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
