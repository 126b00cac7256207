"""Checks of the torch version against a literal: the converted code is past them.

`version.parse(torch.__version__) < version.parse('2.0.0')` guards code written for
an older torch (flash attention, an empty-tensor workaround of torchvision 0.5). The
converted program does not run on torch: the newer path is the one converted, so a
check that torch is older than a release is False and one that it is at least (or
past) a release is True, with a note. What the literal decides then folds:

- `if <False>: old else: new` -> `new` (an `elif` becomes the `if`); `if <True>:
  new else: old` -> `new`; the same for `a if <test> else b`;
- `use_flash and <False>` -> `False` where the left side is a plain name or
  attribute; `not <False>` -> `True`; `assert <True>, message` goes.

Version spellings: `parse`/`Version`/`LooseVersion` (packaging, distutils), called on
`torch.__version__` or `torchvision.__version__` (also `torch.__version__` itself
compared with a string literal). `==` and `!=` stay, marked by the table.
"""
from __future__ import annotations

import re
from typing import List, Optional

import libcst as cst

from ..core.context import Context
from ..core.report import WARNING
from ..core.traversal import rebuilt, traverse
from .statement_pass import StatementPass
from .text_search import found

_VERSIONS = ("torch.__version__", "torchvision.__version__")
_PARSERS = ("parse", "Version", "LooseVersion", "StrictVersion")
_NEWER = (cst.GreaterThan, cst.GreaterThanEqual)
_OLDER = (cst.LessThan, cst.LessThanEqual)
_WHY = ("the converted code does not run on torch: taken as new enough, the path "
        "for the newer release is the one converted")
_APPLIES = re.compile(r"\b(torch|torchvision)\.__version__")


def applies(source: str) -> bool:
    return found(_APPLIES, source, "torch.__version__", "torchvision.__version__")


def fold_version_gates(ctx: Context, module: cst.Module) -> cst.Module:
    gates = _Gates(ctx)
    converted = traverse(module, gates)
    gates.place_findings()
    return converted


def _literal(node) -> Optional[bool]:
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return node.value == "True"
    return None


def _bool(value: bool) -> cst.Name:
    return cst.Name("True" if value else "False")


class _Gates(StatementPass):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, _APPLIES)

    # --- the version and the release it is compared with -----------------------------
    def _version(self, node) -> Optional[str]:
        """`torch.__version__`, or a parser called on it: the API."""
        if isinstance(node, cst.Call) and len(node.args) == 1 and self._parser(node.func):
            node = node.args[0].value
        api = self.ctx.resolve(node)
        return api if api in _VERSIONS else None

    @staticmethod
    def _parser(func) -> bool:
        name = func.attr.value if isinstance(func, cst.Attribute) else (
            func.value if isinstance(func, cst.Name) else None)
        return name in _PARSERS

    def _release(self, node) -> bool:
        """A release written as a literal: `'2.0.0'` or `parse('2.0.0')`."""
        if isinstance(node, cst.Call) and len(node.args) == 1 and self._parser(node.func):
            node = node.args[0].value
        return isinstance(node, cst.SimpleString)

    def leave_Comparison(self, original, updated):
        if len(original.comparisons) != 1:
            return updated
        target = original.comparisons[0]
        left, right, op = original.left, target.comparator, target.operator
        api = self._version(left)
        if api is not None and self._release(right):
            newer = isinstance(op, _NEWER)
        elif self._version(right) is not None and self._release(left):
            api, newer = self._version(right), isinstance(op, _OLDER)  # '2.0' <= version
        else:
            return updated
        if not isinstance(op, _NEWER + _OLDER):
            return updated
        self.add(original, api, WARNING, f"-> {newer}: {_WHY}")
        return _bool(newer)

    # --- folding what the literals decide ------------------------------------------
    def leave_BooleanOperation(self, original, updated):
        left, right = _literal(updated.left), _literal(updated.right)
        plain = (cst.Name, cst.Attribute)
        if isinstance(updated.operator, cst.And):
            if right is False and isinstance(updated.left, plain) or left is False:
                return _bool(False)
            if right is True:
                return updated.left
        elif isinstance(updated.operator, cst.Or):
            if right is True and isinstance(updated.left, plain) or left is True:
                return _bool(True)
            if right is False:
                return updated.left
        return updated

    def leave_UnaryOperation(self, original, updated):
        value = _literal(updated.expression)
        if isinstance(updated.operator, cst.Not) and value is not None:
            return _bool(not value)
        return updated

    def leave_IfExp(self, original, updated):
        value = _literal(updated.test)
        if value is None:
            return updated
        return updated.body if value else updated.orelse

    def leave_SimpleStatementLine(self, original, updated):
        small = updated.body
        if (len(small) == 1 and isinstance(small[0], cst.Assert)
                and _literal(small[0].test) is True
                and any(isinstance(s, cst.Assert) for s in original.body)):
            return self.drop(updated, [])
        return updated

    def leave_IndentedBlock(self, original, updated):
        return super().leave_IndentedBlock(original, self._splice(updated))

    def leave_Module(self, original, updated):
        return super().leave_Module(original, self._splice(updated))

    def _splice(self, updated):
        body: List[cst.BaseStatement] = []
        changed = False
        for stmt in updated.body:
            chosen = self._branch(stmt) if isinstance(stmt, cst.If) else None
            if chosen is None:
                body.append(stmt)
                continue
            changed = True
            if chosen:
                first = chosen[0]
                chosen[0] = rebuilt(first, first.with_changes(
                    leading_lines=[*stmt.leading_lines, *first.leading_lines]))
            body.extend(chosen)
        if not changed:
            return updated
        if not body:
            body = [cst.SimpleStatementLine([cst.Pass()])]
        return updated.with_changes(body=body)

    @staticmethod
    def _branch(stmt: cst.If) -> Optional[List[cst.BaseStatement]]:
        """The statements an `if` with a literal test runs, or None."""
        value = _literal(stmt.test)
        if value is None:
            return None
        if value:
            return _statements(stmt.body)
        if isinstance(stmt.orelse, cst.If):  # elif: it becomes the if
            return [stmt.orelse]
        if isinstance(stmt.orelse, cst.Else):
            return _statements(stmt.orelse.body)
        return []


def _statements(block) -> List[cst.BaseStatement]:
    if isinstance(block, cst.IndentedBlock):
        return list(block.body)
    return [cst.SimpleStatementLine(body=block.body)]
