"""Distributions that MindSpore builds from probabilities only, draws with a tensor's own
probabilities, or lacks (written into the file as classes)."""
from __future__ import annotations

import libcst as cst

from ..core.callrewrite import Bound, Unsupported, render_template, rewrite, value_of
from ..core.names import dotted_name
from .base import literal, transform
from .helper_code import request


@transform
def logits_as_probs(ctx, rule, bound: Bound, call=None):
    """logits= (given, not None) becomes probs= through the rule's `values` template
    for logits (ops.sigmoid, ops.softmax); a None one is dropped."""
    logits = bound.get("logits")
    if logits is None or literal(logits) == "None":
        bound.pop("logits")
        return None
    probs = bound.get("probs")
    if probs is not None and literal(probs) != "None":
        raise Unsupported("probs and logits given together (torch refuses it too)")
    bound.pop("probs")
    bound.pop("logits")
    bound.set("probs", value_of(rule.values["logits"], logits, ctx.name))
    return None


# constructors that give the same tensor when written twice (not the random ones)
_ALIKE = {"tensor", "Tensor", "ones", "zeros", "full", "arange", "linspace", "eye"}


def alike_twice(node: cst.BaseExpression) -> bool:
    if isinstance(node, (cst.Name, cst.Attribute, cst.Subscript)):
        return True
    dotted = dotted_name(node.func) if isinstance(node, cst.Call) else None
    root, _, last = (dotted or "").rpartition(".")
    return last in _ALIKE and root.split(".")[0] in ("mindspore", "ops")


@transform
def bernoulli_own_probs(ctx, rule, bound: Bound, call=None):
    """x.bernoulli() / torch.bernoulli(x) draw with x's own probabilities, with p
    when given: both are ops.bernoulli(x, p=...) (MindSpore's Tensor.bernoulli has no
    CPU kernel). A generator is dropped with the rule's warning (reproducibility only)."""
    generator = bound.pop("generator")
    if literal(generator) not in (None, "None"):
        bound.warnings.append(f"dropped 'generator': {rule.warn['generator']}")
    if literal(bound.get("p")) in (None, "None"):
        own = bound.get("self") if "self" in bound.values else bound.get("input")
        if own is None:
            raise Unsupported("needs the argument 'input'")
        if not alike_twice(own):
            raise Unsupported("the tensor is both the shape and the probabilities: assign it "
                              "to a variable first")
        bound.set("p", own)
    return render_template(rule, bound, ctx.name)


@transform
def written_class(ctx, rule, bound: Bound, call=None):
    """A torch class MindSpore lacks (a distribution transform, TransformedDistribution,
    Independent; a few layers): the class of that name written into the file
    (distribution_helper_code.py, layer_helper_code.py), called with torch's arguments,
    as it takes torch's signature."""
    return rewrite(rule, bound, request(ctx, rule.torch_name.rpartition(".")[2]), call, ctx.name)
