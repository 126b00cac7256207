"""Transform for torch.optim.lr_scheduler.OneCycleLR, which MindSpore does not have."""
from __future__ import annotations

import ast
import itertools
import math
import operator
from typing import List, Optional, Union

import libcst as cst

from ..core.callrewrite import Bound, Unsupported, code
from ..core.quick_libcst import parse_expression
from .base import literal, transform

# MindSpore has no OneCycleLR. Its LambdaLR sets a group's rate to the group's initial
# rate times lr_lambda(step), where torch's OneCycleLR ignores the optimizer's rate.
# So each group gets a lambda that computes torch's rate and divides it by the group's
# initial rate; `OneCycleLR(optimizer, max_lr=0.1, total_steps=100)` becomes
#
#     optim.lr_scheduler.LambdaLR(optimizer, [
#         lambda step, group=group: (
#             0.004 + (0.1 - 0.004) * (1 - math.cos(math.pi * float(step) / 29.0)) / 2 if step <= 29.0 else
#             0.1 + (4e-07 - 0.1) * (1 - math.cos(math.pi * (float(step) - 29.0) / 70.0)) / 2
#         ) / group["initial_lr"]
#         for group in optimizer.param_groups])
#
# Literals are folded into numbers, in torch's order of operations. What is not a
# literal (max_lr, and phase ends computed from total_steps, epochs, steps_per_epoch
# or pct_start) becomes a default of the lambda: evaluated once, as torch does. The
# step arrives as a float32 Tensor; float(step) computes in double precision as torch.

Value = Union[int, float, str]  # a number, or the source text of an expression


def _number(node: Optional[cst.BaseExpression]) -> Optional[Union[int, float]]:
    try:
        value = ast.literal_eval(literal(node))
    except (ValueError, SyntaxError, TypeError):
        return None
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _show(value: Value) -> str:
    if isinstance(value, str):
        return f"({value})"
    if not math.isfinite(value):
        raise Unsupported("the arguments give a rate or a step that is not finite")
    return repr(value) if isinstance(value, int) else repr(float(f"{value:.12g}"))


def _op(a: Value, op: str, b: Value) -> Value:
    """`a op b`, folded when both are numbers."""
    if not isinstance(a, str) and not isinstance(b, str):
        return {"*": operator.mul, "-": operator.sub}[op](a, b)
    if op == "-" and b == 0:
        return a
    return f"{_show(a)} {op} {_show(b)}"


def _tidy(text: str, user: List[str]) -> str:
    """Without redundant parentheses (Python's layout), the user's code as written."""
    text = ast.unparse(ast.parse(text, mode="eval"))
    for original in user:
        text = text.replace(ast.unparse(ast.parse(f"({original})", mode="eval")), original)
    return text


def _written_out(bound: Bound, name: str, default, choices):
    """The literal value of an argument that decides the formula's shape."""
    node = bound.get(name)
    try:
        value = default if node is None else ast.literal_eval(literal(node))
    except (ValueError, SyntaxError):
        value = None
    if value not in choices:
        raise Unsupported(f"{name} must be written out as {' or '.join(map(repr, choices))}")
    return value


def _factor(bound: Bound, name: str, default: float) -> Union[int, float]:
    value = default if bound.get(name) is None else _number(bound.get(name))
    if not value:
        raise Unsupported(f"{name} must be a number other than 0")
    return value


def _free(names, used) -> str:
    """The first of `names` (then numbered ones) that `used` does not hold."""
    return next(n for n in itertools.chain(names, (f"{names[0]}{i}" for i in itertools.count(2)))
                if n not in used)


def _nodes(node: cst.CSTNode):
    yield node
    for child in node.children:
        yield from _nodes(child)


@transform
def one_cycle_lr(ctx, rule, bound: Bound, call=None):
    """OneCycleLR -> a LambdaLR giving each parameter group torch's rate (see above)."""
    optimizer, max_lr = bound.get("optimizer"), bound.get("max_lr")
    if not isinstance(optimizer, (cst.Name, cst.Attribute, cst.Subscript)) or any(
            isinstance(n, cst.Call) for n in _nodes(optimizer)):
        raise Unsupported("the schedule reads the optimizer's param_groups: pass the "
                          "optimizer as a name")
    if max_lr is None:
        raise Unsupported("needs max_lr")
    if literal(bound.pop("cycle_momentum")) != "False":  # torch cycles it by default
        bound.warnings.append(rule.warn["cycle_momentum"])
    if bound.pop("verbose") is not None:
        bound.warnings.append("dropped 'verbose': " + rule.warn["verbose"])
    cosine = _written_out(bound, "anneal_strategy", "cos", ("cos", "linear")) == "cos"
    three_phase = _written_out(bound, "three_phase", False, (False, True))
    user: List[str] = []  # the user's expressions, kept as written

    def given(name: str) -> Optional[Value]:
        node = bound.get(name)
        if node is None or literal(node) == "None":
            return None
        number = _number(node)
        if number is not None:
            return number
        user.append(literal(node))
        return user[-1]

    total = given("total_steps")
    if total is None:
        epochs, per_epoch = given("epochs"), given("steps_per_epoch")
        if epochs is None or per_epoch is None:
            raise Unsupported("needs total_steps, or epochs and steps_per_epoch")
        total = _op(epochs, "*", per_epoch)
    pct = given("pct_start")
    pct = 0.3 if pct is None else pct
    if not isinstance(pct, str) and not 0 <= pct <= 1:
        raise Unsupported("pct_start must be between 0 and 1")

    # torch's phases: (end step, rate at the start, rate at the end); the rates in
    # units of max_lr unless max_lr is one number
    peak = 1 if _number(max_lr) is None else _number(max_lr)
    initial = peak / _factor(bound, "div_factor", 25.0)
    low = initial / _factor(bound, "final_div_factor", 1e4)
    up, last = _op(_op(pct, "*", total), "-", 1), _op(total, "-", 1)
    if three_phase:
        down = _op(_op(_op(2, "*", pct), "*", total), "-", 2)
        phases = [("up", up, initial, peak), ("down", down, peak, initial),
                  ("end", last, initial, low)]
    else:
        phases = [("up", up, initial, peak), ("end", last, peak, low)]

    defaults, lines, start = [], [], 0
    for name, end, a, b in phases:
        if isinstance(end, str):  # computed from the user's expressions
            defaults.append(f"{name}={_tidy(end, user)}")
            end = name
        fraction = f"{_show(_op('float(step)', '-', start))} / {_show(_op(end, '-', start))}"
        ramp = f"(1 - math.cos(math.pi * {fraction})) / 2" if cosine else fraction
        line = _tidy(f"{_show(a)} + ({_show(b)} - {_show(a)}) * {ramp}", [])
        if name != "end":
            line += f" if step <= {end if isinstance(end, str) else _show(end)} else"
        lines.append(line)
        start = end

    # loop names that the user's expressions (evaluated in the comprehension) do not use
    used = {n.value for value in bound.values.values() for n in _nodes(value)
            if isinstance(n, cst.Name)}
    group = _free(("group", "param_group"), used)
    opt, scale = literal(optimizer), ""
    loop = f"{group} in {opt}.param_groups"
    if isinstance(max_lr, (cst.List, cst.Tuple)):  # one max_lr per group
        scale = _free(("max_lr", "peak_lr"), used)
        loop = f"{group}, {scale} in zip({opt}.param_groups, {literal(max_lr)})"
        defaults.insert(0, f"{scale}={scale}")
    elif _number(max_lr) is None:
        scale = "max_lr"
        defaults.insert(0, f"max_lr={literal(max_lr)}")
    ctx.require("import math")
    params = ", ".join(["step", f"{group}={group}"] + defaults)
    body = "".join(f"        {line}\n" for line in lines)
    return parse_expression(
        f"{code(ctx.name(rule.target))}({opt}, [\n"
        f"    lambda {params}: {scale + ' * ' if scale else ''}(\n{body}"
        f"    ) / {group}[\"initial_lr\"]\n"
        f"    for {loop}])")
