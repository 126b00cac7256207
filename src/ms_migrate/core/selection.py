"""Which rules and passes run: `--select`/`--disable` and their `[tool.ms-migrate]` keys.

An id is a statement pass's (`training`, `devices`: pipeline.py) or a table rule's: the
torch API it converts as findings name it (`torch.nn.Linear`, `Tensor.view`). A dotted
prefix names every rule under it (`torch.nn.functional`, `torchvision`). With `select`
only what it names runs; `disable` then turns off what it names. A disabled rule leaves
its calls as they are (an info finding says so); a disabled pass does not run.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Tuple


def names(check_id: str, pattern: str) -> bool:
    """Whether `pattern` names `check_id`: the same id, or a dotted prefix of it."""
    return check_id == pattern or check_id.startswith(pattern + ".")


@dataclass(frozen=True)
class Selection:
    select: Tuple[str, ...] = ()   # empty: everything
    disable: Tuple[str, ...] = ()

    @property
    def everything(self) -> bool:
        return not self.select and not self.disable

    def enabled(self, check_id: str) -> bool:
        if self.select and not any(names(check_id, p) for p in self.select):
            return False
        return not any(names(check_id, p) for p in self.disable)

    def unknown(self, known_ids: Iterable[str]) -> Tuple[str, ...]:
        """The given ids that name nothing known (a typo must not pass in silence)."""
        known = tuple(known_ids)
        return tuple(p for p in (*self.select, *self.disable)
                     if not any(names(k, p) for k in known))


def split_ids(values: Iterable[str]) -> Tuple[str, ...]:
    """`--disable a,b --disable c` -> ("a", "b", "c")."""
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())
