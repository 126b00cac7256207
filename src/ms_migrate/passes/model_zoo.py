"""torchvision.models used other than by calling a constructor (transforms/models.py
writes the architectures into the converted file):

- `models.__dict__` and `getattr(models, name)`, an architecture chosen by name at run
  time: a dict of every constructor written here (`TORCHVISION_MODELS`), so
  `sorted(name for name in models.__dict__ if name.islower() ...)` lists them and
  `models.__dict__[args.arch](pretrained=True)` builds one; the note names the
  architectures that have no MindSpore definition here.
- `model.fc.in_features`: the model's `fc` is a Linear, in MindSpore a Dense whose
  sizes are `in_channels` / `out_channels`. Only `.fc` is read this way, and only in a
  file that imports torchvision's models: another class's `in_features` is its own.
- `vgg.features._modules`, a Module's children by name, is a Cell's `_cells` (in a
  file that imports torchvision's models, whose layers are walked this way).
"""
from __future__ import annotations

import re

import libcst as cst

from ..core.context import Context
from ..core.report import CONVERTED, WARNING
from ..core.traversal import traverse
from ..transforms.helper_code import request
from ..transforms.model_code import CONSTRUCTORS
from .statement_pass import StatementPass
from .text_search import found

_RENAMES = {"in_features": "in_channels", "out_features": "out_channels"}
_USE = re.compile(r"\.fc\.(?:in|out)_features\b|\.__dict__\b|\bgetattr\(|\._modules\b")
_MODELS = "torchvision.models"


def applies(source: str) -> bool:
    return "torchvision" in source and found(_USE, source, ".fc.", ".__dict__", "getattr(", "._modules")


def convert_model_zoo_uses(ctx: Context, module: cst.Module) -> cst.Module:
    if not any(name == "torchvision" or name.startswith(_MODELS)
               for name in ctx.aliases.values()):
        return module
    rewrite = _ModelZoo(ctx, _USE)
    result = traverse(module, rewrite)
    rewrite.place_findings()
    return result


class _ModelZoo(StatementPass):
    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute):
        if original.attr.value == "__dict__" and self.ctx.resolve(original.value) == _MODELS:
            return self._models(original, original.value)
        if original.attr.value == "_modules":
            self.add(original, "torch.nn.Module._modules", CONVERTED,
                     "-> ._cells: a Cell's children by name")
            return updated.with_changes(attr=cst.Name("_cells"))
        new = _RENAMES.get(original.attr.value)
        if (new is None or not isinstance(original.value, cst.Attribute)
                or original.value.attr.value != "fc"):
            return updated
        self.add(original, f"torch.nn.Linear.{original.attr.value}", CONVERTED,
                 f"-> .{new}: the model's fc is a Dense")
        return updated.with_changes(attr=cst.Name(new))

    def leave_Call(self, original: cst.Call, updated: cst.Call):
        if (isinstance(original.func, cst.Name) and original.func.value == "getattr"
                and len(original.args) == 2
                and not any(a.keyword or a.star for a in original.args)
                and self.ctx.resolve(original.args[0].value) == _MODELS):
            table = self._models(original, original.args[0].value)
            return cst.Subscript(table, [cst.SubscriptElement(cst.Index(updated.args[1].value))])
        return updated

    def _models(self, node: cst.CSTNode, models: cst.BaseExpression) -> cst.Name:
        self.add(node, _MODELS, WARNING,
                 "-> TORCHVISION_MODELS, the architectures written into this file ("
                 + ", ".join(CONSTRUCTORS) + "); torchvision's others have no MindSpore "
                 "definition here (mindcv.create_model has most); pretrained=True loads "
                 "<arch>.ckpt, torchvision's weights converted with `ms-migrate "
                 "convert-weights <arch>.pth -o <arch>.ckpt`")
        return request(self.ctx, "TORCHVISION_MODELS")
