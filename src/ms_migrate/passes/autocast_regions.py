"""Autocast regions the amp pass did not cast a network for: they compute in float32.

torch's autocast only changes the precision some operations run in, for speed and
memory; MindSpore casts a network, not a region (passes/amp.py does that where it
can find the network to cast). What is left (a region inside a Cell's forward, a
region whose dtype or `enabled` is decided at run time, `@autocast(...)` on a
function, a context chosen at run time: `ctx = nullcontext() if cpu else
torch.amp.autocast(...)`) runs in float32 here, with a warning naming the cast to
add for float16:

- `with autocast(...):` -> its body; `@autocast(...)` -> the decorator goes;
- any other autocast(...) value -> `nullcontext()`, and `nullcontext() if c else
  nullcontext()` -> `nullcontext()`.

A disabled region (`enabled=False`) already computes in float32: no warning.
"""
from __future__ import annotations

import re
from typing import List, Optional

import libcst as cst

from ..core.callrewrite import args_by_name
from ..core.context import Context
from ..core.report import CONVERTED, WARNING
from ..core.traversal import rebuilt, traverse
from .amp import AUTOCAST
from .statement_pass import StatementPass
from .text_search import found

_APPLIES = re.compile(r"\bautocast\b")
FLOAT32 = ("computes in float32 (autocast only changes speed and memory): for float16 "
           "cast the network once where it is built, net = amp.auto_mixed_precision(net, 'O1')")
DISABLED = "removed: a disabled region computes in float32"


def applies(source: str) -> bool:
    return found(_APPLIES, source, "autocast")


def remove_autocast_regions(ctx: Context, module: cst.Module) -> cst.Module:
    regions = Regions(ctx)
    converted = traverse(module, regions)
    regions.place_findings()
    return converted


def _nullcontext(node) -> bool:
    return (isinstance(node, cst.Call) and not node.args and isinstance(node.func, cst.Name)
            and node.func.value == "nullcontext")


class Regions(StatementPass):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, _APPLIES)
        self.taken: set = set()  # autocast calls already handled as a `with` or decorator

    def _autocast(self, expr) -> Optional[str]:
        func = expr.func if isinstance(expr, cst.Call) else expr
        qualified = self.ctx.resolve(func)
        return qualified if qualified in AUTOCAST else None

    def _disabled(self, expr, api: str) -> bool:
        if not isinstance(expr, cst.Call):
            return False
        enabled = args_by_name(expr, AUTOCAST[api][0]).get("enabled")
        return isinstance(enabled, cst.Name) and enabled.value == "False"

    def _removed(self, expr, api: str) -> None:
        if self._disabled(expr, api):
            self.add(expr, api, CONVERTED, DISABLED)
        else:
            self.add(expr, api, WARNING, f"removed: the region {FLOAT32}")

    # --- @autocast(...) ------------------------------------------------------------------
    def visit_FunctionDef(self, node):
        for deco in node.decorators:
            if self._autocast(deco.decorator) is not None:
                self.taken.add(id(deco.decorator))

    def leave_FunctionDef(self, original, updated):
        kept = []
        for orig, deco in zip(original.decorators, updated.decorators):
            api = self._autocast(orig.decorator)
            if api is None:
                kept.append(deco)
            else:
                self._removed(orig.decorator, api)
        if len(kept) == len(updated.decorators):
            return updated
        return updated.with_changes(decorators=kept)

    # --- with autocast(...): -------------------------------------------------------------
    def visit_With(self, node):
        for item in node.items:
            if item.asname is None and self._autocast(item.item) is not None:
                self.taken.add(id(item.item))

    def leave_IndentedBlock(self, original, updated):
        updated = self._splice(original, updated)
        return super().leave_IndentedBlock(original, updated)

    def leave_Module(self, original, updated):
        updated = self._splice(original, updated)
        return super().leave_Module(original, updated)

    def _splice(self, original, updated):
        if len(original.body) != len(updated.body):
            return updated
        body: List[cst.BaseStatement] = []
        changed = False
        for orig, stmt in zip(original.body, updated.body):
            new = self._with(orig, stmt) if isinstance(stmt, cst.With) else None
            if new is None:
                body.append(stmt)
            else:
                body.extend(new)
                changed = True
        return updated.with_changes(body=body) if changed else updated

    def _with(self, original: cst.With, stmt: cst.With) -> Optional[List[cst.BaseStatement]]:
        regions = [(o, n) for o, n in zip(original.items, stmt.items)
                   if o.asname is None and self._autocast(o.item) is not None]
        if not regions:
            return None
        for orig, _ in regions:
            self._removed(orig.item, self._autocast(orig.item))
        rest = [n for o, n in zip(original.items, stmt.items) if (o, n) not in regions]
        if rest:  # `with autocast(), open(f) as g:` keeps the other items
            rest[-1] = rest[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            return [rebuilt(original, stmt.with_changes(items=rest))]
        if not isinstance(stmt.body, cst.IndentedBlock):
            return [rebuilt(original, cst.SimpleStatementLine(
                body=stmt.body.body, leading_lines=stmt.leading_lines))]
        body = list(stmt.body.body)
        body[0] = rebuilt(body[0], body[0].with_changes(
            leading_lines=[*stmt.leading_lines, *body[0].leading_lines]))
        return body

    # --- autocast(...) as a value ----------------------------------------------------------
    def leave_Call(self, original, updated):
        if id(original) in self.taken:
            return updated
        api = self._autocast(original)
        if api is None:
            return updated
        self.ctx.require("from contextlib import nullcontext")
        if self._disabled(original, api):
            self.add(original, api, CONVERTED, "-> nullcontext(): a disabled region computes "
                     "in float32")
        else:
            self.add(original, api, WARNING, f"-> nullcontext(): the region {FLOAT32}")
        return cst.Call(cst.Name("nullcontext"))

    def leave_IfExp(self, original, updated):
        if _nullcontext(updated.body) and _nullcontext(updated.orelse):
            return updated.body
        return updated
