"""nn.EmbeddingBag and F.embedding_bag -> the helpers of bag_helper_code.py, called with
torch's arguments. Options that only change the gradient's storage (`sparse`) go with a
warning; the ones the helpers do not compute (`max_norm`, `scale_grad_by_freq`) refuse
the call when given literally, and are passed on otherwise: the helper raises if they
are set when it runs."""
from __future__ import annotations

import libcst as cst

from ..core.callrewrite import Bound, Unsupported, rewrite
from .base import literal, transform
from .helper_code import request

_UNSET = {"max_norm": "None", "scale_grad_by_freq": "False"}


def _bag_arguments(bound: Bound) -> None:
    sparse = literal(bound.pop("sparse"))
    if sparse not in (None, "False"):
        bound.warnings.append("dropped 'sparse': MindSpore's gradient of the table is dense "
                              "(same values, more memory)")
    for name, unset in _UNSET.items():
        text = literal(bound.get(name))
        if text == unset:
            bound.pop(name)
        elif text is not None and (text[0].isdigit() or text in ("True", "False")):
            raise Unsupported(f"{name}={text}: not available in the embedding bag helper")
    if "max_norm" not in bound.values:
        bound.pop("norm_type")


@transform
def embedding_bag_helper(ctx, rule, bound: Bound, call=None):
    """F.embedding_bag(...) -> embedding_bag(...), written into the file."""
    _bag_arguments(bound)
    return rewrite(rule, bound, request(ctx, "embedding_bag"), call, ctx.name)


@transform
def embedding_bag_layer(ctx, rule, bound: Bound, call=None):
    """nn.EmbeddingBag(...) -> EmbeddingBag(...), a Cell written into the file."""
    _bag_arguments(bound)
    return rewrite(rule, bound, request(ctx, "EmbeddingBag"), call, ctx.name)


@transform
def embedding_bag_pretrained(ctx, rule, bound: Bound, call=None):
    """nn.EmbeddingBag.from_pretrained(...) -> EmbeddingBag.from_pretrained(...), the
    classmethod of the Cell written into the file."""
    _bag_arguments(bound)
    method = cst.Attribute(request(ctx, "EmbeddingBag"), cst.Name("from_pretrained"))
    return rewrite(rule, bound, method, call, ctx.name)
