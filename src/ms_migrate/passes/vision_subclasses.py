"""`class CocoDetection(torchvision.datasets.CocoDetection)` (detr) and
`class RandomResizedCrop(transforms.RandomResizedCrop)` with its own `get_params` (mae),
`class Normalize(transforms.Normalize)` with a `randomize_parameters` (3D-ResNets): a
subclass of a torchvision transform class extends a short class written into the file
with torchvision's attributes and `__call__` (transforms/vision_helper_code.py), so the
overridden methods and `super().__init__(...)` run as written. MindSpore's vision
classes are C++ operations: a subclass's override would never be called.
"""
from __future__ import annotations

import libcst as cst

from ..core.context import Context
from ..transforms.helper_code import request
from ..transforms.vision_data_helper_code import DATASET_CLASSES
from ..transforms.vision_helper_code import VISION_CLASSES
from .class_bases import rebase

_BASES = {f"torchvision.transforms.{name}": name for name in VISION_CLASSES}
_BASES.update({f"torchvision.datasets.{name}": name for name in DATASET_CLASSES})
_BASES["torchvision.transforms.Scale"] = "Resize"  # torchvision's old name of Resize


def applies(source: str) -> bool:
    return "torchvision" in source and "class" in source


def extend_transform_classes(ctx: Context, module: cst.Module) -> cst.Module:
    return rebase(ctx, module, _BASES, request,
                  lambda name: f"-> {name}, a class written into this file with "
                  "torchvision's attributes and call, as the base class")
