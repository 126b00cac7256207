"""torch.nn layers that become a Cell written into the file for some arguments only
(transforms/nn_extra_helper_code.py), MindSpore's own layer otherwise."""
from __future__ import annotations

import re

import libcst as cst

from ..core.callrewrite import Bound, Unsupported, code, render_template, rewrite
from ..core.traversal import FastVisitor, traverse
from .base import literal, transform
from .helper_code import request


@transform
def weighted_bce_loss(ctx, rule, bound: Bound, call=None):
    """nn.BCELoss(weight=w) -> the BCELoss Cell written into the file (MindSpore 2.10's
    BCELoss returns garbage on CPU for a weight that broadcasts); without a weight,
    MindSpore's nn.BCELoss."""
    if literal(bound.get("weight")) in (None, "None"):
        bound.pop("weight")
        return None
    return rewrite(rule, bound, request(ctx, "BCELoss"), call, ctx.name)


_RECURRENT = re.compile(r"\b(?:LSTM|GRU|RNN)\s*\(")


@transform
def packed_sequence_helper(ctx, rule, bound: Bound, call=None):
    """pack_padded_sequence / pack_sequence / pad_packed_sequence / unpack_sequence -> the
    function of that name written into the file, which lays out (or reads) torch's
    PackedSequence. Refused in a file that builds a recurrent layer: MindSpore's
    LSTM/GRU/RNN take the padded batch and seq_length instead (passes/packed_sequences.py
    converts packing, the layer and unpacking where they sit in one block)."""
    if _RECURRENT.search(ctx.source):
        raise Unsupported("a packed batch for a recurrent layer: MindSpore's LSTM/GRU/RNN "
                          "take the padded batch and seq_length=lengths instead (converted "
                          "where packing, the layer and unpacking sit in one block)")
    name = rule.torch_name.rpartition(".")[2]
    return rewrite(rule, bound, request(ctx, name), call, ctx.name)


@transform
def checkpointed_call(ctx, rule, bound: Bound, call=None):
    """torch.utils.checkpoint.checkpoint(f, *args) -> f(*args): recomputing f in the
    backward pass only saves memory, the values and gradients are the same (a warning
    says so; mindspore.recompute is MindSpore's way, on a Cell)."""
    function = bound.get("function")
    if function is None:
        raise Unsupported("no function to call")
    items = bound.packed.get("args", [])
    args = [cst.Arg(item.value, star="*") if isinstance(item, cst.StarredElement)
            else cst.Arg(item) for item in items]
    args += [cst.Arg(a.value, star=a.star) for a in bound.opaque]
    dropped = [name for name in rule.args[2:] if name in bound.values]
    if dropped:
        bound.warnings.append(f"{', '.join(dropped)} dropped")
    return cst.Call(function, args)


@transform
def optional_state_cell(ctx, rule, bound: Bound, call=None):
    """nn.RNNCell / GRUCell / LSTMCell -> MindSpore's cell; in a file that calls such a
    cell without its state (torch's zeros), a subclass of MindSpore's cell of that name
    written into the file, whose state may be left out. MindSpore's construct needs it."""
    if not _called_without_state(ctx, rule.torch_name):
        return None
    return rewrite(rule, bound, request(ctx, rule.torch_name.rpartition(".")[2]), call, ctx.name)


def _called_without_state(ctx, qualified: str) -> bool:
    """Whether the file calls a name (or `self.x`) it assigns a `qualified` cell to with
    a single positional argument."""
    if ctx.tree is None:
        return False
    finder = _CellCalls(ctx, qualified)
    traverse(ctx.tree, finder)
    return bool(finder.holders & finder.one_argument)


class _CellCalls(FastVisitor):
    """What holds a `qualified` cell, and what is called with one positional argument."""

    def __init__(self, ctx, qualified: str):
        super().__init__()
        self.ctx, self.qualified = ctx, qualified
        self.holders, self.one_argument = set(), set()

    def visit_Assign(self, node):
        if (isinstance(node.value, cst.Call)
                and self.ctx.resolve(node.value.func) == self.qualified):
            self.holders.update(code(t.target).strip() for t in node.targets)

    def visit_Call(self, node):
        if len(node.args) == 1 and not node.args[0].star and node.args[0].keyword is None:
            self.one_argument.add(code(node.func).strip())


@transform
def instance_norm_stats(ctx, rule, bound: Bound, call=None):
    """F.instance_norm: without running statistics, the rule's group_norm template; with
    them (updated in place, or used with use_input_stats=False), the function of that
    name written into the file."""
    stats = [literal(bound.get(name)) for name in ("running_mean", "running_var", "use_input_stats")]
    if all(text in (None, "None") for text in stats[:2]) and stats[2] in (None, "True"):
        for name in ("running_mean", "running_var", "use_input_stats", "momentum"):
            bound.pop(name)
        return render_template(rule, bound, ctx.name)
    return rewrite(rule, bound, request(ctx, "instance_norm"), call, ctx.name)


@transform
def any_length_avg_pool1d(ctx, rule, bound: Bound, call=None):
    """nn.AdaptiveAvgPool1d(1) -> MindSpore's layer (any length divides into one); any
    other output size -> the AdaptiveAvgPool1d Cell written into the file, as MindSpore's
    raises unless output_size divides the input length."""
    if literal(bound.get("output_size")) in ("1", "(1,)", "[1]"):
        return None
    return rewrite(rule, bound, request(ctx, "AdaptiveAvgPool1d"), call, ctx.name)
