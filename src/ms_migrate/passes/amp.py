"""Mixed precision regions: `with torch.autocast(...):` around a training step.

torch casts the operations run inside a region; MindSpore casts a network:
`amp.auto_mixed_precision(net, "O1")` runs its MatMul/Conv-like operations in
float16 and the rest in float32, and returns float32 outputs. So a float16 region
becomes plain code, and each network it calls is cast once, after the statement
that builds it (or, when that is not in this file, before the loop that runs the
region). The cast Cell shares the original's parameters, so an optimizer built
before the cast still updates them.

What stays in place, marked by the autocast rule's reason: bfloat16 regions
(MindSpore 2.10 has no bfloat16 MatMul/Conv kernels on CPU), regions whose dtype
depends on a device variable, `enabled=<expression>`, `as` targets, regions inside
a Cell's forward, and float16 regions whose network this file neither builds once
nor runs in a loop around the region.
"""
from __future__ import annotations

import re
from typing import List, Optional, Set, Tuple

import libcst as cst

from ..core.callrewrite import args_by_name
from ..core.context import Context
from ..core.names import dotted_name
from ..core.quick_libcst import parse_expression
from ..core.report import CONVERTED, WARNING, mark_text
from ..core.strings import string_value
from ..core.traversal import FastVisitor, rebuilt, traverse
from .training import emit
from .training.edits import Edits, apply_edits, with_note
from .training.sites import Scope, Stmt, is_loop, scopes

# qualified name -> (its parameters in order, default dtype; None: by device_type)
AUTOCAST = {
    "torch.autocast": (["device_type", "dtype", "enabled", "cache_enabled"], None),
    "torch.amp.autocast": (["device_type", "dtype", "enabled", "cache_enabled"], None),
    "torch.amp.autocast_mode.autocast": (["device_type", "dtype", "enabled", "cache_enabled"],
                                         None),
    "torch.cuda.amp.autocast": (["enabled", "dtype", "cache_enabled"], "float16"),
    "torch.cpu.amp.autocast": (["enabled", "dtype", "cache_enabled"], "bfloat16"),
}
DEVICE_DTYPES = {"cuda": "float16", "cpu": "bfloat16", "xpu": "bfloat16", "hpu": "bfloat16"}
DTYPES = {"torch.float16": "float16", "torch.half": "float16", "torch.bfloat16": "bfloat16"}
CAST = "mindspore.amp.auto_mixed_precision"
EACH_CALL = ("cast again each time this function runs (a rewrite of the network, seconds "
             "on CPU): cast it once where it is built")


def applies(source: str) -> bool:
    return "autocast" in source


def convert_autocast(ctx: Context, module: cst.Module) -> cst.Module:
    regions = _Regions(ctx, module)
    regions.run()
    return apply_edits(module, regions.edits, ctx.lines) if regions.changed else module


class _Regions:
    def __init__(self, ctx: Context, module: cst.Module):
        self.ctx = ctx
        self.module = module
        self.source = ctx.source
        self.edits = Edits()
        self.changed = False
        self.scopes = list(scopes(module))
        self.cast: Set[Tuple[int, str]] = set()  # (statement id, network) already cast

    def report(self, stmt: Stmt, api: str, action: str, message: str) -> None:
        self.ctx.finding(self.ctx.lines.line(stmt.node), api, action, message)

    def run(self) -> None:
        for scope in self.scopes:
            if _in_forward(scope):
                continue  # a Cell's forward: the autocast rule marks it
            for stmt in scope.stmts:
                if isinstance(stmt.node, cst.With):
                    self.region(scope, stmt)

    def region(self, scope: Scope, stmt: Stmt) -> None:
        node: cst.With = stmt.node
        if len(node.items) != 1 or node.items[0].asname is not None:
            return  # `with autocast(), other:` / `as ctx`: the autocast rule marks it
        api = self.autocast(node.items[0].item)
        if api is None:
            return
        dtype, enabled = self.settings(node.items[0].item, api)
        if enabled is False:
            self.unwrap(stmt)
            self.report(stmt, api, CONVERTED, "removed: a disabled region computes in float32")
            return
        if dtype != "float16" or enabled is None:
            return  # the autocast rule marks it with what to do
        networks = self.networks(node.body)
        places = [(net, self.place(scope, stmt, net)) for net in networks]
        if not places or any(place is None for _, place in places):
            return  # the autocast rule marks it: cast the network where it is built
        in_function = scope.root is not self.module
        for net, (where, after) in places:
            # before a loop in a function: the cast runs at each call of that function
            self.cast_network(where, after, net, each_call=in_function and not after)
        self.unwrap(stmt)
        self.report(stmt, api, CONVERTED, f"removed: {', '.join(networks)} cast with "
                    "amp.auto_mixed_precision(..., 'O1'), float16 where torch's autocast "
                    "uses it")

    # --- reading the region ----------------------------------------------------------
    def autocast(self, expr: cst.BaseExpression) -> Optional[str]:
        if not isinstance(expr, cst.Call):
            return None
        qualified = self.ctx.resolve(expr.func)
        return qualified if qualified in AUTOCAST else None

    def settings(self, call: cst.Call, api: str) -> Tuple[Optional[str], Optional[bool]]:
        """(dtype: "float16", "bfloat16" or None if unknown; enabled: True, False, None)."""
        params, default = AUTOCAST[api]
        bound = args_by_name(call, params)
        enabled: Optional[bool] = True
        if "enabled" in bound:
            value = bound["enabled"]
            literal = value.value if isinstance(value, cst.Name) else None
            enabled = {"True": True, "False": False}.get(literal)
        if "dtype" in bound:
            return DTYPES.get(self.ctx.resolve(bound["dtype"]) or ""), enabled
        if default is None:
            device = bound.get("device_type")
            text = string_value(device) if isinstance(device, cst.SimpleString) else None
            default = DEVICE_DTYPES.get(text)
        return default, enabled

    def networks(self, body: cst.BaseSuite) -> List[str]:
        """Dotted names called in the region that this file uses as modules."""
        calls = _Calls()
        traverse(body, calls)
        called = calls.called
        return [n for n in called if self.ctx.resolve(parse_expression(n)) is None
                and re.search(rf"(?<![\w.]){re.escape(n)}\.{_MODULE_METHODS}\(", self.source)]

    # --- where the cast goes -----------------------------------------------------------
    def place(self, scope: Scope, stmt: Stmt, net: str) -> Optional[Tuple[Stmt, bool]]:
        """(statement, after it?): after the one assignment that builds `net` in this
        file, else before the outermost loop around the region."""
        builds = [s for sc in self.scopes for s in sc.stmts if _assigns(s.node, net)]
        if len(builds) == 1:
            return builds[0], True
        loops = [a for a in stmt.ancestors if is_loop(a)]
        return (scope.stmt_of(loops[0]), False) if loops else None

    def cast_network(self, where: Stmt, after: bool, net: str, each_call: bool) -> None:
        if (id(where.node), net) in self.cast:
            return
        self.cast.add((id(where.node), net))
        cast = emit.ms_name(self.ctx, "mindspore.amp.auto_mixed_precision")
        line = emit.statement(f'{net} = {cast}({net}, "O1")')
        if each_call:
            self.report(where, CAST, WARNING, f"{net}: {EACH_CALL}")
            line = with_note(line, mark_text(f"{CAST}: {net}: {EACH_CALL}"))
        target = self.edits.after if after else self.edits.before
        target.setdefault(id(where.node), []).append(line)
        self.changed = True

    def unwrap(self, stmt: Stmt) -> None:
        """The `with` goes, its body stays; the `with`'s comments go with the body."""
        node: cst.With = stmt.node
        if isinstance(node.body, cst.IndentedBlock):
            body = list(node.body.body)
        else:  # `with autocast(): loss = f(x)` on one line
            body = [cst.SimpleStatementLine(body=node.body.body)]
        body[0] = rebuilt(body[0], body[0].with_changes(leading_lines=[*node.leading_lines,
                                                               *body[0].leading_lines]))
        self.edits.replace[id(node)] = body
        self.changed = True


class _Calls(FastVisitor):
    """The dotted names called, each once, in the order first met."""

    def __init__(self):
        super().__init__()
        self.called: List[str] = []

    def visit_Call(self, call):
        name = dotted_name(call.func)
        if name is not None and name not in self.called:
            self.called.append(name)


_MODULE_METHODS = r"(?:parameters|named_parameters|train|eval|state_dict|load_state_dict)"


def _assigns(node: cst.CSTNode, name: str) -> bool:
    if not isinstance(node, cst.SimpleStatementLine) or len(node.body) != 1:
        return False
    small = node.body[0]
    return (isinstance(small, cst.Assign) and len(small.targets) == 1
            and dotted_name(small.targets[0].target) == name)


def _in_forward(scope: Scope) -> bool:
    root = scope.root
    return isinstance(root, cst.FunctionDef) and root.name.value in ("forward", "construct")
