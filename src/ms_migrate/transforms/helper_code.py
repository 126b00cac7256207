"""Helper functions a transform writes into the converted file, by name.

Where a torch call needs a composition too long for one expression (an argument used
several times, statements), its transform calls `request(ctx, name)` and writes a
call of the helper; passes/helpers.py puts each requested helper, once, after the
file's imports. Helpers spell MindSpore names in full (`mindspore.ops.fold`): they go
through `ctx.name` like every converted name, so they get the file's import style.
"""
from __future__ import annotations

import libcst as cst

from ..core.context import Context

HELPERS = {
    "conv_transpose1d": '''\
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0):
    """torch.nn.functional.conv_transpose1d (one group, no dilation) from ops that run on
    CPU: each input step adds `weight` times its value, `stride` steps apart."""
    length = input.shape[2]
    in_channels, out_channels, size = weight.shape
    columns = mindspore.ops.matmul(
        input.swapaxes(1, 2), weight.reshape(in_channels, out_channels * size))
    full = (length - 1) * stride + size + output_padding
    out = mindspore.ops.fold(
        columns.swapaxes(1, 2), mindspore.Tensor([1, full], mindspore.int32), (1, size),
        stride=(1, stride)).squeeze(2)
    out = out[:, :, padding:full - padding]
    if bias is not None:
        out = out + bias.reshape(1, -1, 1)
    return out
''',
    "calculate_gain": '''\
def calculate_gain(nonlinearity, param=None):
    """torch.nn.init.calculate_gain: the gain an initialiser uses for a nonlinearity."""
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                        "conv_transpose2d", "conv_transpose3d", "sigmoid"):
        return 1
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")
''',
}
_IMPORTS = {"calculate_gain": ("import math",)}


def request(ctx: Context, name: str) -> cst.Name:
    """The helper `name` will be in the file: a Name to call it by."""
    if name not in ctx.helpers:
        ctx.helpers.append(name)
        for statement in _IMPORTS.get(name, ()):
            ctx.require(statement)
    return cst.Name(name)
