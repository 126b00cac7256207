"""torchvision transforms a model applies to batched tensors: Cells on tensors.

Self-supervised learners (BYOL, DINO) build their augmentations as layers and call
them on a GPU batch inside `forward`:

    DEFAULT_AUG = nn.Sequential(RandomApply(T.ColorJitter(0.8, 0.8, 0.8, 0.2), p=0.3),
                                T.RandomGrayscale(p=0.2), T.GaussianBlur((3, 3), (1.0, 2.0)),
                                T.Normalize(mean=..., std=...))
    self.local_crop = T.RandomResizedCrop((size, size), scale=(0.05, 0.4))

mindspore.dataset.vision transforms take one numpy image in a data pipeline, not a
tensor batch inside a Cell; such a transform becomes a Cell written into the file
(transforms/augmentation_helper_code.py) computing torchvision's tensor path: one
random draw per call for the whole batch, as torchvision does. A transform counts as
a layer where it is an argument of nn.Sequential or is made inside a Module class's
method, and not inside a Compose (a data pipeline).
"""
from __future__ import annotations

import re
from typing import List

import libcst as cst

from ..core.context import Context
from ..core.positions import names_pattern
from ..core.report import CONVERTED
from ..core.traversal import traverse
from ..transforms.helper_code import request
from .classes import ClassTracker
from .api_words import api_words
from .statement_pass import StatementPass
from .text_search import found

_HELPERS = {
    "Normalize": ("BatchNormalize", ("mean", "std", "inplace")),
    "RandomHorizontalFlip": ("BatchRandomHorizontalFlip", ("p",)),
    "RandomGrayscale": ("BatchRandomGrayscale", ("p",)),
    "GaussianBlur": ("BatchGaussianBlur", ("kernel_size", "sigma")),
    "ColorJitter": ("BatchColorJitter", ("brightness", "contrast", "saturation", "hue")),
    "RandomResizedCrop": ("BatchRandomResizedCrop",
                          ("size", "scale", "ratio", "interpolation", "antialias")),
}
_PREFIX = "torchvision.transforms."
_TRANSFORMS = frozenset(prefix + name for prefix in (_PREFIX, _PREFIX + "v2.")
                        for name in _HELPERS)
_APPLIES = re.compile(r"\b(" + "|".join(_HELPERS) + r")\s*\(")


def applies(source: str) -> bool:
    return "torchvision" in source and found(_APPLIES, source, *_HELPERS)


def convert_tensor_augmentations(ctx: Context, module: cst.Module) -> cst.Module:
    layers = _Augmentations(ctx)
    converted = traverse(module, layers)
    layers.place_findings()
    return converted


def _transform_name(ctx: Context, call: cst.Call):
    """`Normalize` for a call of torchvision.transforms.Normalize (any spelling)."""
    qualified = ctx.resolve(call.func) or ""
    for prefix in (_PREFIX, _PREFIX + "v2."):
        if qualified.startswith(prefix) and qualified[len(prefix):] in _HELPERS:
            return qualified[len(prefix):]
    return None


# Every class is entered: which ones are Modules matters to their subclasses.
_CLASS = re.compile(r"class\b")


class _Augmentations(StatementPass):
    def __init__(self, ctx: Context) -> None:
        # it rewrites these transforms' calls
        super().__init__(ctx, names_pattern(api_words(ctx, _TRANSFORMS)), _CLASS)
        self.classes = ClassTracker()
        self.calls: List[str] = []  # the torch calls around the node: "seq", "compose"

    def visit_ClassDef(self, node):
        self.classes.enter_class(self.ctx, node)

    def leave_ClassDef(self, original, updated):
        self.classes.leave()
        return updated

    def visit_FunctionDef(self, node):
        self.classes.enter_function()

    def leave_FunctionDef(self, original, updated):
        self.classes.leave()
        return updated

    def _in_module_code(self) -> bool:
        """Inside a method of a Module class (at any depth of nested functions)."""
        stack = self.classes.stack
        return any(is_module and i + 1 < len(stack) and not stack[i + 1]
                   for i, is_module in enumerate(stack))

    def visit_Call(self, node):
        super().visit_Call(node)
        qualified = self.ctx.resolve(node.func) or ""
        if qualified == "torch.nn.Sequential":
            self.calls.append("seq")
        elif qualified.startswith(_PREFIX) and qualified.endswith(("Compose", "RandomApply",
                                                                    "RandomChoice",
                                                                    "RandomOrder")):
            self.calls.append("compose")
        else:
            self.calls.append("")

    def leave_Call(self, original: cst.Call, updated: cst.Call):
        self.calls.pop()
        name = _transform_name(self.ctx, original)
        if name is None or "compose" in self.calls:
            return updated
        if "seq" not in self.calls and not self._in_module_code():
            return updated
        helper, args = _HELPERS[name]
        if len(original.args) > len(args) or any(
                a.star or (a.keyword is not None and a.keyword.value not in args)
                for a in original.args):
            return updated
        if name == "RandomResizedCrop" and any(
                (a.keyword is not None and a.keyword.value == "interpolation")
                or (a.keyword is None and i == 3) for i, a in enumerate(original.args)):
            return updated  # bilinear only
        self.add(original, _PREFIX + name, CONVERTED,
                 f"-> {helper}(), a Cell written into this file: torchvision's transform "
                 f"on a tensor batch inside the model (mindspore.dataset.vision takes one "
                 f"numpy image in a data pipeline)")
        return updated.with_changes(func=request(self.ctx, helper))
