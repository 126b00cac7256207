"""einops on MindSpore tensors: a backend class and the layers, written into the file.

einops (`rearrange`, `repeat`, `reduce`, `pack`, `einsum`, and the `Rearrange`/`Reduce`
layers) is in most vision-transformer and diffusion code. Its functions dispatch on the
tensor's framework, and einops has no MindSpore backend: a converted file calling
`rearrange` on a MindSpore tensor raises "Tensor type unknown to einops". einops finds
its backends as subclasses of `AbstractBackend` whose framework is imported, so a file
that imports einops gets `MindSporeEinopsBackend` after its imports; the user's einops
calls stay as written. `from einops.layers.torch import Rearrange, Reduce` (torch
Modules) becomes two small Cells built on einops' own layer mixins, under the names the
file imported. EinMix (a layer with weights) is left and reported.
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional

import libcst as cst

from ..core.context import Context
from ..core.names import dotted_name, iter_statements
from ..core.parsed import parsed_statement
from ..core.positions import RelevantLines
from ..core.quick_libcst import parse_statement
from ..core.report import CONVERTED, UNSUPPORTED
from .statement_pass import with_helper_code

BACKEND = "MindSporeEinopsBackend"
_APPLIES = re.compile(r"^\s*(from|import)\s+einops\b", re.M)
_LAYERS = ("Rearrange", "Reduce")
_TORCH_LAYERS = "einops.layers.torch"

_BACKEND_CODE = f'''\
class {BACKEND}(AbstractBackend):
    """einops on MindSpore tensors: einops has no MindSpore backend of its own and
    finds this one by its framework_name."""

    framework_name = "mindspore"

    def is_appropriate_type(self, tensor):
        return isinstance(tensor, mindspore.Tensor)

    def from_numpy(self, x):
        return mindspore.tensor(x)

    def to_numpy(self, x):
        return x.asnumpy()

    def arange(self, start, stop):
        return mindspore.ops.arange(start, stop)

    def reduce(self, x, operation, axes):
        if operation in ("min", "max"):  # values only, as einops expects
            return getattr(x, "a" + operation)(axis=tuple(axes))
        if operation in ("any", "all"):
            return getattr(x, operation)(tuple(axes))
        if operation == "prod":  # one axis at a time
            for axis in sorted(axes, reverse=True):
                x = x.prod(axis)
            return x
        return getattr(x, operation)(axis=tuple(axes))

    def transpose(self, x, axes):
        return x.permute(*axes)

    def stack_on_zeroth_dimension(self, tensors):
        return mindspore.ops.stack(tensors)

    def add_axes(self, x, n_axes, pos2len):
        repeats = [-1] * n_axes
        for axis_position, axis_length in pos2len.items():
            x = x.unsqueeze(axis_position)
            repeats[axis_position] = axis_length
        return x.broadcast_to(tuple(repeats))

    def tile(self, x, repeats):
        return mindspore.ops.tile(x, repeats)

    def concat(self, tensors, axis):
        return mindspore.ops.cat(tensors, axis=axis)

    def add_axis(self, x, new_position):
        return x.unsqueeze(new_position)

    def is_float_type(self, x):
        return x.is_floating_point()
'''

# einops.einsum hands the backend a plain equation; MindSpore's einsum has no CPU
# kernel, so it is composed: operands laid out on all labels, multiplied, summed.
_EINSUM_CODE = '''
    def einsum(self, pattern, *tensors):
        inputs, output = pattern.replace(" ", "").split("->")
        specs, width = [], 0
        for spec, x in zip(inputs.split(","), tensors):
            if "..." in spec:  # the dims `...` stands for, as digits aligned on the right
                n = x.ndim - len(spec) + 3
                width = max(width, n)
                spec = spec.replace("...", "0123456789"[10 - n:])
            specs.append(spec)
        output = output.replace("...", "0123456789"[10 - width:])
        labels = sorted(set("".join(specs)))
        total = None
        for spec, x in zip(specs, tensors):
            if "." in spec or len(set(spec)) < len(spec):
                raise NotImplementedError(f"einsum operand {spec!r} on MindSpore")
            sizes = dict(zip(spec, x.shape))
            order = sorted(range(len(spec)), key=lambda i: labels.index(spec[i]))
            x = x.permute(*order) if order else x
            x = x.reshape([sizes.get(label, 1) for label in labels])
            total = x if total is None else total * x
        summed = tuple(i for i, label in enumerate(labels) if label not in output)
        if summed:
            total = total.sum(axis=summed)
        kept = [label for label in labels if label in output]
        return total.permute(*(kept.index(label) for label in output)) if kept else total
'''

_LAYER_CODE = '''\
class {name}({mixin}, mindspore.nn.Cell):
    """einops' {layer} layer as a Cell."""

    def construct(self, input):
        return self._apply_recipe(input)
'''


_EINOPS = re.compile(r"einops")


def applies(source: str) -> bool:
    return "einops" in source and bool(_APPLIES.search(source))


def add_einops_backend(ctx: Context, module: cst.Module) -> cst.Module:
    defined = {s.name.value for s in module.body if isinstance(s, cst.ClassDef)}
    imported = _einops_names(ctx, module)
    if BACKEND in defined or imported is None:
        return module  # no einops, or converted before
    layers: Dict[str, tuple] = {}  # bound name -> (einops layer, line)
    body = []
    for statement in module.body:
        kept, found = _without_torch_layers(ctx, statement)
        layers.update({name: (layer, ctx.lines.line(statement)) for name, layer in found.items()})
        if kept is not None:
            body.append(kept)
    module = module.with_changes(body=body)
    ctx.require("import mindspore")
    ctx.require("from einops._backends import AbstractBackend")
    code = _BACKEND_CODE + (_EINSUM_CODE if "einsum" in imported else "")
    helpers = [parsed_statement(code)]
    for name, (layer, line) in layers.items():
        ctx.require(f"from einops.layers import {layer}Mixin")
        helpers.append(parse_statement(
            _LAYER_CODE.format(name=name, mixin=f"{layer}Mixin", layer=layer)))
        ctx.finding(line, f"{_TORCH_LAYERS}.{layer}", CONVERTED,
                    f"-> {name}, a Cell written into this file on einops' {layer}Mixin")
    return with_helper_code(module, helpers)


def _einops_names(ctx: Context, module: cst.Module) -> Optional[List[str]]:
    """The names the file imports from einops ([] for `import einops`); None: no einops."""
    names = None
    relevant = RelevantLines(ctx.lines, _EINOPS)  # an einops import spells it on its line
    for stmt in iter_statements(module.body, enter=lambda s: not relevant.skips(s)):
        kind = type(stmt)  # types compared: isinstance against libcst's ABCs is slow
        if kind is cst.Import and any(
                dotted_name(a.name).split(".")[0] == "einops" for a in stmt.names):
            names = (names or []) + ["einsum"]  # `einops.einsum` may be called
        elif (kind is cst.ImportFrom and stmt.module is not None
              and dotted_name(stmt.module).split(".")[0] == "einops"):
            names = (names or []) + ([] if isinstance(stmt.names, cst.ImportStar)
                                     else [a.name.value for a in stmt.names])
    return names


def _without_torch_layers(ctx: Context, statement):
    """`from einops.layers.torch import Rearrange, EinMix` without the layers that become
    Cells (None: nothing left), and those layers by the name the file binds."""
    if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], cst.ImportFrom)):
        return statement, {}
    node = statement.body[0]
    if (node.module is None or dotted_name(node.module) != _TORCH_LAYERS
            or isinstance(node.names, cst.ImportStar)):
        return statement, {}
    found = {(a.asname.name.value if a.asname else a.name.value): a.name.value
             for a in node.names if a.name.value in _LAYERS}
    kept = [a for a in node.names if a.name.value not in _LAYERS]
    for alias in kept:
        ctx.finding(ctx.lines.line(statement), f"{_TORCH_LAYERS}.{alias.name.value}", UNSUPPORTED,
                    "einops has no MindSpore layer of this kind; convert by hand")
    if not kept:
        return None, found
    kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return statement.with_changes(body=[node.with_changes(names=kept)]), found
