"""torch.save of objects not known to be parameters, and torch.load that may read them.

The tables make `torch.save(model.state_dict(), f)` and checkpoint dict literals
MindSpore checkpoints. What they cannot see is left to run time: a checkpoint dict
built elsewhere (`torch.save(state, filename)` in a `save_checkpoint(state, ...)`
function, `torch.save(*args, **kwargs)` in a `save_on_master` wrapper), a dict of
plain values, a numpy array, a tensor, an open file. Those calls name the helper
`save_object` (transforms/serialization_helper_code.py): a checkpoint where the object
holds parameters, a pickle otherwise. A name the file also uses as a network
(`model.eval()`, `model.parameters()`) or assigns a state_dict() stays
`mindspore.save_checkpoint(model, f)`.

torch.load calls whose result is not loaded into a network in this file
(`model.load_state_dict(...)` of it or of one of its entries) name `load_object`,
which reads either kind of file back; the others stay mindspore.load_checkpoint.
Runs after checkpoint-dicts, which has made a loaded checkpoint's entries the whole
(flat) checkpoint.
"""
from __future__ import annotations

import re
from typing import Dict, Set

import libcst as cst

from ..core.context import Context
from ..core.names import dotted_name
from ..core.report import WARNING
from ..core.positions import RelevantLines, names_pattern
from ..core.traversal import FastVisitor, traverse
from ..transforms.helper_code import request
from .pickled_models import NamedNetworks
from .api_words import api_words
from .statement_pass import StatementPass
from .text_search import found

_SAVE, _LOAD = "torch.save", "torch.load"
_APPLIES = re.compile(r"\b(?:save|load)\(")
# the same lines, a pattern each (a search for a literal after the \b is fast)
_CALLS = (re.compile(r"\bsave\("), re.compile(r"\bload\("))


def applies(source: str) -> bool:
    return found(_APPLIES, source, "save(", "load(")


def convert_object_saves(ctx: Context, module: cst.Module) -> cst.Module:
    # first whether torch.save/torch.load is called at all, in the statements naming them
    calls = _Calls(ctx)
    traverse(module, calls)
    if not calls.saves and not calls.loads:
        return module
    scan = _Scan(ctx, module)
    rewrite = _ObjectSaves(ctx, scan)
    converted = traverse(module, rewrite)
    rewrite.place_findings()
    return converted


class _Calls(FastVisitor):
    """How often torch.save and torch.load are called (read in the statements that
    name them only)."""

    def __init__(self, ctx: Context) -> None:
        super().__init__()
        self.ctx = ctx
        self.skips = RelevantLines(ctx.lines, names_pattern(api_words(ctx, (_SAVE, _LOAD)))).skips
        self.saves = 0
        self.loads = 0

    def visit_Call(self, call: cst.Call) -> None:
        called = self.ctx.resolve(call.func)
        self.saves += called == _SAVE
        self.loads += called == _LOAD


class _Scan:
    """What the rewrite asks about the file, each read from the statements that can
    tell (not from the whole tree): the names given to load_state_dict, the torch.load
    calls given to it and the names assigned a state_dict(), from the statements naming
    `state_dict`; whether a name is used as a network, from those naming it; the
    names an assignment makes aliases of a loaded one, from those naming them."""

    def __init__(self, ctx: Context, module: cst.Module) -> None:
        self.ctx = ctx
        self.module = module
        states = _StateDicts(RelevantLines(ctx.lines, _STATE_DICT).skips)
        traverse(module, states)
        self.loaded_into = states.loaded_into  # names given to load_state_dict (or an entry)
        self.loaded_calls = states.loaded_calls  # torch.load calls given to load_state_dict
        self.state_dicts = states.state_dicts  # names assigned `x.state_dict()`
        self.networks = _Networks(ctx, module)

    def loaded(self) -> Set[str]:
        """Names whose value (or an entry of it) some network loads: `state_dict =
        checkpoint['model']`, what loads state_dict loads checkpoint."""
        found: Set[str] = set()
        todo = set(self.loaded_into)
        while todo:
            found |= todo
            aliases = _Aliases(RelevantLines(self.ctx.lines, names_pattern(todo)).skips)
            traverse(self.module, aliases)  # each assignment to a name names it
            todo = {value for name in todo for value in aliases.aliases.get(name, ())} - found
        return found


_STATE_DICT = names_pattern({"state_dict"})  # `x.state_dict()`, `x.load_state_dict(...)`


class _StateDicts(FastVisitor):
    def __init__(self, skips) -> None:
        super().__init__()
        self.skips = skips
        self.loaded_into: Set[str] = set()
        self.loaded_calls: Set[int] = set()
        self.state_dicts: Set[str] = set()

    def visit_Assign(self, node: cst.Assign) -> None:
        """`ckp = model.state_dict()`: ckp holds parameters."""
        if _known_parameters(node.value) and not isinstance(node.value, cst.Dict):
            self.state_dicts.update(t.target.value for t in node.targets
                                    if isinstance(t.target, cst.Name))

    def visit_Call(self, call: cst.Call) -> None:
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == "load_state_dict" and (
                call.args):
            value = call.args[0].value
            while isinstance(value, cst.Subscript):
                value = value.value
            if isinstance(value, cst.Name):
                self.loaded_into.add(value.value)
            elif isinstance(value, cst.Call):
                self.loaded_calls.add(id(value))


class _Aliases(FastVisitor):
    """`a = b` / `a = b[k]`: a -> {b}."""

    def __init__(self, skips) -> None:
        super().__init__()
        self.skips = skips
        self.aliases: Dict[str, Set[str]] = {}

    def visit_Assign(self, node: cst.Assign) -> None:
        value = node.value
        while isinstance(value, cst.Subscript):
            value = value.value
        if isinstance(value, cst.Name):
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    self.aliases.setdefault(target.target.value, set()).add(value.value)


class _Networks:
    """Whether the file uses a dotted name as a network (pickled_models.NetworkNames),
    read on the first question about it."""

    def __init__(self, ctx: Context, module: cst.Module) -> None:
        self._ctx = ctx
        self._module = module
        self._known: Dict[str, bool] = {}

    def __contains__(self, name: str) -> bool:
        if name not in self._known:
            finder = NamedNetworks(self._ctx, {name})
            traverse(self._module, finder)
            self._known[name] = name in finder.networks
        return self._known[name]


def _known_parameters(node: cst.BaseExpression) -> bool:
    """`x.state_dict()` or a dict literal with one: the tables make it a checkpoint."""
    def state(value):
        return (isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute)
                and value.func.attr.value == "state_dict")
    if state(node):
        return True
    return isinstance(node, cst.Dict) and any(
        isinstance(e, cst.DictElement) and state(e.value) for e in node.elements)


class _ObjectSaves(StatementPass):
    def __init__(self, ctx: Context, scan: _Scan) -> None:
        super().__init__(ctx, *_CALLS)
        self.scan = scan
        self.loaded = scan.loaded()
        self.assigned: dict = {}  # id(torch.load call) -> the name it is assigned to

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self.assigned[id(node.value)] = node.targets[0].target.value

    def leave_Call(self, original: cst.Call, updated: cst.Call):
        called = self.ctx.resolve(original.func)
        if called == _SAVE and self._unknown_object(original):
            self.add(original, _SAVE, WARNING,
                     "-> save_object (written into this file): a MindSpore checkpoint "
                     "where the object holds parameters, a pickle otherwise")
            return updated.with_changes(func=request(self.ctx, "save_object"))
        if called == _LOAD and not self._into_network(original):
            self.add(original, _LOAD, WARNING,
                     "-> load_object (written into this file): reads a MindSpore "
                     "checkpoint as its flat name -> Parameter dict, a pickle as the "
                     "object")
            return updated.with_changes(func=request(self.ctx, "load_object"))
        return updated

    def _unknown_object(self, call: cst.Call) -> bool:
        if call.args and call.args[0].star:
            return True
        obj, f = _argument(call, 0, "obj"), _argument(call, 1, "f")
        if obj is None:
            return False
        into_file = f is not None and self._open_file(f)
        if _known_parameters(obj):
            return isinstance(obj, cst.Dict) and into_file
        name = dotted_name(obj)
        if name is not None and (name in self.scan.networks or name in self.scan.state_dicts):
            return into_file
        return True

    @staticmethod
    def _open_file(node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and (
            node.func.value == "open")

    def _into_network(self, call: cst.Call) -> bool:
        if id(call) in self.scan.loaded_calls:
            return True
        name = self.assigned.get(id(call))
        return name is not None and name in self.loaded


def _argument(call: cst.Call, index: int, keyword: str):
    """The argument bound to torch.save's parameter `keyword` (at `index`), or None."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    return positional[index].value if index < len(positional) else None
