"""Gradients read from `.grad` after a backward() that no optimizer step follows.

    x = torch.tensor([1., 2.], requires_grad=True)     x = mindspore.tensor([1., 2.])
    y = x * x                                          def forward_fn(x):
    y.sum().backward()                       ->            y = x * x
    print(x.grad, y)                                       return y.sum(), y
                                                       grad_fn = mindspore.value_and_grad(
                                                           forward_fn, has_aux=True)
                                                       (_, y), x_grad = grad_fn(x)
                                                       print(x_grad, y)

What is differentiated is what the code reads `.grad` of after backward() (up to the
next backward()): a name is an input of the forward function (grad_position), an
attribute (`model.fc.weight`) a parameter (weights=[...]). The forward function holds
the statements of backward()'s block that compute the loss from those; the values it
computes that are read elsewhere come back as aux outputs; everything else it reads
from the enclosing scope, where it is defined right before its call.
`loss.backward(gradient)` and `torch.autograd.backward(tensors, grad_tensors)` become
`mindspore.vjp` and its function applied to the gradients. `zero_grad()` between
backward() and a read sets the gradients it resets to None (zeros with
set_to_none=False), as torch does.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set

import libcst as cst

from ...core.callrewrite import args_by_name, code
from ...core.names import dotted_name
from ...core.report import CONVERTED, WARNING
from ...core.traversal import FastTransformer, FastVisitor, traverse
from . import emit
from .names import target_names
from .sites import Scope, Site, Stmt, Unsupported, is_loop, is_optimizer

BACKWARD = "Tensor.backward"
FUNCTION = "torch.autograd.backward"
GRAD_READ = "Tensor.grad"
_METHOD_ARGS = ["gradient", "retain_graph", "create_graph", "inputs"]
_FUNCTION_ARGS = ["tensors", "grad_tensors", "retain_graph", "create_graph", "grad_variables",
                  "inputs"]
NO_READS = "no optimizer.step() follows this backward(): only complete training steps convert"


@dataclass
class LeafPlan:
    site: Site
    outputs: List[cst.BaseExpression]              # what backward() differentiates
    grad_outputs: Optional[List[cst.BaseExpression]]  # None: a scalar, gradient 1
    leaves: List[str]                              # names: inputs of the forward function
    weights: List[str]                             # attributes: parameters
    grads: Dict[str, str] = field(default_factory=dict)  # `x` -> `x_grad`
    captured: List[Stmt] = field(default_factory=list)
    moved: List[Stmt] = field(default_factory=list)
    aux: List[str] = field(default_factory=list)
    readers: List[Stmt] = field(default_factory=list)
    resets: List[Site] = field(default_factory=list)


class LeafFlow:
    """Which statements carry the graph from the differentiated tensors to the loss: those
    that read what they (or graph statements before) hold. A statement that binds one of
    them makes it: it stays outside and the tensor is passed in."""

    def __init__(self, flows, roots: Set[str]):
        self.flows = flows
        self.roots = roots
        self.graph = set(roots)
        self.is_data: Dict[int, bool] = {}

    def visit(self, node: cst.CSTNode) -> None:
        written = self.flows.writes(node)
        if written & self.roots:
            data = True
        else:
            data = not (set(self.flows.reads(node)) & self.graph)
        self.is_data[id(node)] = data
        if data:
            self.graph -= written - self.roots
        else:
            self.graph |= written


def _literal(expr: Optional[cst.BaseExpression], value: str) -> bool:
    return isinstance(expr, cst.Name) and expr.value == value


def _elements(expr: cst.BaseExpression) -> List[cst.BaseExpression]:
    if isinstance(expr, (cst.List, cst.Tuple)):
        if any(isinstance(el, cst.StarredElement) for el in expr.elements):
            raise Unsupported("a starred list of tensors does not convert")
        return [el.value for el in expr.elements]
    return [expr]


def bind(ctx, site: Site):
    """(outputs, grad_outputs) of `loss.backward(...)` or `torch.autograd.backward(...)`."""
    call = site.call
    if any(arg.star for arg in call.args):
        raise Unsupported("backward() with * arguments does not convert")
    functional = ctx.resolve(call.func) == FUNCTION
    args = args_by_name(call, _FUNCTION_ARGS if functional else _METHOD_ARGS)
    create = args.get("create_graph")
    if create is not None and not _literal(create, "False"):
        raise Unsupported("create_graph=True (higher-order gradients) does not convert")
    if args.get("inputs") is not None and not _literal(args.get("inputs"), "None"):
        raise Unsupported("backward(inputs=...) does not convert")
    if not functional:
        gradient = args.get("gradient")
        grads = None if gradient is None or _literal(gradient, "None") else [gradient]
        return [call.func.value], grads
    if "tensors" not in args:
        raise Unsupported("torch.autograd.backward without tensors does not convert")
    outputs = _elements(args["tensors"])
    given = args.get("grad_tensors", args.get("grad_variables"))
    if given is None or _literal(given, "None"):
        if len(outputs) > 1:
            raise Unsupported("torch.autograd.backward of several tensors without "
                              "grad_tensors does not convert")
        return outputs, None
    grads = _elements(given)
    if len(grads) != len(outputs) or any(_literal(g, "None") for g in grads):
        raise Unsupported("grad_tensors that do not pair with tensors do not convert")
    return outputs, grads


class _GradReads(FastVisitor):
    def __init__(self):
        self.targets: List[str] = []
        self.other = False

    def visit_Attribute(self, node):
        if node.attr.value == "grad":
            text = dotted_name(node.value)
            if text is None:
                self.other = True
            elif text not in self.targets:
                self.targets.append(text)


class _RenameGrads(FastTransformer):
    def __init__(self, grads: Dict[str, str]):
        self.grads = grads

    def leave_Attribute(self, original, updated):
        if original.attr.value == "grad":
            name = self.grads.get(dotted_name(original.value) or "")
            if name is not None:
                return cst.Name(name)
        return updated


class _Replace(FastTransformer):
    def __init__(self, expr: cst.BaseExpression, name: str):
        self.expr, self.name = expr, name

    def leave_Attribute(self, original, updated):
        return cst.Name(self.name) if original.deep_equals(self.expr) else updated

    def leave_Call(self, original, updated):
        return cst.Name(self.name) if original.deep_equals(self.expr) else updated


def _mentions(exprs: List[cst.BaseExpression], expr: cst.BaseExpression) -> bool:
    found = []
    for e in exprs:
        traverse(e, _FindEqual(expr, found))
    return bool(found)


class _FindEqual(FastVisitor):
    """Fills `found` with the nodes equal to `expr` (not looking inside them)."""

    def __init__(self, expr: cst.BaseExpression, found: list):
        super().__init__()
        self.expr = expr
        self.found = found

    def on_visit(self, node):
        if node.deep_equals(self.expr):
            self.found.append(node)
            return False
        return True


def _header(node: cst.CSTNode) -> List[cst.CSTNode]:
    """The expressions of a compound statement outside its blocks."""
    if isinstance(node, (cst.If, cst.While)):
        return [node.test]
    if isinstance(node, cst.For):
        return [node.target, node.iter]
    if isinstance(node, cst.With):
        return list(node.items)
    return []


def readers(scope: Scope, site: Site):
    """The statements after backward() (up to the next one) that use `.grad`, and what
    they read it of, first read first."""
    end = min((s.stmt.order for s in scope.sites
               if s.kind == "backward" and s.stmt.order > site.stmt.order), default=None)
    found: List[Stmt] = []
    targets: List[str] = []
    for stmt in scope.stmts:
        if stmt.order <= site.stmt.order or (end is not None and stmt.order >= end):
            continue
        parts = [stmt.node] if isinstance(stmt.node, cst.SimpleStatementLine) \
            else _header(stmt.node)
        visitor = _GradReads()
        for part in parts:
            traverse(part, visitor)
        if visitor.other:
            raise Unsupported(".grad of an expression other than a name or an attribute "
                              "does not convert")
        if not visitor.targets:
            continue
        if not isinstance(stmt.node, cst.SimpleStatementLine):
            raise Unsupported(".grad read in the header of a compound statement does not "
                              "convert")
        found.append(stmt)
        targets.extend(t for t in visitor.targets if t not in targets)
    return found, targets


def _grad_name(target: str, targets: List[str], taken: Set[str]) -> str:
    parts = target.split(".")
    base = parts[-1]
    if len(parts) > 1 and sum(t.split(".")[-1] == base for t in targets) > 1:
        base = "_".join(parts[-2:])
    return fresh(base + "_grad", taken)


def fresh(base: str, taken: Set[str]) -> str:
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}{n}"
    taken.add(name)
    return name


def plan(pass_, scope: Scope, site: Site) -> LeafPlan:
    ctx, flows = pass_.ctx, pass_.flows
    found, targets = readers(scope, site)
    if not targets:
        raise Unsupported(NO_READS)
    outputs, grad_outputs = bind(ctx, site)
    if any(s.kind == "backward" and s.stmt.order < site.stmt.order for s in scope.sites):
        raise Unsupported("another backward() before this one: torch adds up their "
                          "gradients in .grad")
    leaves = [t for t in targets if "." not in t]
    weights = [t for t in targets if "." in t]
    p = LeafPlan(site, outputs, grad_outputs, leaves, weights, readers=found)
    roots = set(leaves) | {w.split(".", 1)[0] for w in weights}
    leaf_flow = LeafFlow(flows, roots)
    for stmt in scope.stmts:
        leaf_flow.visit(stmt.node)
    loss_reads: List[str] = []
    for expr in outputs:
        loss_reads.extend(flows.reads(expr))
    captured, needed = pass_.capture_before(scope, leaf_flow, site.stmt, set(loss_reads))
    pass_.check_outer_blocks(scope, leaf_flow, site.stmt, needed)
    p.captured = captured
    body = [s.node for s in captured]
    if any(_in_place_value(n) for n in body):
        raise Unsupported("the result of an in-place call is used in the computation of the "
                          "loss: MindSpore's assign does not carry the gradient")
    loss_line = cst.SimpleStatementLine(body=[cst.Expr(cst.Tuple(
        [cst.Element(e) for e in outputs]))])
    free = flows.free_reads([*body, loss_line])
    if "self" in scope.params and "self" in free and not weights:
        raise Unsupported("the loss is computed with the object's layers: torch also adds "
                          "their parameters' gradients to .grad here, which the gradient "
                          "call would not compute")
    produced: Set[str] = set().union(*(flows.writes(n) for n in body)) if body else set()
    for name in free:
        if name in produced and name not in leaves:
            raise Unsupported(f"`{name}` is read and then rebound by the statements that "
                              "compute the loss")
    for leaf in leaves:
        if leaf not in free:
            raise Unsupported(f"`{leaf}` is not read by the statements that compute the loss "
                              "here (a function that reads it as a global is not followed)")
    for weight in weights:
        if weight.split(".", 1)[0] not in free:
            raise Unsupported(f"`{weight}` is not read by the statements that compute the "
                              "loss here (a function that reads it as a global is not followed)")
    p.moved = _moved(flows, scope, site, captured, produced)
    outside = Counter(flows.reads(scope.block))
    for node in body:
        outside.subtract(flows.reads(node))
    for expr in outputs:
        outside.subtract(flows.reads(expr))
    loss_names = {e.value for e in outputs if isinstance(e, cst.Name)}
    ordered = dict.fromkeys(w for node in body for w in flows.ordered_writes(node))
    module_level = isinstance(scope.root, cst.Module)  # its names are the module's state
    p.aux = [n for n in ordered if n not in loss_names and (module_level or outside[n] > 0)]
    p.resets = _resets(pass_, scope, site, found, weights)
    _check_zeroed_in_loop(pass_, scope, site, targets)
    return p


def _check_zeroed_in_loop(pass_, scope: Scope, site: Site, targets: List[str]) -> None:
    """In a loop, torch adds each iteration's gradients to .grad unless something resets
    it there; the gradient call returns the iteration's own."""
    loops = [a for a in site.stmt.ancestors if is_loop(a)]
    if not loops:
        return
    inner = loops[-1]
    inside = [s for s in scope.stmts if any(a is inner for a in s.ancestors)]
    for target in targets:
        reset = re.compile(rf"\b{re.escape(target)}\.grad(\.data)?\.zero_\(|"
                           rf"\b{re.escape(target)}\.grad\s*=\s*None")
        if any(isinstance(s.node, cst.SimpleStatementLine) and reset.search(code(s.node))
               for s in inside):
            continue
        if any(z.kind == "zero_grad" and any(a is inner for a in z.stmt.ancestors)
               and target in _reset_targets(pass_, z, [target] if "." in target else [])
               for z in scope.sites):
            continue
        raise Unsupported(f"{target}.grad is not reset in the loop: torch adds each "
                          "iteration's gradients to it")


def _moved(flows, scope: Scope, site: Site, captured: List[Stmt],
           produced: Set[str]) -> List[Stmt]:
    """Statements between the captured ones and backward() that read what they compute:
    after the gradient call. One that changes such a value in place would change the
    loss torch differentiates: refused."""
    if not captured:
        return []
    produced = set(produced)
    block = site.stmt.block.body
    moved = []
    for index in range(captured[0].index + 1, site.stmt.index):
        stmt = scope.stmt_of(block[index])
        if stmt in captured:
            continue
        if set(flows.reads(stmt.node)) & produced:
            if _changes_in_place(stmt.node):
                raise Unsupported("a value the loss is computed from is changed in place "
                                  "before backward()")
            moved.append(stmt)
            produced |= flows.writes(stmt.node)
    return moved


def _changes_in_place(node: cst.CSTNode, augmented: bool = True) -> bool:
    finder = _FindInPlace(augmented)
    traverse(node, finder)
    return bool(finder.found)


class _FindInPlace(FastVisitor):
    """In-place calls (`x.add_(y)`), augmented assignments too when `augmented`."""

    def __init__(self, augmented: bool):
        super().__init__()
        self.augmented = augmented
        self.found: list = []

    def visit_Call(self, call):
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value.endswith("_") \
                and not func.attr.value.startswith("_"):
            self.found.append(call)

    def visit_AugAssign(self, stmt):
        if self.augmented:
            self.found.append(stmt)


def _in_place_value(node: cst.CSTNode) -> bool:
    """`y = x.hypot_(b)`: an in-place call whose result is used (not a statement alone)."""
    if not isinstance(node, cst.SimpleStatementLine):
        return _changes_in_place(node, augmented=False)
    for small in node.body:
        if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            if any(_changes_in_place(a.value, augmented=False) for a in small.value.args):
                return True
            continue
        if _changes_in_place(small, augmented=False):
            return True
    return False


def _resets(pass_, scope: Scope, site: Site, found: List[Stmt], weights: List[str]):
    """zero_grad() calls between backward() and the last read that reset read gradients."""
    if not found:
        return []
    last = found[-1].order
    resets = []
    for s in scope.sites:
        if s.kind != "zero_grad" or not site.stmt.order < s.stmt.order < last:
            continue
        if _reset_targets(pass_, s, weights):
            resets.append(s)
    return resets


def _reset_targets(pass_, s: Site, weights: List[str]) -> List[str]:
    if s.receiver is None:
        return []
    if is_optimizer(s.receiver, pass_.optimizers):
        return list(weights)
    return [w for w in weights if w.startswith(s.receiver + ".")]


def _set_to_none(s: Site) -> bool:
    value = args_by_name(s.call, ["set_to_none"]).get("set_to_none")
    if value is None or _literal(value, "True"):
        return True
    if _literal(value, "False"):
        return False
    raise Unsupported("zero_grad(set_to_none=...) of a value known only at run time "
                      "between backward() and a .grad read does not convert")


_REQUIRES_GRAD = re.compile(r"requires_grad\s*(=\s*True|_\s*\()|Parameter\s*\(")


def _requires_grad_shown(pass_, scope: Scope, site: Site, leaf: str) -> bool:
    """Whether the scope marks `leaf` as requiring gradients before backward()."""
    for stmt in scope.stmts:
        if stmt.order >= site.stmt.order or not isinstance(stmt.node, cst.SimpleStatementLine):
            continue
        text = code(stmt.node)
        if _REQUIRES_GRAD.search(text) and (leaf in pass_.flows.writes(stmt.node)
                                            or re.search(rf"\b{re.escape(leaf)}\.requires_grad",
                                                         text)):
            return True
    return False


def rewrite(pass_, scope: Scope, p: LeafPlan, taken: Set[str]) -> None:
    ctx, edits = pass_.ctx, pass_.edits
    bound = {} if p.resets else _bound_reads(pass_, scope, p)  # `g = x.grad`: g is x's
    for target in [*p.leaves, *p.weights]:
        stmt = bound.get(target)
        p.grads[target] = (stmt.node.body[0].targets[0].target.value if stmt is not None
                           else _grad_name(target, [*p.leaves, *p.weights], taken))
    resets = [(s, _set_to_none(s)) for s in p.resets]
    forward = fresh("forward_fn", taken)
    outputs = [code(e).strip() for e in p.outputs]
    out_text = outputs[0] if len(outputs) == 1 else (
        f"({', '.join(outputs)})" if p.aux else ", ".join(outputs))
    definitions: List[cst.BaseStatement] = [
        emit.forward_def(forward, p.leaves, [s.node for s in p.captured], [out_text, *p.aux])]
    names = [e.value if isinstance(e, cst.Name) else None for e in p.outputs]
    if all(names):
        value = names[0] if len(names) == 1 else f"({', '.join(names)})"
    else:
        value = "_"
        if p.grad_outputs is not None and len(p.outputs) == 1 and _mentions(p.grad_outputs,
                                                                             p.outputs[0]):
            # `ones_like(results.values)`: the output the vjp call returns, by a name
            loss = p.outputs[0]
            value = fresh(loss.attr.value if isinstance(loss, cst.Attribute) else "output",
                          taken)
            p.grad_outputs = [g.visit(_Replace(loss, value)) for g in p.grad_outputs]
    leaf_grads = [p.grads[t] for t in p.leaves]
    weight_grads = [p.grads[t] for t in p.weights]
    weights = f"[{', '.join(p.weights)}]"
    b = p.site.stmt
    if p.grad_outputs is None:
        lines, how = _value_and_grad(ctx, p, forward, value, leaf_grads, weight_grads,
                                     weights, definitions, taken)
    else:
        lines, how = _vjp(ctx, p, forward, value, leaf_grads, weight_grads, weights, taken)
    for stmt in p.captured:
        edits.take.add(id(stmt.node))
    for stmt in p.moved:
        edits.take.add(id(stmt.node))
    # the moved statements right after the forward computation: the gradients given
    # to vjp may be computed from what they compute
    after = [emit.replace_line(b.node, lines[0]), *(s.node for s in p.moved),
             *(emit.statement(t) for t in lines[1:])]
    edits.insert_before(b, definitions)
    edits.replace[id(b.node)] = after
    rename = _RenameGrads(p.grads)
    for stmt in p.readers:
        pass_.grads_read.add(id(stmt.node))
        if any(stmt is s for s in bound.values()):
            edits.remove.add(id(stmt.node))
            continue
        edits.replace[id(stmt.node)] = [stmt.node.visit(rename)]
        read = [t for t in p.grads if re.search(rf"\b{re.escape(t)}\.grad\b", code(stmt.node))]
        pass_.report(stmt, GRAD_READ, CONVERTED, "-> " + ", ".join(p.grads[t] for t in read))
    for s, to_none in resets:
        reset = _reset_targets(pass_, s, p.weights)
        # set_to_none=False zeroes the gradient tensors in place, as torch does
        texts = [f"{p.grads[w]} = None" if to_none else
                 f"{emit.ms_name(ctx, 'mindspore.ops.assign')}({p.grads[w]}, "
                 f"{emit.ms_name(ctx, 'mindspore.ops.zeros_like')}({p.grads[w]}))"
                 for w in reset]
        edits.replace[id(s.stmt.node)] = [emit.replace_line(s.stmt.node, texts[0])] + [
            emit.statement(t) for t in texts[1:]]
        api = "torch.optim.Optimizer.zero_grad" if is_optimizer(s.receiver, pass_.optimizers) \
            else "torch.nn.Module.zero_grad"
        pass_.report(s.stmt, api, CONVERTED, "-> the gradients it resets: "
                     + ", ".join(p.grads[w] for w in reset)
                     + ("; assumed the optimizer holds them" if api.startswith("torch.optim")
                        else ""))
    api = FUNCTION if ctx.resolve(p.site.call.func) == FUNCTION else BACKWARD
    read = ", ".join(f"{t}.grad -> {p.grads[t]}" for t in p.grads)
    pass_.report(b, api, CONVERTED, f"-> {how} of {forward}; {read}")
    for leaf in p.leaves:
        if not _requires_grad_shown(pass_, scope, p.site, leaf):
            pass_.report(b, api, WARNING, f"assumed `{leaf}` requires gradients (torch "
                         f"leaves {leaf}.grad None otherwise)")


def _bound_reads(pass_, scope: Scope, p: LeafPlan) -> Dict[str, Stmt]:
    """`g = x.grad` statements whose name can hold x's gradient from the gradient call
    on: the name is bound nowhere else in the scope and the computation does not read it."""
    assigned = Counter(n for s in scope.stmts for n in (
        pass_.flows.writes(s.node) if isinstance(s.node, cst.SimpleStatementLine)
        else target_names(s.node.target) if isinstance(s.node, cst.For) else ()))
    assigned.update(scope.params)
    taken_by: Set[str] = set()
    used = set().union(*(pass_.flows.reads(s.node) for s in p.captured)) if p.captured else set()
    found: Dict[str, Stmt] = {}
    for stmt in p.readers:
        small = stmt.node.body[0] if len(stmt.node.body) == 1 else None
        if not (isinstance(small, cst.Assign) and len(small.targets) == 1
                and isinstance(small.targets[0].target, cst.Name)
                and isinstance(small.value, cst.Attribute) and small.value.attr.value == "grad"):
            continue
        name = small.targets[0].target.value
        target = dotted_name(small.value.value)
        if target in found or assigned[name] != 1 or name in used or name in p.leaves \
                or any(w.split(".", 1)[0] == name for w in p.weights) \
                or name in p.aux or name in taken_by:
            continue
        found[target] = stmt
        taken_by.add(name)
    return found


def _positions(leaves: List[str]) -> str:
    if not leaves:
        return "None"
    if len(leaves) == 1:
        return "0"
    return "(" + ", ".join(str(i) for i in range(len(leaves))) + ")"


def _tuple(names: List[str]) -> str:
    return f"({names[0]},)" if len(names) == 1 else f"({', '.join(names)})"


def _value_and_grad(ctx, p, forward, value, leaf_grads, weight_grads, weights, definitions,
                    taken):
    args = [forward]
    position = _positions(p.leaves)
    if position != "0" or p.weights:
        args.append(position)
    if p.weights:
        args.append(weights)
    if p.aux:
        args.append("has_aux=True")
    if not p.leaves:
        grads = _tuple(weight_grads)
    elif p.weights:
        leaf_part = leaf_grads[0] if len(leaf_grads) == 1 else _tuple(leaf_grads)
        grads = f"({leaf_part}, {_tuple(weight_grads)})"
    else:
        grads = leaf_grads[0] if len(leaf_grads) == 1 else _tuple(leaf_grads)
    grad_fn = fresh("grad_fn", taken)
    call_args = ", ".join(p.leaves)
    if value == "_" and not p.aux:  # only the gradients are wanted
        grad = emit.ms_name(ctx, "mindspore.grad")
        definitions.append(emit.statement(f"{grad_fn} = {grad}({', '.join(args)})"))
        if p.leaves and not p.weights and len(leaf_grads) > 1:
            grads = ", ".join(leaf_grads)
        return [f"{grads} = {grad_fn}({call_args})"], "mindspore.grad"
    value_and_grad = emit.ms_name(ctx, "mindspore.value_and_grad")
    definitions.append(emit.statement(f"{grad_fn} = {value_and_grad}({', '.join(args)})"))
    values = f"({', '.join([value, *p.aux])})" if p.aux else value
    return [f"{values}, {grads} = {grad_fn}({call_args})"], "mindspore.value_and_grad"


def _vjp(ctx, p, forward, value, leaf_grads, weight_grads, weights, taken):
    vjp = emit.ms_name(ctx, "mindspore.vjp")
    vjp_fn = fresh("vjp_fn", taken)
    args = [forward, *p.leaves]
    if p.weights:
        args.append(f"weights={weights}")
    if p.aux:
        args.append("has_aux=True")
    aux = ""
    if p.aux:
        aux = ", " + (p.aux[0] if len(p.aux) == 1 else _tuple(p.aux))
    first = f"{value}, {vjp_fn}{aux} = {vjp}({', '.join(args)})"
    gradients = [code(g).strip() for g in p.grad_outputs]
    sens = gradients[0] if len(gradients) == 1 else f"({', '.join(gradients)})"
    if not p.weights:
        if len(leaf_grads) == 1:
            second = f"{leaf_grads[0]} = {vjp_fn}({sens})[0]"
        else:
            second = f"{', '.join(leaf_grads)} = {vjp_fn}({sens})"
    else:
        leaf_part = _tuple(leaf_grads) if leaf_grads else "_"
        second = f"{leaf_part}, {_tuple(weight_grads)} = {vjp_fn}({sens})"
    return [first, second], "mindspore.vjp"
