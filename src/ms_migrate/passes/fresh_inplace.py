"""In-place calls on a tensor just made: the value, written without the in-place call.

    torch.zeros(shape, device=device).float().uniform_(0, 1) < prob
    torch.zeros(1, 1, dim).fill_(init_eps)
    torch.ones(i, j).triu_(j - i + 1)
->
    torch.rand_like(torch.zeros(shape, device=device).float()) < prob
    torch.full_like(torch.zeros(1, 1, dim), init_eps)
    torch.ones(i, j).triu(j - i + 1)

Nothing else holds the new tensor, so writing into it or making a new one is the same
value; MindSpore's in-place methods cannot write into an expression (and its random
ones have no CPU kernel). Rewritten in torch terms, before the tables convert it.
A new tensor: torch.zeros/ones/empty/rand/randn and the `_like` ones (then dtype or
device methods), or `.clone()`; sampled in place, a factory call becomes the sampler
(`torch.empty(n).uniform_(a, b)` -> `torch.rand(n) * (b - a) + a`); a legacy typed
constructor given data (`torch.FloatTensor((n, 1))`: two values) through `_like`.
"""
from __future__ import annotations

import re
from typing import Optional

import libcst as cst

from ..core.context import Context
from ..core.quick_libcst import parse_expression
from ..core.traversal import FastTransformer, traverse

_FACTORIES = frozenset({"torch.zeros", "torch.ones", "torch.empty", "torch.randn",
                        "torch.rand", "torch.zeros_like", "torch.ones_like",
                        "torch.empty_like"})
# the legacy typed constructors given data written out (`torch.FloatTensor((n, 1),
# device=...)`: four values, not a shape): a new tensor, sampled through `_like`
_LEGACY = frozenset({"torch.Tensor", "torch.FloatTensor", "torch.DoubleTensor",
                     "torch.HalfTensor", "torch.cuda.FloatTensor", "torch.cuda.DoubleTensor",
                     "torch.cuda.HalfTensor"})
# a factory whose values already follow the standard law an in-place sampler would draw
_SAMPLES = {"uniform_": "torch.rand", "normal_": "torch.randn"}
_CASTS = frozenset({"float", "double", "half", "long", "int", "bool", "to", "type_as", "type"})
# in-place methods whose out-of-place twin is the same name without the underscore
_TWINS = frozenset({"triu_", "tril_", "masked_fill_", "mul_", "add_", "sub_",
                    "div_", "clamp_", "index_fill_", "pow_", "neg_", "abs_", "exp_"})
_APPLIES = re.compile(r"\)\s*\.\s*(?:uniform_|normal_|fill_|zero_|"
                      + "|".join(_TWINS) + r")\(")


def applies(source: str) -> bool:
    return bool(_APPLIES.search(source))


def rewrite_fresh_inplace(ctx: Context, module: cst.Module) -> cst.Module:
    return traverse(module, _FreshInplace(ctx))


def _like(ctx: Context, receiver: cst.BaseExpression, name: str, *args: cst.Arg) -> cst.Call:
    torch = next((a for a, q in ctx.aliases.items() if q == "torch"), None) or "torch"
    return cst.Call(parse_expression(f"{torch}.{name}"), [cst.Arg(receiver), *args])


def _number(node: Optional[cst.BaseExpression], default: str) -> Optional[str]:
    """A literal number's text, or an expression's (bracketed unless it is an atom)."""
    if node is None:
        return default
    if isinstance(node, (cst.Integer, cst.Float)):
        return node.value
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus) \
            and isinstance(node.expression, (cst.Integer, cst.Float)):
        return "-" + node.expression.value
    text = cst.Module([]).code_for_node(node)
    if isinstance(node, (cst.Name, cst.Attribute, cst.Subscript, cst.Call)) or node.lpar:
        return text
    return f"({text})"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class _FreshInplace(FastTransformer):
    def __init__(self, ctx: Context) -> None:
        super().__init__()
        self.ctx = ctx

    def _fresh(self, node: cst.BaseExpression) -> bool:
        while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) \
                and node.func.attr.value in _CASTS:
            node = node.func.value
        if not isinstance(node, cst.Call):
            return False
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "clone":
            return True
        made = self.ctx.resolve(node.func)
        if made in _LEGACY:  # sizes filled at birth are passes/legacy_tensors.py's
            positional = [a for a in node.args if a.keyword is None]
            return len(positional) == 1 and not positional[0].star and isinstance(
                positional[0].value, (cst.List, cst.Tuple, cst.ListComp))
        return made in _FACTORIES

    def leave_Call(self, original: cst.Call, updated: cst.Call):
        func = updated.func
        if not (isinstance(func, cst.Attribute) and func.attr.value.endswith("_")
                and self._fresh(func.value)):
            return updated
        method, receiver = func.attr.value, func.value
        if any(a.star for a in updated.args):
            return updated
        positional = [a.value for a in updated.args if a.keyword is None]
        named = {a.keyword.value: a.value for a in updated.args if a.keyword is not None}
        if method in _TWINS:
            return updated.with_changes(func=func.with_changes(attr=cst.Name(method[:-1])))
        if method == "zero_" and not updated.args:
            return _like(self.ctx, receiver, "zeros_like")
        if method == "fill_" and len(positional) == 1 and not named:
            return _like(self.ctx, receiver, "full_like", cst.Arg(positional[0]))
        if method in ("uniform_", "normal_") and len(positional) <= 2:
            if method == "uniform_":
                names = ("from", "to")
                low = _number(positional[0] if positional else named.get("from"), "0")
                high = _number(positional[1] if len(positional) > 1 else named.get("to"), "1")
            else:
                names = ("mean", "std")
                low = _number(positional[0] if positional else named.get("mean"), "0")
                high = _number(positional[1] if len(positional) > 1 else named.get("std"), "1")
            if set(named) - set(names) or low is None or high is None:
                return updated
            made = self.ctx.resolve(receiver.func) if isinstance(receiver, cst.Call) else None
            if made == _SAMPLES[method]:
                sample = receiver  # torch.randn(n).normal_(m, s): randn's values, scaled
            elif made in _FACTORIES and isinstance(receiver.func, cst.Attribute):
                # torch.empty(n).uniform_(a, b): torch.rand(n), same sizes and options
                sampler = _SAMPLES[method].split(".")[1]
                sample = receiver.with_changes(func=receiver.func.with_changes(attr=cst.Name(
                    sampler + "_like" if made.endswith("_like") else sampler)))
            else:
                sample = _like(self.ctx, receiver, "rand_like" if method == "uniform_"
                               else "randn_like")
            text = cst.Module([]).code_for_node(sample)
            literal = _is_number(low) and _is_number(high)
            if method == "uniform_":
                unit = literal and float(high) - float(low) == 1
                scale = "" if unit else f" * ({high} - {low})"
            else:
                scale = "" if _is_number(high) and float(high) == 1 else f" * {high}"
            shift = ("" if _is_number(low) and float(low) == 0 else f" - {low[1:]}"
                     if _is_number(low) and low.startswith("-") else f" + {low}")
            if not scale and not shift:
                return sample.with_changes(lpar=updated.lpar, rpar=updated.rpar)
            return parse_expression(f"({text}{scale}{shift})")
        return updated
