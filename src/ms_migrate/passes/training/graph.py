"""Which statements may carry a gradient graph, and which only move data.

A forward function must recompute everything between the parameters and the
loss; what is only data (a batch moved to a device, noise from torch.randn,
labels made with torch.ones) can be computed outside it and passed in. Anything
not recognisably data counts as graph: capturing too much is safe, too little
gives zero gradients.
"""
from __future__ import annotations

import re
from typing import Callable, Dict, Iterable, List, Set

import libcst as cst

from ...core.context import Context
from ...core.traversal import FastVisitor, traverse
from .names import target_names, writes

# Tensor methods that return data derived from their receiver only.
DATA_METHODS = frozenset({
    "to", "cuda", "cpu", "float", "double", "half", "long", "int", "bool", "type",
    "view", "reshape", "squeeze", "unsqueeze", "permute", "transpose", "flatten",
    "contiguous", "clone", "t", "size", "dim", "numel", "unbind", "split", "chunk",
})
DATA_ATTRIBUTES = frozenset({"shape", "dtype", "device", "ndim", "data", "T"})
# torch functions that create new tensors: no graph flows from their arguments.
CREATION = frozenset(f"torch.{n}" for n in (
    "randn", "rand", "randint", "randperm", "zeros", "ones", "full", "empty", "eye",
    "arange", "linspace", "tensor", "as_tensor", "from_numpy", "randn_like",
    "rand_like", "randint_like", "zeros_like", "ones_like", "full_like", "empty_like",
    "normal", "bernoulli", "multinomial",
    # the legacy typed classes made from data (legacy-tensors spells them so)
    "Tensor", "FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor",
    "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor",
)) | {"torch.nn.functional.one_hot"}
# Loops over these iterate parameters or modules, not data.
PARAMETER_ITERATORS = frozenset({"parameters", "named_parameters", "children", "modules",
                                 "named_modules", "buffers"})
_PARAMETERS_CALL = re.compile(r"\.(?:parameters|named_parameters)\(")
_LITERALS = frozenset({cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString,
                       cst.ConcatenatedString, cst.FormattedString})
GRAD_MODE = frozenset({"torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad"})


class DataFlow:
    """Per statement: does it only move data? Decided in source order over a scope."""

    def __init__(self, ctx: Context, params: Iterable[str] = (),
                 written: Callable[[cst.CSTNode], Set[str]] = writes):
        """`written`: the names a statement binds (the caller's cached Flows.writes)."""
        self.ctx = ctx
        self._writes = written
        self.data_names: Set[str] = set(params)
        self.is_data: Dict[int, bool] = {}
        # names whose parameters the file asks for: models, built once, not per step
        self.models = _models(ctx.source)

    def visit(self, stmt: cst.CSTNode) -> None:
        data = self._statement_is_data(stmt)
        self.is_data[id(stmt)] = data
        if data:
            self.data_names |= self._writes(stmt)
        else:
            self.data_names -= self._writes(stmt)
        if type(stmt) is cst.For and not data:
            iterates_params = any(
                isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute)
                and n.func.attr.value in PARAMETER_ITERATORS for n in _calls(stmt.iter))
            if not iterates_params:
                self.data_names |= set(target_names(stmt.target))

    def _statement_is_data(self, stmt: cst.CSTNode) -> bool:
        kind = type(stmt)
        if kind is cst.With:
            return any(self._grad_mode(item.item) for item in stmt.items)
        if kind is not cst.SimpleStatementLine or len(stmt.body) != 1:
            return False
        small = stmt.body[0]
        if type(small) is cst.Assign:
            if type(small.value) is cst.Call and len(small.targets) == 1 and (
                    self._constructs_layer(small.value) or (
                        type(small.targets[0].target) is cst.Name
                        and small.targets[0].target.value in self.models)):
                return True  # `model = Net()`, `layer = nn.Linear(4, 2)`
            return self.expr_is_data(small.value)
        return False

    def _constructs_layer(self, call: cst.Call) -> bool:
        """`nn.Linear(4, 2)`, `nn.Parameter(w)`: a layer or a parameter is made, not
        computed: no graph flows from its arguments into a loss."""
        qualified = self.ctx.resolve(call.func) or ""
        last = qualified.rsplit(".", 1)[-1]
        return qualified.startswith("torch.nn.") and not qualified.startswith(
            "torch.nn.functional.") and last[:1].isupper()

    def _grad_mode(self, expr: cst.BaseExpression) -> bool:
        func = expr.func if isinstance(expr, cst.Call) else expr
        qualified = self.ctx.resolve(func)
        if qualified == "torch.set_grad_enabled" and isinstance(expr, cst.Call):
            arg = expr.args[0].value if expr.args else None
            return isinstance(arg, cst.Name) and arg.value == "False"
        return qualified in GRAD_MODE

    def expr_is_data(self, expr: cst.BaseExpression) -> bool:
        kind = type(expr)  # types compared: isinstance against libcst's ABCs is slow
        if kind is cst.Name:
            return expr.value in self.data_names or expr.value in ("None", "True", "False")
        if kind in _LITERALS:
            return True
        if kind is cst.Attribute:
            return expr.attr.value in DATA_ATTRIBUTES and self.expr_is_data(expr.value)
        if kind is cst.Subscript:
            return self.expr_is_data(expr.value)
        if kind is cst.Tuple or kind is cst.List:
            return all(self.expr_is_data(el.value) for el in expr.elements)
        if kind is cst.BinaryOperation:
            return self.expr_is_data(expr.left) and self.expr_is_data(expr.right)
        if kind is cst.UnaryOperation:
            return self.expr_is_data(expr.expression)
        if kind is cst.Call:
            return self._call_is_data(expr)
        return False

    def _call_is_data(self, call: cst.Call) -> bool:
        qualified = self.ctx.resolve(call.func)
        if qualified == "torch.autograd.Variable":  # Variable(x) is x, unless it asks for grad
            return all(self.expr_is_data(a.value) if a.keyword is None or a.keyword.value ==
                       "data" else a.keyword.value != "requires_grad"
                       or (isinstance(a.value, cst.Name) and a.value.value == "False")
                       for a in call.args)
        if qualified is not None:
            return qualified in CREATION
        if isinstance(call.func, cst.Attribute):
            method = call.func.attr.value
            if method == "detach":
                return True
            if method in DATA_METHODS:
                return self.expr_is_data(call.func.value)
        return False


def _models(source: str) -> Set[str]:
    """The words before `.parameters(` / `.named_parameters(` (what the regex
    `\b(\w+)\.(?:parameters|named_parameters)\(` finds): the call is searched for
    first, a literal, and the word read backwards from it (far faster than trying a
    word at every position)."""
    found = set()
    for match in _PARAMETERS_CALL.finditer(source):
        end = start = match.start()
        while start and (source[start - 1].isalnum() or source[start - 1] == "_"):
            start -= 1  # \w: what isalnum() accepts, and "_"
        if start < end:
            found.add(source[start:end])
    return found


def _calls(expr: cst.BaseExpression):
    collect = _Collect()
    traverse(expr, collect)
    return collect.found


class _Collect(FastVisitor):
    # one class for all calls: a class per call would plan its traversal again each time
    def __init__(self) -> None:
        self.found: List[cst.Call] = []

    def visit_Call(self, node):
        self.found.append(node)
