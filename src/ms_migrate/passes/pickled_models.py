"""Whole models pickled with torch.save and read back with torch.load.

    with open(args.save, 'wb') as f:            mindspore.save_checkpoint(model, args.save)
        torch.save(model, f)
    ...                                   ->    ...
    with open(args.save, 'rb') as f:            mindspore.load_param_into_net(
        with torch.serialization.safe_globals(      model, mindspore.load_checkpoint(args.save))
                [RNNModel, ...]):
            model = torch.load(f)

MindSpore does not pickle objects: save_checkpoint writes the parameters of the
Cell, to a file name (not an open file). So:
- `with open(path, 'wb'/'rb') as f:` whose `f` only feeds torch.save/torch.load is
  dropped, and those calls take `path`;
- `with torch.serialization.safe_globals([...]):` (which classes torch may unpickle)
  is dropped: a checkpoint holds no classes;
- `model = torch.load(...)` where this file saved that same `model` whole becomes
  `model.load_state_dict(torch.load(...))`: the parameters go back into the model
  the name already holds (the tables then make it load_param_into_net).
"""
from __future__ import annotations

import re
from typing import List, Set

import libcst as cst

from ..core.context import Context
from ..core.names import dotted_name
from ..core.positions import RelevantLines, names_pattern
from ..core.report import CONVERTED
from ..core.strings import string_value
from ..core.traversal import FastVisitor, traverse
from .api_words import api_words
from .statement_pass import StatementPass
from .text_search import found

_APPLIES = re.compile(r"\b(?:save|load)\(|safe_globals\(")
_SAVE, _LOAD = "torch.save", "torch.load"
_SAFE_GLOBALS = ("torch.serialization.safe_globals",)


def applies(source: str) -> bool:
    return found(_APPLIES, source, "save(", "load(", "safe_globals(")


def convert_pickled_models(ctx: Context, module: cst.Module) -> cst.Module:
    saved = _saved_whole(ctx, module)
    rewrite = _PickledModels(ctx, saved)
    result = traverse(module, rewrite)
    rewrite.place_findings()
    return result


# methods only a network has: a dotted name called with one holds a network
NETWORK_METHODS = ("state_dict", "parameters", "named_parameters", "eval", "train",
                   "load_state_dict", "modules", "children", "named_modules")


class NetworkNames(FastVisitor):
    """Dotted names the file calls (`model(x)`) or calls a network's method on
    (`model.eval()`): a network, not data."""

    def __init__(self) -> None:
        super().__init__()
        self.networks: Set[str] = set()

    def visit_Call(self, call: cst.Call) -> None:
        func = call.func
        called = dotted_name(func)
        if called is not None:
            self.networks.add(called)
        if isinstance(func, cst.Attribute) and func.attr.value in NETWORK_METHODS:
            owner = dotted_name(func.value)
            if owner is not None:
                self.networks.add(owner)


class NamedNetworks(NetworkNames):
    """NetworkNames read only where it can find `names`: in the statements with a line
    naming one's last part (`model(x)`, `self.net.eval()` name it there)."""

    def __init__(self, ctx: Context, names: Set[str]) -> None:
        super().__init__()
        self.skips = RelevantLines(ctx.lines, names_pattern(
            {name.rpartition(".")[2] for name in names})).skips


def _saved_whole(ctx: Context, module: cst.Module) -> Set[str]:
    """Dotted names this file passes to torch.save as they are and uses as networks (a
    model, not a dict or data)."""
    saves = _Saves(ctx)
    traverse(module, saves)
    if not saves.found:
        return saves.found  # no whole object saved: the calls need not be read
    finder = NamedNetworks(ctx, saves.found)
    traverse(module, finder)
    return saves.found & finder.networks


class _Saves(FastVisitor):
    """Dotted names passed (first, by place) to torch.save; only statements that name
    it are read."""

    def __init__(self, ctx: Context) -> None:
        super().__init__()
        self.ctx = ctx
        self.skips = RelevantLines(ctx.lines, names_pattern(api_words(ctx, (_SAVE,)))).skips
        self.found: Set[str] = set()

    def visit_Call(self, call: cst.Call) -> None:
        if self.ctx.resolve(call.func) == _SAVE and call.args and call.args[0].keyword is None:
            name = dotted_name(call.args[0].value)
            if name is not None:
                self.found.add(name)


def _file_of(ctx: Context, with_: cst.With):
    """(`f`, path, mode) of `with open(path, 'wb') as f:`, else None."""
    if len(with_.items) != 1 or with_.asynchronous is not None:
        return None
    item = with_.items[0]
    call = item.item
    if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Name)
            and call.func.value == "open" and len(call.args) == 2
            and all(a.keyword is None for a in call.args)
            and item.asname is not None and isinstance(item.asname.name, cst.Name)):
        return None
    path, mode = call.args[0].value, call.args[1].value
    if not (isinstance(mode, cst.SimpleString) and string_value(mode) in ("wb", "rb")):
        return None
    if not isinstance(path, (cst.Name, cst.Attribute, cst.SimpleString,
                             cst.FormattedString)):
        return None
    return item.asname.name.value, path, string_value(mode)


class _Uses(FastVisitor):
    """Uses of a name: those as torch.save's/torch.load's file, and all of them."""

    def __init__(self, ctx: Context, name: str) -> None:
        super().__init__()
        self.ctx, self.name = ctx, name
        self.all = 0
        self.as_file = 0

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.name:
            self.all += 1

    def visit_Call(self, call: cst.Call) -> None:
        q = self.ctx.resolve(call.func)
        index = 1 if q == _SAVE else 0 if q == _LOAD else None
        if index is not None and len(call.args) > index and call.args[index].keyword is None:
            value = call.args[index].value
            if isinstance(value, cst.Name) and value.value == self.name:
                self.as_file += 1


class _PickledModels(StatementPass):
    def __init__(self, ctx: Context, saved: Set[str]) -> None:
        # it rewrites these calls, and the `with`s around them
        super().__init__(ctx, names_pattern(api_words(ctx, (_SAVE, _LOAD, *_SAFE_GLOBALS))))
        self.saved = saved
        self.files: List[tuple] = []  # (name, path) of the open() withs being visited
        self.flatten: Set[int] = set()  # ids of updated withs whose body replaces them

    def visit_With(self, node: cst.With) -> None:
        found = _file_of(self.ctx, node)
        if found is not None:
            uses = _Uses(self.ctx, found[0])
            traverse(node.body, uses)
            if not (uses.as_file and uses.as_file == uses.all):
                found = None
        self.files.append(found)

    def leave_With(self, original: cst.With, updated: cst.With):
        found = self.files.pop()
        if found is not None:
            self.add(original.items[0].item, "open", CONVERTED,
                     f"-> the file name {cst.Module([]).code_for_node(found[1])}: "
                     "MindSpore saves and loads checkpoints by name")
        elif not (len(original.items) == 1 and isinstance(original.items[0].item, cst.Call)
                  and self.ctx.resolve(original.items[0].item.func) in _SAFE_GLOBALS):
            return updated
        else:
            self.add(original.items[0].item, _SAFE_GLOBALS[0], CONVERTED,
                     "removed: a MindSpore checkpoint holds parameters, no classes")
        self.flatten.add(id(updated))
        return updated

    def leave_Call(self, original: cst.Call, updated: cst.Call):
        q = self.ctx.resolve(original.func)
        index = 1 if q == _SAVE else 0 if q == _LOAD else None
        opened = [f for f in self.files if f is not None]
        if index is None or not opened or len(updated.args) <= index:
            return updated
        value = updated.args[index].value
        for name, path, _ in reversed(opened):
            if isinstance(value, cst.Name) and value.value == name:
                args = list(updated.args)
                args[index] = args[index].with_changes(value=path)
                return updated.with_changes(args=args)
        return updated

    def leave_SimpleStatementLine(self, original, updated):
        if len(updated.body) != 1 or not isinstance(updated.body[0], cst.Assign):
            return updated
        assign = updated.body[0]
        if len(assign.targets) != 1 or not isinstance(assign.value, cst.Call):
            return updated
        target = dotted_name(assign.targets[0].target)
        if target not in self.saved or self.ctx.resolve(assign.value.func) != _LOAD:
            return updated
        self.add(original.body[0].value, _LOAD, CONVERTED,
                 f"-> the saved parameters go back into {target} (MindSpore does not "
                 "pickle models)")
        call = cst.Call(cst.Attribute(assign.targets[0].target, cst.Name("load_state_dict")),
                        [cst.Arg(assign.value)])
        return updated.with_changes(body=[cst.Expr(call)])

    def leave_IndentedBlock(self, original, updated):
        updated = super().leave_IndentedBlock(original, updated)
        return self._flattened(updated)

    def leave_Module(self, original, updated):
        updated = super().leave_Module(original, updated)
        return self._flattened(updated)

    def _flattened(self, block):
        if not any(id(s) in self.flatten for s in block.body):
            return block
        body: List[cst.BaseStatement] = []
        for stmt in block.body:
            if id(stmt) not in self.flatten:
                body.append(stmt)
                continue
            inner = list(stmt.body.body)
            first = inner[0]
            inner[0] = first.with_changes(leading_lines=[*stmt.leading_lines,
                                                         *first.leading_lines])
            body.extend(inner)
        return block.with_changes(body=body)
