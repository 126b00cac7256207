"""The words a statement spells where it names a torch API, for RelevantLines.

`ctx.resolve` reads a dotted name through the file's torch aliases and then the alias
table (core/aliases.py), so a statement that names `torch.save` spells on one of its
lines `save` (`torch.save`, `serialization.save`), the last name of another spelling
the table maps to it, or a name the file imports it as (`from torch import save as
store`). A pass that rewrites a few APIs reads only those statements, not every
statement that names torch (torch_names).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Collection, FrozenSet, Pattern, Set, Tuple

from ..core.aliases import canonical, other_spellings
from ..core.context import Context
from ..core.positions import NEVER, names_pattern


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


def word_patterns(words: Collection[str]) -> Tuple[Pattern, ...]:
    """RelevantLines patterns that together match where `names_pattern(words)` does.
    A few words go one pattern each: a search for a literal is fast, an alternation is
    tried at every character (five times slower over a file than one word's search)."""
    if len(words) > _ONE_BY_ONE:
        return (names_pattern(words),)
    return tuple(_word(word) for word in sorted(words)) or (NEVER,)


_ONE_BY_ONE = 12  # words searched one by one (8 common ones: 31 ms over 690 files against 51)


@lru_cache(maxsize=512)
def _word(word: str) -> Pattern:
    return re.compile(rf"{re.escape(word)}\b")
