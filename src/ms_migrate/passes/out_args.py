"""`out=`: MindSpore has no output arguments, so the result is assigned instead.

    torch.add(a, b, out=y)        ->  y = ops.add(a, b)
    z = torch.add(a, b, out=y)    ->  y = z = ops.add(a, b)
    z = torch.tensordot(a, b, 2, out)  ->  out = z = ops.tensordot(a, b, 2)

(an output given by position is rewritten whatever its name, but the pass runs only in a
file whose text has an argument spelled `out`, by keyword or by position: a positional
output under another name in a file without one stays, and is refused when its call is
bound)

Only a call that is a whole expression statement or the whole value of an
assignment is rewritten, and only for a rule that lists `out` among its `args`
without refusing it in `unsupported_args`; any other `out=` stays and is refused
when its call is bound (callrewrite.bind). torch writes into the existing tensor,
the assignment rebinds the name: the call's finding warns about that (the note is
left in ctx.facts.out_args for the API pass, keyed by the new call).
"""
from __future__ import annotations

import re
from typing import Optional, Set, Tuple

import libcst as cst

from ..core.callrewrite import code
from ..core.context import Context, is_torch_api
from ..core.positions import names_pattern
from ..core.traversal import traverse
from .rebinding import Rebinding

# a keyword argument (not `out = f(x)`), or a positional argument named out
_APPLIES = re.compile(r"[(,]\s*out\s*(?:=(?!=)|[,)])")
_TARGETS = (cst.Name, cst.Attribute, cst.Subscript)


_OUT = re.compile(r"out\s*(?:=(?!=)|[,)])")  # _APPLIES from its `out`: a literal first


def applies(source: str) -> bool:
    """`_APPLIES.search(source)` (a class of characters first: tried everywhere)."""
    for match in _OUT.finditer(source):
        before = match.start() - 1
        while before >= 0 and source[before].isspace():  # (`\s`, as re reads it)
            before -= 1
        if before >= 0 and source[before] in "(,":
            return True
    return False


def rebind_out(ctx: Context, module: cst.Module) -> cst.Module:
    # a call it rewrites resolves to torch: its line names a torch alias
    return traverse(module, _Out(ctx, names_pattern(ctx.aliases)))


class _Out(Rebinding):
    def rebind(self, targets, call):
        found = self._out(call)
        if found is None:
            return None
        index, out = found
        args = list(call.args)
        del args[index]
        if args and index == len(args):  # the last argument goes: so does the comma before
            args[-1] = args[-1].with_changes(comma=call.args[-1].comma)
        if index < len(args) and args[index].keyword is None:
            return None  # a positional out= with positionals after it: they would shift
        new_call = call.with_changes(args=args)
        name = code(out).strip()
        if all(code(t.target).strip() != name for t in targets):
            targets.insert(0, cst.AssignTarget(out))
        self.notes[id(new_call)] = (new_call, f"out= rebinds {name}; other references to the "
                                              f"old tensor do not see the result")
        return cst.Assign(targets, new_call)

    def _out(self, call: cst.Call) -> Optional[Tuple[int, cst.BaseExpression]]:
        """(index, value) of the call's `out=` when this pass may rewrite it."""
        if any(arg.star for arg in call.args):
            return None
        qualified = self.ctx.resolve(call.func)
        if not is_torch_api(qualified):
            return None
        rule = self.ctx.rules.get(qualified)
        if (rule is None or rule.unsupported or "out" in rule.unsupported_args
                or "out" not in {a.lstrip("*") for a in rule.args}):
            return None
        index = next((i for i, arg in enumerate(call.args)
                      if arg.keyword is not None and arg.keyword.value == "out"), None)
        if index is None:  # `torch.tensordot(a, b, dims, out)`: out given by position
            place = rule.args.index("out") if "out" in rule.args else None
            positional = [arg for arg in call.args if arg.keyword is None]
            if (place is None or any(a.startswith("*") for a in rule.args[:place])
                    or len(positional) <= place):
                return None
            index = place
        value = call.args[index].value
        if not _target(value) or not self.may_bind(_names(value)):
            return None
        return index, value


def _target(node: cst.BaseExpression) -> bool:
    """A name, attribute, item, or a tuple/list of them (torch.max(x, 1, out=(v, i)))."""
    if isinstance(node, (cst.Tuple, cst.List)):
        return bool(node.elements) and all(
            not isinstance(e, cst.StarredElement) and _target(e.value)
            and not isinstance(e.value, (cst.Tuple, cst.List)) for e in node.elements)
    if isinstance(node, cst.Name):
        return node.value not in ("None", "True", "False")
    return isinstance(node, _TARGETS)


def _names(node: cst.BaseExpression) -> Set[str]:
    """The plain names an assignment to `node` binds."""
    if isinstance(node, (cst.Tuple, cst.List)):
        return {e.value.value for e in node.elements if isinstance(e.value, cst.Name)}
    return {node.value} if isinstance(node, cst.Name) else set()
