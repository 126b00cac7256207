"""torch.hub.load_state_dict_from_url -> mindspore.load_checkpoint of the converted file.

A pretrained torch checkpoint is a pickle that only torch reads. What the user wants is
those weights in the converted model: the file, downloaded once and converted with
`ms-migrate convert-weights`, is a MindSpore checkpoint named as torch's cached file
with `.ckpt` (in model_dir= when given), and the call loads it; the note says how to
make it.
"""
from __future__ import annotations

import os

import libcst as cst

from ..core.callrewrite import Bound, Unsupported, code
from ..core.quick_libcst import parse_expression
from ..core.strings import string_value
from .base import literal, transform


def _string(node: cst.BaseExpression):
    if isinstance(node, cst.SimpleString) and node.prefix.lower() in ("", "r", "u"):
        return string_value(node)
    return None


@transform
def hub_checkpoint(ctx, rule, bound: Bound, call=None):
    url, name_arg, folder = bound.get("url"), bound.get("file_name"), bound.get("model_dir")
    if url is None:
        raise Unsupported("the url argument is missing")
    if name_arg is not None and literal(name_arg) == "None":
        name_arg = None
    source = name_arg if name_arg is not None else url
    text = _string(source)
    if text is not None:
        base = os.path.basename(text.split("?")[0])
        name = repr(os.path.splitext(base)[0] + ".ckpt").replace("'", '"')
        shown = base
    else:
        ctx.require("import os")
        inner = code(source).strip()
        name = (f"os.path.splitext({inner})[0] + \".ckpt\"" if name_arg is not None
                else f"os.path.splitext(os.path.basename({inner}))[0] + \".ckpt\"")
        shown = "the file"
    if folder is not None and literal(folder) != "None":
        ctx.require("import os")
        name = f"os.path.join({code(folder).strip()}, {name})"
    load = code(ctx.name("mindspore.load_checkpoint"))
    bound.warnings.append(
        f"MindSpore does not read torch's pickles: download {shown} from the URL once and "
        "convert it with `ms-migrate convert-weights <file>.pth -o <file>.ckpt --model "
        "<model.py>:<Class>`; the call loads that .ckpt")
    return parse_expression(f"{load}({name})")
