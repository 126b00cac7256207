"""Training mode at construction: `model = Net()` -> `model = Net()` + `model.set_train()`.

A torch Module starts in training mode (`module.training is True`); a MindSpore Cell
starts in inference mode. A torch program that never calls `model.train()` trains
with batch statistics in BatchNorm and with Dropout on; converted as it is, the same
program would train with BatchNorm's moving statistics and Dropout off. So where a
block builds a model, and that model may run before the program sets its mode, the
converted statement is followed by `model.set_train()`:

    model = ConvNet(10)                       model = ConvNet(10)
                                        ->    model.set_train()

`Cell.set_train` sets the mode of the children the Cell has when it is called, so it
goes after the statement that builds the whole model (not into `__init__`, where a
derived class may still add children). What counts as building a model: a call to a
class this file derives from torch.nn (directly or through its other classes), or to
a torch layer whose result depends on the mode (BatchNorm, Dropout, InstanceNorm,
the recurrent layers and Transformer blocks, torchvision's IntermediateLayerGetter of
a model, and a Sequential, ModuleList or ModuleDict holding one, or layers built
elsewhere), optionally followed by `.to(...)`, `.cuda()`, `.float()`.
Nothing is added:
- where the file calls `.train(...)` on that name anywhere (the program sets the
  training mode itself), or sets its `.training`;
- where the next statement in the block that uses the model is `model.eval()` or
  `model.train(...)` (method calls on it such as `model.to(device)` or
  `model.load_state_dict(...)` before that do not run it);
- inside a class derived from torch.nn (its children follow the parent's mode).
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Set

import libcst as cst

from ..core.context import Context
from ..core.names import COMPOUND_STATEMENTS, SUITES
from ..core.positions import RelevantLines, names_pattern
from ..core.report import CONVERTED
from ..core.traversal import FastVisitor, rebuilt, traverse
from ..transforms.helper_code import HELPERS
from .statement_pass import StatementPass
from .training.quick_statements import statement

_MODE_LAYERS = frozenset(f"torch.nn.{name}" for name in (
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm",
    "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d",
    "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
    "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout",
    "RNN", "LSTM", "GRU", "Transformer", "TransformerEncoder", "TransformerDecoder",
    "TransformerEncoderLayer", "TransformerDecoderLayer", "MultiheadAttention",
    "Sequential", "ModuleList", "ModuleDict")) | {
    # torchvision's wrapper holds a model's layers (a Cell written into the file)
    "torchvision.models._utils.IntermediateLayerGetter"}
_CONTAINERS = frozenset(("torch.nn.Sequential", "torch.nn.ModuleList", "torch.nn.ModuleDict"))
# Calls in a container's arguments that build no layer
_PLAIN = frozenset(("OrderedDict", "range", "len", "zip", "enumerate", "list", "tuple", "dict"))
# Methods that move or cast a module and return it: `Net().to(device)` is still the model
_RETURNS_SELF = frozenset(("to", "cuda", "cpu", "float", "double", "half", "bfloat16",
                           "set_train", "requires_grad_", "apply", "share_memory"))
# A class the converter made a Cell (`mindspore.nn.Cell`, or `nn.Cell` when `nn` is MindSpore's)
_CELL_BASES = frozenset(("mindspore.nn.Cell", "nn.Cell"))
_MODE_METHODS = frozenset(("train", "eval", "set_train"))
# Where compound statements and their parts hold statements, in libcst's field order.
_BLOCK_FIELDS = ("body", "handlers", "orelse", "finalbody", "cases")
_CLAUSES = frozenset({cst.Else, cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally,
                      cst.MatchCase})
# the attribute names `.train(`, `.set_train(`, `.training =` end a word on their line
_TRAIN_WORD, _CLASS_WORD = re.compile(r"train(?:ing)?\b"), re.compile(r"class\b")


def applies(source: str) -> bool:
    return "(" in source and ("nn." in source or "Module" in source)


def add_training_mode(ctx: Context, module: cst.Module) -> cst.Module:
    plan = _Plan(ctx, module)
    if not plan.after:
        return module
    pass_ = _TrainMode(ctx, plan.after, plan.holders)
    converted = traverse(module, pass_)
    pass_.place_findings()
    return converted


def _dotted(node: cst.BaseExpression) -> Optional[str]:
    kind = type(node)  # types compared: isinstance against libcst's ABCs is slow
    if kind is cst.Name:
        return node.value
    if kind is cst.Attribute:
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


def _mindspore_names(module: cst.Module) -> Dict[str, str]:
    """Local name -> the mindspore module or object a top-level import binds it to."""
    found: Dict[str, str] = {}
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    name = _dotted(alias.name) or ""
                    if name.split(".")[0] == "mindspore":
                        if alias.asname and isinstance(alias.asname.name, cst.Name):
                            found[alias.asname.name.value] = name
                        else:
                            found["mindspore"] = "mindspore"
            elif isinstance(small, cst.ImportFrom) and small.module is not None \
                    and not isinstance(small.names, cst.ImportStar):
                name = _dotted(small.module) or ""
                if name.split(".")[0] == "mindspore":
                    for alias in small.names:
                        local = alias.asname.name if alias.asname else alias.name
                        if isinstance(local, cst.Name):
                            found[local.value] = f"{name}.{_dotted(alias.name)}"
    return found


class _Facts(FastVisitor):
    """Which classes are torch modules; which names the file sets the mode of."""

    def __init__(self, ctx: Context):
        super().__init__()
        self.ctx = ctx
        # only class headers and statements naming `train`/`training` hold these facts
        self._relevant = RelevantLines(ctx.lines, _TRAIN_WORD, _CLASS_WORD)
        self.bases: Dict[str, List[cst.BaseExpression]] = {}
        self.mode_set: Set[str] = set()  # names `.train(...)` / `.set_train(...)` is called on

    def skips(self, statement: cst.CSTNode) -> bool:
        return self._relevant.skips(statement)

    def visit_ClassDef(self, node):
        if node.name.value in HELPERS and node.bases and all(
                (_dotted(a.value) or "") in _CELL_BASES for a in node.bases):
            return  # a Cell the converter wrote (torch's layer): built as torch's was
        self.bases.setdefault(node.name.value, []).extend(a.value for a in node.bases)

    def visit_Call(self, node):
        func = node.func
        if type(func) is cst.Attribute and func.attr.value in ("train", "set_train"):
            name = _dotted(func.value)
            if name is not None:
                self.mode_set.add(name)

    def visit_AssignTarget(self, node):
        target = node.target
        if type(target) is cst.Attribute and target.attr.value == "training":
            name = _dotted(target.value)
            if name is not None:
                self.mode_set.add(name)

    def module_classes(self) -> Set[str]:
        found: Set[str] = set()
        changed = True
        while changed:
            changed = False
            for name, bases in self.bases.items():
                if name not in found and any(self._is_module(b, found) for b in bases):
                    found.add(name)
                    changed = True
        return found

    def _is_module(self, base: cst.BaseExpression, found: Set[str]) -> bool:
        if isinstance(base, cst.Name) and base.value in found:
            return True
        if (_dotted(base) or "") in _CELL_BASES:
            return True  # converted already: its body was left alone the first time too
        qualified = self.ctx.resolve(base)
        return bool(qualified) and qualified.startswith("torch.nn.") and \
            qualified.split(".")[2][:1].isupper()


class _Plan:
    """id(statement) -> the name to call `.set_train()` on after it."""

    def __init__(self, ctx: Context, module: cst.Module):
        self.ctx = ctx
        facts = _Facts(ctx)
        traverse(module, facts)
        self.classes = facts.module_classes()
        self.mode_set = facts.mode_set
        self.mindspore_names = _mindspore_names(module)
        self.after: Dict[int, str] = {}
        self.holders: Set[int] = set()  # ids of the compound statements around those
        self._path: List[cst.CSTNode] = []  # the compound statements around the block
        self._mentions: Dict[str, RelevantLines] = {}  # name -> the lines naming it
        self._block(module.body)

    def _block(self, body) -> None:
        for index, stmt in enumerate(body):
            kind = type(stmt)  # types compared: isinstance against libcst's ABCs is slow
            if kind is cst.ClassDef:
                if stmt.name.value not in self.classes:
                    self._nested(stmt)
                continue
            if kind is cst.SimpleStatementLine:
                name = self._built(stmt)
                if name is not None and name not in self.mode_set \
                        and not self._mode_before_use(name, body[index + 1:]):
                    self.after[id(stmt)] = name
                    self.holders.update(id(node) for node in self._path)
                continue
            self._nested(stmt)

    def _nested(self, stmt: cst.CSTNode) -> None:
        if type(stmt) in COMPOUND_STATEMENTS:
            self._path.append(stmt)
            self._nested_blocks(stmt)
            self._path.pop()
        else:
            self._nested_blocks(stmt)

    def _nested_blocks(self, stmt: cst.CSTNode) -> None:
        # the fields that hold statements, in the order of `stmt.children` (which would
        # visit every child, expressions included, to list them)
        for field in _BLOCK_FIELDS:
            value = getattr(stmt, field, None)
            for child in value if isinstance(value, (list, tuple)) else (value,):
                kind = type(child)
                if kind in SUITES:
                    self._block(child.body)
                elif kind in COMPOUND_STATEMENTS or kind in _CLAUSES:
                    self._nested(child)

    def _built(self, stmt: cst.SimpleStatementLine) -> Optional[str]:
        """The name a single `name = <model>` statement binds, if it builds a model."""
        if len(stmt.body) != 1:
            return None
        small = stmt.body[0]
        kind = type(small)
        if kind is cst.Assign and len(small.targets) == 1:
            target, value = small.targets[0].target, small.value
        elif kind is cst.AnnAssign and small.value is not None:
            target, value = small.target, small.value
        else:
            return None
        name = _dotted(target)
        if name is None or not self._builds(value):
            return None
        return name

    def _builds(self, value: cst.BaseExpression) -> bool:
        while type(value) is cst.Call and type(value.func) is cst.Attribute \
                and value.func.attr.value in _RETURNS_SELF:
            if value.func.attr.value == "set_train":
                return False
            value = value.func.value
        if type(value) is not cst.Call:
            return False
        func = value.func
        if type(func) is cst.Name and func.value in self.classes:
            return True
        called = self.ctx.resolve(func)
        if called in _CONTAINERS:
            return self._holds_mode_layer(value)
        return called in _MODE_LAYERS

    def _holds_mode_layer(self, container: cst.Call) -> bool:
        """A container whose layers (as far as the file shows) may depend on the mode:
        `nn.Sequential(nn.Linear(2, 4), nn.ReLU())` does not."""
        for arg in container.args:
            if arg.star or isinstance(arg.value, (cst.Name, cst.Attribute, cst.Subscript)):
                return True  # layers built elsewhere
            calls = _Calls()
            traverse(arg.value, calls)
            for call in calls.found:
                if isinstance(call.func, cst.Name) and call.func.value in self.classes:
                    return True
                called = self.ctx.resolve(call.func)
                if called in _MODE_LAYERS and called not in _CONTAINERS:
                    return True
                dotted = _dotted(call.func) or ""
                if (called or "").startswith("torch.") or dotted.split(".")[-1] in _PLAIN:
                    continue
                root, _, rest = dotted.partition(".")
                origin = self.mindspore_names.get(root)
                if origin is not None and not f"{origin}.{rest}".startswith("mindspore.nn."):
                    continue  # a converted torch call (ops.trace(), mindspore.tensor(...)):
                    # converting again must decide as the torch call did
                return True  # built by code the file does not show here
        return False

    def _mode_before_use(self, name: str, rest) -> bool:
        """The next statement that uses `name` sets its mode (`name.eval()`)."""
        mentions = self._mentions.get(name)
        if mentions is None:  # a use names it: its last part is a word on the use's line
            word = names_pattern((name.rsplit(".", 1)[-1],))
            mentions = self._mentions[name] = RelevantLines(self.ctx.lines, word)
        for stmt in rest:
            if mentions.skips(stmt):
                continue
            uses = _Uses(name)
            traverse(stmt, uses)
            if uses.mode:
                return True
            if uses.other or uses.rebound:
                return False
        return False


class _Uses(FastVisitor):
    """How a statement uses `name`: a mode call on it, or any other use that may run it
    (a call, an argument); a method call on it (`name.to(device)`) is neither."""

    def __init__(self, name: str):
        super().__init__()
        self.name = name
        self.mode = self.other = self.rebound = False

    def visit_Call(self, node):
        func = node.func
        if isinstance(func, cst.Attribute) and _dotted(func.value) == self.name:
            if func.attr.value in _MODE_METHODS:
                self.mode = True
            for arg in node.args:
                traverse(arg, self)
            return False
        return True

    def visit_Attribute(self, node):
        if _dotted(node) == self.name:
            self.other = True
            return False
        return True

    def visit_Name(self, node):
        if node.value == self.name:
            self.other = True

    def visit_AssignTarget(self, node):
        if _dotted(node.target) == self.name:
            self.rebound = True
            return False
        return True


class _TrainMode(StatementPass):
    def __init__(self, ctx: Context, after: Dict[int, str], holders: Set[int]):
        super().__init__(ctx)
        self.after = after
        self.holders = holders  # the statements around those: nothing else is entered

    def skips(self, statement: cst.CSTNode) -> bool:
        # small statements are only met inside a line that is entered (their calls
        # are numbered for the finding's line)
        kind = type(statement)  # (types compared: isinstance against libcst's ABCs is slow)
        return (kind is cst.SimpleStatementLine or kind in COMPOUND_STATEMENTS) and not (
            id(statement) in self.holders or id(statement) in self.after)

    def leave_SimpleStatementLine(self, original, updated):
        name = self.after.get(id(original))
        if name is None:
            return updated
        self.add(original, "torch.nn.Module.training", CONVERTED,
                 "training mode set after construction: a torch Module starts in "
                 "training mode, a MindSpore Cell in inference mode")
        call = statement(f"{name}.set_train()\n")
        return rebuilt(original, cst.FlattenSentinel([updated, call]))


class _Calls(FastVisitor):
    def __init__(self):
        super().__init__()
        self.found: List[cst.Call] = []

    def visit_Call(self, node):
        self.found.append(node)
