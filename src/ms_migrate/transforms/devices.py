"""Transforms for devices: torch device names -> MindSpore device targets."""
from __future__ import annotations

import re
from typing import List, Optional

import libcst as cst

from ..core.callrewrite import Bound, Unsupported
from ..core.names import dotted_name
from ..core.strings import string_value
from .base import literal, transform

# torch device type -> MindSpore device_target. A CUDA device is MindSpore's GPU
# target; on Ascend pass "Ascend" to mindspore.set_device by hand.
DEVICE_TARGETS = {"cuda": "GPU", "cpu": "CPU"}
INDEX_NOTE = "dropped the device index: pass device_id to mindspore.set_device"
# torch device types MindSpore has no target for, whose work runs on its CPU target with
# the same values (only slower)
CPU_FALLBACKS = {"mps": "MindSpore has no Apple GPU (mps) target: the work runs on the CPU"}
_DEVICE_STRING = re.compile(r"^(?P<type>[a-z]+)(:(?P<index>\d+))?$")


def device_string(node: cst.BaseExpression) -> Optional[str]:
    """The torch device type a string literal names ("cuda:0" -> "cuda"), or None."""
    if not isinstance(node, cst.SimpleString):
        return None
    match = _DEVICE_STRING.match(string_value(node))
    if match is None or match["type"] not in (*DEVICE_TARGETS, "mps", "xpu", "meta"):
        return None
    return match["type"]


def is_device_string_expr(node: cst.BaseExpression) -> bool:
    """`"cuda"`, or `"cuda" if <test> else "cpu"` (nested as deep as it goes)."""
    if isinstance(node, cst.IfExp):
        return is_device_string_expr(node.body) and is_device_string_expr(node.orelse)
    return device_string(node) is not None


def to_device_target(node: cst.BaseExpression, notes: List[str]) -> cst.BaseExpression:
    """Rewrite device string literals in a device expression to MindSpore targets.

    A dropped device index ("cuda:1") is said in `notes`.
    """
    if isinstance(node, cst.IfExp):
        return node.with_changes(body=to_device_target(node.body, notes),
                                 orelse=to_device_target(node.orelse, notes))
    kind = device_string(node)
    if kind is not None and string_value(node).partition(":")[2] not in ("", "0"):
        notes.append(INDEX_NOTE)
    if kind is None:
        raise Unsupported("only device names written as string literals convert")
    if kind in CPU_FALLBACKS:
        notes.append(CPU_FALLBACKS[kind])
    elif kind not in DEVICE_TARGETS:
        raise Unsupported(f"device type {kind!r} has no MindSpore device target")
    quote = node.prefix + node.quote
    return cst.SimpleString(f'{quote}{DEVICE_TARGETS.get(kind, "CPU")}{node.quote}')


@transform
def device_target(ctx, rule, bound: Bound, call=None):
    """torch.device("cuda" if ... else "cpu") -> "GPU" if ... else "CPU"."""
    if bound.get("index") is not None and literal(bound.get("index")) != "0":
        bound.warnings.append(INDEX_NOTE)
    if bound.get("type") is None:
        raise Unsupported("needs the argument 'type'")
    notes: List[str] = []
    target = to_device_target(bound.values["type"], notes)
    bound.warnings.extend(dict.fromkeys(notes))
    return target


@transform
def gpu_device_query(ctx, rule, bound: Bound, call=None):
    """torch.cuda.get_device_properties(device) -> mindspore.hal.get_device_properties(
    <index>, "GPU"): MindSpore asks by device index, so `torch.device("cuda")`, "cuda" and
    no device are the current one (`mindspore.get_context("device_id")`), "cuda:1" is 1,
    an int is kept."""
    device = bound.get("device")
    if isinstance(device, cst.Call) and device.args:  # torch.device("cuda", 1), unconverted
        if (dotted_name(device.func) or "").rpartition(".")[2] != "device":
            raise Unsupported("a device given as a call: pass its index")
        index = device.args[1].value if len(device.args) > 1 else None
        device = index if index is not None else device.args[0].value
    text = string_value(device) if isinstance(device, cst.SimpleString) else None
    if device is None or literal(device) == "None" or text in ("cuda", "GPU"):
        index = cst.Call(ctx.name("mindspore.get_context"), [cst.Arg(cst.SimpleString('"device_id"'))])
    elif text is not None:
        match = _DEVICE_STRING.match(text)
        if match is None or match["type"] != "cuda" or match["index"] is None:
            raise Unsupported(f"not a CUDA device: {text!r}")
        index = cst.Integer(match["index"])
    elif isinstance(device, (cst.Integer, cst.Name, cst.Attribute, cst.Subscript)):
        index = device
        if not isinstance(device, cst.Integer):
            bound.warnings.append("assumed the argument is a device index (an int): a "
                                  "torch.device there needs its .index")
    else:
        raise Unsupported("only a device index, a CUDA device name or torch.device converts")
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    return cst.Call(ctx.name(rule.target), [cst.Arg(index, comma=comma),
                                            cst.Arg(cst.SimpleString('"GPU"'))])
