"""`model.fc.in_features` of a torchvision model: its `fc` is a Linear, in MindSpore a
Dense whose sizes are `in_channels` / `out_channels`.

    resnet = models.resnet18(pretrained=True)
    resnet.fc = nn.Linear(resnet.fc.in_features, 100)

The architecture is written into the converted file (transforms/models.py), so `fc` of
it is known to be a Dense. Only `.fc` in a file that imports torchvision's models is
read this way: another class's `in_features` is its own.
"""
from __future__ import annotations

import re

import libcst as cst

from ..core.context import Context
from ..core.report import CONVERTED
from ..core.traversal import traverse
from .statement_pass import StatementPass

_RENAMES = {"in_features": "in_channels", "out_features": "out_channels"}
_USE = re.compile(r"\.fc\.(?:in|out)_features\b")


def applies(source: str) -> bool:
    return "torchvision" in source and bool(_USE.search(source))


def rename_head_sizes(ctx: Context, module: cst.Module) -> cst.Module:
    if not any(name == "torchvision" or name.startswith("torchvision.models") for name in ctx.aliases.values()):
        return module
    rename = _HeadSizes(ctx, _USE)
    result = traverse(module, rename)
    rename.place_findings()
    return result


class _HeadSizes(StatementPass):
    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute):
        new = _RENAMES.get(original.attr.value)
        if (new is None or not isinstance(original.value, cst.Attribute)
                or original.value.attr.value != "fc"):
            return updated
        self.add(original, f"torch.nn.Linear.{original.attr.value}", CONVERTED,
                 f"-> .{new}: the model's fc is a Dense")
        return updated.with_changes(attr=cst.Name(new))
