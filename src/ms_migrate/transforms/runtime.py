"""torch.device(...) of a name chosen at run time -> a MindSpore device target.

`torch.device("cuda" if ... else "cpu")` is `device_target` (transforms/devices.py).
Here the forms it refuses that still say what they select:

- a device name held by a variable, `torch.device(args.device)`: torch's names map
  to MindSpore's at run time, any other name (a converted accelerator's "GPU",
  "Ascend") is kept: `{"cuda": "GPU", "cpu": "CPU"}.get(args.device.split(":")[0], args.device)`;
- an indexed name built from a literal type, `f"cuda:{rank}"`, `"cuda:" + str(k)`,
  `"cuda:{}".format(gpu)`: the type's target ("GPU"), the index dropped with a note;
- `f"{acc}:{rank}"`: the variable's name, as above, the index dropped with a note.
"""
from __future__ import annotations

from typing import Optional

import libcst as cst

from ..core.callrewrite import Bound, Unsupported
from ..core.names import dotted_name
from ..core.quick_libcst import parse_expression
from ..core.strings import string_value
from .base import transform
from .devices import CPU_FALLBACKS, DEVICE_TARGETS, INDEX_NOTE, device_target

_RUNTIME_NOTE = ("the device name is chosen at run time: torch's \"cuda\"/\"cpu\" become "
                 "\"GPU\"/\"CPU\", other names are kept")


@transform
def device_target_runtime(ctx, rule, bound: Bound, call=None):
    try:
        return device_target(ctx, rule, bound, call)
    except Unsupported as refused:
        value = bound.values["type"]
        typed = _literal_type(value)
        if typed is not None:
            if typed in CPU_FALLBACKS:
                bound.warnings.append(CPU_FALLBACKS[typed])
            elif typed not in DEVICE_TARGETS:
                raise Unsupported(f"device type {typed!r} has no MindSpore device target")
            bound.warnings.append(INDEX_NOTE)
            return cst.SimpleString(f'"{DEVICE_TARGETS.get(typed, "CPU")}"')
        name = _named_type(value)
        if name is None:
            raise refused
        if name is not value:
            bound.warnings.append(INDEX_NOTE)
        bound.warnings.append(_RUNTIME_NOTE)
        text = cst.Module([]).code_for_node(name)
        return parse_expression(
            f'{{"cuda": "GPU", "cpu": "CPU"}}.get({text}.split(":")[0], {text})')


def _literal_type(value: cst.BaseExpression) -> Optional[str]:
    """"cuda" for f"cuda:{i}", "cuda:" + str(i), "cuda:{}".format(i); else None."""
    prefix: Optional[str] = None
    if isinstance(value, cst.FormattedString) and value.parts and isinstance(
            value.parts[0], cst.FormattedStringText):
        prefix = value.parts[0].value
    elif isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.Add) \
            and isinstance(value.left, cst.SimpleString):
        prefix = string_value(value.left)
    elif (isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute)
          and value.func.attr.value == "format" and isinstance(value.func.value, cst.SimpleString)):
        prefix = string_value(value.func.value)
    if prefix is None or ":" not in prefix:
        return None
    typed, _, rest = prefix.partition(":")
    if not typed.isalpha() or (rest and not rest.startswith("{")):
        return None
    return typed


def _named_type(value: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """The dotted name holding the device name: `args.device`, or `acc` in f"{acc}:{i}"."""
    if dotted_name(value) is not None:
        return value
    if isinstance(value, cst.FormattedString) and len(value.parts) >= 2:
        first, second = value.parts[0], value.parts[1]
        if (isinstance(first, cst.FormattedStringExpression) and first.format_spec is None
                and first.conversion is None and dotted_name(first.expression) is not None
                and isinstance(second, cst.FormattedStringText)
                and second.value.startswith(":")):
            return first.expression
    return None
