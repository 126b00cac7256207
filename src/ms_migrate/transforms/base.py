"""What every transform module shares: the @transform mark and small argument helpers."""
from __future__ import annotations

from typing import Callable, Optional

import libcst as cst

from ..core.callrewrite import code

Transform = Callable[..., Optional[cst.BaseExpression]]


def transform(fn: Transform) -> Transform:
    """Marks a function as a named transform (transforms/__init__.py collects them)."""
    fn.is_transform = True
    return fn


def literal(node: Optional[cst.BaseExpression]) -> Optional[str]:
    """Source text of an argument, or None when it was not given."""
    return None if node is None else code(node).strip()


def quoted(text: str) -> cst.SimpleString:
    return cst.SimpleString(f'"{text}"')
