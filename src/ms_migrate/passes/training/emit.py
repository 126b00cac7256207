"""The MindSpore statements a converted training step is made of.

Written as source templates: they read like the code a person would type, and
libcst re-indents them wherever they land (quick_statements builds their trees).
"""
from __future__ import annotations

from typing import List, Optional, Sequence

import libcst as cst

from ...core.callrewrite import code
from ...core.context import Context
from .quick_statements import statement as _statement


def ms_name(ctx: Context, target: str) -> str:
    """Source text of a MindSpore name; its import is recorded, and its root marked
    as imported so that later rules never take `ops.norm(...)` for a Tensor method."""
    text = code(ctx.name(target))
    root = text.split(".", 1)[0]
    if root != "mindspore" and root in ctx.aliases:  # `from torch.cuda import amp`: spell out
        ctx.require("import mindspore")
        text, root = target, "mindspore"
    ctx.imported.add(root)
    return text


def statement(text: str) -> cst.BaseStatement:
    return _statement(text + "\n")


def forward_def(name: str, params: Sequence[str], body: Sequence[cst.BaseStatement],
                returns: Sequence[str]) -> cst.FunctionDef:
    """`def forward_fn(x, y): <captured statements>; return loss, out`."""
    stmts = list(body)
    if stmts:  # the function starts at its first line, comments kept
        first = stmts[0]
        lines = list(first.leading_lines)
        while lines and lines[0].comment is None:
            lines.pop(0)
        stmts[0] = first.with_changes(leading_lines=lines)
    stmts.append(statement("return " + ", ".join(returns)))
    template = statement(f"def {name}({', '.join(params)}):\n    pass")
    return template.with_changes(body=template.body.with_changes(body=stmts))


def train_step_def(jit: str, name: str, params: Sequence[str], body: Sequence[str],
                   returns: Sequence[str]) -> cst.BaseStatement:
    """`@mindspore.jit def train_step(x, y): <grad_fn call, clipping, optimizer(grads)>;
    return loss, out`: the whole step compiled (graph mode)."""
    lines = "".join(f"    {line}\n" for text in body for line in text.splitlines())
    return statement(f"@{jit}\ndef {name}({', '.join(params)}):\n{lines}"
                     f"    return {', '.join(returns)}")


def grad_fn_def(ctx: Context, name: str, forward: str, weights: str,
                has_aux: bool) -> cst.BaseStatement:
    """`weights`: the parameters differentiated (`optimizer.parameters`)."""
    value_and_grad = ms_name(ctx, "mindspore.value_and_grad")
    aux = ", has_aux=True" if has_aux else ""
    return statement(f"{name} = {value_and_grad}({forward}, None, {weights}{aux})")


def grad_call(line: cst.SimpleStatementLine, loss: str, aux: Sequence[str], grads: str,
              grad_fn: str, args: Sequence[str]) -> cst.SimpleStatementLine:
    """`(loss, out), grads = grad_fn(x, y)`, in place of `loss.backward()` (comments kept)."""
    values = f"({', '.join([loss, *aux])})" if aux else loss
    new = statement(f"{values}, {grads} = {grad_fn}({', '.join(args)})")
    return line.with_changes(body=new.body)


def forward_call(loss: str, aux: Sequence[str], forward: str, args: Sequence[str]) -> str:
    """`loss, out = forward_fn(x, y)`: the loss where no gradient is wanted."""
    return f"{', '.join([loss, *aux])} = {forward}({', '.join(args)})"


def replace_line(line: cst.SimpleStatementLine, text: str) -> cst.SimpleStatementLine:
    """A one-statement line with new code, its comments and blank lines kept."""
    return line.with_changes(body=statement(text).body)


def zeros_like_params(ctx: Context, accumulator: str, weights: str) -> str:
    zeros = ms_name(ctx, "mindspore.ops.zeros_like")
    return f"{accumulator} = tuple({zeros}(p) for p in {weights})"


def grad_reducer_def(ctx: Context, name: str, weights: str) -> str:
    """DDP averaged gradients across processes in backward(): under msrun (data
    parallel) a DistributedGradReducer does; in a single process there is nothing to
    average (and the reducer needs the communication initialised)."""
    reducer = ms_name(ctx, "mindspore.nn.DistributedGradReducer")
    identity = ms_name(ctx, "mindspore.nn.Identity")
    inited = ms_name(ctx, "mindspore.communication.GlobalComm")
    return f"{name} = {reducer}({weights}) if {inited}.INITED else {identity}()"


def accumulate(accumulator: str, grads: str) -> str:
    return f"{accumulator} = tuple(a + g for a, g in zip({accumulator}, {grads}))"


def clip_norm(ctx: Context, grads: str, max_norm: str, result: Optional[str]) -> List[str]:
    """torch's clip_grad_norm_ (2-norm) on the step's gradients; `result` gets the total norm."""
    clip = ms_name(ctx, "mindspore.ops.clip_by_global_norm")
    lines = [f"{grads} = {clip}({grads}, {max_norm})"]
    if result is not None:  # the norm before clipping, as torch returns it
        norm, stack = ms_name(ctx, "mindspore.ops.norm"), ms_name(ctx, "mindspore.ops.stack")
        lines.insert(0, f"{result} = {norm}({stack}([{norm}(g) for g in {grads}]))")
    return lines


def clip_value(ctx: Context, grads: str, value: cst.BaseExpression) -> str:
    clip = ms_name(ctx, "mindspore.ops.clip_by_value")
    text = code(value).strip()
    simple = isinstance(value, (cst.Name, cst.Attribute, cst.Integer, cst.Float))
    negative = f"-{text}" if simple else f"-({text})"
    return f"{grads} = {clip}({grads}, {negative}, {text})"


def unscale(ctx: Context, scaler: str, grads: str, finite: str) -> List[str]:
    """The gradients divided by the loss scale, and whether they are all finite."""
    all_finite = ms_name(ctx, "mindspore.amp.all_finite")
    return [f"{grads} = {scaler}.unscale({grads})", f"{finite} = {all_finite}({grads})"]
