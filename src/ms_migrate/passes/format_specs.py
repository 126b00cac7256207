"""Formatting a tensor with a format spec.

A 0-d torch Tensor formats as its number (`Tensor.__format__` calls `.item()`), so
training scripts print `f"{loss:.4f}"` or `"{:.6f}".format(loss)`; a MindSpore Tensor
takes no format spec and raises TypeError. In a file that imports torch, a value
formatted with a float presentation type (e E f F g G %) is read as `float(...)`:
a str there already fails in Python, an int prints the same through float, and a
1-element tensor prints as torch's 0-d one did.

    f"loss {loss:.4f}"              ->  f"loss {float(loss):.4f}"
    "{:.3f} {acc:.2%}".format(l, acc=a)  ->  "{:.3f} {acc:.2%}".format(float(l), acc=float(a))

An integer spec (`d`) gets `int(...)` only around what is plainly a tensor's
reduction (`(pred == y).sum()`, `logits.argmax()`). Left as written: literals,
`float(...)`, `int(...)`, `len(...)` and `.item()` calls, names only ever assigned
numbers in this file (`total = 0`, `total += x.item()`, `for i in range(n)`), and
specs without a type (a str could be meant). `%`-formatting needs nothing: MindSpore's
Tensor converts with `__float__`/`__int__` as `"%.4f" % loss` asks.
"""
from __future__ import annotations

import re
import string
from typing import Collection, Dict, Iterator, List, Optional

import libcst as cst

from ..core.context import Context
from ..core.positions import RelevantLines, names_pattern
from ..core.report import CONVERTED
from ..core.strings import string_value
from ..core.traversal import FastVisitor, traverse
from .statement_pass import StatementPass

_CODE = cst.Module(body=[])
_IMPORTS_TORCH = re.compile(r"^\s*(?:import|from)\s+torch\b", re.M)
# a line with a format spec whose type is one this pass handles (`:.4f}`, `:>8.2e}`, `:d}`)
# (within one line: a class matching newlines made the search quadratic in the file)
_SPEC_LINE = re.compile(r":[^{}'\"\n]*[eEfFgG%d]\}")
_FLOAT_TYPES = set("eEfFgG%")
# methods whose result is a tensor holding an integer count or index
_INT_REDUCTIONS = {"sum", "argmax", "argmin", "count_nonzero"}
_NUMBER_CALLS = {"float", "int", "len", "range", "enumerate"}
_NUMBER_MODULES = {"np", "numpy", "math", "statistics"}
_CLOCKS = {"time", "perf_counter", "monotonic", "process_time"}


def applies(source: str) -> bool:
    return bool(_IMPORTS_TORCH.search(source)) and bool(_SPEC_LINE.search(source))


def convert_format_specs(ctx: Context, module: cst.Module) -> cst.Module:
    specs = _FormatSpecs(ctx, module)
    converted = traverse(module, specs)
    specs.place_findings()
    return converted


def _presentation(spec: str) -> str:
    """The presentation type at the end of a format spec ('' when it has none)."""
    return spec[-1] if spec and (spec[-1].isalpha() or spec[-1] == "%") else ""


def _kind(spec: str) -> str:
    kind = _presentation(spec)
    return "float" if kind in _FLOAT_TYPES else kind


def _call_name(node: cst.BaseExpression) -> Optional[str]:
    if isinstance(node, cst.Call):
        func = node.func
        if isinstance(func, cst.Name):
            return func.value
        if isinstance(func, cst.Attribute):
            return "." + func.attr.value
    return None


def _is_number(node: cst.BaseExpression, numbers: Collection[str]) -> bool:
    """Plainly a Python number (or a str, bool, None: anything but a tensor)."""
    if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString,
                         cst.ConcatenatedString, cst.FormattedString)):
        return True
    if isinstance(node, cst.Name):
        return node.value in numbers or node.value in ("True", "False", "None")
    name = _call_name(node)
    if name in _NUMBER_CALLS or name == ".item":
        return True
    if name and name.startswith(".") and isinstance(node.func.value, cst.Name) and (
            node.func.value.value in _NUMBER_MODULES
            or (node.func.value.value == "time" and name[1:] in _CLOCKS)):
        return True  # np.mean(...), math.sqrt(...), time.time()
    if isinstance(node, cst.UnaryOperation):
        return _is_number(node.expression, numbers)
    if isinstance(node, cst.BinaryOperation):
        return _is_number(node.left, numbers) and _is_number(node.right, numbers)
    return False


def _bound_values(module: cst.Module, skips=None) -> Dict[str, List[Optional[cst.BaseExpression]]]:
    """name -> the values bound to it (None: not known) in the statements `skips`
    does not pass over."""
    visitor = _Assignments() if skips is None else _SkippingAssignments(skips)
    traverse(module, visitor)
    return visitor.values


class _Assignments(FastVisitor):
    # module-level: a visitor class made per call would build its traversal plan
    # (and pay abc's subclass checks) again each time
    def __init__(self) -> None:
        super().__init__()
        self.values: Dict[str, List[Optional[cst.BaseExpression]]] = {}

    def bind(self, target: cst.BaseExpression, value: Optional[cst.BaseExpression]) -> None:
        if isinstance(target, cst.Name):
            self.values.setdefault(target.value, []).append(value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            items = None  # `a, b = 0.0, 0` pairs up; other unpacking: unknown values
            if (isinstance(value, (cst.Tuple, cst.List))
                    and len(value.elements) == len(target.elements)
                    and not any(isinstance(e, cst.StarredElement)
                                for e in (*value.elements, *target.elements))):
                items = [e.value for e in value.elements]
            for i, element in enumerate(target.elements):
                self.bind(element.value, items[i] if items else None)

    def visit_Assign(self, node):
        for target in node.targets:
            self.bind(target.target, node.value)

    def visit_AugAssign(self, node):
        self.bind(node.target, node.value)

    def visit_AnnAssign(self, node):
        self.bind(node.target, node.value)

    def visit_For(self, node):
        loop = node.iter
        counted = _call_name(loop) == "range"
        if isinstance(node.target, cst.Name):
            self.bind(node.target, cst.Integer("0") if counted else None)
        elif (_call_name(loop) == "enumerate" and isinstance(node.target, cst.Tuple)
              and node.target.elements):
            self.bind(node.target.elements[0].value, cst.Integer("0"))
            for element in node.target.elements[1:]:
                self.bind(element.value, None)
        else:
            self.bind(node.target, None)

    def visit_NamedExpr(self, node):
        self.bind(node.target, node.value)

    def visit_Param(self, node):
        self.bind(node.name, None)

    def visit_CompFor(self, node):
        self.bind(node.target, None)

    def visit_WithItem(self, node):
        if node.asname is not None:
            self.bind(node.asname.name, None)


class _SkippingAssignments(_Assignments):
    """Reads only the statements `skips` does not pass over."""

    def __init__(self, skips) -> None:
        super().__init__()
        self.skips = skips


def _operand_names(value: cst.BaseExpression) -> Iterator[str]:
    """The names whose being numbers `_is_number(value)` may ask about."""
    if isinstance(value, cst.Name):
        yield value.value
    elif isinstance(value, cst.UnaryOperation):
        yield from _operand_names(value.expression)
    elif isinstance(value, cst.BinaryOperation):
        yield from _operand_names(value.left)
        yield from _operand_names(value.right)


class _NumberNames:
    """Names every assignment of which in this file is plainly a number, worked out
    on demand: whether `name` is one depends only on the values of the names its
    values name, so only the statements naming those are read (not the whole tree)."""

    def __init__(self, ctx: Context, module: cst.Module):
        self._ctx = ctx
        self._module = module
        self._known: Dict[str, bool] = {}

    def __contains__(self, name: str) -> bool:
        if name not in self._known:
            self._resolve(name)
        return self._known[name]

    def _resolve(self, name: str) -> None:
        values: Dict[str, List[Optional[cst.BaseExpression]]] = {}
        wanted = {name}
        while wanted:  # the names the values name, until no new ones
            skips = RelevantLines(self._ctx.lines, names_pattern(wanted)).skips
            found = _bound_values(self._module, skips)
            for each in wanted:
                values[each] = found.get(each, [])
            wanted = {operand for each in wanted for value in values[each]
                      if value is not None for operand in _operand_names(value)
                      if operand not in values and operand not in self._known}
        numbers = {each for each, bound in values.items() if bound}
        numbers |= {each for each, number in self._known.items() if number}
        changed = True
        while changed:  # a name stops being a number as soon as one of its values is not
            changed = False
            for each in list(numbers):
                if each in values and any(v is None or not _is_number(v, numbers)
                                          for v in values[each]):
                    numbers.discard(each)
                    changed = True
        self._known.update({each: each in numbers for each in values})


def _int_reduction(node: cst.BaseExpression) -> bool:
    """`x.sum()`, `(pred == y).sum()`, `logits.argmax(1)`: a tensor's count or index."""
    name = _call_name(node)
    return bool(name) and name[1:] in _INT_REDUCTIONS and name.startswith(".")


class _FormatSpecs(StatementPass):
    def __init__(self, ctx: Context, module: cst.Module):
        super().__init__(ctx, _SPEC_LINE)
        self.numbers = _NumberNames(ctx, module)

    def _wrapped(self, node: cst.BaseExpression, spec: str, where: cst.CSTNode):
        kind = _presentation(spec)
        if kind in _FLOAT_TYPES and not _is_number(node, self.numbers):
            function = "float"
        elif kind == "d" and _int_reduction(node):
            function = "int"
        else:
            return None
        self.add(where, "format spec", CONVERTED,
                 f"{function}() around the formatted value: a MindSpore Tensor "
                 f"takes no format spec (:{spec})")
        return cst.Call(cst.Name(function), [cst.Arg(node)])

    # f"{loss:.4f}"
    def leave_FormattedStringExpression(self, original, updated):
        spec = updated.format_spec
        if not spec or updated.conversion:
            return updated
        if not all(isinstance(part, cst.FormattedStringText) for part in spec):
            return updated  # a nested field: the type is not known here
        text = "".join(part.value for part in spec)
        new = self._wrapped(updated.expression, text, original)
        if new is None:
            return updated
        if updated.equal is None:
            return updated.with_changes(expression=new)
        # f"{loss=:.4f}" prints its own text first: written out, as `loss={float(loss):.4f}`
        shown = (_CODE.code_for_node(updated.whitespace_before_expression)
                 + _CODE.code_for_node(updated.expression)
                 + _CODE.code_for_node(updated.whitespace_after_expression)
                 + _CODE.code_for_node(updated.equal))
        shown = shown.replace("{", "{{").replace("}", "}}")
        return cst.FlattenSentinel([
            cst.FormattedStringText(shown),
            updated.with_changes(expression=new, equal=None,
                                 whitespace_before_expression=cst.SimpleWhitespace(""),
                                 whitespace_after_expression=cst.SimpleWhitespace(""))])

    # "{:.4f} {acc:.2f}".format(loss, acc=acc)
    def leave_Call(self, original, updated):
        func = updated.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "format"
                and isinstance(func.value, (cst.SimpleString, cst.ConcatenatedString))):
            return updated
        template = string_value(func.value)
        if not isinstance(template, str) or any(a.star for a in updated.args):
            return updated
        try:
            fields = list(string.Formatter().parse(template))
        except ValueError:
            return updated
        specs: Dict[object, str] = {}
        auto = 0
        for _, name, spec, conversion in fields:
            if name is None:
                continue
            if spec and "{" in spec:
                return updated  # nested fields shift the numbering: left alone
            if name == "":
                key: object = auto
                auto += 1
            elif name.isdigit():
                key = int(name)
            elif name.isidentifier():
                key = name
            else:
                continue  # `{0.attr}`, `{x[0]}`: not the argument itself
            if conversion:
                spec = ""
            if key in specs and _kind(specs[key]) != _kind(spec):
                spec = ""  # one value under specs of two kinds: left alone
            specs[key] = spec
        args = list(updated.args)
        position = 0
        changed = False
        for i, arg in enumerate(args):
            if arg.keyword is None:
                key, position = position, position + 1
            else:
                key = arg.keyword.value
            new = self._wrapped(arg.value, specs.get(key, ""), original.args[i])
            if new is not None:
                args[i] = arg.with_changes(value=new)
                changed = True
        return updated.with_changes(args=args) if changed else updated
