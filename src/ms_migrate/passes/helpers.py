"""Short helper functions (and classes) a transform asked for (transforms/helper_code.py), written
once each after the file's imports. A name the file binds itself (`def resize(...)`
beside `FT.resize`) is the user's: the helper then takes another (`ms_resize`)."""
from __future__ import annotations

from functools import lru_cache
from typing import Tuple

import libcst as cst

from ..core.callrewrite import code_with_mindspore_names
from ..core.context import Context, name_node
from ..core.names import import_bindings, rebound_names
from ..core.parsed import parsed_statement
from ..core.traversal import FastTransformer, traverse
from ..transforms.helper_code import HELPERS
from .statement_pass import with_helper_code


def insert_helpers(ctx: Context, module: cst.Module) -> cst.Module:
    """The requested helpers, after the file's imports."""
    if not ctx.helpers:
        return module
    taken = rebound_names(module.body) | {  # a torch import goes: its names are free
        name for stmt, _runs in ctx.import_statements.of(module)
        for name, torch in import_bindings(stmt) if not torch}
    # only a requested helper's name is looked for: the others would be read for nothing
    ours = {name for name in (_helper_name(stmt, ctx.helpers) for stmt in module.body)
            if name is not None}
    new, renamed, spellings = [], {}, {}
    for name, uses in ctx.helpers.items():
        if name in ours:  # written by an earlier conversion of this file
            continue
        if name in taken:
            spelled = "ms_" + name
            while spelled in taken:
                spelled = "ms_" + spelled
            spellings[name] = spelled
            renamed.update({use: spelled for use in uses})
            spellings[name] = spelled
        new.append(_with_names(ctx, name))
    # a helper renamed is renamed in the helpers that use it too (resnet18 -> ResNet)
    new = [_rename_helper(helper, spellings) for helper in new]
    if renamed:
        module = traverse(module, _Calls(renamed))
    return with_helper_code(module, new)


def _parsed(name: str) -> cst.BaseStatement:
    """A helper's code, parsed once per process."""
    return parsed_statement(HELPERS[name])


def _with_names(ctx: Context, name: str) -> cst.BaseStatement:
    """The helper's code with its MindSpore names as the file imports them, their
    imports recorded: made once per process, its names asked of the context again."""
    helper, asked = _named(name)
    # ctx.name hands out one node per spelling: the imports pass finds them by id
    handed = [ctx.name(target) is node for target, node in asked]
    if all(handed):
        return helper
    return code_with_mindspore_names(_parsed(name), ctx.name)


@lru_cache(maxsize=None)
def _named(name: str) -> Tuple[cst.BaseStatement, Tuple[Tuple[str, cst.BaseExpression], ...]]:
    """A helper's code with its MindSpore names written as Context.name writes them, and
    the (name, node) of each, in the order they were asked for (pure text: the same in
    every file, and libcst trees never change)."""
    asked = []

    def name_of(target: str) -> cst.BaseExpression:
        node = name_node(target)
        asked.append((target, node))
        return node

    return code_with_mindspore_names(_parsed(name), name_of), tuple(asked)


def _helper_name(statement: cst.CSTNode, wanted):
    """The helper among `wanted` a statement of the file is, written by an earlier
    conversion: a def or class with a helper's name and docstring, or a helper table's
    assignment."""
    kind = type(statement)  # types compared: isinstance on libcst's ABCs is slow
    if kind is cst.FunctionDef or kind is cst.ClassDef:
        name = statement.name.value
        if (name in wanted and name in HELPERS
                and statement.get_docstring() == _parsed(name).get_docstring()):
            return name
    elif (kind is cst.SimpleStatementLine
          and isinstance(statement.body[0], cst.Assign)
          and isinstance(statement.body[0].targets[0].target, cst.Name)
          and statement.body[0].targets[0].target.value in wanted
          and statement.body[0].targets[0].target.value in HELPERS
          and not isinstance(_parsed(statement.body[0].targets[0].target.value),
                             cst.FunctionDef)):
        return statement.body[0].targets[0].target.value
    return None


def _rename_helper(helper: cst.CSTNode, spellings: dict) -> cst.CSTNode:
    """The helper with the helpers renamed (`name -> ms_name`), its own name and
    recursive calls too."""
    if not spellings:
        return helper
    return traverse(helper, Rename(spellings))


class Rename(FastTransformer):
    """Names spelled anew (`spellings`: name -> new name), attribute names kept."""

    def __init__(self, spellings: dict):
        super().__init__()
        self.spellings = spellings

    def leave_Name(self, original, updated):
        return updated.with_changes(value=self.spellings.get(updated.value, updated.value))

    def leave_Attribute(self, original, updated):  # `img.resize` is PIL's method
        return updated.with_changes(attr=original.attr)


class _Calls(FastTransformer):
    """The Names that call a renamed helper get its new name."""

    def __init__(self, renamed):
        super().__init__()
        self.renamed = renamed

    def leave_Name(self, original, updated):
        spelled = self.renamed.get(id(original))
        return updated.with_changes(value=spelled) if spelled else updated
