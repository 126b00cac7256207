"""Named transforms: what a rule table cannot say as data.

A transform gets the conversion context, the rule, the bound arguments (named by
torch's signature; a method's receiver is bound as "self" or the rule's
`receiver`) and the original call. It edits the arguments in place and returns
None, or returns a whole new expression; it raises Unsupported when this use
cannot convert. Keep this list short: a new field in the table format is better
than a transform that many rules need.

A module here marks its transforms with @transform (transforms/base.py) and is listed
in MODULES; a table entry names one with `transform = "name"`.
"""
from __future__ import annotations

from typing import Dict

from . import (
    audio,
    bags,
    data,
    devices,
    distributions,
    einsum,
    fft,
    functional,
    helper_calls,
    hub,
    init,
    layers,
    legacy,
    linalg,
    losses,
    models,
    nn_extra,
    one_cycle,
    optim,
    owned,
    print_options,
    processes,
    rounding,
    runtime,
    samplers,
    save_load,
    scatter,
    sparse,
    tensors,
    torch_functions,
    vision,
    vision_data,
)
from .base import Transform

MODULES = (
    audio,
    bags,
    data,
    devices,
    distributions,
    einsum,
    fft,
    functional,
    helper_calls,
    hub,
    init,
    layers,
    legacy,
    linalg,
    losses,
    models,
    nn_extra,
    one_cycle,
    optim,
    owned,
    print_options,
    processes,
    rounding,
    runtime,
    samplers,
    save_load,
    scatter,
    sparse,
    tensors,
    torch_functions,
    vision,
    vision_data,
)


def _collect() -> Dict[str, Transform]:
    found: Dict[str, Transform] = {}
    for module in MODULES:
        for name, fn in vars(module).items():
            if getattr(fn, "is_transform", False) and fn.__module__ == module.__name__:
                if name in found:
                    raise ValueError(f"transform {name!r} defined twice")
                found[name] = fn
    return found


TRANSFORMS: Dict[str, Transform] = _collect()
