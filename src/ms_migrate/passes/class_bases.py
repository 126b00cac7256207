"""Replacing torch base classes in `class X(Base):` lines: the one mechanism behind
data_subclasses.py (MindSpore's torch-style loader classes) and vision_subclasses.py
(torchvision transform classes written into the file)."""
from __future__ import annotations

import re
from typing import Callable, Dict

import libcst as cst

from ..core.context import Context
from ..core.report import CONVERTED
from ..core.traversal import traverse
from .statement_pass import StatementPass

_APPLIES = re.compile(r"\bclass\b")


def rebase(ctx: Context, module: cst.Module, bases: Dict[str, str],
           replacement: Callable[[Context, str], cst.BaseExpression],
           message: Callable[[str], str]) -> cst.Module:
    """Each base whose torch API is in `bases` becomes `replacement(ctx, name)`."""
    rebaser = _Rebaser(ctx, bases, replacement, message)
    converted = traverse(module, rebaser)
    rebaser.place_findings()
    return converted


class _Rebaser(StatementPass):
    def __init__(self, ctx: Context, bases, replacement, message):
        super().__init__(ctx, _APPLIES)
        self.bases, self.replacement, self.message = bases, replacement, message

    def leave_ClassDef(self, original, updated):
        bases = list(updated.bases)
        for k, base in enumerate(original.bases):
            api = self.ctx.resolve(base.value)
            name = self.bases.get(api or "")
            if name is None:
                continue
            bases[k] = bases[k].with_changes(value=self.replacement(self.ctx, name))
            self.add(base, api, CONVERTED, self.message(name))
        if all(new is old for new, old in zip(bases, updated.bases)):
            return updated  # an unchanged class stays the statement parsed (its lines known)
        return updated.with_changes(bases=bases)
