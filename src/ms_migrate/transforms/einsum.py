"""torch.einsum with a literal equation, composed of ops every MindSpore backend runs.

MindSpore's einsum has no CPU kernel, so the equation is read at conversion time and
written as the contraction it describes:

    einsum("bhid,bhjd->bhij", q, k)   ->  ops.matmul(q, k.swapaxes(-2, -1))
    einsum("bn,bnd->bd", w, x)        ->  (w[:, :, None] * x).sum(1)
    einsum("i,j->ij", a, b)           ->  a[:, None] * b
    einsum("ii->i", m)                ->  m.diagonal()
    einsum("ij->", m)                 ->  m.sum((0, 1))

Operands are taken two at a time, left to right. For each pair: an index only one
of them has and nothing later needs is summed out first; then one index summed
between them, with free indices on both sides, is a (broadcast, batched) matmul;
anything else is a broadcast product summed over the shared indices. A repeated
index in one operand is its diagonal. `...` may lead the operands and the result
(the broadcast dimensions then stay in front, named axes are counted from the end);
without `->` the result is the indices that occur once, in alphabetical order.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import libcst as cst

from ..core.callrewrite import Unsupported, code
from ..core.parsed import parsed_expression
from ..core.strings import string_value
from .base import transform

_OPS = "__ops__"  # stands for the ops module until the names are known


@dataclass
class _Term:
    text: str          # source of the value, an atom (parenthesised when needed)
    axes: List[str]    # its named axes, in order (after the leading `...` if any)
    dots: bool         # whether it has leading `...` dimensions

    def axis(self, position: int, ndim: Optional[int] = None) -> int:
        """An axis number: counted from the end when `...` leads."""
        ndim = len(self.axes) if ndim is None else ndim
        return position - ndim if self.dots else position


def parse_equation(equation: str, count: int) -> Tuple[List[List[str]], List[str], bool]:
    """Each operand's indices, the result's, and whether `...` occurs; `...` must lead."""
    equation = "".join(equation.split())
    if "->" in equation:
        left, result = equation.split("->", 1)
        explicit = True
    else:
        left, result, explicit = equation, "", False
    inputs = left.split(",")
    if len(inputs) != count:
        raise Unsupported(f"the equation names {len(inputs)} operands, the call gives {count}")

    def indices(text: str) -> Tuple[List[str], bool]:
        dots = text.startswith("...")
        body = text[3:] if dots else text
        if "." in body:
            raise Unsupported("`...` only where it leads the indices is converted")
        if not all(c.isalpha() and c.isascii() for c in body):
            raise Unsupported(f"unexpected characters in einsum subscripts {text!r}")
        return list(body), dots

    operands = [indices(t) for t in inputs]
    dots = any(d for _, d in operands)
    if explicit:
        out, out_dots = indices(result)
        if len(set(out)) != len(out):
            raise Unsupported("an output index occurs twice")
        if out_dots != dots and dots:
            raise Unsupported("the output drops `...`: summing broadcast dimensions")
        if out_dots and not dots:
            raise Unsupported("`...` in the output only")
    else:
        seen = [c for axes, _ in operands for c in axes]
        out = sorted(c for c in set(seen) if seen.count(c) == 1)
    known = {c for axes, _ in operands for c in axes}
    if set(out) - known:
        raise Unsupported("an output index occurs in no operand")
    return [axes for axes, _ in operands], out, dots


class _Writer:
    def __init__(self, ops: str):
        self.ops = ops

    # --- one operand ---------------------------------------------------------
    def diagonal(self, term: _Term) -> _Term:
        while len(set(term.axes)) != len(term.axes):
            letter = next(c for c in term.axes if term.axes.count(c) > 1)
            first = term.axes.index(letter)
            second = term.axes.index(letter, first + 1)
            a, b = term.axis(first), term.axis(second)
            if (a, b) == (0, 1) and len(term.axes) == 2:
                text = f"{term.text}.diagonal()"
            else:
                text = f"{term.text}.diagonal(0, {a}, {b})"
            axes = [c for i, c in enumerate(term.axes) if i not in (first, second)] + [letter]
            term = _Term(text, axes, term.dots)
        return term

    def sum(self, term: _Term, letters: Sequence[str]) -> _Term:
        positions = [i for i, c in enumerate(term.axes) if c in letters]
        if not positions:
            return term
        if not term.dots and len(positions) == len(term.axes):
            text = f"{term.text}.sum()"
        else:
            axes = [term.axis(i) for i in positions]
            arg = str(axes[0]) if len(axes) == 1 else f"({', '.join(map(str, axes))})"
            text = f"{term.text}.sum({arg})"
        return _Term(text, [c for c in term.axes if c not in letters], term.dots)

    def permute(self, term: _Term, order: List[str]) -> _Term:
        if term.axes == order:
            return term
        moved = [i for i, (a, b) in enumerate(zip(term.axes, order)) if a != b]
        n = len(order)
        if len(moved) == 2:
            a, b = moved
            if term.dots or (n > 2 and b == n - 1 and a == n - 2):
                text = f"{term.text}.swapaxes({a - n}, {b - n})"
            else:
                text = f"{term.text}.swapaxes({a}, {b})"
        elif term.dots:
            source = tuple(i - n for i in moved)
            destination = tuple(order.index(term.axes[i]) - n for i in moved)
            text = f"{self.ops}.movedim({term.text}, {source}, {destination})"
        else:
            perm = tuple(term.axes.index(c) for c in order)
            text = f"{self.ops}.permute({term.text}, {perm})"
        return _Term(text, list(order), term.dots)

    def expand(self, term: _Term, order: List[str]) -> _Term:
        """`term` (whose axes are in `order`'s relative order) with a size-1 axis for
        each of `order`'s letters it lacks."""
        if term.axes == order:
            return term
        items = ["None" if c not in term.axes else ":" for c in order]
        if term.dots:  # `x[..., None]` would put the new axis last: colons stay
            items = ["..."] + items
        else:  # broadcasting supplies leading axes and reads trailing ones
            while items and items[-1] == ":":
                items.pop()
            while items and items[0] == "None":
                items.pop(0)
            if not items:
                return _Term(term.text, list(order), term.dots)
        return _Term(f"{term.text}[{', '.join(items)}]", list(order), term.dots)

    # --- two operands ----------------------------------------------------------
    def pair(self, a: _Term, b: _Term, keep: List[str]) -> _Term:
        a = self.sum(a, [c for c in a.axes if c not in keep and c not in b.axes])
        b = self.sum(b, [c for c in b.axes if c not in keep and c not in a.axes])
        shared = [c for c in a.axes if c in b.axes]
        contracted = [c for c in shared if c not in keep]
        free_a = [c for c in a.axes if c not in b.axes]
        free_b = [c for c in b.axes if c not in a.axes]
        kept = [c for c in keep if c in a.axes or c in b.axes]
        candidates = []
        if len(contracted) == 1 and free_a and free_b:
            # one summed index, free ones on both sides: a matmul, the other free
            # indices broadcast as batch dimensions
            (c,) = contracted
            for left, right, rows, cols in ((a, b, free_a, free_b), (b, a, free_b, free_a)):
                for row in rows:
                    for col in cols:
                        letters = (set(shared) | set(rows) | set(cols)) - {c, row, col}
                        for block in _orders(letters, kept, left.axes + right.axes,
                                             right.axes + left.axes):
                            x = self._aligned(left, block + [row, c])
                            y = self._aligned(right, block + [c, col])
                            candidates.append(_Term(f"{self.ops}.matmul({x.text}, {y.text})",
                                                    block + [row, col], a.dots or b.dots))
        else:
            # a broadcast product summed over the shared indices that are not kept
            for order in _orders(set(kept) | set(contracted), a.axes + b.axes,
                                 b.axes + a.axes, kept + contracted, contracted + kept):
                x = self._aligned(a, order)
                y = self._aligned(b, order)
                product = _Term(f"({x.text} * {y.text})", order, a.dots or b.dots)
                candidates.append(self.sum(product, contracted))
        return min(candidates, key=lambda t: len(self.permute(t, kept).text))

    def _aligned(self, term: _Term, order: List[str]) -> _Term:
        own = [c for c in order if c in term.axes]
        return self.expand(self.permute(term, own), order)


def _orders(letters, *preferences) -> List[List[str]]:
    """`letters` in each order of preference (first occurrence), without repeats."""
    found: List[List[str]] = []
    for preference in preferences:
        order = [c for c in dict.fromkeys(preference) if c in letters]
        if order not in found:
            found.append(order)
    return found


def _operand(node: cst.BaseExpression) -> str:
    text = code(node).strip()
    if isinstance(node, (cst.Name, cst.Attribute, cst.Call, cst.Subscript)) or (
            node.lpar and node.rpar):
        return text
    return f"({text})"


def compose(equation: str, operands: List[str], ops: str) -> str:
    """Source of the MindSpore expression computing `einsum(equation, *operands)`."""
    indices, out, dots = parse_equation(equation, len(operands))
    has_dots = ["..." in t for t in "".join(equation.split()).split("->")[0].split(",")]
    writer = _Writer(ops)
    terms = [writer.diagonal(_Term(text, list(axes), d))
             for text, axes, d in zip(operands, indices, has_dots)]
    result = terms[0]
    for i, term in enumerate(terms[1:], start=1):
        later = [c for t in terms[i + 1:] for c in t.axes]
        keep = out + [c for c in dict.fromkeys(later) if c not in out]
        result = writer.pair(result, term, keep)
    result = writer.sum(result, [c for c in result.axes if c not in out])
    result = writer.permute(result, out)
    text = result.text
    if text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1]
    return text


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def _equation(node: Optional[cst.BaseExpression]) -> str:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = string_value(node)
        if isinstance(value, str):
            return value
    if isinstance(node, cst.FormattedString) and all(
            isinstance(p, cst.FormattedStringText) for p in node.parts):
        return "".join(p.value for p in node.parts).replace("{{", "{").replace("}}", "}")
    raise Unsupported("the equation is not a literal string: it is parsed at conversion time")


@transform
def einsum_equation(ctx, rule, bound, call=None):
    """torch.einsum("bij,bjk->bik", a, b) -> ops.matmul(a, b): see the module's doc."""
    equation = _equation(bound.get("equation"))
    items = bound.packed.get("operands") or []
    if len(items) == 1 and isinstance(items[0], (cst.List, cst.Tuple)):
        items = [e for e in items[0].elements]
        if any(isinstance(e, cst.StarredElement) for e in items):
            raise Unsupported("operands given as an unpacked sequence")
        items = [e.value for e in items]
    if not items or any(isinstance(e, cst.StarredElement) for e in items):
        raise Unsupported("the operands are not written out one by one")
    extra = set(bound.values) - {"equation", "operands"}
    if extra:
        raise Unsupported(f"unknown argument {sorted(extra)[0]!r}")
    text = compose(equation, [_operand(e) for e in items], _OPS)
    text = re.sub(re.escape(_OPS) + r"\.(\w+)",
                  lambda m: code(ctx.name(f"mindspore.ops.{m.group(1)}")).strip(), text)
    return parsed_expression(text)  # the same products recur: parsed once per process
