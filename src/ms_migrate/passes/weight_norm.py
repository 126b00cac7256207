"""torch.nn.utils.weight_norm / remove_weight_norm / spectral_norm: helpers written into the file.

torch reparametrises a layer's weight as g * v / ||v|| (the norm over every axis but
`dim`; the whole tensor for dim=None or -1), with parameters `weight_g` and
`weight_v`, and recomputes the weight before each call. The helpers do the same on
a MindSpore Cell with a forward pre-hook (PyNative mode), so the values, the
gradients of g and v, and the parameter names and shapes are torch's (a Conv1d's g
and v without the axis MindSpore's Conv1d weight adds), and a torch checkpoint
loads by name. remove_weight_norm makes the computed weight a parameter again.
spectral_norm keeps `weight_orig` and the power-iteration vectors `weight_u`,
`weight_v` (non-trainable parameters, torch's buffers), updated at each call while
training; they start from other random numbers than torch's (reported).
The calls, and the functions used as values (`norm_f = weight_norm if ... else
spectral_norm`), name the helpers.
"""
from __future__ import annotations

import re

import libcst as cst

from ..core.context import Context
from ..core.quick_libcst import parse_statement
from ..core.report import CONVERTED, WARNING
from ..core.traversal import traverse
from .statement_pass import StatementPass, with_helper_code

_APIS = {"torch.nn.utils.weight_norm": "weight_norm",
         "torch.nn.utils.remove_weight_norm": "remove_weight_norm",
         "torch.nn.utils.spectral_norm": "spectral_norm"}
_APPLIES = re.compile(r"weight_norm|spectral_norm")

_WEIGHT_NORM = '''\
def weight_norm(cell, name="weight", dim=0):
    """The cell's weight as g * v / ||v|| (norm over every axis but dim), recomputed
    before each call from the parameters <name>_g and <name>_v, as torch's weight_norm."""
    weight = getattr(cell, name).value()
    conv1d = isinstance(cell, (mindspore.nn.Conv1d, mindspore.nn.Conv1dTranspose))
    if conv1d:  # torch's (out, in, k), not MindSpore's (out, in, 1, k)
        weight = weight.squeeze(2)
    whole = dim in (None, -1)  # torch: the norm of the whole tensor, g a scalar
    axes = tuple(i for i in range(weight.ndim) if whole or i != dim % weight.ndim)
    delattr(cell, name)
    norm = ops.sqrt((weight ** 2).sum(axis=axes, keepdims=not whole))
    setattr(cell, name + "_g", mindspore.Parameter(norm, name=name + "_g"))
    setattr(cell, name + "_v", mindspore.Parameter(weight, name=name + "_v"))

    def recompute(cell, inputs):
        v = getattr(cell, name + "_v")
        weight = getattr(cell, name + "_g") * v / ops.sqrt((v ** 2).sum(axis=axes, keepdims=True))
        object.__setattr__(cell, name, weight.expand_dims(2).copy() if conv1d else weight)

    recompute(cell, None)
    cell.weight_norm_hook = cell.register_forward_pre_hook(recompute)
    return cell
'''

_REMOVE_WEIGHT_NORM = '''\
def remove_weight_norm(cell, name="weight"):
    """The weight g * v / ||v|| becomes a parameter again, as torch's remove_weight_norm."""
    cell.weight_norm_hook.remove()
    weight = cell.__dict__.pop(name)
    delattr(cell, name + "_g")
    delattr(cell, name + "_v")
    setattr(cell, name, mindspore.Parameter(weight, name=name))
    return cell
'''


_SPECTRAL_NORM = '''\
def spectral_norm(cell, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """The cell's weight divided by its largest singular value, estimated by power
    iteration (updated at each call while training), from the parameter <name>_orig and
    the vectors <name>_u, <name>_v, as torch's spectral_norm."""
    transposed = (mindspore.nn.Conv1dTranspose, mindspore.nn.Conv2dTranspose, mindspore.nn.Conv3dTranspose)
    if dim is None:
        dim = 1 if isinstance(cell, transposed) else 0
    weight = getattr(cell, name).value()
    conv1d = isinstance(cell, (mindspore.nn.Conv1d, mindspore.nn.Conv1dTranspose))
    if conv1d:  # torch's (out, in, k), not MindSpore's (out, in, 1, k)
        weight = weight.squeeze(2)
    order = (dim, *(i for i in range(weight.ndim) if i != dim))

    def normalize(x):
        return x / ops.maximum(ops.sqrt((x ** 2).sum()), mindspore.tensor(eps, x.dtype))

    rows = weight.shape[dim]
    delattr(cell, name)
    setattr(cell, name + "_orig", mindspore.Parameter(weight, name=name + "_orig"))
    setattr(cell, name + "_u", mindspore.Parameter(normalize(ops.randn(rows)), name=name + "_u",
                                                   requires_grad=False))
    setattr(cell, name + "_v", mindspore.Parameter(
        normalize(ops.randn(weight.size // rows)), name=name + "_v", requires_grad=False))

    def recompute(cell, inputs):
        weight = getattr(cell, name + "_orig")
        matrix = weight.permute(*order).reshape(rows, -1)
        u, v = getattr(cell, name + "_u"), getattr(cell, name + "_v")
        if cell.training and n_power_iterations > 0:
            with mindspore._no_grad():
                for _ in range(n_power_iterations):
                    v = normalize(ops.matmul(matrix.T, u))
                    u = normalize(ops.matmul(matrix, v))
                ops.assign(getattr(cell, name + "_u"), u)
                ops.assign(getattr(cell, name + "_v"), v)
            u, v = ops.stop_gradient(u.copy()), ops.stop_gradient(v.copy())
        sigma = (u * ops.matmul(matrix, v)).sum()
        weight = weight / sigma
        object.__setattr__(cell, name, weight.expand_dims(2).copy() if conv1d else weight)

    recompute(cell, None)
    cell.spectral_norm_hook = cell.register_forward_pre_hook(recompute)
    return cell
'''

_CODE = {"weight_norm": _WEIGHT_NORM, "remove_weight_norm": _REMOVE_WEIGHT_NORM,
         "spectral_norm": _SPECTRAL_NORM}


def applies(source: str) -> bool:
    return "weight_norm" in source or "spectral_norm" in source  # _APPLIES


def convert_weight_norm(ctx: Context, module: cst.Module) -> cst.Module:
    taken = {s.name.value for s in module.body if isinstance(s, (cst.FunctionDef, cst.ClassDef))}
    if taken & set(_APIS.values()):
        return module
    norms = _WeightNorms(ctx)
    converted = traverse(module, norms)
    norms.place_findings()
    if not norms.used:
        return converted
    ctx.require("import mindspore")
    ctx.require("from mindspore import ops")
    used = set(norms.used) | ({"weight_norm"} if "remove_weight_norm" in norms.used else set())
    helpers = [h for h in _CODE if h in used]
    for helper in helpers:  # `from torch.nn.utils import weight_norm`: the helper's name now
        if ctx.aliases.get(helper) == f"torch.nn.utils.{helper}":
            del ctx.aliases[helper]
    body = [_without_imports(s, helpers) for s in converted.body]
    body = [s for s in body if s is not None]
    return with_helper_code(converted.with_changes(body=body),
                            [parse_statement(_CODE[h]) for h in helpers])


class _WeightNorms(StatementPass):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, _APPLIES)
        self.used = set()

    def visit_Import(self, node):
        return False

    def visit_ImportFrom(self, node):
        return False

    def leave_Attribute(self, original, updated):
        return self._reference(original, updated)

    def leave_Name(self, original, updated):
        return self._reference(original, updated)

    def _reference(self, original, updated):
        api = self.ctx.resolve(original)
        helper = _APIS.get(api or "")
        if helper is None:
            return updated
        self.used.add(helper)
        if helper == "spectral_norm":
            self.add(original, api, WARNING, "-> spectral_norm(), a helper written into this "
                     "file (a forward pre-hook divides weight_orig by its largest singular "
                     "value); the power iteration starts from other random vectors than "
                     "torch's: load weight_u and weight_v from a checkpoint for the same values")
        else:
            self.add(original, api, CONVERTED, f"-> {helper}(), a helper written into this "
                     "file (a forward pre-hook recomputes the weight from weight_g and weight_v)")
        return cst.Name(helper)


def _without_imports(statement, helpers):
    """`from torch.nn.utils import weight_norm, spectral_norm` without the helpers' names."""
    if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], cst.ImportFrom)):
        return statement
    node = statement.body[0]
    module = cst.Module([]).code_for_node(node.module) if node.module else ""
    if module != "torch.nn.utils" or isinstance(node.names, cst.ImportStar):
        return statement
    names = [a for a in node.names if a.asname is not None or a.name.value not in helpers]
    if len(names) == len(node.names):
        return statement
    if not names:
        return None
    names[-1] = names[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return statement.with_changes(body=[node.with_changes(names=names)])
