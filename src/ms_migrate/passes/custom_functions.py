"""`torch.autograd.Function` subclasses -> a Cell with a custom `bprop`.

    class Swish(Function):                      class Swish(nn.Cell):
        @staticmethod                               def construct(self, i):
        def forward(ctx, i):                            return i * ops.sigmoid(i)
            ctx.save_for_backward(i)      ->
            return i * torch.sigmoid(i)             def bprop(self, i, out, grad_output):
                                                        s = ops.sigmoid(i)
        @staticmethod                                   return (grad_output * ...,)
        def backward(ctx, grad_output):
            i, = ctx.saved_tensors              Swish()(x)
            s = torch.sigmoid(i)
            return grad_output * ...
    Swish.apply(x)

MindSpore calls `bprop(self, *inputs, out, dout)` with the forward inputs and output
and wants one gradient per input, as a tuple. What backward() reads from
`ctx.saved_tensors` is an input (bprop has it), the output (bprop's `out` is given
its name) or an intermediate value (the forward statements run again at the start
of bprop). A `None` gradient becomes zeros of the input's shape. Only this shape
converts: one output, ctx used for nothing but save_for_backward/saved_tensors;
anything else stays as it is and the table reports it.
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Set

import libcst as cst

from ..core.callrewrite import code
from ..core.context import Context
from ..core.report import CONVERTED
from ..core.traversal import FastTransformer, FastVisitor, traverse
from .statement_pass import StatementPass
from .training.emit import ms_name
from .training.names import Flows

API = "torch.autograd.Function"
_SPELLINGS = frozenset({API, "torch.autograd.function.Function"})
_SAVED = frozenset({"saved_tensors", "saved_variables"})
_APPLIES = re.compile(r"\bFunction\b")


def applies(source: str) -> bool:
    return bool(_APPLIES.search(source)) and "backward" in source


class Unsupported(Exception):
    pass


def convert_custom_functions(ctx: Context, module: cst.Module) -> cst.Module:
    converted: Dict[str, cst.ClassDef] = {}
    for stmt in module.body:  # module-level classes only: `X.apply` is then unambiguous
        if isinstance(stmt, cst.ClassDef) and _is_function(ctx, stmt):
            try:
                converted[stmt.name.value] = _as_cell(ctx, stmt)
            except Unsupported:
                continue
    if not converted:
        return module
    rewrite = _CustomFunctions(ctx, converted)
    result = traverse(module, rewrite)
    rewrite.place_findings()
    return result


def _is_function(ctx: Context, cls: cst.ClassDef) -> bool:
    return len(cls.bases) == 1 and not cls.keywords and \
        ctx.resolve(cls.bases[0].value) in _SPELLINGS


class _CustomFunctions(StatementPass):
    def __init__(self, ctx: Context, converted: Dict[str, cst.ClassDef]) -> None:
        super().__init__(ctx)
        self.converted = converted

    def leave_ClassDef(self, original, updated):
        new = self.converted.get(original.name.value)
        if new is None:
            return updated
        self.add(original.bases[0].value, API, CONVERTED,
                 "-> a Cell whose bprop is backward(): MindSpore calls bprop(*inputs, out, "
                 "dout) and takes one gradient per input")
        return new.with_changes(leading_lines=updated.leading_lines)

    def leave_Attribute(self, original, updated):
        if (original.attr.value == "apply" and isinstance(original.value, cst.Name)
                and original.value.value in self.converted):
            return cst.Call(cst.Name(original.value.value))  # `X.apply(a)` -> `X()(a)`
        return updated


# --- one class ---------------------------------------------------------------------------
def _as_cell(ctx: Context, cls: cst.ClassDef) -> cst.ClassDef:
    methods: Dict[str, cst.FunctionDef] = {}
    docstring: List[cst.BaseStatement] = []
    for index, stmt in enumerate(cls.body.body):
        if isinstance(stmt, cst.FunctionDef) and stmt.name.value in ("forward", "backward") \
                and _static(ctx, stmt):
            methods[stmt.name.value] = stmt
        elif index == 0 and _is_docstring(stmt):
            docstring.append(stmt)
        else:
            raise Unsupported(stmt)
    if set(methods) != {"forward", "backward"}:
        raise Unsupported("forward and backward")
    forward, backward = methods["forward"], methods["backward"]
    ctx_name, inputs = _params(forward)
    bctx, grads = _params(backward)
    if len(grads) != 1 or not inputs:
        raise Unsupported("one output")
    saved, body, result = _forward_body(forward, ctx_name)
    flows = Flows()
    taken = [*flows.reads(forward), *flows.writes(forward), *flows.reads(backward),
             *flows.writes(backward), *grads]
    out = _output_name(result, saved, inputs, taken)
    recompute = [n for n in saved if n not in inputs and n != out]
    bprop_body = _backward_body(ctx, backward, bctx, saved, inputs)
    if recompute:  # intermediates torch saved: bprop computes them again
        bprop_body = [*body, *bprop_body]
    construct = _method(forward, "construct", ["self", *inputs],
                        [*body, cst.SimpleStatementLine([cst.Return(result)])])
    bprop = _method(backward, "bprop", ["self", *inputs, out, grads[0]], bprop_body)
    cell = _cell_base(ctx)
    return cls.with_changes(
        bases=[cst.Arg(cst.parse_expression(cell))],
        body=cls.body.with_changes(body=[*docstring, construct, bprop]))


def _cell_base(ctx: Context) -> str:
    """The file's own `nn.Module` when it imports torch.nn under a name (the table then
    writes it as its other Modules: `nn.Cell`), else MindSpore's Cell."""
    alias = next((a for a, q in sorted(ctx.aliases.items()) if q == "torch.nn"), None)
    return f"{alias}.Module" if alias is not None else ms_name(ctx, "mindspore.nn.Cell")


_ONCE = frozenset({"torch.autograd.function.once_differentiable",
                   "torch.autograd.once_differentiable"})


def _static(ctx: Context, fn: cst.FunctionDef) -> bool:
    """A staticmethod, maybe `once_differentiable` too (bprop is never differentiated
    again unless asked: the decorator has nothing to do in MindSpore)."""
    names = [code(d.decorator).strip() for d in fn.decorators
             if ctx.resolve(d.decorator) not in _ONCE]
    return names == ["staticmethod"]


def _is_docstring(stmt: cst.BaseStatement) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and \
        isinstance(stmt.body[0], cst.Expr) and isinstance(stmt.body[0].value,
                                                          (cst.SimpleString,
                                                           cst.ConcatenatedString))


def _params(fn: cst.FunctionDef):
    p = fn.params
    if p.posonly_params or p.kwonly_params or not isinstance(p.star_arg, cst.MaybeSentinel) \
            or p.star_kwarg is not None or any(x.default is not None or x.annotation is not None
                                               for x in p.params) or len(p.params) < 2:
        raise Unsupported("plain parameters")
    names = [x.name.value for x in p.params]
    return names[0], names[1:]


def _ctx_uses(node: cst.CSTNode, ctx_name: str) -> List[cst.CSTNode]:
    """Every `ctx` name in `node` (each is the value of a `ctx.<attr>`, or bare)."""
    found: List[cst.CSTNode] = []

    class _Find(FastVisitor):
        def visit_Name(self, name):
            if name.value == ctx_name:
                found.append(name)

    traverse(node, _Find())
    return found


def _forward_body(forward: cst.FunctionDef, ctx_name: str):
    """(saved names, statements without save_for_backward and return, returned value)."""
    stmts = list(forward.body.body)
    last = stmts[-1] if stmts else None
    if not (isinstance(last, cst.SimpleStatementLine) and len(last.body) == 1
            and isinstance(last.body[0], cst.Return) and last.body[0].value is not None):
        raise Unsupported("one return at the end")
    result = last.body[0].value
    if isinstance(result, cst.Tuple):
        raise Unsupported("one output")
    saved: List[str] = []
    body: List[cst.BaseStatement] = []
    for stmt in stmts[:-1]:
        call = _save_call(stmt, ctx_name)
        if call is not None:
            if saved or any(a.keyword or a.star or not isinstance(a.value, cst.Name)
                            for a in call.args):
                raise Unsupported("save_for_backward of names, once")
            saved = [a.value.value for a in call.args]
            continue
        if _ctx_uses(stmt, ctx_name) or _has_return(stmt):
            raise Unsupported("ctx used otherwise")
        body.append(stmt)
    if _ctx_uses(result, ctx_name):
        raise Unsupported("ctx in the result")
    return saved, body, result


def _save_call(stmt: cst.BaseStatement, ctx_name: str) -> Optional[cst.Call]:
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and \
            isinstance(stmt.body[0], cst.Expr):
        call = stmt.body[0].value
        if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and \
                call.func.attr.value == "save_for_backward" and \
                isinstance(call.func.value, cst.Name) and call.func.value.value == ctx_name:
            return call
    return None


def _has_return(stmt: cst.CSTNode) -> bool:
    found = []

    class _Find(FastVisitor):
        def visit_Return(self, node):
            found.append(node)

        def visit_FunctionDef(self, node):
            return False

        def visit_Lambda(self, node):
            return False

    traverse(stmt, _Find())
    return bool(found)


def _output_name(result: cst.BaseExpression, saved: List[str], inputs: List[str],
                 taken: List[str]) -> str:
    """bprop's `out` parameter: the output's own name when torch saved it."""
    if isinstance(result, cst.Name) and result.value in saved and result.value not in inputs:
        return result.value
    name, n = "out", 1
    while name in taken or name in inputs or name in saved:
        n += 1
        name = f"out{n}"
    return name


def _backward_body(ctx: Context, backward: cst.FunctionDef, ctx_name: str, saved: List[str],
                   inputs: List[str]) -> List[cst.BaseStatement]:
    """backward()'s statements with ctx.saved_tensors read from bprop's arguments and
    every return a tuple of one gradient per input."""
    rewrite = _SavedTensors(ctx, ctx_name, saved, inputs)
    body = [s.visit(rewrite) for s in backward.body.body]
    if rewrite.failed or any(_ctx_uses(s, ctx_name) for s in body):
        raise Unsupported("ctx used otherwise")
    return [s for s in body if not _self_assignment(s)]


def _self_assignment(stmt: cst.BaseStatement) -> bool:
    """`x, y = x, y` / `i = i`: left by reading saved tensors under their own names."""
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
            and isinstance(stmt.body[0], cst.Assign) and len(stmt.body[0].targets) == 1):
        return False
    assign = stmt.body[0]

    def names(node):
        if isinstance(node, cst.Name):
            return [node.value]
        if isinstance(node, (cst.Tuple, cst.List)) and all(
                isinstance(e.value, cst.Name) and not isinstance(e, cst.StarredElement)
                for e in node.elements):
            return [e.value.value for e in node.elements]
        return None

    target, value = names(assign.targets[0].target), names(assign.value)
    return target is not None and target == value


class _SavedTensors(FastTransformer):
    def __init__(self, ctx: Context, ctx_name: str, saved: List[str], inputs: List[str]):
        self.ctx, self.ctx_name, self.saved, self.inputs = ctx, ctx_name, saved, inputs
        self.failed = False

    def _is_saved(self, node: cst.CSTNode) -> bool:
        return isinstance(node, cst.Attribute) and node.attr.value in _SAVED and \
            isinstance(node.value, cst.Name) and node.value.value == self.ctx_name

    def leave_Subscript(self, original, updated):
        if not self._is_saved(original.value):
            return updated
        index = original.slice[0].slice if len(original.slice) == 1 else None
        if isinstance(index, cst.Index) and isinstance(index.value, cst.Integer) and \
                int(index.value.value) < len(self.saved):
            return cst.Name(self.saved[int(index.value.value)])
        self.failed = True
        return updated

    def leave_Attribute(self, original, updated):
        if self._is_saved(original):  # the whole tuple: `x, y = ctx.saved_tensors`
            if not self.saved:
                self.failed = True
                return updated
            return cst.Tuple([cst.Element(cst.Name(n)) for n in self.saved], lpar=[], rpar=[]) \
                if len(self.saved) > 1 else cst.Tuple([cst.Element(cst.Name(self.saved[0]))])
        return updated

    def leave_FunctionDef(self, original, updated):
        self.failed = True  # a nested function: its returns are not the gradients
        return updated

    def leave_Return(self, original, updated):
        value = updated.value
        if value is None:
            self.failed = True
            return updated
        grads = [e.value for e in value.elements] if isinstance(value, cst.Tuple) else [value]
        if len(grads) != len(self.inputs):
            self.failed = True  # one gradient per input, or a tuple returned from elsewhere
            return updated
        zeros = None
        for i, grad in enumerate(grads):
            if isinstance(grad, cst.Name) and grad.value == "None":
                zeros = zeros or ms_name(self.ctx, "mindspore.ops.zeros_like")
                grads[i] = cst.parse_expression(f"{zeros}({self.inputs[i]})")
        elements = [cst.Element(g) for g in grads]
        return updated.with_changes(value=cst.Tuple(elements) if len(grads) == 1 else
                                    cst.Tuple(elements, lpar=[], rpar=[]))


def _method(template: cst.FunctionDef, name: str, params: List[str],
            body: List[cst.BaseStatement]) -> cst.FunctionDef:
    return template.with_changes(
        decorators=[], name=cst.Name(name),
        params=cst.Parameters([cst.Param(cst.Name(p)) for p in params]),
        body=template.body.with_changes(body=body))
