"""`torch.autograd.grad(outputs=y, inputs=x, grad_outputs=v)` -> `mindspore.vjp`.

A gradient penalty (WGAN-GP, DRAGAN, StarGAN) differentiates a network's output with
respect to its input, inside a loss that is differentiated again:

    interpolates = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    d_interpolates = D(interpolates)
    gradients = autograd.grad(outputs=d_interpolates, inputs=interpolates,
                              grad_outputs=ones, create_graph=True)[0]
->
    interpolates = alpha * real + (1 - alpha) * fake
    d_interpolates, d_interpolates_vjp = mindspore.vjp(D, interpolates)
    gradients = d_interpolates_vjp(ones)[0]

MindSpore differentiates functions, not recorded tensors. The statement of the same
block that computed `outputs` from `inputs` (`y = f(x)`, or any expression of `x`:
`lambda x: ...`) becomes a `mindspore.vjp` of that computation: the same value, computed
once, and the function that maps grad_outputs to the gradients (a tuple, one per
input, as torch returns). Called inside value_and_grad it is differentiated again,
which is what create_graph=True asks; without create_graph torch's gradients are
constants: ops.stop_gradient. A tuple target (`y, aux = D(x)`, y first) differentiates
the first output (has_aux=True). `requires_grad` on the input goes with it (MindSpore
differentiates what the function is called on): `.requires_grad_(True)` at the end of
its assignment, `requires_grad=True` of its `Variable(...)`.

What is left (outputs not computed from inputs by one statement of the block,
gradients of parameters) keeps its table entry's reason.
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Set, Tuple

import libcst as cst

from ..core.context import Context
from ..core.names import names_in, rebound_names, target_names
from ..core.quick_libcst import parse_statement
from ..core.report import CONVERTED, WARNING
from ..core.traversal import FastTransformer, FastVisitor, rebuilt, traverse
from .statement_pass import StatementPass
from .training.names import flow

API = "torch.autograd.grad"
_PARAMS = ("outputs", "inputs", "grad_outputs", "retain_graph", "create_graph",
           "only_inputs", "allow_unused", "is_grads_batched", "materialize_grads")
_APPLIES = re.compile(r"grad\s*\(")


def applies(source: str) -> bool:
    return "autograd" in source and bool(_APPLIES.search(source))


def convert_input_grads(ctx: Context, module: cst.Module) -> cst.Module:
    converter = _InputGrads(ctx)
    converted = traverse(module, converter)
    converter.place_findings()
    return converted


def _bind(call: cst.Call) -> Optional[Dict[str, cst.BaseExpression]]:
    bound: Dict[str, cst.BaseExpression] = {}
    for i, arg in enumerate(call.args):
        if arg.star:
            return None
        name = arg.keyword.value if arg.keyword is not None else (
            _PARAMS[i] if i < len(_PARAMS) else None)
        if name not in _PARAMS or name in bound:
            return None
        bound[name] = arg.value
    return bound if "outputs" in bound and "inputs" in bound else None


def _names(node: cst.BaseExpression) -> Optional[List[str]]:
    """`x`, `[x]`, `(x, y)` -> the names; anything else None."""
    if isinstance(node, cst.Name):
        return [node.value]
    if isinstance(node, (cst.List, cst.Tuple)) and node.elements and all(
            isinstance(e.value, cst.Name) and not isinstance(e, cst.StarredElement)
            for e in node.elements):
        return [e.value.value for e in node.elements]
    return None


def _single(node: cst.BaseExpression) -> cst.BaseExpression:
    """`[v]` / `(v,)` -> v."""
    if isinstance(node, (cst.List, cst.Tuple)) and len(node.elements) == 1 \
            and not isinstance(node.elements[0], cst.StarredElement):
        return node.elements[0].value
    return node


def _literal(node: Optional[cst.BaseExpression]) -> Optional[str]:
    return node.value if isinstance(node, cst.Name) else None




def _comma() -> cst.Comma:
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _tuple(names: List[cst.BaseExpression]) -> cst.Tuple:
    return cst.Tuple([cst.Element(n, comma=_comma() if i < len(names) - 1 else
                                  cst.MaybeSentinel.DEFAULT) for i, n in enumerate(names)],
                     lpar=[], rpar=[])


class _InputGrads(StatementPass):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, _APPLIES)
        self.calls: List[cst.Call] = []
        self.taken = set(re.findall(r"\w+", ctx.source))
        # id(assignment this pass wrote) -> (it, its vjp's name, the inputs): later
        # gradients of the same inputs reuse it
        self.made: Dict[int, Tuple[cst.Assign, str, List[str]]] = {}

    def visit_Call(self, node: cst.Call) -> None:
        super().visit_Call(node)
        if self.ctx.resolve(node.func) == API:
            self.calls.append(node)

    def leave_IndentedBlock(self, original, updated):
        return super().leave_IndentedBlock(original, self._convert_block(updated))

    def leave_Module(self, original, updated):
        return super().leave_Module(original, self._convert_block(updated))

    # ---------------------------------------------------------------------------------
    def _convert_block(self, block):
        if not self.calls:
            return block
        body = list(block.body)
        pairs: List[Tuple[cst.CSTNode, cst.CSTNode]] = []  # (vjp made, its call), statements
        i = 0
        while i < len(body):
            if isinstance(body[i], cst.SimpleStatementLine):
                for call in [c for c in self.calls if _contains(body[i], c)]:
                    size = len(body)
                    if self._convert(body, i, call, pairs):
                        self.calls.remove(call)
                    if len(body) != size:  # statements became a function: the call moved
                        i += len(body) - size
                        break
            i += 1
        return block.with_changes(body=body) if pairs else block

    def _convert(self, body: list, i: int, call: cst.Call, pairs: list) -> bool:
        bound = _bind(call)
        if bound is None:
            return False
        outputs, inputs = _names(bound["outputs"]), _names(bound["inputs"])
        if inputs is None or _literal(bound.get("is_grads_batched")) not in (None, "False"):
            return False
        if outputs is None or len(outputs) != 1:
            return self._convert_chain(body, i, call, bound, inputs, pairs)
        y = outputs[0]
        found = self._definition(body, i, y, inputs)
        if found is None:
            return self._convert_chain(body, i, call, bound, inputs, pairs)
        j, assign, rest = found
        if id(assign) in self.made:  # a second gradient of the same output
            _, vjp_name, differentiated = self.made[id(assign)]
            if differentiated != inputs:
                return False
            again = True
        else:
            again = False
            j = self._nested(body, j, pairs)
            if j is None:
                return False
            vjp_name = self._define(body, j, assign, rest, y, inputs)
        # the gradients: y_vjp(grad_outputs)
        grads, notes = self._gradients(bound, vjp_name, y)
        notes.insert(0, f"-> mindspore.vjp of the statement that computed {y} (its function "
                        f"maps grad_outputs to the gradients)")
        action = CONVERTED
        if again:
            action = WARNING
            notes.append(f"the vjp of {y} is called again: MindSpore computes {y} once more "
                         "(dropout and batch norm run again)")
        if _literal(bound.get("allow_unused")) not in (None, "False"):
            action = WARNING
            notes.append("allow_unused: MindSpore gives zeros where torch gives None")
        return self._place(body, i, j, call, grads, notes, action, inputs, pairs)

    def _gradients(self, bound, vjp_name: str, value: str) -> Tuple[cst.BaseExpression, List[str]]:
        """`<vjp>(grad_outputs)`, constant (stop_gradient) without create_graph=True."""
        sens = bound.get("grad_outputs")
        sens = _single(sens) if sens is not None and _literal(sens) != "None" else cst.Call(
            self.ctx.name("mindspore.ops.ones_like"), [cst.Arg(cst.Name(value))])
        grads: cst.BaseExpression = cst.Call(cst.Name(vjp_name), [cst.Arg(sens)])
        notes = []
        create_graph = _literal(bound.get("create_graph"))
        if create_graph != "True":
            grads = cst.Call(self.ctx.name("mindspore.ops.stop_gradient"), [cst.Arg(grads)])
            notes.append("without create_graph=True the gradients are constants: "
                         "stop_gradient" if create_graph in (None, "False") else
                         "create_graph= is not a literal: taken as False (stop_gradient)")
        else:
            notes.append("differentiated again inside value_and_grad, as with "
                         "create_graph=True")
        return grads, notes

    def _convert_chain(self, body: list, i: int, call: cst.Call, bound, inputs: List[str],
                       pairs: list) -> bool:
        """`h = f(x)`, `y = g(h)`, then `grad(y.sum(), x)`: the statements between the
        inputs' assignment and the call become a function of the inputs that returns the
        outputs (and, as aux, the names the statements bound, for the code after them);
        `mindspore.vjp` of that function gives all of them and the gradients' function."""
        if pairs or self.made:
            return False  # one vjp per block this way: no order to keep with others
        start = 0  # after the inputs' last assignment (none: parameters of the function)
        for k in range(i - 1, -1, -1):
            stmt = body[k]
            if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
                return False
            small = stmt.body[0]
            if _bound_by(small) & set(inputs):
                start = k + 1
                break
            if not isinstance(small, cst.Assign) or len(small.targets) != 1 or _leaves(stmt):
                return False
        # the statements that depend on the inputs go into the function; the others stay
        # before it, where nothing moved into the function had read what they bind
        chain: List[cst.SimpleStatementLine] = []
        kept: List[cst.SimpleStatementLine] = []
        names: List[str] = []
        for stmt in body[start:i]:
            small = stmt.body[0]
            if names_in(small.value) & (set(inputs) | set(names)):
                chain.append(stmt)
                names += [n for n in target_names(small.targets[0].target) if n not in names]
            elif any(names_in(c.body[0].value) & _bound_by(small) for c in chain):
                return False
            else:
                kept.append(stmt)
        result = _single(bound["outputs"])
        if not chain or not (names_in(result) & set(names)) or set(names) & set(inputs):
            return False
        if any(set(target_names(k.body[0].targets[0].target)) & set(names) for k in kept):
            return False
        function, value, vjp_name = (self._fresh("objective"), self._fresh("objective_value"),
                                     self._fresh("objective_vjp"))
        module = cst.Module([])
        aux = ", ".join(names) + ("," if len(names) == 1 else "")
        definition = parse_statement(
            f"def {function}({', '.join(inputs)}):\n"
            f"    return {module.code_for_node(result.with_changes(lpar=[], rpar=[]))}, ({aux})\n")
        leading = chain[0].leading_lines
        chain = [chain[0].with_changes(leading_lines=[])] + chain[1:]
        definition = definition.with_changes(
            leading_lines=leading,
            body=definition.body.with_changes(body=[*chain, *definition.body.body]))
        vjp = module.code_for_node(self.ctx.name("mindspore.vjp"))
        made = parse_statement(
            f"{value}, {vjp_name}, ({aux}) = {vjp}({function}, {', '.join(inputs)}, "
            f"has_aux=True)\n")
        body[start:i] = [*kept, definition, made]
        start += len(kept)
        i = start + 2
        grads, notes = self._gradients(bound, vjp_name, value)
        notes.insert(0, f"-> mindspore.vjp of {function}, a function of the statements from "
                        f"{', '.join(inputs)} to the outputs (its vjp maps grad_outputs to the "
                        f"gradients; what they bound comes back as aux)")
        action = CONVERTED
        if _literal(bound.get("allow_unused")) not in (None, "False"):
            action = WARNING
            notes.append("allow_unused: MindSpore gives zeros where torch gives None")
        return self._place(body, i, start + 1, call, grads, notes, action, inputs, pairs)

    def _place(self, body: list, i: int, j: int, call: cst.Call, grads, notes: List[str],
               action: str, inputs: List[str], pairs: list) -> bool:
        """The gradients in place of the call in body[i]; body[j] made the vjp."""
        grads = grads.with_changes(lpar=call.lpar, rpar=call.rpar)
        stmt = body[i]
        self.add(call, API, action, "; ".join(notes))
        body[i] = rebuilt(stmt, traverse(stmt, _Replace(call, grads)))
        pairs.append((body[j], body[i]))
        self._drop_requires_grad(body, j, inputs)
        return True

    def _nested(self, body: list, j: int, pairs: list) -> Optional[int]:
        """Where the statement `body[j]` can make its vjp: MindSpore calls a vjp's
        function only while no vjp made after it is still to be called (last made,
        first called). A vjp made before `j` and called after it: the statement moves
        down past that call when nothing in between reads what it writes or writes
        what it uses; None when it cannot."""
        calls = [body.index(called) for made, called in pairs
                 if body.index(made) < j < body.index(called)]
        if not calls:
            return j
        to = max(calls)
        reads, writes = flow(body[j])
        used = set(reads) | set(writes)
        for stmt in body[j + 1:to + 1]:
            r, w = flow(stmt)
            if set(r) & set(writes) or set(w) & used:
                return None
        body[j:to + 1] = [*body[j + 1:to + 1], body[j]]
        return to

    def _define(self, body: list, j: int, assign: cst.Assign, rest, y: str,
                inputs: List[str]) -> str:
        """`y = f(x)` -> `y, y_vjp = mindspore.vjp(f, x)` in body[j]: the vjp's name."""
        vjp_name = self._fresh(f"{y}_vjp")
        computation = assign.value
        if (isinstance(computation, cst.Call) and len(computation.args) == len(inputs)
                and all(a.keyword is None and not a.star and isinstance(a.value, cst.Name)
                        and a.value.value == x for a, x in zip(computation.args, inputs))
                and not (names_in(computation.func) & set(inputs))):
            function = computation.func
        else:
            function = cst.Lambda(
                cst.Parameters([cst.Param(cst.Name(x), comma=_comma() if k < len(inputs) - 1
                                          else cst.MaybeSentinel.DEFAULT)
                                for k, x in enumerate(inputs)]),
                computation.with_changes(lpar=[], rpar=[]))
        args = [cst.Arg(function, comma=_comma())]
        args += [cst.Arg(cst.Name(x), comma=_comma()) for x in inputs]
        if rest:
            args.append(cst.Arg(cst.Name("True"), keyword=cst.Name("has_aux"),
                                equal=cst.AssignEqual(cst.SimpleWhitespace(""),
                                                      cst.SimpleWhitespace(""))))
        else:
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        targets: List[cst.BaseExpression] = [cst.Name(y), cst.Name(vjp_name)]
        if rest:
            targets.append(rest[0] if len(rest) == 1 else _tuple(rest).with_changes(
                lpar=[cst.LeftParen()], rpar=[cst.RightParen()]))
        vjp = cst.Call(self.ctx.name("mindspore.vjp"), args)
        new_assign = assign.with_changes(targets=[cst.AssignTarget(_tuple(targets))],
                                         value=vjp)
        old = body[j]
        body[j] = rebuilt(old, old.with_changes(body=[
            new_assign if s is assign else s for s in old.body]))
        self.made[id(new_assign)] = (new_assign, vjp_name, inputs)
        return vjp_name

    def _definition(self, body: list, i: int, y: str, inputs: List[str]
                    ) -> Optional[Tuple[int, cst.Assign, List[cst.BaseExpression]]]:
        """The statement of `body` before `i` that last bound `y`, when it is
        `y = <expression of the inputs>` (or `y, *aux = <call>`) and neither `y` nor an
        input is bound again up to `i`: (its index, the assignment, aux targets)."""
        watched = {y, *inputs}
        for j in range(i - 1, -1, -1):
            stmt = body[j]
            if _leaves(stmt):
                return None  # a vjp made and never called stops the ones made after it
            if not isinstance(stmt, cst.SimpleStatementLine):
                if rebound_names([stmt], nested=False) & watched:
                    return None
                continue
            for small in reversed(stmt.body):
                bound = _bound_by(small)
                if y in bound:
                    found = self._assignment(small, y, inputs)
                    return None if found is None else (j, *found)
                if bound & watched:
                    return None
        return None

    @staticmethod
    def _assignment(small, y: str, inputs: List[str]):
        if not isinstance(small, cst.Assign) or len(small.targets) != 1:
            return None
        target, value = small.targets[0].target, small.value
        if set(inputs) - names_in(value):
            return None  # not computed from every input
        if isinstance(target, cst.Name):
            return small, []
        if (isinstance(target, (cst.Tuple, cst.List)) and len(target.elements) >= 2
                and isinstance(value, cst.Call)
                and isinstance(target.elements[0].value, cst.Name)
                and target.elements[0].value.value == y
                and not any(isinstance(e, cst.StarredElement) for e in target.elements)):
            rest = [e.value for e in target.elements[1:]]
            if y in {n for r in rest for n in target_names(r)}:
                return None
            return small, rest
        return None

    def _fresh(self, name: str) -> str:
        candidate, n = name, 1
        while candidate in self.taken:
            n += 1
            candidate = f"{name}{n}"
        self.taken.add(candidate)
        return candidate

    def _drop_requires_grad(self, body: list, j: int, inputs: List[str]) -> None:
        """`x = E.requires_grad_(True)` -> `x = E`; `x = Variable(E, requires_grad=True)`
        -> `x = Variable(E)`, for the last assignment of each input before `j`."""
        for x in inputs:
            for k in range(j - 1, -1, -1):
                stmt = body[k]
                if not isinstance(stmt, cst.SimpleStatementLine):
                    if rebound_names([stmt], nested=False) & {x}:
                        break
                    continue
                small = next((s for s in reversed(stmt.body) if x in _bound_by(s)), None)
                if small is None:
                    continue
                if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(
                        small.targets[0].target, cst.Name):
                    value = self._without_requires_grad(small.value)
                    if _is_variable_of(self.ctx, value, x) and len(stmt.body) == 1:
                        self.drop(stmt, [])  # `x = Variable(x)` is `x = x`
                    elif value is not small.value:
                        body[k] = rebuilt(stmt, stmt.with_changes(body=[
                            small.with_changes(value=value) if s is small else s
                            for s in stmt.body]))
                break

    def _without_requires_grad(self, value: cst.BaseExpression) -> cst.BaseExpression:
        if (isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute)
                and value.func.attr.value == "requires_grad_"
                and all(a.keyword is None or a.keyword.value == "requires_grad"
                        for a in value.args)
                and all(_literal(a.value) == "True" for a in value.args)):
            inner = value.func.value
            if "\n" in cst.Module([]).code_for_node(inner):
                return inner  # its parentheses may carry the lines
            return inner.with_changes(lpar=[], rpar=[])
        if isinstance(value, cst.Call) and self.ctx.resolve(value.func) == \
                "torch.autograd.Variable":
            args = [a for a in value.args
                    if not (a.keyword is not None and a.keyword.value == "requires_grad"
                            and _literal(a.value) == "True")]
            if len(args) != len(value.args):
                args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                return value.with_changes(args=args)
        return value


def _is_variable_of(ctx: Context, value: cst.BaseExpression, name: str) -> bool:
    return (isinstance(value, cst.Call) and ctx.resolve(value.func) == "torch.autograd.Variable"
            and len(value.args) == 1 and value.args[0].keyword is None
            and isinstance(value.args[0].value, cst.Name) and value.args[0].value.value == name)


def _bound_by(small: cst.CSTNode) -> Set[str]:
    if isinstance(small, cst.Assign):
        return {n for t in small.targets for n in target_names(t.target)}
    if isinstance(small, (cst.AnnAssign, cst.AugAssign)):
        return set(target_names(small.target))
    if isinstance(small, cst.Del):
        return set(target_names(small.target))
    return set()


class _Exits(FastVisitor):
    def __init__(self) -> None:
        self.found = False

    def visit_FunctionDef(self, node) -> bool:
        return False

    def visit_ClassDef(self, node) -> bool:
        return False

    def visit_Lambda(self, node) -> bool:
        return False

    def on_visit(self, node) -> bool:
        if isinstance(node, (cst.Return, cst.Raise, cst.Break, cst.Continue)):
            self.found = True
        return not self.found and super().on_visit(node)


def _leaves(stmt: cst.CSTNode) -> bool:
    """Does the statement leave its block early (return, raise, break, continue)?"""
    exits = _Exits()
    traverse(stmt, exits)
    return exits.found


class _Replace(FastTransformer):
    def __init__(self, old: cst.CSTNode, new: cst.CSTNode) -> None:
        super().__init__()
        self.old, self.new = old, new

    def leave_Call(self, original, updated):
        return self.new if original is self.old else updated


def _contains(stmt: cst.CSTNode, node: cst.CSTNode) -> bool:
    if stmt is node:
        return True
    return any(_contains(child, node) for child in stmt.children)
