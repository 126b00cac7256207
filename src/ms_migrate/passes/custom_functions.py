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

MindSpore calls `bprop(self, *inputs, out, dout)` with the forward inputs (defaults
filled in) and output and wants one gradient per input, as a tuple. What backward()
reads from `ctx.saved_tensors` is an input (bprop has it), the output (bprop's `out`
is given its name) or an intermediate value (the forward statements run again at the
start of bprop); other ctx attributes likewise (custom_function_ctx.py). Several
outputs: `out` and `dout` are tuples, unpacked into backward()'s gradient names. A
`None` gradient of a saved tensor becomes zeros of its shape; of anything else (a
number, a function) it stays None, and inputs with defaults that backward() gives no
gradient get None. Anything else (a return inside forward(), a ctx method MindSpore
has no use for but bookkeeping, `*args`) stays as it is and the table reports it.
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Set

import libcst as cst

from ..core.callrewrite import code
from ..core.context import Context
from ..core.quick_libcst import parse_expression, parse_statement
from ..core.report import CONVERTED, WARNING
from ..core.traversal import FastTransformer, FastVisitor, traverse
from . import custom_function_ctx as ctx_attrs
from .statement_pass import StatementPass
from .training.emit import ms_name
from .training.names import Flows
from .text_search import found

API = "torch.autograd.Function"
_SPELLINGS = frozenset({API, "torch.autograd.function.Function"})
_SAVED = frozenset({"saved_tensors", "saved_variables"})
_APPLIES = re.compile(r"\bFunction\b")


def applies(source: str) -> bool:
    return "backward" in source and found(_APPLIES, source, "Function")


Unsupported = ctx_attrs.Unsupported


def convert_custom_functions(ctx: Context, module: cst.Module) -> cst.Module:
    converted: Dict[str, _Cell] = {}
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
    def __init__(self, ctx: Context, converted: Dict[str, "_Cell"]) -> None:
        super().__init__(ctx)
        self.converted = converted

    def leave_ClassDef(self, original, updated):
        new = self.converted.get(original.name.value)
        if new is None:
            return updated
        self.add(original.bases[0].value, API, CONVERTED,
                 "-> a Cell whose bprop is backward(): MindSpore calls bprop(*inputs, out, "
                 "dout) and takes one gradient per input")
        for note in new.notes:
            self.add(original.bases[0].value, API, WARNING, note)
        return new.node.with_changes(leading_lines=updated.leading_lines)

    def leave_Attribute(self, original, updated):
        if (original.attr.value == "apply" and isinstance(original.value, cst.Name)
                and original.value.value in self.converted):
            return cst.Call(cst.Name(original.value.value))  # `X.apply(a)` -> `X()(a)`
        return updated

    def leave_Call(self, original, updated):
        """`X.apply(x)` of `forward(ctx, x, low=-0.5)` -> `X()(x, -0.5)`: in graph mode
        MindSpore gives bprop only the arguments the call passes (PyNative all)."""
        func = original.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "apply"
                and isinstance(func.value, cst.Name) and func.value.value in self.converted):
            return updated
        defaults = self.converted[func.value.value].defaults
        args = list(updated.args)
        if any(a.keyword or a.star for a in args) or len(args) >= len(defaults):
            return updated
        missing = [cst.Arg(d) for d in defaults[len(args):]]
        if any(d is None for d in defaults[len(args):]):
            return updated  # too few arguments: torch's own error stays
        if args:
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return updated.with_changes(args=[*args, *missing])


# --- one class ---------------------------------------------------------------------------
class _Cell:
    """One class's conversion: the Cell and what the report says about it."""

    def __init__(self, node: cst.ClassDef, notes: List[str],
                 defaults: List[Optional[cst.BaseExpression]]) -> None:
        self.node, self.notes = node, notes
        self.defaults = defaults  # per input, None where it has no default


def _as_cell(ctx: Context, cls: cst.ClassDef) -> _Cell:
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
    ctx_name, params = _params(forward, defaults=True)
    inputs = [p.name.value for p in params]
    required = sum(1 for p in params if p.default is None)
    bctx, grads = _params(backward)
    if not inputs:
        raise Unsupported("inputs")
    saved, body, result, notes = _forward_body(forward, ctx_name)
    outputs = result.elements if isinstance(result, cst.Tuple) else [result]
    if len(grads) != len(outputs) or any(isinstance(e, cst.StarredElement) for e in outputs
                                         if isinstance(result, cst.Tuple)):
        raise Unsupported("one gradient per output")
    flows = Flows()
    forward_writes = set().union(*(flows.writes(s) for s in body)) if body else set()
    found = ctx_attrs.attributes(body, ctx_name)
    taken = {*inputs, *grads}
    for stmt in forward.body.body:
        taken |= {*flows.reads(stmt), *flows.writes(stmt)}
    for stmt in backward.body.body:  # `scale = ctx.scale` leaves the name to the attribute
        if not ctx_attrs.reads_own_attribute(stmt, bctx):
            taken |= {*flows.reads(stmt), *flows.writes(stmt)}
    names = ctx_attrs.local_names(found, inputs, forward_writes, taken)
    local = ctx_attrs.CtxNames(ctx_name, names, len(inputs))
    body = [s for s in (s.visit(local) for s in body) if not _self_assignment(s)]
    result = result.visit(local)
    if any(_ctx_uses(s, ctx_name) for s in body) or _ctx_uses(result, ctx_name):
        raise Unsupported("ctx used otherwise")
    out = _output_name(result, saved, inputs, sorted(taken | set(names.values())))
    dout = grads[0] if len(grads) == 1 else _fresh("dout", taken | {out, *inputs})
    read = ctx_attrs.read_attributes(backward, bctx)
    needed = {n for n in saved if n not in inputs and n != out} | \
        {n for a, n in names.items() if n not in inputs and a in read}
    bprop_body = _backward_body(ctx, backward, bctx, saved, params, required, local)
    if len(grads) > 1:  # several outputs: dout is the tuple of their gradients
        bprop_body.insert(0, parse_statement(f"{', '.join(grads)} = {dout}\n"))
    if needed:  # intermediates torch kept: bprop computes them again
        returned = result.value if isinstance(result, cst.Name) and out != result.value \
            else None
        bprop_body = [*_replay(body, needed, returned, out), *bprop_body]
    construct = _method(forward, "construct", [cst.Param(cst.Name("self")), *params],
                        [*_live(body, result, set(names.values()) - set(inputs)),
                         cst.SimpleStatementLine([cst.Return(result)])])
    bprop = _method(backward, "bprop",
                    [cst.Param(cst.Name(n)) for n in ["self", *inputs, out, dout]], bprop_body)
    bprop = bprop.visit(ctx_attrs.FoldTrue())
    if local.needs:
        notes.append("ctx.needs_input_grad is True: bprop computes every input's gradient "
                     "and MindSpore keeps the ones asked for")
    cell = _cell_base(ctx)
    node = cls.with_changes(
        bases=[cst.Arg(parse_expression(cell))],
        body=cls.body.with_changes(body=[*docstring, construct, bprop]))
    return _Cell(node, notes, [p.default for p in params])


def _fresh(name: str, taken: Set[str]) -> str:
    base, n = name, 1
    while name in taken:
        n += 1
        name = f"{base}{n}"
    return name


def _replay(body: List[cst.BaseStatement], needed: Set[str], returned: Optional[str],
            out: str) -> List[cst.BaseStatement]:
    """The forward statements that compute `needed`: those writing a name needed, or
    calling something with one (`dist.all_gather(parts, x)` fills `parts`), and those
    they read from, back to the inputs. The others (a collective whose result backward
    does not use, asserts) do not run twice. A statement reading the returned name
    after its last assignment reads bprop's `out` instead (`y = x.detach()`)."""
    flows = Flows()
    needed = set(needed)
    kept: List[cst.BaseStatement] = []
    final = returned is not None  # the returned name holds its last value from here on
    for stmt in reversed(body):
        reads = set(flows.reads(stmt))
        writes = flows.writes(stmt)
        bare_call = isinstance(stmt, cst.SimpleStatementLine) and \
            all(isinstance(s, cst.Expr) for s in stmt.body)
        if writes & needed or (bare_call and reads & needed):
            if final and returned in reads and returned not in writes:
                stmt = stmt.visit(_Rename(returned, out))
                reads.discard(returned)
            kept.append(stmt)
            needed |= reads
        if returned in writes:
            final = False
    return kept[::-1]


class _Rename(cst.CSTTransformer):
    """One variable's name, not attributes or keywords spelled the same."""

    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def leave_Name(self, original, updated):
        return updated.with_changes(value=self.new) if original.value == self.old else updated

    def leave_Attribute(self, original, updated):
        return updated.with_changes(attr=original.attr)

    def leave_Arg(self, original, updated):
        return updated.with_changes(keyword=original.keyword)


def _live(body: List[cst.BaseStatement], result: cst.BaseExpression,
          locals_: Set[str]) -> List[cst.BaseStatement]:
    """The forward statements without assignments of ctx attributes construct never reads
    (`shape = x.shape` kept only for backward)."""
    flows = Flows()
    kept = list(body)
    for i in reversed(range(len(kept))):
        stmt = kept[i]
        if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
                and isinstance(stmt.body[0], cst.Assign)):
            continue
        written = flows.writes(stmt)
        if not written or not written <= locals_:
            continue
        later = [n for s in kept[i + 1:] for n in flows.reads(s)] + flows.reads(result)
        if not written & set(later) and _pure(stmt):
            del kept[i]
    return kept


_PURE = frozenset({"detach", "size", "dim", "numel", "len", "int", "float", "bool", "tuple",
                   "list", "dict", "isinstance"})


def _pure(stmt: cst.CSTNode) -> bool:
    """Only calls that read (`x.size(0)`, `y.detach()`): `ctx.handle = dist.all_reduce(
    x, async_op=True)` keeps its statement, a collective runs in construct as in forward."""
    finder = _FindCalls()
    traverse(stmt, finder)
    calls = finder.calls
    names = [c.func.attr.value if isinstance(c.func, cst.Attribute) else
             c.func.value if isinstance(c.func, cst.Name) else None for c in calls]
    return all(n in _PURE for n in names)


class _FindCalls(cst.CSTVisitor):
    def __init__(self):
        super().__init__()
        self.calls: List[cst.Call] = []

    def visit_Call(self, node):
        self.calls.append(node)


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


def _params(fn: cst.FunctionDef, defaults: bool = False):
    """(ctx's name, the other parameters: names, or Params with their defaults)."""
    p = fn.params
    if p.posonly_params or p.kwonly_params or not isinstance(p.star_arg, cst.MaybeSentinel) \
            or p.star_kwarg is not None or any(x.annotation is not None for x in p.params) \
            or len(p.params) < 2 or p.params[0].default is not None \
            or (not defaults and any(x.default is not None for x in p.params)):
        raise Unsupported("plain parameters")
    rest = [x.with_changes(comma=cst.MaybeSentinel.DEFAULT) for x in p.params[1:]]
    return p.params[0].name.value, rest if defaults else [x.name.value for x in rest]


def _ctx_uses(node: cst.CSTNode, ctx_name: str) -> List[cst.CSTNode]:
    """Every `ctx` name in `node` (each is the value of a `ctx.<attr>`, or bare)."""
    finder = _FindNamed(ctx_name)
    traverse(node, finder)
    return finder.found


class _FindNamed(FastVisitor):
    """The Names spelled `name`."""

    def __init__(self, name: str):
        super().__init__()
        self.name = name
        self.found: List[cst.CSTNode] = []

    def visit_Name(self, name):
        if name.value == self.name:
            self.found.append(name)


def _forward_body(forward: cst.FunctionDef, ctx_name: str):
    """(saved names, statements without save_for_backward, ctx bookkeeping and return,
    returned value, notes for the report)."""
    stmts = list(forward.body.body)
    last = stmts[-1] if stmts else None
    if not (isinstance(last, cst.SimpleStatementLine) and len(last.body) == 1
            and isinstance(last.body[0], cst.Return) and last.body[0].value is not None):
        raise Unsupported("one return at the end")
    result = last.body[0].value
    saved: List[str] = []
    body: List[cst.BaseStatement] = []
    notes: List[str] = []
    for stmt in stmts[:-1]:
        call = ctx_attrs.ctx_call(stmt, ctx_name)
        if call is not None and call.func.attr.value == "save_for_backward":
            if saved or any(a.keyword or a.star or not isinstance(a.value, cst.Name)
                            for a in call.args):
                raise Unsupported("save_for_backward of names, once")
            saved = [a.value.value for a in call.args]
            continue
        if call is not None and ctx_attrs.bookkeeping(call):
            notes.append(f"ctx.{call.func.attr.value}(...) goes: nothing to tell MindSpore")
            continue
        if _has_return(stmt):
            raise Unsupported("one return at the end")
        body.append(stmt)
    return saved, body, result, notes


def _has_return(stmt: cst.CSTNode) -> bool:
    finder = _FindReturn()
    traverse(stmt, finder)
    return bool(finder.found)


class _FindReturn(FastVisitor):
    """The returns of the code itself, not of functions or lambdas inside it."""

    def __init__(self):
        super().__init__()
        self.found: list = []

    def visit_Return(self, node):
        self.found.append(node)

    def visit_FunctionDef(self, node):
        return False

    def visit_Lambda(self, node):
        return False


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
                   params: List[cst.Param], required: int,
                   local: ctx_attrs.CtxNames) -> List[cst.BaseStatement]:
    """backward()'s statements with ctx.saved_tensors and ctx attributes read from bprop's
    arguments and every return a tuple of one gradient per input."""
    local.ctx_name = ctx_name  # backward()'s own name for ctx
    rewrite = _SavedTensors(ctx, ctx_name, saved, params, required)
    body = [s.visit(local).visit(rewrite) for s in backward.body.body]
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
    def __init__(self, ctx: Context, ctx_name: str, saved: List[str], params: List[cst.Param],
                 required: int):
        self.ctx, self.ctx_name, self.saved = ctx, ctx_name, saved
        self.inputs = [p.name.value for p in params]
        self.required = required
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
        if not self.required <= len(grads) <= len(self.inputs):
            self.failed = True  # one gradient per input, or a tuple returned from elsewhere
            return updated
        # torch wants gradients for the inputs apply() was given: defaults get None
        grads += [cst.Name("None")] * (len(self.inputs) - len(grads))
        zeros = None
        for i, grad in enumerate(grads):
            # None of a tensor (save_for_backward takes tensors only) is zeros of its
            # shape; of anything else (a number, a function) it stays None
            if isinstance(grad, cst.Name) and grad.value == "None" and \
                    self.inputs[i] in self.saved:
                zeros = zeros or ms_name(self.ctx, "mindspore.ops.zeros_like")
                grads[i] = parse_expression(f"{zeros}({self.inputs[i]})")
        elements = [cst.Element(g) for g in grads]
        return updated.with_changes(value=cst.Tuple(elements) if len(grads) == 1 else
                                    cst.Tuple(elements, lpar=[], rpar=[]))


def _method(template: cst.FunctionDef, name: str, params: List[cst.Param],
            body: List[cst.BaseStatement]) -> cst.FunctionDef:
    return template.with_changes(
        decorators=[], name=cst.Name(name), params=cst.Parameters(params),
        body=template.body.with_changes(body=body))
