"""torch.set_printoptions -> numpy.set_printoptions.

MindSpore prints a tensor (`print(t)`, `str(t)`) through numpy, with numpy's print
options; `repr(t)` ignores them. torch's profiles are numpy settings:
"default" precision 4, threshold 1000, edgeitems 3, linewidth 80; "short" precision 2
and edgeitems 2; "full" no threshold (sys.maxsize). Arguments given beside a profile
win, as in torch. `sci_mode=False` is numpy's `suppress=True`; numpy has no switch
that forces scientific notation, so `sci_mode=True` goes with a warning (printing only).
"""
from __future__ import annotations

from typing import Dict

import libcst as cst

from ..core.callrewrite import Unsupported, code
from ..core.quick_libcst import parse_expression
from ..core.strings import string_value
from .base import transform

_PROFILES: Dict[str, Dict[str, str]] = {
    "default": {"precision": "4", "threshold": "1000", "edgeitems": "3", "linewidth": "80"},
    "short": {"precision": "2", "threshold": "1000", "edgeitems": "2", "linewidth": "80"},
    "full": {"precision": "4", "threshold": "sys.maxsize", "edgeitems": "3",
             "linewidth": "80"},
}
_SCI_TRUE = "numpy has no switch that forces scientific notation: sci_mode=True goes " \
            "(printing only)"


@transform
def print_options(ctx, rule, bound, call=None):
    options: Dict[str, str] = {}
    profile = bound.get("profile")
    if profile is not None and not (isinstance(profile, cst.Name) and profile.value == "None"):
        name = string_value(profile) if isinstance(profile, cst.SimpleString) else None
        if name not in _PROFILES:
            raise Unsupported("a print profile other than 'default', 'short' or 'full'")
        options.update(_PROFILES[name])
    for arg in ("precision", "threshold", "edgeitems", "linewidth"):
        if bound.get(arg) is not None:
            options[arg] = code(bound.get(arg)).strip()
    sci = bound.get("sci_mode")
    if sci is not None:
        text = code(sci).strip()
        if text == "True":
            bound.warnings.append(_SCI_TRUE)
        elif text in ("False", "None"):
            options["suppress"] = str(text == "False")
        else:  # torch: None lets it choose, as numpy's default does
            options["suppress"] = f"{text} is False"
    if options.get("threshold") == "sys.maxsize":
        ctx.require("import sys")
    function = code(ctx.name("numpy.set_printoptions")).strip()
    args = ", ".join(f"{k}={v}" for k, v in options.items())
    return parse_expression(f"{function}({args})")
