"""A torch class picked by name among listed ones: one call per name, each converted.

    if rnn_type in ['LSTM', 'GRU']:
        self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
->
    if rnn_type in ['LSTM', 'GRU']:
        self.rnn = (nn.LSTM(ninp, nhid, nlayers, dropout=dropout) if rnn_type == 'LSTM'
                    else nn.GRU(ninp, nhid, nlayers, dropout=dropout))

`getattr(<torch module>, name)(...)` runs only with the names the enclosing `if name in
[...]` lists, so the call is written out for each of them; the API pass then converts
each call with its own rule (MindSpore's layers take other argument names). Without
such a test, or with a listed name the tables do not know, the code is left alone.
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

import libcst as cst

from ..core.context import Context
from ..core.names import TORCH_MODULES
from ..core.quick_libcst import parse_expression
from ..core.strings import string_value
from ..core.traversal import FastTransformer, traverse
from .text_search import found

_APPLIES = re.compile(r"\bgetattr\(\s*[\w.]+\s*,\s*\w+\s*\)\s*\(")


def applies(source: str) -> bool:
    return found(_APPLIES, source, "getattr(")


def expand_named_layers(ctx: Context, module: cst.Module) -> cst.Module:
    return traverse(module, _NamedLayers(ctx))


def _listed(test: cst.BaseExpression) -> Optional[Tuple[str, List[str]]]:
    """`name in ['A', 'B']` -> ("name", ["A", "B"])."""
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1
            and isinstance(test.comparisons[0].operator, cst.In)
            and isinstance(test.left, cst.Name)):
        return None
    options = test.comparisons[0].comparator
    if not isinstance(options, (cst.List, cst.Tuple, cst.Set)) or not options.elements:
        return None
    names = []
    for element in options.elements:
        value = element.value
        if not isinstance(value, cst.SimpleString) or not string_value(value).isidentifier():
            return None
        names.append(string_value(value))
    return test.left.value, names


class _NamedLayers(FastTransformer):
    def __init__(self, ctx: Context) -> None:
        super().__init__()
        self.ctx = ctx
        self.guarded: Dict[int, Tuple[str, List[str]]] = {}  # id(if body) -> test
        self.open: List[Tuple[str, List[str]]] = []

    def visit_If(self, node: cst.If) -> None:
        listed = _listed(node.test)
        if listed is not None:
            self.guarded[id(node.body)] = listed

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        if id(node) in self.guarded:
            self.open.append(self.guarded[id(node)])

    def leave_IndentedBlock(self, original, updated):
        if self.guarded.pop(id(original), None) is not None:
            self.open.pop()
        return updated

    def leave_Call(self, original: cst.Call, updated: cst.Call):
        picked = updated.func
        if not (isinstance(picked, cst.Call) and isinstance(picked.func, cst.Name)
                and picked.func.value == "getattr" and len(picked.args) == 2
                and isinstance(picked.args[1].value, cst.Name)
                and all(a.keyword is None and not a.star for a in picked.args)):
            return updated
        namespace = self.ctx.resolve(picked.args[0].value)
        variable = picked.args[1].value.value
        names = next((n for v, n in reversed(self.open) if v == variable), None)
        if namespace not in TORCH_MODULES or names is None or any(
                self.ctx.rules.get(f"{namespace}.{n}") is None for n in names):
            return updated
        calls = [updated.with_changes(func=cst.Attribute(picked.args[0].value, cst.Name(n)))
                 for n in names]
        expression: cst.BaseExpression = calls[-1]
        for name, call in zip(reversed(names[:-1]), reversed(calls[:-1])):
            test = parse_expression(f"{variable} == {name!r}")
            expression = cst.IfExp(test=test, body=call, orelse=expression)
        if isinstance(expression, cst.IfExp):
            expression = expression.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        return expression
