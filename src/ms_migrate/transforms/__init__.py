"""Named transforms: what a rule table cannot say as data.

A transform gets the conversion context, the rule, the bound arguments (named by
torch's signature; a method's receiver is bound as "self" or the rule's
`receiver`) and the original call. It edits the arguments in place and returns
None, or returns a whole new expression; it raises Unsupported when this use
cannot convert. Keep this list short: a new field in the table format is better
than a transform that many rules need.

Each module here registers its transforms with @transform; a table entry names
one with `transform = "name"`.
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import Callable, Dict, Optional

import libcst as cst

from ..callrewrite import code

Transform = Callable[..., Optional[cst.BaseExpression]]
TRANSFORMS: Dict[str, Transform] = {}


def transform(fn: Transform) -> Transform:
    if fn.__name__ in TRANSFORMS:
        raise ValueError(f"transform {fn.__name__!r} defined twice")
    TRANSFORMS[fn.__name__] = fn
    return fn


def literal(node: Optional[cst.BaseExpression]) -> Optional[str]:
    """Source text of an argument, or None when it was not given."""
    return None if node is None else code(node).strip()


def quoted(text: str) -> cst.SimpleString:
    return cst.SimpleString(f'"{text}"')


for _info in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_info.name}")
