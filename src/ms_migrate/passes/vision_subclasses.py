"""`class RandomResizedCrop(transforms.RandomResizedCrop)` with its own `get_params` (mae),
`class Normalize(transforms.Normalize)` with a `randomize_parameters` (3D-ResNets): a
subclass of a torchvision transform class extends a short class written into the file
with torchvision's attributes and `__call__` (transforms/vision_helper_code.py), so the
overridden methods and `super().__init__(...)` run as written. MindSpore's vision
classes are C++ operations: a subclass's override would never be called.
"""
from __future__ import annotations

import re

import libcst as cst

from ..core.context import Context
from ..core.report import CONVERTED
from ..core.traversal import traverse
from ..transforms.helper_code import request
from ..transforms.vision_helper_code import VISION_CLASSES
from .statement_pass import StatementPass

_BASES = {f"torchvision.transforms.{name}": name for name in VISION_CLASSES}
_BASES["torchvision.transforms.Scale"] = "Resize"  # torchvision's old name of Resize
_APPLIES = re.compile(r"\bclass\b")


def applies(source: str) -> bool:
    return "torchvision" in source and "class" in source


def extend_transform_classes(ctx: Context, module: cst.Module) -> cst.Module:
    rebaser = _Rebaser(ctx)
    converted = traverse(module, rebaser)
    rebaser.place_findings()
    return converted


class _Rebaser(StatementPass):
    def __init__(self, ctx: Context):
        super().__init__(ctx, _APPLIES)

    def leave_ClassDef(self, original, updated):
        bases = list(updated.bases)
        for k, base in enumerate(original.bases):
            api = self.ctx.resolve(base.value)
            name = _BASES.get(api or "")
            if name is None:
                continue
            bases[k] = bases[k].with_changes(value=request(self.ctx, name))
            self.add(base, api, CONVERTED,
                     f"-> {name}, a class written into this file with torchvision's "
                     "attributes and call, as the base class")
        return updated.with_changes(bases=bases)
