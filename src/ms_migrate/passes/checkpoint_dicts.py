"""Checkpoint files and checkpoint dicts read back (`checkpoint = torch.load(path)`).

MindSpore checkpoint files end in `.ckpt`: save_checkpoint appends it to any other
name and load_checkpoint refuses any other. In a file that calls torch.save or
torch.load, string literals naming `.pt`, `.pth` or `.pth.tar` files name `.ckpt`
files instead (`"best.pth"` -> `"best.ckpt"`, f-strings too).

A converted checkpoint is one flat name -> Parameter dict (see
transforms/save_load.py), so for a name assigned from torch.load in this file:

- an entry that held a state_dict (`checkpoint['model']`) is the whole `checkpoint`:
  each object takes its own parameters from it by name;
- any other entry (`checkpoint['epoch']`) was saved with append_dict and comes back
  as a 0-d Parameter: `.item()` makes it the number torch gave back. An entry read
  by a key that is not a string literal (`sd[k]`, looping over the keys) is left as
  it is: such loops mostly visit the weights.

Which entries held a state_dict: the keys of `X.state_dict()` values in this file's
torch.save dicts, else keys that say so ('model', 'state_dict', 'optimizer', ...).

The calls themselves are converted by the tables (torch_serialization.toml,
module_state_methods.toml).
"""
from __future__ import annotations

import re
from typing import List, Pattern, Set, Tuple

import libcst as cst

from ..core.context import Context
from ..core.positions import RelevantLines, names_pattern
from ..core.report import CONVERTED
from ..core.strings import string_value
from ..core.traversal import FastVisitor, traverse
from .statement_pass import StatementPass

_STATE_KEY = re.compile(r"model|state|optim|net|weight|param|encoder|decoder", re.I)
# A torch checkpoint file name at the end of a string literal (before its quotes).
_TORCH_FILE = re.compile(r"\.(pth\.tar|pth|pt)(?=[\"']*$)")


# (one pattern each: a search for a literal is fast, an alternation is tried at every
# character)
_CALLS = (re.compile(r"save\("), re.compile(r"load\("))
# the lines of what the pass changes, but the loaded dicts' names
_CHANGED = (*_CALLS, re.compile(r"load_state_dict"), re.compile(r"\.pt"))


def applies(source: str) -> bool:
    return "save(" in source or "load(" in source  # _CALLS, without a regex


def convert_checkpoints(ctx: Context, module: cst.Module) -> cst.Module:
    names, state_keys, value_keys, used = _scan(ctx, module)
    if not used:
        return module
    # what the pass changes: torch.save/load calls, file names, the loaded dict's entries
    # (two patterns that each start with a literal: one alternation with `\bname\b` in
    # it would try every position of the file)
    checkpoints = _Checkpoints(ctx, names, state_keys, value_keys, *_CHANGED,
                               names_pattern(names))
    converted = traverse(module, checkpoints)
    checkpoints.place_findings()
    return converted


def _scan(ctx: Context, module: cst.Module) -> Tuple[Set[str], Set[str], Set[str], bool]:
    """Names assigned from torch.load; keys saved as state_dicts and as values;
    whether torch.save or torch.load is called at all."""
    finder = _Finder(ctx)
    traverse(module, finder)
    return finder.names, finder.state_keys, finder.value_keys, bool(finder.used)


class _Finder(FastVisitor):
    # module-level: a visitor class made per call would build its traversal plan
    # (and pay abc's subclass checks) again each time
    def __init__(self, ctx: Context) -> None:
        super().__init__()
        self.ctx = ctx
        self.skips = RelevantLines(ctx.lines, *_CALLS).skips  # statements that call save/load
        self.names: Set[str] = set()
        self.state_keys: Set[str] = set()
        self.value_keys: Set[str] = set()
        self.used: List[str] = []

    def visit_Assign(self, node):
        value = node.value
        if isinstance(value, cst.Call) and self.ctx.resolve(value.func) == "torch.load":
            self.names.update(t.target.value for t in node.targets
                              if isinstance(t.target, cst.Name))

    def visit_Call(self, node):
        called = self.ctx.resolve(node.func)
        if called in ("torch.save", "torch.load"):
            self.used.append(called)
        if called != "torch.save" or not node.args:
            return
        saved = node.args[0].value
        for element in getattr(saved, "elements", ()) if isinstance(saved, cst.Dict) else ():
            if isinstance(element, cst.DictElement) and isinstance(element.key,
                                                                   cst.SimpleString):
                is_state = (isinstance(element.value, cst.Call)
                            and isinstance(element.value.func, cst.Attribute)
                            and element.value.func.attr.value == "state_dict")
                (self.state_keys if is_state else self.value_keys).add(
                    string_value(element.key))


class _Checkpoints(StatementPass):
    def __init__(self, ctx: Context, names: Set[str], state_keys: Set[str],
                 value_keys: Set[str], *relevant: Pattern):
        super().__init__(ctx, *relevant)
        self.names = names
        self.state_keys = state_keys
        self.value_keys = value_keys
        self.state_args: Set[int] = set()   # ids of the subscripts passed to load_state_dict
        self.targets: Set[int] = set()      # ids of subscripts that are assigned to
        self.receivers: Set[int] = set()    # ids of subscripts used as `x[k].attr`

    def _holds_state(self, node: cst.Subscript) -> bool:
        key = node.slice[0].slice.value
        if not isinstance(key, cst.SimpleString):
            return False
        key = string_value(key)
        if key in self.state_keys or key in self.value_keys:
            return key in self.state_keys
        return bool(_STATE_KEY.search(key))

    def visit_Attribute(self, node):
        super().visit_Attribute(node)
        self.receivers.add(id(node.value))

    def _entry(self, node: cst.BaseExpression) -> bool:
        return (isinstance(node, cst.Subscript) and isinstance(node.value, cst.Name)
                and node.value.value in self.names and len(node.slice) == 1
                and isinstance(node.slice[0].slice, cst.Index))

    # --- file names ---------------------------------------------------------------
    def leave_SimpleString(self, original, updated):
        return self._renamed(original, updated)

    def leave_FormattedStringText(self, original, updated):
        return self._renamed(original, updated)

    def _renamed(self, original, updated):
        new = _TORCH_FILE.sub(".ckpt", updated.value)
        if new == updated.value:
            return updated
        self.add(original, "checkpoint file", CONVERTED,
                 "-> .ckpt: MindSpore checkpoint files end in .ckpt")
        return updated.with_changes(value=new)

    # --- entries of a loaded checkpoint ------------------------------------------------
    def visit_Call(self, node):
        super().visit_Call(node)
        func = node.func
        if (isinstance(func, cst.Attribute) and func.attr.value == "load_state_dict"
                and node.args and self._entry(node.args[0].value)):
            self.state_args.add(id(node.args[0].value))

    def visit_AssignTarget(self, node):
        self._target(node.target)

    # `del x[k]`, `x[k] += 1`, `x[k]: T = v`, `for x[k] in ...` write the entry, not read it
    def visit_Del(self, node):
        self._target(node.target)

    def visit_AugAssign(self, node):
        self._target(node.target)

    def visit_AnnAssign(self, node):
        self._target(node.target)

    def visit_For(self, node):
        self._target(node.target)

    def _target(self, target: cst.BaseExpression) -> None:
        self.targets.add(id(target))
        if isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._target(element.value)

    def leave_Subscript(self, original, updated):
        if not self._entry(original) or id(original) in self.targets:
            return updated
        if id(original) in self.state_args or self._holds_state(original):
            self.add(original, "torch.load", CONVERTED,
                     "a MindSpore checkpoint is flat: each object loads from all of it")
            return updated.value
        if id(original) in self.receivers:
            return updated
        if not isinstance(original.slice[0].slice.value, cst.SimpleString):
            return updated  # `sd[k]` over a loaded dict's keys is mostly its weights
        return cst.Call(cst.Attribute(updated, cst.Name("item")))
