"""torch's DistributedSampler(drop_last=True): MindSpore's DistributedSampler deals the
rows round-robin like torch's and pads the last shard; `num_samples` = len(dataset) //
shards keeps each shard at torch's floor(len / shards) rows, the padding left out."""
from __future__ import annotations

import libcst as cst

from ..core.callrewrite import Bound, Unsupported, code
from ..core.quick_libcst import parse_expression
from .base import literal, transform


def _plain(node: cst.BaseExpression) -> bool:
    while isinstance(node, cst.Attribute):
        node = node.value
    return isinstance(node, cst.Name)


@transform
def sharded_drop_last(ctx, rule, bound: Bound, call=None):
    """drop_last=True -> num_samples=len(dataset) // num_shards; False goes."""
    flag = bound.pop("drop_last")
    text = literal(flag)
    if flag is None or text in ("False", "None"):
        return None
    dataset = bound.get("dataset")
    if dataset is None or not _plain(dataset):
        raise Unsupported("drop_last with a dataset that is not a name: MindSpore needs "
                          "len(dataset) // num_shards as num_samples")
    shards = bound.get("num_replicas")
    shards_text = (code(shards).strip() if shards is not None
                   else code(ctx.name("mindspore.communication.get_group_size")) + "()")
    if isinstance(shards, (cst.BinaryOperation, cst.IfExp, cst.Lambda, cst.BooleanOperation)):
        shards_text = f"({shards_text})"
    count = f"len({code(dataset).strip()}) // {shards_text}"
    if text != "True":
        count = f"{count} if {text} else None"
    bound.set("num_samples", parse_expression(count))
    return None
