"""`functools.partial(torch.arange, device=device)`: the torch function bound to some
arguments, called later under a local name (`arange(n)`).

The arguments given to partial are converted as a call of the function would be, and
the function becomes its MindSpore target: `partial(ops.arange)`. That holds only where
the arguments given later mean the same to both functions: a rule that renames only
the callee and may drop arguments (a device, requires_grad), no transform, template,
renamed or rewritten argument and no default written out.
"""
from __future__ import annotations

import re
from typing import Optional

import libcst as cst

from ..core.context import Context
from ..core.names import dotted_name
from ..core.rule import Rule

_PARTIAL = re.compile(r"^\s*(from\s+functools\s+import\s+[^\n]*\bpartial\b|import\s+functools\b)",
                      re.MULTILINE)


def imports_partial(source: str) -> bool:
    """Whether the file imports functools or its partial: no call is partial's otherwise.
    The literal first: a regex anchored at each line is slow over a whole file."""
    return "functools" in source and _PARTIAL.search(source) is not None


def is_partial(ctx: Context, call: cst.Call) -> bool:
    """`partial(f, ...)` / `functools.partial(f, ...)` of functools, with f first."""
    name = dotted_name(call.func)
    if name not in ("partial", "functools.partial") or not call.args:
        return False
    if ctx.is_shadowed(name.partition(".")[0]) or not imports_partial(ctx.source):
        return False
    first = call.args[0]
    return first.keyword is None and not first.star


def partial_rule(ctx: Context, call: cst.Call) -> Optional[Rule]:
    """The rule of the torch function partial binds, where its later arguments need no
    conversion; else None."""
    if not is_partial(ctx, call):
        return None
    qualified = ctx.resolve(call.args[0].value)
    if qualified is None or not ctx.selection.enabled(qualified):
        return None
    rule = ctx.rules.get(qualified)
    if (rule is None or rule.unsupported or rule.kind != "function" or not rule.target
            or rule.target.startswith(".") or rule.rename or rule.values or rule.defaults
            or rule.transform or rule.template or rule.receiver or rule.warn
            or rule.target_args is not None or any(a.startswith("*") for a in rule.args)):
        return None
    return rule


def convert(ctx: Context, original: cst.Call, updated: cst.Call, locator):
    """`partial(torch.f, args)` -> `partial(<target>, converted args)`, or None where
    partial binds no torch function of that kind (the call is converted as any other)."""
    rule = partial_rule(ctx, original)
    if rule is None:
        return None
    from . import api  # the traversal's call conversion, which this one reuses

    bound_original = cst.Call(original.args[0].value, original.args[1:])
    bound_updated = cst.Call(updated.args[0].value, updated.args[1:])
    new = api.convert_call(ctx, bound_original, bound_updated, locator)
    if new is bound_updated or not isinstance(new, cst.Call):
        # unconverted: the function stays torch, with the arguments as they were
        return original
    comma = (original.args[0].comma if new.args
             else cst.MaybeSentinel.DEFAULT)
    return updated.with_changes(args=[cst.Arg(new.func, comma=comma), *new.args])
