"""torchvision.models constructors -> the architecture written into the converted file.

MindSpore has no torchvision. `resnet18(...)` becomes a call of a constructor of the
same name that transforms/model_code.py writes into the file, with the family's class
(ResNet, VGG, SqueezeNet, AlexNet) under torchvision's attribute and parameter names.

Pretrained weights: MindSpore cannot download or read torchvision's files. What a user
of a migration tool expects is the same pretrained network, so `pretrained=True` (and
`weights=` anything but None) stays a request for the weights: the constructor loads
`<arch>.ckpt` from the working folder, and the note says how to make that file once
from torchvision's weights with `ms-migrate convert-weights`; a missing file fails
loudly when the model is built, never a silently untrained network.
"""
from __future__ import annotations

import libcst as cst

from ..core.callrewrite import Bound, Unsupported
from ..core.quick_libcst import parse_expression
from .base import literal, transform
from .helper_code import request
from .model_code import MODEL_HELPERS


def weights_note(arch: str) -> str:
    return (f"MindSpore cannot read torchvision's weights: the model loads {arch}.ckpt, "
            f"made once with `ms-migrate convert-weights {arch}.pth -o {arch}.ckpt` from "
            f"`torch.save(torchvision.models.{arch}(weights=\"DEFAULT\").state_dict(), "
            f"\"{arch}.pth\")`")


@transform
def torchvision_model(ctx, rule, bound: Bound, call=None):
    arch = rule.torch_name.rpartition(".")[2]
    if arch not in MODEL_HELPERS:
        raise Unsupported(f"no MindSpore definition of {arch} is written here")
    bound.pop("progress")  # download progress: nothing is downloaded
    weights = bound.pop("weights")
    pretrained = bound.get("pretrained")
    if weights is not None and literal(weights) != "None":
        if pretrained is not None and literal(pretrained) not in ("False", "None"):
            raise Unsupported("both pretrained= and weights= are given")
        # a weights enum or "DEFAULT": pretrained; an expression may be None at run time
        text = literal(weights)
        pretrained = (cst.Name("True") if isinstance(weights, (cst.SimpleString, cst.Attribute))
                      else parse_expression(f"{text} is not None"))
        bound.set("pretrained", pretrained)
        bound.warnings.append(f"weights={text}: " + weights_note(arch))
    elif pretrained is not None and literal(pretrained) in ("False", "None"):
        bound.pop("pretrained")
    elif pretrained is not None:
        bound.warnings.append(weights_note(arch))
    args = []
    for name, value in bound.values.items():
        if name in bound.positional and len(args) == bound.positional.index(name):
            args.append(cst.Arg(value))
        else:
            args.append(cst.Arg(value, keyword=cst.Name(name), equal=cst.AssignEqual(
                cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))))
    if bound.spread is not None:
        args.append(cst.Arg(bound.spread, star="**"))
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    return cst.Call(request(ctx, arch),
                    [a.with_changes(comma=comma) for a in args[:-1]] + args[-1:])
