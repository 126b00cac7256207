"""What a `torch.autograd.Function`'s forward() keeps on `ctx`, as plain names.

`ctx.scale = scale` in forward() and `ctx.scale` in backward(): a Cell's bprop is given
the forward inputs, so an attribute holding an input is that input's name; any other
value (`ctx.shape = x.shape`) is a local of the forward statements, which bprop runs
again. The bookkeeping calls go: `ctx.mark_dirty(x)` (MindSpore has no in-place
versions to check), `ctx.mark_non_differentiable(y)` (bprop's gradient of that output
is zeros, torch's too) and `ctx.set_materialize_grads(True)` (torch's default: unused
gradients are zeros, as bprop's `dout` always is). `ctx.needs_input_grad[i]` is True:
bprop computes every input's gradient and MindSpore keeps those it was asked for.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Set

import libcst as cst

from ..core.traversal import traverse

BOOKKEEPING = frozenset({"mark_dirty", "mark_non_differentiable", "set_materialize_grads"})
NEEDS = "needs_input_grad"
_RESERVED = frozenset({"save_for_backward", "saved_tensors", "saved_variables", NEEDS,
                       *BOOKKEEPING})


class Unsupported(Exception):
    pass


def ctx_call(stmt: cst.BaseStatement, ctx_name: str) -> Optional[cst.Call]:
    """`ctx.<method>(...)` as a whole statement."""
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and \
            isinstance(stmt.body[0], cst.Expr):
        call = stmt.body[0].value
        if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and \
                isinstance(call.func.value, cst.Name) and call.func.value.value == ctx_name:
            return call
    return None


def bookkeeping(call: cst.Call) -> bool:
    """A ctx call with nothing to do in MindSpore (see the module's docstring)."""
    method = call.func.attr.value
    if method == "set_materialize_grads":  # False: torch passes None for unused outputs
        value = call.args[0].value if len(call.args) == 1 else None
        return isinstance(value, cst.Name) and value.value == "True"
    return method in BOOKKEEPING


def attributes(stmts: List[cst.BaseStatement], ctx_name: str) -> Dict[str, List[cst.BaseExpression]]:
    """attribute -> the values forward() assigns it (`ctx.a = v`, `ctx.a, ctx.b = v, w`)."""
    found: Dict[str, List[cst.BaseExpression]] = {}
    for stmt in stmts:
        traverse(stmt, _FindAssigned(ctx_name, found))
    if set(found) & _RESERVED:
        raise Unsupported("a ctx attribute of torch's own")
    return found


class _FindAssigned(cst.CSTVisitor):
    """Fills `found`: attribute of `ctx_name` -> the values assigned to it."""

    def __init__(self, ctx_name: str, found: Dict[str, List[cst.BaseExpression]]):
        super().__init__()
        self.ctx_name = ctx_name
        self.found = found

    def visit_Assign(self, node):
        for target in node.targets:
            pairs = [(target.target, node.value)]
            if isinstance(target.target, (cst.Tuple, cst.List)):
                values = node.value.elements if isinstance(node.value, (cst.Tuple, cst.List)) \
                    and len(node.value.elements) == len(target.target.elements) else None
                pairs = [(e.value, values[i].value if values else None)
                         for i, e in enumerate(target.target.elements)]
            for t, v in pairs:
                if _is_attr(t, self.ctx_name):
                    self.found.setdefault(t.attr.value, []).append(v)

    def visit_AugAssign(self, node):
        if _is_attr(node.target, self.ctx_name):
            self.found.setdefault(node.target.attr.value, []).append(None)

    def visit_AnnAssign(self, node):
        if _is_attr(node.target, self.ctx_name):
            self.found.setdefault(node.target.attr.value, []).append(None)


def _is_attr(node: cst.CSTNode, ctx_name: str) -> bool:
    return isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and \
        node.value.value == ctx_name


def read_attributes(node: cst.CSTNode, ctx_name: str) -> Set[str]:
    """The ctx attributes `node` reads (backward(): what bprop must compute)."""
    found: Set[str] = set()
    traverse(node, _FindRead(ctx_name, found))
    return found


class _FindRead(cst.CSTVisitor):
    """Fills `found` with the attributes of `ctx_name` it meets."""

    def __init__(self, ctx_name: str, found: Set[str]):
        super().__init__()
        self.ctx_name = ctx_name
        self.found = found

    def visit_Attribute(self, attr):
        if _is_attr(attr, self.ctx_name):
            self.found.add(attr.attr.value)


def reads_own_attribute(stmt: cst.BaseStatement, ctx_name: str) -> bool:
    """`scale = ctx.scale`."""
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
            and isinstance(stmt.body[0], cst.Assign) and len(stmt.body[0].targets) == 1):
        return False
    target, value = stmt.body[0].targets[0].target, stmt.body[0].value
    return isinstance(target, cst.Name) and _is_attr(value, ctx_name) and \
        value.attr.value == target.value


def local_names(found: Dict[str, List[cst.BaseExpression]], inputs: List[str],
                forward_writes: Set[str], taken: Set[str]) -> Dict[str, str]:
    """attribute -> the name bprop and the forward statements read it by: the input it
    holds (`ctx.scale = scale`, scale never assigned again), else the attribute's own
    name when nothing else is called so, else `<attribute>_saved`."""
    names: Dict[str, str] = {}
    for attr, values in sorted(found.items()):
        value = values[0] if len(values) == 1 else None
        if isinstance(value, cst.Name) and value.value in inputs and \
                value.value not in forward_writes:
            names[attr] = value.value
            continue
        name, n = attr, 1
        while name in taken or name in inputs or name in names.values():
            name = f"{attr}_saved" if n == 1 else f"{attr}_saved{n}"
            n += 1
        names[attr] = name
    return names


class CtxNames(cst.CSTTransformer):
    """`ctx.<attr>` -> its local name; `ctx.needs_input_grad` -> True per input."""

    def __init__(self, ctx_name: str, names: Dict[str, str], inputs: int) -> None:
        self.ctx_name, self.names, self.inputs = ctx_name, names, inputs
        self.needs = False

    def leave_Subscript(self, original, updated):
        if _is_attr(original.value, self.ctx_name) and original.value.attr.value == NEEDS:
            self.needs = True
            return cst.Name("True")
        return updated

    def leave_Attribute(self, original, updated):
        if not _is_attr(original, self.ctx_name):
            return updated
        attr = original.attr.value
        if attr == NEEDS:
            self.needs = True
            return cst.Tuple([cst.Element(cst.Name("True"))] * self.inputs)
        if attr in self.names:
            return cst.Name(self.names[attr])
        return updated


class FoldTrue(cst.CSTTransformer):
    """`if True:` (a needs_input_grad test) -> its body; an else branch goes."""

    def leave_IndentedBlock(self, original, updated):
        body: List[cst.BaseStatement] = []
        for stmt in updated.body:
            if isinstance(stmt, cst.If) and isinstance(stmt.test, cst.Name) and \
                    stmt.test.value == "True" and isinstance(stmt.body, cst.IndentedBlock):
                inner = list(stmt.body.body)
                if inner:
                    inner[0] = inner[0].with_changes(
                        leading_lines=[*stmt.leading_lines, *inner[0].leading_lines])
                body.extend(inner)
            else:
                body.append(stmt)
        return updated.with_changes(body=body)
