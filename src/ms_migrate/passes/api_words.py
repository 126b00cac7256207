"""The words a statement spells where it names a torch API, for RelevantLines.

`ctx.resolve` reads a dotted name through the file's torch aliases and then the alias
table (core/aliases.py), so a statement that names `torch.save` spells on one of its
lines `save` (`torch.save`, `serialization.save`), the last name of another spelling
the table maps to it, or a name the file imports it as (`from torch import save as
store`). A pass that rewrites a few APIs reads only those statements, not every
statement that names torch (torch_names).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Collection, FrozenSet, Set

from ..core.aliases import canonical, other_spellings
from ..core.context import Context


def api_words(ctx: Context, apis: Collection[str]) -> Set[str]:
    """Words one of which every statement that names one of `apis` (public names, as
    `ctx.resolve` gives them) spells."""
    apis = frozenset(apis)
    return {*_table_words(apis), *(alias for alias, qualified in ctx.aliases.items()
                                   if canonical(qualified) in apis)}


@lru_cache(maxsize=32)
def _table_words(apis: FrozenSet[str]) -> FrozenSet[str]:
    """The APIs' last names, and those of the spellings the alias table maps to them."""
    spellings = {name for name, public in other_spellings().items() if public in apis}
    return frozenset(name.rpartition(".")[2] for name in (*apis, *spellings))
