"""Transforms for torchvision: arguments that MindSpore spells as enums, and the
functional transforms written into the file as helpers (vision_helper_code.py)."""
from __future__ import annotations

import libcst as cst

from ..core.callrewrite import Bound, Unsupported, rewrite
from .base import literal, transform
from .helper_code import request

# torchvision's padding_mode strings -> mindspore.dataset.vision.Border members; both
# pad as numpy.pad's modes of the same names
_BORDERS = {"constant": "CONSTANT", "edge": "EDGE", "reflect": "REFLECT",
            "symmetric": "SYMMETRIC"}


@transform
def border_mode(ctx, rule, bound: Bound, call=None):
    """padding_mode='reflect' -> padding_mode=vision.Border.REFLECT."""
    mode = bound.get("padding_mode")
    if mode is None:
        return None
    text = (literal(mode) or "").strip("'\"")
    if text not in _BORDERS or not isinstance(mode, cst.SimpleString):
        raise Unsupported("padding_mode is not a literal: MindSpore takes a "
                          "vision.Border value")
    if text == "constant":
        bound.pop("padding_mode")
    else:
        bound.set("padding_mode", ctx.name(f"mindspore.dataset.vision.Border.{_BORDERS[text]}"))
    return None


# rules whose helper is not named as the API's last part (transforms/vision_helper_code.py)
_HELPER_NAMES = {"torchvision.transforms.RandomCrop.get_params": "random_crop_params",
                 "torchvision.transforms.functional._get_image_size": "get_image_size"}


def vision_helper_name(rule) -> str:
    return _HELPER_NAMES.get(rule.torch_name, rule.torch_name.rpartition(".")[2])


@transform
def vision_helper(ctx, rule, bound: Bound, call=None):
    """F.hflip(img) -> hflip(img): torchvision's function written into the file, with
    torchvision's signature (PIL for PIL images, MindSpore ops for tensors)."""
    return rewrite(rule, bound, request(ctx, vision_helper_name(rule)), call, ctx.name)


def reference_helper(ctx, rule):
    """`distortions = [F.adjust_brightness, ...]`: the helper's name where a rule written
    as a vision helper is used as a value (its __name__ is torchvision's); else None."""
    if rule.transform != "vision_helper":
        return None
    return request(ctx, vision_helper_name(rule))


@transform
def fake_data(ctx, rule, bound: Bound, call=None):
    """torchvision.datasets.FakeData(...) -> GeneratorDataset(FakeData(...), ["image",
    "label"]): a class written into the file with torchvision's arguments, read as every
    converted torchvision dataset is, a MindSpore pipeline."""
    data = rewrite(rule, bound, request(ctx, "FakeData"), call, ctx.name)
    columns = cst.List([cst.Element(cst.SimpleString('"image"')),
                        cst.Element(cst.SimpleString('"label"'))])
    equal = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                            whitespace_after=cst.SimpleWhitespace(""))
    return cst.Call(ctx.name("mindspore.dataset.GeneratorDataset"), [
        cst.Arg(data), cst.Arg(columns, keyword=cst.Name("column_names"), equal=equal),
        cst.Arg(cst.Name("False"), keyword=cst.Name("shuffle"), equal=equal)])
