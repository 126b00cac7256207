"""Line numbers for findings without libcst's PositionProvider.

PositionProvider costs about two parses. Instead the converter numbers the Call and
Attribute nodes it meets in source (pre-)order, and Python's C `ast` parser gives
the line of the n-th such node: both trees hold the same calls and attribute
accesses in the same order (import statements excluded, as they hold no
expressions in `ast`).
"""
from __future__ import annotations

import ast
import difflib
from typing import Dict, List, Optional, Tuple

Locator = Tuple[str, int]  # ("Call" | "Attribute", pre-order index)


def _node_lines(source: str) -> Optional[Dict[str, List[int]]]:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    keyed: Dict[str, List[Tuple[int, int, int, int, int]]] = {"Call": [], "Attribute": []}
    for node in ast.walk(tree):
        kind = type(node).__name__
        if kind in keyed:
            keyed[kind].append((node.lineno, node.col_offset,
                                -node.end_lineno, -node.end_col_offset, node.lineno))
    return {kind: [item[4] for item in sorted(items)] for kind, items in keyed.items()}


class LineIndex:
    """Maps locators to 1-based lines; falls back to line 0 when unknown."""

    def __init__(self, source: str, counts: Dict[str, int]):
        self._lines = _node_lines(source)
        # Trust the mapping only when both parsers saw the same number of nodes.
        if self._lines is not None and any(
                len(self._lines[k]) != counts.get(k, 0) for k in self._lines):
            self._lines = None

    @property
    def exact(self) -> bool:
        return self._lines is not None

    def line(self, locator: Optional[Locator]) -> int:
        if locator is None or self._lines is None:
            return 0
        kind, index = locator
        items = self._lines.get(kind, [])
        return items[index] if index < len(items) else 0


def source_lines(numbered: str, source: str) -> List[int]:
    """For each line of `numbered` (a statement-level pass's output), the line of
    `source` it came from; a line the pass inserted gets the source line before it.
    Index 0 stays 0 (unknown)."""
    mapping = [0] * (numbered.count("\n") + 2)
    opcodes = difflib.SequenceMatcher(None, numbered.splitlines(), source.splitlines())
    for tag, i1, i2, j1, j2 in opcodes.get_opcodes():
        for k in range(i1, i2):
            if tag == "equal":
                mapping[k + 1] = j1 + (k - i1) + 1
            elif tag == "replace":
                mapping[k + 1] = min(j1 + (k - i1), j2 - 1) + 1
            else:  # inserted by the pass
                mapping[k + 1] = max(j1, 1)
    return mapping
