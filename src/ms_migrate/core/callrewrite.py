"""Rewrite one call from its rule: bind arguments, apply the rule, emit the new call.

The order inside a call follows tf_upgrade_v2: bind positionals to torch's
signature, refuse unsupported arguments, run the named transform, map values,
rename, drop, add defaults that differ, and emit positionals only where they sit
at the same place in the MindSpore signature.
"""
from __future__ import annotations

import ast
import math
import operator
import re
import string
import warnings
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import libcst as cst

from .parsed import parsed_expression
from .quick_libcst import parse_expression
from .rule import Rule
from .traversal import FastTransformer, child_nodes, traverse, with_fields


class Unsupported(Exception):
    """This use of the API cannot be converted; the message says why."""


@dataclass
class Bound:
    """A call's arguments, named by torch's signature, in call order."""

    values: Dict[str, cst.BaseExpression] = field(default_factory=dict)
    positional: List[str] = field(default_factory=list)
    packed: Dict[str, List[cst.BaseExpression]] = field(default_factory=dict)  # "*size"
    warnings: List[str] = field(default_factory=list)
    spread: Optional[cst.BaseExpression] = None  # `**kwargs`, passed on (see bind)
    # `torch.linspace(*domain, n)`: positional arguments from a `*` on, passed on in place
    opaque: List[cst.Arg] = field(default_factory=list)

    def get(self, name: str) -> Optional[cst.BaseExpression]:
        return self.values.get(name)

    def set(self, name: str, value: cst.BaseExpression) -> None:
        self.values[name] = value

    def pop(self, name: str) -> Optional[cst.BaseExpression]:
        if name in self.positional:
            self.positional.remove(name)
        return self.values.pop(name, None)


_CODE = cst.Module(body=[])


def code(node: cst.CSTNode) -> str:
    return _CODE.code_for_node(node)


def args_by_name(call: cst.Call, signature: List[str]) -> Dict[str, cst.BaseExpression]:
    """A call's arguments named by a plain signature (no rule, no checks)."""
    named: Dict[str, cst.BaseExpression] = {}
    for i, arg in enumerate(call.args):
        if arg.keyword is not None:
            named[arg.keyword.value] = arg.value
        elif i < len(signature):
            named[signature[i]] = arg.value
    return named


def _spreads(rule: Rule) -> bool:
    """Whether a `**kwargs` can go to the target unchanged: a rule that renames no
    argument and rewrites no value, of a function, or a method whose receiver becomes
    the function's argument (`x.unique(**kw)` -> `unique(x, **kw)`)."""
    return (not rule.rename and not rule.values and not rule.template and not rule.warn
            and rule.target is not None and not rule.target.startswith(".")
            and rule.target_args is None
            and (rule.kind in ("function", "class") or rule.receiver is not None))


def _passes_positionals(rule: Rule, index: int) -> bool:
    """Whether positional arguments from torch's parameter `index` on, whichever
    parameters a `*` spreads them over, mean the same to the target: a plain call whose
    parameters from there on keep their names, values and order."""
    if rule.transform in ("written_function", "written_class", "packed_sequence_helper",
                          "checkpointed_call") \
            and not rule.rename:
        return True  # a helper written into the file takes torch's signature
    return (not rule.template and rule.transform in (None, "with_dtype") and rule.target
            and not rule.target.startswith(".") and rule.target_args is None
            and not rule.receiver and rule.kind == "function"
            and not any(a.lstrip("*") in rule.rename or a.lstrip("*") in rule.values
                        or a.startswith("*") for a in rule.args[index:]))


# transforms that leave packed items as they are: `torch.rand(*shape)` and
# `torch.meshgrid(*grids)` may unpack into them
_SIZE_TRANSFORMS = (None, "positional_size", "spread_tensors", "separate_tensors", "sizes_tuple",
                    "rebound_resize")


def bind(rule: Rule, call: cst.Call, receiver: Optional[cst.BaseExpression] = None) -> Bound:
    bound = Bound()
    signature = list(rule.args)
    if receiver is not None:
        name = rule.receiver or "self"
        bound.values[name] = receiver
        bound.positional.append(name)
    names = {a.lstrip("*") for a in signature}
    index = 0
    for arg in call.args:
        if (arg.star == "*" and index < len(signature) and signature[index].startswith("*")
                and not rule.template and rule.transform in _SIZE_TRANSFORMS):
            # torch.zeros(*shape): the unpacked sizes join the packed parameter
            name = signature[index][1:]
            bound.packed.setdefault(name, []).append(cst.StarredElement(arg.value))
            if name not in bound.positional:
                bound.positional.append(name)
                bound.values[name] = arg.value
            continue
        if arg.star == "**" and _spreads(rule) and bound.spread is None:
            # `optim.SGD(params, **opt_args)`: MindSpore's names are torch's, so the dict
            # goes on as it is; what it holds is known only at run time
            bound.spread = arg.value
            bound.warnings.append(
                f"`**{code(arg.value)}` passed on as it is: MindSpore takes the same "
                f"names, but not every torch argument"
                + (f" ({', '.join(sorted(rule.drop))} would be refused)" if rule.drop else ""))
            continue
        if arg.star == "*" and not bound.opaque and _passes_positionals(rule, index):
            bound.opaque.append(arg)  # `linspace(*domain, n)`: it and what follows go on
            continue
        if arg.star:
            raise Unsupported(f"`{arg.star}` arguments cannot be matched to parameters")
        if arg.keyword is None and bound.opaque:
            bound.opaque.append(arg)
            continue
        if arg.keyword is None:
            if index >= len(signature):
                raise Unsupported(f"more positional arguments than {rule.torch_name} takes")
            param = signature[index]
            if param.startswith("*"):
                name = param[1:]
                bound.packed.setdefault(name, []).append(arg.value)
                if name not in bound.positional:
                    bound.positional.append(name)
                    bound.values[name] = arg.value  # placeholder keeps call order
                continue
            bound.values[param] = arg.value
            bound.positional.append(param)
            index += 1
        else:
            key = arg.keyword.value
            if key not in names:
                raise Unsupported(f"unknown argument {key!r}")
            bound.values[key] = arg.value
    for name, items in bound.packed.items():
        if len(items) == 1:
            only = items[0]
            bound.values[name] = only.value if isinstance(only, cst.StarredElement) else only
        else:
            bound.values[name] = _tuple(items)
    if "out" in bound.values and "out" not in rule.unsupported_args:
        if code(bound.values["out"]).strip() != "None":
            # statement-level uses were rewritten as assignments (passes/out_args.py)
            raise Unsupported("out= has no MindSpore equivalent: it becomes an assignment "
                              "only where the call is a whole statement or assignment value "
                              "and the name may be assigned there; assign the result instead")
        bound.pop("out")
    if "reduction" in names and ("size_average" in bound.values or "reduce" in bound.values):
        legacy_reduction(bound)  # torch's deprecated loss options
    return bound


# torch's deprecated `size_average` / `reduce` (torch.nn._reduction.legacy_get_string):
# None counts as True; 'mean' when both hold, 'sum' when only reduce does, else 'none'.
_TRUTH = {"True": True, "False": False, "1": True, "0": False}


def legacy_reduction(bound) -> None:
    """size_average=/reduce= -> the reduction torch derives from them, in place.

    Known literals fold to a string (`reduce=False` -> `reduction="none"`); an
    expression gives the conditional torch evaluates (`"mean" if avg else "sum"`).
    Given together with reduction=, torch ignores reduction=: so does this.
    """
    size_average, reduce_ = bound.pop("size_average"), bound.pop("reduce")
    # torch derives the reduction only when one of them is not None
    size_average, reduce_ = (None if v is None or code(v).strip() == "None" else v
                             for v in (size_average, reduce_))
    if size_average is None and reduce_ is None:
        return
    explicit = bound.pop("reduction")
    average = True if size_average is None else _TRUTH.get(code(size_average).strip(),
                                                          size_average)
    reduces = True if reduce_ is None else _TRUTH.get(code(reduce_).strip(), reduce_)
    if explicit is not None:
        bound.warnings.append(f"reduction={code(explicit).strip()} is ignored by torch when "
                              f"size_average/reduce is given: the reduction follows them")
    if isinstance(average, bool) and isinstance(reduces, bool):
        result = "none" if not reduces else ("mean" if average else "sum")
        if result != "mean" or explicit is not None:
            bound.set("reduction", cst.SimpleString(f'"{result}"'))
        return
    bound.warnings.append("size_average/reduce given as an expression: the reduction is "
                          "chosen at run time, where None counts as False (torch: True)")
    if isinstance(average, bool):
        when_reduced = '"mean"' if average else '"sum"'
    else:
        when_reduced = f'"mean" if {operand(average)} else "sum"'
    if isinstance(reduces, bool):
        text = when_reduced if reduces else '"none"'
    else:
        if " if " in when_reduced:
            when_reduced = f"({when_reduced})"
        text = f'{when_reduced} if {operand(reduces)} else "none"'
    bound.set("reduction", parse_expression(text))


def _tuple(items: List[cst.BaseExpression]) -> cst.Tuple:
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    elements = [v if isinstance(v, cst.StarredElement) else cst.Element(v) for v in items]
    return cst.Tuple([e.with_changes(comma=comma) for e in elements[:-1]] + [elements[-1]])


_NUMBER = re.compile(r"^-?\d+(\.\d*)?([eE][-+]?\d+)?$")


def is_number(text: str) -> bool:
    """A plain numeric literal (`0.1`, `-3`, `1e-5`): the only text ever folded."""
    return bool(_NUMBER.match(text))


def apply_template(template: str, value: cst.BaseExpression) -> cst.BaseExpression:
    """`1 - {}` applied to `0.1` gives `0.9`; to `m` gives `1 - m`.

    Nothing is evaluated: a number is folded by `fold` (a whitelist of arithmetic on
    ast nodes, bounded), anything else is written out as code.
    """
    text = code(value).strip()
    if is_number(text) or text in ("True", "False"):
        folded = folded_literal(template.format(text))
        if folded is not None:
            return folded
    text = operand(value)
    try:
        return parse_expression(template.format(text))
    except cst.ParserSyntaxError:  # `{}.int()` with `2`: `2.int()` needs `(2).int()`
        try:
            return parse_expression(template.format(f"({text})"))
        except cst.ParserSyntaxError:
            raise Unsupported(f"the value template {template!r} does not fit "
                              f"`{text}`") from None


def dotted(text: str) -> bool:
    """`mindspore.float32`: a dotted name, not an expression."""
    return all(part.isidentifier() for part in text.split("."))


def value_of(template: str, value: cst.BaseExpression, name_of=None) -> cst.BaseExpression:
    """apply_template, with the MindSpore names the template uses written through
    name_of (`mindspore.ops.softmax({}, -1)` -> `ops.softmax(x, -1)` and its import)."""
    result = apply_template(template, value)
    if name_of and "mindspore." in template:
        result = traverse(result, _MindSporeNames(name_of))
    return result


def operand(value: cst.BaseExpression) -> str:
    """The value's text, in parentheses unless it is an atom."""
    text = code(value).strip()
    if not isinstance(value, (cst.Name, cst.Attribute, cst.Call, cst.Subscript,
                              cst.Integer, cst.Float)):
        text = f"({text})"
    return text


def folded_literal(text: str) -> Optional[cst.BaseExpression]:
    """`text`'s constant value as a literal node, or None when it is not one we fold."""
    try:
        result = fold(text)
    except CannotFold:
        return None
    if isinstance(result, float):
        result = round(result, 12)
    return parse_expression(repr(result))


class CannotFold(Exception):
    """Not constant arithmetic: the text is written out as code instead."""


class TooLarge(CannotFold):
    """Constant, but past the bounds below (e.g. `10**10**10`)."""


# Bounds that keep every fold instant: integers within 2**128, exponents small.
_INT_LIMIT = 2 ** 128
_MAX_EXPONENT = 128
# The only calls folded: what the built-in `values` templates use (`int({})`), and float.
_CALLS = {"int": int, "float": float}
_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv,
           ast.Mod: operator.mod, ast.Pow: operator.pow}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
            ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge}


def fold(text: str):
    """The value of `text` if it is number arithmetic within bounds, else CannotFold.

    Only numeric and boolean literals, unary +/-, `not`, + - * / // % **, comparisons,
    int()/float() of one number and a conditional choosing between string literals
    (`"reduced" if False else "complete"`) are understood; names, attributes, other
    calls and containers are not, so nothing a file or a table holds can run.
    """
    try:
        with warnings.catch_warnings():  # `2.int()` warns before it fails to parse
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(text.strip(), mode="eval")
        value = _fold(tree.body)
        return value if isinstance(value, str) else _check(value)
    except CannotFold:
        raise
    except (SyntaxError, ValueError, ArithmeticError, RecursionError, MemoryError):
        raise CannotFold(text) from None


def _fold(node: ast.AST):
    if isinstance(node, ast.Constant) and type(node.value) in (int, float, bool):
        return _check(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _boolean(_fold(node.operand))
    if isinstance(node, ast.IfExp):  # `"reduced" if True else "complete"`: a string branch
        branch = node.body if _boolean(_fold(node.test)) else node.orelse
        if isinstance(branch, ast.Constant) and type(branch.value) is str:
            return branch.value
        return _fold(branch)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _check(_UNARY[type(node.op)](_number(_fold(node.operand))))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _number(_fold(node.left)), _number(_fold(node.right))
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        return _check(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        values = [_number(_fold(node.left))] + [_number(_fold(c)) for c in node.comparators]
        return all(_COMPARE[type(op)](a, b)
                   for op, a, b in zip(node.ops, values, values[1:]))
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in _CALLS and len(node.args) == 1 and not node.keywords
            and not isinstance(node.args[0], ast.Starred)):
        return _check(_CALLS[node.func.id](_number(_fold(node.args[0]))))
    raise CannotFold(type(node).__name__)


def _number(value):
    """Arithmetic takes numbers only (`True + 1` is not folded)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CannotFold(type(value).__name__)
    return value


def _boolean(value) -> bool:
    if not isinstance(value, bool):
        raise CannotFold(type(value).__name__)
    return value


def _check_power(base, exponent) -> None:
    """Refuse a power before computing it when its result would pass the bounds."""
    if isinstance(base, int) and isinstance(exponent, int) and abs(base) > 1:
        if exponent > _MAX_EXPONENT or exponent * (abs(base).bit_length() - 1) > 128:
            raise TooLarge(f"{base} ** {exponent}")
    elif abs(exponent) > 10 ** 6:
        raise TooLarge(f"{base} ** {exponent}")


def _check(value):
    """Numbers only (a negative base to a fraction gives complex), finite, bounded."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > _INT_LIMIT:
            raise TooLarge(str(value)[:20])
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TooLarge(repr(value))
        return value
    raise CannotFold(type(value).__name__)


def value_template_problem(template: str) -> Optional[str]:
    """Why a `values` template cannot work, or None; checked when its table loads."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        return f"is not a valid template ({exc})"
    holes = [(name, spec, conv) for _, name, spec, conv in parts if name is not None]
    if holes != [("", "", None)]:
        return "needs '{}' exactly once and no other '{...}' (write '{{' for a brace)"
    problem = expression_problem(template.format("x"))
    if problem:
        return problem
    for sample in ("2", "0.5"):
        try:
            fold(template.format(sample))
        except TooLarge:
            return (f"folds past the converter's bounds with {{}} = {sample} (integers "
                    f"up to 2**128, integer powers up to 128)")
        except CannotFold:
            pass
    return None


def value_lambda(text: str, qualified: Optional[str]):
    """(the Lambda, None) for a rule's `value`, or (None, why it cannot work).

    The lambda takes torch's parameters (with torch's defaults) and its body calls the
    API (spelled `qualified`) with nothing but those parameters, so that the rule can
    convert that call: `lambda input, dim=-1: torch.nn.functional.glu(input, dim)`.
    """
    try:
        node = parsed_expression(text)
    except (cst.ParserSyntaxError, RecursionError):
        return None, f"is not a Python expression: `{text}`"
    if not isinstance(node, cst.Lambda) or not isinstance(node.body, cst.Call):
        return None, "must be a lambda whose body is a call of the API"
    params = {p.name.value for p in (*node.params.params, *node.params.kwonly_params)}
    func = node.body.func
    spelled = ".".join(reversed(_attribute_chain(func))) if qualified else None
    if qualified and spelled != qualified:
        return None, f"must call {qualified} in full, not {spelled or code(func)}"
    for arg in node.body.args:
        if arg.star or not isinstance(arg.value, cst.Name) or arg.value.value not in params:
            return None, f"may pass the call only the lambda's parameters: `{code(arg)}`"
    return node, None


def _attribute_chain(node: cst.BaseExpression) -> List[str]:
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    return parts + [node.value] if isinstance(node, cst.Name) else []


def expression_problem(text: str) -> Optional[str]:
    """Why `text` (a template, filled) is not one Python expression, or None."""
    try:
        parse_expression(text)
    except (cst.ParserSyntaxError, RecursionError):
        return f"is not a Python expression once filled: `{text}`"
    return None


def composition_problem(template: str) -> Optional[str]:
    """Why a rule's `template` does not parse, filled with names or with its defaults."""
    for filled in (TEMPLATE_FIELD.sub("x", template),
                   TEMPLATE_FIELD.sub(lambda m: m.group(2) or "x", template)):
        problem = expression_problem(filled)
        if problem:
            return problem
    return None


# `{name}` or `{name=default}` in a rule's template.
TEMPLATE_FIELD = re.compile(r"\{(\w+)(?:=([^{}]*))?\}")
_ATOM = (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Integer, cst.Float,
         cst.SimpleString, cst.List, cst.Tuple)


def render_template(rule: Rule, bound: Bound, name_of) -> cst.BaseExpression:
    """A composition of MindSpore ops from the rule's template and the call's arguments.

    `mindspore.ops.erf` in a template is written through name_of, so it becomes
    `ops.erf` with its import, like any other target. The arguments go in as the very
    nodes the call had (not re-parsed text): names converted inside them keep the
    identity the import pass respells them by (`mindspore.nn.BCELoss` where torch's
    `nn` stays imported).
    """
    used = set()
    values: Dict[str, cst.BaseExpression] = {}

    def fill(match):
        name, default = match.group(1), match.group(2)
        if name in used and _has_call(bound.values.get(name)):
            # evaluating it twice would run its layers (and random ops) twice
            raise Unsupported(f"the composition uses {name!r} twice: assign "
                              f"`{code(bound.values[name]).strip()}` to a variable first")
        used.add(name)
        value = bound.values.get(name)
        if value is None:
            if default is None:
                raise Unsupported(f"needs the argument {name!r}")
            return default
        if not isinstance(value, _ATOM) and not value.lpar:
            value = value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        placeholder = f"{_PLACEHOLDER}{name}"
        values[placeholder] = value
        return placeholder

    text = TEMPLATE_FIELD.sub(fill, rule.template)
    extra = [n for n in bound.values if n not in used and n not in rule.drop]
    if extra:
        raise Unsupported(f"argument {extra[0]!r} is not supported")
    composed = traverse(parsed_expression(text), _MindSporeNames(name_of))
    return traverse(composed, _Arguments(values)) if values else composed


_PLACEHOLDER = "__ms_migrate_argument_"


class _Arguments(FastTransformer):
    """Puts the call's argument nodes where the template's placeholders are."""

    def __init__(self, values: Dict[str, cst.BaseExpression]):
        super().__init__()
        self.values = values

    def leave_Name(self, original, updated):
        value = self.values.get(updated.value)
        if value is None:
            return updated
        if updated.lpar and not value.lpar:  # `({x})` in the template keeps its brackets
            return value.with_changes(lpar=updated.lpar, rpar=updated.rpar)
        return value


def _has_call(node: Optional[cst.CSTNode]) -> bool:
    if node is None:
        return False
    if isinstance(node, cst.Call):
        return True
    return any(_has_call(child) for child in child_nodes(node))


# dotted names a template may use: written through name_of, which adds their import
_TEMPLATE_MODULES = ("mindspore.", "numpy.", "functools.")


def _ms_dotted(node) -> bool:
    from .names import dotted_name
    dotted = dotted_name(node)
    return bool(dotted) and dotted.startswith(_TEMPLATE_MODULES)


def code_with_mindspore_names(node: cst.CSTNode, name_of) -> cst.CSTNode:
    """`node` with each dotted `mindspore.` (or `numpy.`) name given by `name_of`."""
    return traverse(node, _MindSporeNames(name_of))


class _MindSporeNames(FastTransformer):
    def __init__(self, name_of):
        super().__init__()
        self.name_of = name_of

    def visit_Attribute(self, node):
        # only whole dotted names: `mindspore.ops` inside `mindspore.ops.erf` is not one
        return not _ms_dotted(node)

    def leave_Attribute(self, original, updated):
        from .names import dotted_name
        dotted = dotted_name(updated)
        if dotted and dotted.startswith(_TEMPLATE_MODULES) and self.name_of:
            return self.name_of(dotted)
        return updated


def rewrite(rule: Rule, bound: Bound, func: cst.BaseExpression, call: cst.Call,
            name_of=None) -> cst.Call:
    """Apply the rule's data to bound arguments and build the MindSpore call."""
    for arg, reason in rule.unsupported_args.items():
        if arg in bound.values:
            raise Unsupported(f"argument {arg!r}: {reason}")
    for arg, message in rule.warn.items():
        if arg in bound.values:
            bound.pop(arg)
            bound.warnings.append(f"dropped {arg!r}: {message}")
    for arg, template in rule.values.items():
        if arg in bound.values:
            bound.values[arg] = value_of(template, bound.values[arg], name_of)
    for arg in rule.drop:
        bound.pop(arg)

    target_sig = list(rule.target_args) if rule.target_args is not None else [
        rule.rename.get(a.lstrip("*"), a.lstrip("*")) for a in rule.args
        if a.lstrip("*") not in rule.drop and a.lstrip("*") not in rule.warn]
    if rule.receiver and rule.target_args is None:
        target_sig.insert(0, rule.receiver)

    out: List[dict] = []  # each Arg's fields but its comma: built once, with it
    emitted = set()
    keep_positional = True
    for name in list(bound.values):
        new = rule.rename.get(name, name)
        value = bound.values[name]
        positional = (keep_positional and name in bound.positional
                      and len(out) < len(target_sig) and target_sig[len(out)] == new)
        if positional:
            out.append({"value": value})
        else:
            if bound.opaque and name in bound.positional:  # it must stay before the `*`
                raise Unsupported("`*` arguments cannot be matched to parameters")
            if keep_positional and bound.opaque:
                out.extend({"value": a.value, "star": a.star} for a in bound.opaque)
            keep_positional = False
            out.append(_keyword(new, value))
        emitted.add(new)
    if keep_positional and bound.opaque:  # `linspace(lo, *rest)`: the `*` part after lo
        if len(out) != len(bound.positional):
            raise Unsupported("`*` arguments cannot be matched to parameters")
        out.extend({"value": a.value, "star": a.star} for a in bound.opaque)
        keep_positional = False
    for name, text in rule.defaults.items():
        if name not in emitted and bound.spread is not None:  # the dict may hold it
            bound.warnings.append(f"{name}={text} is not written out: "
                                  f"`**{code(bound.spread)}` may hold it")
            continue
        if name not in emitted:
            # `mindspore.float32` goes through name_of so its import is added, as do the
            # MindSpore names of an expression (`... if mindspore.get_context(...) ...`)
            if name_of and text.startswith("mindspore.") and dotted(text):
                value = name_of(text)
            elif name_of and "mindspore." in text:
                value = traverse(parsed_expression(text), _MindSporeNames(name_of))
            else:
                value = parsed_expression(text)
            if not out and target_sig == [name]:  # set_train(False), not mode=False
                out.append({"value": value})
            else:
                keep_positional = False
                out.append(_keyword(name, value))
    if bound.spread is not None:
        out.append({"value": bound.spread, "star": "**"})
    return with_fields(call, func=func, args=_with_commas(out, call))


# `=` of a keyword argument and `, ` between arguments: libcst's nodes never change, so
# every rewrite shares these (as a call's arguments share the user's comma) instead of
# building and checking three nodes per argument
_EQUAL = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                         whitespace_after=cst.SimpleWhitespace(""))
_SEPARATOR = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _keyword(name: str, value: cst.BaseExpression) -> dict:
    """The fields of a keyword argument `name=value`."""
    return {"value": value, "keyword": cst.Name(name), "equal": _EQUAL}


def _with_commas(args: List[dict], call: cst.Call) -> List[cst.Arg]:
    """The arguments (each Arg's fields but its comma), with the user's separators (line
    breaks in long calls) where they exist."""
    user_commas = [a.comma for a in call.args]
    # types compared, not isinstance: libcst's classes are ABCs, slow to check against
    trailing = user_commas[-1] if user_commas and type(user_commas[-1]) is cst.Comma else None
    between = [c for c in user_commas[:-1] if type(c) is cst.Comma]
    separator = between[-1] if between else _SEPARATOR
    result = []
    for i, arg in enumerate(args):
        if i == len(args) - 1:
            comma = trailing or cst.MaybeSentinel.DEFAULT
        elif i < len(user_commas) - 1 and type(user_commas[i]) is cst.Comma:
            comma = user_commas[i]
        else:
            comma = separator
        result.append(cst.Arg(**arg, comma=comma))
    return result
