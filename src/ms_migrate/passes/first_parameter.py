"""`next(model.parameters())` -> `model.parameters()[0]` (then `trainable_params()[0]`).

torch's `parameters()` is a generator and code takes its first item with `next()` to
read the model's dtype or device; MindSpore's `trainable_params()` is a list, which
`next()` refuses. The first item is indexed instead.
"""
from __future__ import annotations

import re

import libcst as cst

from ..core.context import Context
from ..core.traversal import FastTransformer, traverse
from .text_search import found

_APPLIES = re.compile(r"\bnext\(\s*(?:iter\(\s*)?[\w.]+\.parameters\(\s*\)")


def applies(source: str) -> bool:
    return found(_APPLIES, source, "next(")


def index_first_parameter(ctx: Context, module: cst.Module) -> cst.Module:
    return traverse(module, _FirstParameter())


def _parameters_call(node: cst.BaseExpression) -> bool:
    return (isinstance(node, cst.Call) and not node.args
            and isinstance(node.func, cst.Attribute) and node.func.attr.value == "parameters")


def _sole_argument(call: cst.Call, name: str):
    if (isinstance(call.func, cst.Name) and call.func.value == name and len(call.args) == 1
            and call.args[0].keyword is None and not call.args[0].star):
        return call.args[0].value
    return None


class _FirstParameter(FastTransformer):
    def leave_Call(self, original: cst.Call, updated: cst.Call):
        inner = _sole_argument(updated, "next")
        if inner is None:
            return updated
        if isinstance(inner, cst.Call) and _sole_argument(inner, "iter") is not None:
            inner = _sole_argument(inner, "iter")
        if not _parameters_call(inner):
            return updated
        index = cst.SubscriptElement(cst.Index(cst.Integer("0")))
        return cst.Subscript(value=inner, slice=[index], lpar=updated.lpar, rpar=updated.rpar)
