"""Transforms for devices: torch device names -> MindSpore device targets."""
from __future__ import annotations

import re
from typing import List, Optional

import libcst as cst

from ..core.callrewrite import Bound, Unsupported
from .base import literal, transform

# torch device type -> MindSpore device_target. A CUDA device is MindSpore's GPU
# target; on Ascend pass "Ascend" to mindspore.set_device by hand.
DEVICE_TARGETS = {"cuda": "GPU", "cpu": "CPU"}
_INDEX_NOTE = "dropped the device index: pass device_id to mindspore.set_device"
_DEVICE_STRING = re.compile(r"^(?P<type>[a-z]+)(:(?P<index>\d+))?$")


def device_string(node: cst.BaseExpression) -> Optional[str]:
    """The torch device type a string literal names ("cuda:0" -> "cuda"), or None."""
    if not isinstance(node, cst.SimpleString):
        return None
    match = _DEVICE_STRING.match(node.evaluated_value)
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
    if kind is not None and node.evaluated_value.partition(":")[2] not in ("", "0"):
        notes.append(_INDEX_NOTE)
    if kind is None:
        raise Unsupported("only device names written as string literals convert")
    if kind not in DEVICE_TARGETS:
        raise Unsupported(f"device type {kind!r} has no MindSpore device target")
    quote = node.prefix + node.quote
    return cst.SimpleString(f'{quote}{DEVICE_TARGETS[kind]}{node.quote}')


@transform
def device_target(ctx, rule, bound: Bound, call=None):
    """torch.device("cuda" if ... else "cpu") -> "GPU" if ... else "CPU"."""
    if bound.get("index") is not None and literal(bound.get("index")) != "0":
        bound.warnings.append(_INDEX_NOTE)
    if bound.get("type") is None:
        raise Unsupported("needs the argument 'type'")
    notes: List[str] = []
    target = to_device_target(bound.values["type"], notes)
    bound.warnings.extend(dict.fromkeys(notes))
    return target
