"""Other spellings of ruled torch APIs -> their public names.

torch exposes one object under many paths (`torch.nn.modules.linear.Linear` is
`torch.nn.Linear`); rules are keyed by the public one. The table is data made by
scripts/gen_torch_aliases.py (which imports torch, so the converter need not),
read once per process as JSON (~0.3 ms) and checked field by field.
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Dict, FrozenSet, Optional, Tuple

from .rule import builtin_mappings_dir

_TABLE: Optional[Tuple[Dict[str, str], FrozenSet[str]]] = None


def _load() -> Tuple[Dict[str, str], FrozenSet[str]]:
    global _TABLE
    if _TABLE is None:
        names: Dict[str, str] = {}
        modules: FrozenSet[str] = frozenset()
        path = builtin_mappings_dir() / "aliases" / "torch_aliases.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}  # no table: names resolve as written, as before it existed
        if isinstance(data, dict):
            raw = data.get("names")
            if isinstance(raw, dict):
                names = {k: v for k, v in raw.items()
                         if isinstance(k, str) and isinstance(v, str)}
            raw = data.get("modules")
            if isinstance(raw, list):
                modules = frozenset(m for m in raw if isinstance(m, str))
        _TABLE = (names, modules)
    return _TABLE


@lru_cache(maxsize=8192)  # called for every resolved name; files repeat few of them
def canonical(qualified: str) -> str:
    """The public spelling of `qualified`: `torch.nn.modules.linear.Linear` ->
    `torch.nn.Linear`, `torch._tensor.Tensor.add` -> `torch.Tensor.add`."""
    names = _load()[0]
    while qualified.startswith("torch.torch."):  # `torch.torch` is the module itself
        qualified = qualified[len("torch."):]
    head, rest = qualified, ""
    while True:
        public = names.get(head)
        if public is not None:
            return public + rest
        head, dot, last = head.rpartition(".")
        if not dot:
            return qualified
        rest = f".{last}{rest}"


def other_spellings() -> Dict[str, str]:
    """The table: each other spelling of a ruled API -> its public name."""
    return _load()[0]


def torch_modules() -> FrozenSet[str]:
    """Module paths the table was made from: namespaces, not APIs."""
    return _load()[1]
