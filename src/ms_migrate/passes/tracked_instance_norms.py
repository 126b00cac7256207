"""`nn.InstanceNorm2d(c, track_running_stats=True)`: a small Cell written into the file.

torch normalizes each sample by its own statistics in training and updates running
ones from them (their batch mean, the variance unbiased); in evaluation it normalizes
with the running statistics. MindSpore's InstanceNorm has no CPU kernel and keeps no
running statistics; GroupNorm (what the table writes for the plain layer) has none
either. A layer made with track_running_stats=True becomes `InstanceNormTracked(c, ...)`,
written after the imports, which does what torch does in both modes (moving_mean and
moving_variance beside gamma and beta, as MindSpore's BatchNorm names them).
"""
from __future__ import annotations

import re

import libcst as cst

from ..core.context import Context
from ..core.report import CONVERTED
from ..core.traversal import traverse
from .statement_pass import StatementPass, with_helper_class

HELPER = "InstanceNormTracked"
_APIS = frozenset({"torch.nn.InstanceNorm1d", "torch.nn.InstanceNorm2d", "torch.nn.InstanceNorm3d"})
_ARGS = ("num_features", "eps", "momentum", "affine")
_APPLIES = re.compile(r"track_running_stats\s*=\s*True")

_TRACKED = f'''\
class {HELPER}(mindspore.nn.Cell):
    """torch's InstanceNorm with track_running_stats=True: each sample normalized by its
    own statistics in training, which also update running ones (their batch mean); the
    running statistics in evaluation."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False):
        super().__init__()
        self.eps, self.momentum, self.affine = eps, momentum, affine
        if affine:
            self.gamma = mindspore.Parameter(mindspore.ops.ones(num_features))
            self.beta = mindspore.Parameter(mindspore.ops.zeros(num_features))
        self.moving_mean = mindspore.Parameter(mindspore.ops.zeros(num_features),
                                               requires_grad=False)
        self.moving_variance = mindspore.Parameter(mindspore.ops.ones(num_features),
                                                   requires_grad=False)

    def construct(self, x):
        axes = tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * len(axes)
        if self.training:
            mean = x.mean(axes, keep_dims=True)
            var = ((x - mean) ** 2).mean(axes, keep_dims=True)
            n = x[0, 0].size
            m = self.momentum
            batch_mean = mindspore.ops.stop_gradient(mean).mean(0).reshape(-1)
            batch_var = mindspore.ops.stop_gradient(var).mean(0).reshape(-1) * n / (n - 1)
            mindspore.ops.assign(self.moving_mean, (1 - m) * self.moving_mean + m * batch_mean)
            mindspore.ops.assign(self.moving_variance,
                                 (1 - m) * self.moving_variance + m * batch_var)
        else:
            mean, var = self.moving_mean.reshape(shape), self.moving_variance.reshape(shape)
        y = (x - mean) / mindspore.ops.sqrt(var + self.eps)
        if self.affine:
            y = y * self.gamma.reshape(shape) + self.beta.reshape(shape)
        return y
'''


def applies(source: str) -> bool:
    return bool(_APPLIES.search(source))


def convert_tracked_instance_norms(ctx: Context, module: cst.Module) -> cst.Module:
    taken = {s.name.value for s in module.body if isinstance(s, (cst.FunctionDef, cst.ClassDef))}
    if HELPER in taken:
        return module
    norms = _TrackedNorms(ctx)
    converted = traverse(module, norms)
    norms.place_findings()
    if not norms.used:
        return converted
    ctx.require("import mindspore")  # the file's `nn` is still torch's here
    return with_helper_class(converted, _TRACKED)


class _TrackedNorms(StatementPass):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, _APPLIES)
        self.used = False

    def leave_Call(self, original: cst.Call, updated: cst.Call):
        api = self.ctx.resolve(original.func)
        if api not in _APIS:
            return updated
        kept, tracked = [], False
        for i, arg in enumerate(updated.args):
            name = arg.keyword.value if arg.keyword is not None else (
                _ARGS[i] if i < len(_ARGS) else None)
            if arg.star or name is None:
                return updated
            if name == "track_running_stats":
                if not (isinstance(arg.value, cst.Name) and arg.value.value == "True"):
                    return updated
                tracked = True
                continue
            if name not in _ARGS or (name == "momentum" and isinstance(arg.value, cst.Name)
                                     and arg.value.value == "None"):
                return updated  # device=, dtype=, a cumulative average (momentum=None)
            kept.append(arg)
        if not tracked:
            return updated
        if kept:
            kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        self.used = True
        self.add(original, api, CONVERTED,
                 f"-> {HELPER}(), a Cell written into this file: running statistics kept "
                 "and used in evaluation, as torch does (MindSpore's InstanceNorm has no CPU "
                 "kernel)")
        return updated.with_changes(func=cst.Name(HELPER), args=kept)
