"""A custom optimizer (a `torch.optim.Optimizer` subclass) -> a MindSpore one.

    class LARS(torch.optim.Optimizer):            class LARS(optim.Optimizer):
        @torch.no_grad()                              def construct(self, gradients):
        def step(self, closure=None):      ->             grads = dict(zip(self.parameters, gradients))
            for g in self.param_groups:                   for g in self.param_groups:
                for p in g["params"]:                         for p in g["params"]:
                    dp = p.grad                                   dp = grads[p]

`mindspore.experimental.optim.Optimizer` keeps torch's `param_groups` (with the
defaults filled in), `state` (a dict per parameter) and `defaults`; what differs is
how the gradients arrive: MindSpore calls `construct(gradients)` with one gradient per
entry of `self.parameters`, in order, where torch's step() reads `p.grad`. So step()
becomes construct(gradients), and each `p.grad` the gradient paired with `p`. The
training pass turns `optimizer.step()` into `optimizer(grads)`. A step() that takes
other arguments, writes `p.grad` or calls its closure anywhere but in the usual
`if closure is not None:` block is left alone, and the rule table refuses the class.
"""
from __future__ import annotations

import re
from typing import Optional, Set

import libcst as cst

from ..core.context import Context
from ..core.quick_libcst import parse_expression, parse_statement
from ..core.report import CONVERTED
from ..core.traversal import FastTransformer, FastVisitor, traverse
from .statement_pass import StatementPass
from .training.emit import ms_name
from .text_search import found

OPTIMIZER = "torch.optim.Optimizer"
_SPELLINGS = frozenset({OPTIMIZER, "torch.optim.optimizer.Optimizer"})
TARGET = "mindspore.experimental.optim.Optimizer"
_NO_GRAD = frozenset({"torch.no_grad", "torch.autograd.no_grad", "torch.inference_mode"})
_APPLIES = re.compile(r"\bOptimizer\b")


def applies(source: str) -> bool:
    return "def step" in source and found(_APPLIES, source, "Optimizer")


def convert_custom_optimizers(ctx: Context, module: cst.Module) -> cst.Module:
    pass_ = _CustomOptimizers(ctx)
    result = traverse(module, pass_)
    pass_.place_findings()
    return result


class _CustomOptimizers(StatementPass):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.folded = 0

    def leave_ClassDef(self, original, updated):
        bases = [i for i, arg in enumerate(original.bases)
                 if self.ctx.resolve(arg.value) in _SPELLINGS]
        if len(bases) != 1 or not isinstance(updated.body, cst.IndentedBlock):
            return updated
        steps = [i for i, s in enumerate(updated.body.body)
                 if isinstance(s, cst.FunctionDef) and s.name.value == "step"]
        if len(steps) != 1:
            return updated
        construct = self._construct(updated.body.body[steps[0]])
        if construct is None:
            return updated
        base = parse_expression(ms_name(self.ctx, TARGET))
        new_bases = list(updated.bases)
        new_bases[bases[0]] = new_bases[bases[0]].with_changes(value=base)
        body = list(updated.body.body)
        body[steps[0]] = construct
        self.add(original.bases[bases[0]], OPTIMIZER, CONVERTED,
                 f"custom optimizer -> a {TARGET} subclass: step() becomes "
                 "construct(gradients), each p.grad the gradient MindSpore passes for p "
                 "(in the order of self.parameters)")
        if self.folded:
            self.add(original.bases[bases[0]], "Tensor.is_sparse", CONVERTED,
                     "the gradients MindSpore passes are dense: the branches for sparse "
                     "ones went")
        return updated.with_changes(bases=new_bases,
                                    body=updated.body.with_changes(body=body))

    def _construct(self, step: cst.FunctionDef) -> Optional[cst.FunctionDef]:
        params = step.params
        if params.star_arg is not cst.MaybeSentinel.DEFAULT and params.star_arg is not None \
                or params.star_kwarg is not None or params.kwonly_params \
                or params.posonly_params:
            return None
        names = [p.name.value for p in params.params]
        if not names or names[0] != "self" or any(n != "closure" for n in names[1:]):
            return None
        closure = names[1] if len(names) > 1 else None
        if not isinstance(step.body, cst.IndentedBlock):
            return None
        stmts = [s for s in step.body.body if not _calls_closure(s, closure)]
        reads = _Reads()
        holder = step.with_changes(body=step.body.with_changes(body=stmts))
        traverse(holder.body, reads)
        if reads.writes_grad or (closure is not None and closure in reads.names):
            return None
        used = reads.names
        grads = next(n for n in ("grads", "grad_of", "param_grads") if n not in used)
        gradients = next(n for n in ("gradients", "grad_values") if n not in used)
        reads = _GradReads(grads, _gradient_names(holder.body))
        body = traverse(holder.body, reads)
        self.folded = reads.folded
        pairing = parse_statement(f"{grads} = dict(zip(self.parameters, {gradients}))\n")
        inner = list(body.body)
        at = 1 if inner and _is_docstring(inner[0]) else 0
        inner.insert(at, pairing)
        decorators = [d for d in step.decorators if not self._no_grad(d.decorator)]
        new_params = params.with_changes(params=[
            params.params[0].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
            cst.Param(cst.Name(gradients))])
        return step.with_changes(name=cst.Name("construct"), params=new_params,
                                 decorators=decorators,
                                 body=body.with_changes(body=inner))

    def _no_grad(self, node: cst.BaseExpression) -> bool:
        func = node.func if isinstance(node, cst.Call) else node
        return self.ctx.resolve(func) in _NO_GRAD


def _gradient_names(body: cst.CSTNode) -> Set[str]:
    """Names assigned straight from a `p.grad` (`grad = p.grad`, `d_p = p.grad.data`)."""
    found: Set[str] = set()
    traverse(body, _FindGradients(found))
    return found


class _FindGradients(FastVisitor):
    def __init__(self, found: Set[str]):
        super().__init__()
        self.found = found

    def visit_Assign(self, node):
        value = node.value
        while isinstance(value, cst.Attribute) and value.attr.value == "data":
            value = value.value
        if isinstance(value, cst.Attribute) and value.attr.value == "grad":
            self.found.update(t.target.value for t in node.targets
                              if isinstance(t.target, cst.Name))


def _is_docstring(stmt: cst.BaseStatement) -> bool:
    return (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
            and isinstance(stmt.body[0], cst.Expr)
            and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


def _calls_closure(stmt: cst.BaseStatement, closure: Optional[str]) -> bool:
    """`if closure is not None: loss = closure()` (a `with torch.enable_grad():` inside
    too): MindSpore's optimizer gets the gradients computed; there is no closure."""
    if closure is None or not isinstance(stmt, cst.If) or stmt.orelse is not None:
        return False
    test = stmt.test
    return (isinstance(test, cst.Comparison) and isinstance(test.left, cst.Name)
            and test.left.value == closure and len(test.comparisons) == 1
            and isinstance(test.comparisons[0].operator, cst.IsNot)
            and isinstance(test.comparisons[0].comparator, cst.Name)
            and test.comparisons[0].comparator.value == "None")


class _Reads(FastVisitor):
    """Every name the step reads; whether it writes a `.grad`."""

    def __init__(self) -> None:
        self.names: Set[str] = set()
        self.writes_grad = False

    def visit_Name(self, node):
        self.names.add(node.value)

    def _target(self, target: cst.BaseExpression) -> None:
        if _is_grad(target):
            self.writes_grad = True

    def visit_Assign(self, node):
        for t in node.targets:
            self._target(t.target)

    def visit_AugAssign(self, node):
        self._target(node.target)

    def visit_AnnAssign(self, node):
        self._target(node.target)

    def visit_Del(self, node):
        self._target(node.target)

    def visit_Call(self, node):
        # `p.grad.zero_()`, `p.grad.data.copy_(v)`: the gradient changed in place
        func = node.func
        if (isinstance(func, cst.Attribute) and func.attr.value.endswith("_")
                and _is_grad(func.value)):
            self.writes_grad = True


def _is_grad(node: cst.BaseExpression) -> bool:
    """`p.grad`, `p.grad.data`."""
    while isinstance(node, cst.Attribute) and node.attr.value == "data":
        node = node.value
    return isinstance(node, cst.Attribute) and node.attr.value == "grad"


class _GradReads(FastTransformer):
    """`p.grad` -> `grads[p]`. The gradients MindSpore passes are dense tensors: an
    `if` on `p.grad.is_sparse` (or on a name assigned from `p.grad`) keeps its else
    branch only."""

    def __init__(self, grads: str, gradient_names: Set[str]) -> None:
        super().__init__()
        self.grads = grads
        self.gradient_names = gradient_names
        self.folded = 0

    def _is_sparse_test(self, test: cst.BaseExpression) -> bool:
        if not (isinstance(test, cst.Attribute) and test.attr.value == "is_sparse"):
            return False
        value = test.value
        while isinstance(value, cst.Attribute) and value.attr.value in ("data", "grad"):
            if value.attr.value == "grad":
                return True
            value = value.value
        return isinstance(value, cst.Name) and value.value in self.gradient_names

    def leave_If(self, original, updated):
        if not self._is_sparse_test(original.test):
            return updated
        self.folded += 1
        orelse = updated.orelse
        if orelse is None:
            return cst.RemovalSentinel.REMOVE
        if isinstance(orelse, cst.If):
            return orelse.with_changes(leading_lines=updated.leading_lines)
        body = list(orelse.body.body)
        if body:
            body[0] = body[0].with_changes(leading_lines=updated.leading_lines)
        return cst.FlattenSentinel(body)

    def leave_Attribute(self, original, updated):
        if original.attr.value == "grad" and isinstance(updated.value, (cst.Name, cst.Attribute)):
            return cst.Subscript(cst.Name(self.grads), [cst.SubscriptElement(
                cst.Index(updated.value))], lpar=updated.lpar, rpar=updated.rpar)
        return updated

