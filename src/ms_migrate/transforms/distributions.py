"""Distributions that MindSpore builds from probabilities only."""
from __future__ import annotations

from ..core.callrewrite import Bound, Unsupported, value_of
from .base import literal, transform


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
