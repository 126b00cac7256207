"""Transforms for Tensor methods."""
from __future__ import annotations

import re

import libcst as cst

from ..core import receivers
from ..core.callrewrite import Bound, Unsupported, code, rewrite
from ..core.names import dotted_name
from ..core.quick_libcst import parse_expression
from .base import literal, transform


@transform
def tensor_size(ctx, rule, bound: Bound, call=None):
    """x.size() -> x.shape ; x.size(i) -> x.shape[i] (MindSpore's size is a count)."""
    receiver = bound.values["self"]
    shape = cst.Attribute(receiver, cst.Name("shape"))
    dim = bound.get("dim")
    if dim is None:
        return shape
    return cst.Subscript(shape, [cst.SubscriptElement(cst.Index(dim))])


@transform
def none_as_default(ctx, rule, bound: Bound, call=None):
    """`x.count_nonzero(dim=None)`: an argument given as None is torch's default, which
    MindSpore spells by leaving the argument out (its None is refused)."""
    for name in list(bound.values):
        if name != "self" and literal(bound.get(name)) == "None":
            bound.pop(name)


def _is_plain(node: cst.BaseExpression) -> bool:
    """A name or a chain of attributes: evaluating it twice reads the same object."""
    return dotted_name(node) is not None


# Calls (converted already) that make a new tensor nothing else refers to.
_CONSTRUCTORS = {"tensor", "Tensor", "randn", "rand", "ones", "zeros", "full", "arange",
                 "linspace", "eye", "randint"}


_KEEPS_DTYPE = re.compile(r"^\.(eq|ne|lt|le|gt|ge|greater|less|greater_equal|less_equal|not_equal"
                          r"|logical_\w+)_$")


def _of_bools(node: cst.Call) -> bool:
    """`mindspore.tensor([True, False])`: a tensor of bools written out, no dtype given."""
    if len(node.args) != 1 or node.args[0].keyword is not None:
        return False
    values, items = [], [node.args[0].value]
    while items:
        item = items.pop()
        if isinstance(item, (cst.List, cst.Tuple)) and item.elements:
            items.extend(e.value for e in item.elements)
        else:
            values.append(item)
    return all(isinstance(v, cst.Name) and v.value in ("True", "False") for v in values)


def _is_fresh(node: cst.BaseExpression) -> bool:
    """`mindspore.tensor([...])`: writing into it is the same as computing a new one,
    as no other name sees the write (`torch.tensor([1.]).cos_()`)."""
    if not isinstance(node, cst.Call):
        return False
    dotted = dotted_name(node.func) or ""
    root, _, last = dotted.rpartition(".")
    return last in _CONSTRUCTORS and root.split(".")[0] in ("mindspore", "ops")


@transform
def inplace(ctx, rule, bound: Bound, call):
    """x.add_(y) -> ops.assign(x, x.add(y)).

    MindSpore 2.10's in-place Tensor methods either have no CPU kernel or return the
    result without writing it into the receiver, so the out-of-place form of the
    rule (its target, arguments and renames) is assigned back. Only a receiver that
    names an object can be written: `x[0].add_(1)` would write into a copy, while a
    dict's entry (`state["sum"].add_(g)`) is the tensor itself. A tensor just made
    (`torch.tensor([1.]).cos_()`, `s.sqrt().add_(eps)`) needs no write: the result is
    the value. A chain (`mu.mul_(m).add_(g)`) is one write of the whole chain.
    """
    receiver = call.func.value
    chained = _assigned(ctx, receiver)
    if chained is not None:
        # `mu.mul_(m).add_(g)`: the inner call, converted first, is `ops.assign(mu,
        # mu.mul(m))`; torch's returns mu, written: the whole chain is one write
        receiver, prior = chained
        return _assign_back(ctx, receiver, _out_of_place(ctx, rule, bound, call, prior))
    # comparisons keep the receiver's dtype in place (a float x.gt_(0) holds 0. and 1.),
    # which is their result's on a tensor of bools
    fresh = (_is_fresh(receiver) or _computed(receiver)) and (
        not _KEEPS_DTYPE.match(rule.torch_name) or _of_bools(receiver))
    if not _is_plain(receiver) and not _is_entry(receiver) and not fresh:
        raise Unsupported("in-place call on an expression: assign the result by hand")
    value = _out_of_place(ctx, rule, bound, call, receiver)
    if fresh:
        return value
    return _write_back(ctx, rule, receiver, value)


def write_back(ctx, rule, receiver: cst.BaseExpression, value: cst.BaseExpression):
    """The in-place method's result `value` (computed by other means: a helper) written
    into the receiver as `inplace` writes it; on a tensor just made, the value itself."""
    if _is_fresh(receiver):
        return value
    if not _is_plain(receiver):
        raise Unsupported("in-place call on an expression: assign the result by hand")
    return _write_back(ctx, rule, receiver, value)


def _write_back(ctx, rule, receiver: cst.BaseExpression, value: cst.BaseExpression):
    if isinstance(receiver, cst.Name) and receivers.owner(ctx, receiver.value) == receivers.FRESH_VIEW:
        # `x = torch.tensor([...]).reshape(2, 2)`: ops.assign refuses a view; its base has
        # no other name, so replacing x's value is the same write
        if _KEEPS_DTYPE.match(rule.torch_name):
            value = cst.Call(cst.Attribute(value, cst.Name("astype")),
                             [cst.Arg(cst.Attribute(receiver, cst.Name("dtype")))])
        return cst.Call(cst.Attribute(receiver, cst.Name("assign_value")),
                        [cst.Arg(value.with_changes(lpar=[], rpar=[]))])
    return _assign_back(ctx, receiver, value)


def _out_of_place(ctx, rule, bound: Bound, call, receiver) -> cst.BaseExpression:
    if rule.target.startswith("."):
        func = cst.Attribute(receiver, cst.Name(rule.target[1:]))
    else:
        func = ctx.name(rule.target)
    return rewrite(rule, bound, func, call, ctx.name)


def _assigned(ctx, node: cst.BaseExpression):
    """`ops.assign(x, value)` (an in-place call converted already): (x, value)."""
    if not (isinstance(node, cst.Call) and len(node.args) == 2
            and all(a.keyword is None and not a.star for a in node.args)):
        return None
    if code(node.func).strip() != code(ctx.name("mindspore.ops.assign")).strip():
        return None
    return node.args[0].value, node.args[1].value


# Out-of-place methods whose result is a new tensor, never a view of the receiver: an
# in-place call on it (`state["sum"].sqrt().add_(eps)`) writes into nothing else.
_NEW_TENSOR_METHODS = frozenset({
    "sqrt", "rsqrt", "add", "sub", "mul", "div", "pow", "exp", "log", "abs", "neg",
    "square", "sigmoid", "tanh", "reciprocal", "addcmul", "addcdiv", "matmul", "clamp",
    "clip", "sign", "floor", "ceil", "round"})


def _computed(node: cst.BaseExpression) -> bool:
    return (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
            and node.func.attr.value in _NEW_TENSOR_METHODS)


def _is_entry(node: cst.BaseExpression) -> bool:
    """`state["sum"]`, `self.state[p]["mu"]`: an entry of a dict (a string key: not a
    tensor's element, which would be a copy) read from plain names; reading it twice
    gives the same tensor, so it can be written with ops.assign."""
    if not (isinstance(node, cst.Subscript) and len(node.slice) == 1
            and isinstance(node.slice[0].slice, cst.Index)
            and isinstance(node.slice[0].slice.value, cst.SimpleString)):
        return False
    value = node.value
    while isinstance(value, cst.Subscript):
        if not (len(value.slice) == 1 and isinstance(value.slice[0].slice, cst.Index)
                and (_is_plain(value.slice[0].slice.value)
                     or isinstance(value.slice[0].slice.value, (cst.SimpleString, cst.Integer)))):
            return False
        value = value.value
    return _is_plain(value)


def _assign_back(ctx, receiver: cst.BaseExpression, value: cst.BaseExpression) -> cst.Call:
    """`ops.assign(x, value)`: writes an out-of-place result into the receiver."""
    return cst.Call(ctx.name("mindspore.ops.assign"), [
        cst.Arg(receiver, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
        cst.Arg(value.with_changes(lpar=[], rpar=[]))])


@transform
def sizes_tuple(ctx, rule, bound: Bound, call=None):
    """A lone int given for a `*sizes` parameter becomes a 1-tuple (ops.tile(x, (3,))), a
    list literal a tuple (MindSpore's Tensor.resize takes no list)."""
    for param in rule.args:
        if param.startswith("*"):
            name = param[1:]
            value = bound.get(name)
            if isinstance(value, cst.List):
                bound.set(name, cst.Tuple(value.elements))
            elif isinstance(value, cst.Integer) or (
                    isinstance(value, cst.UnaryOperation) and isinstance(value.expression, cst.Integer)):
                bound.set(name, cst.Tuple([cst.Element(value, comma=cst.Comma())]))
            elif (rule.target == "mindspore.ops.tile" and isinstance(
                    value, (cst.Name, cst.Attribute, cst.Subscript, cst.Call))
                    and isinstance(bound.get("input"), (cst.Name, cst.Attribute, cst.Call))):
                # `x.repeat(n)`: n an int or a sequence, unknown here; Tensor.tile takes both
                return cst.Call(cst.Attribute(bound.get("input"), cst.Name("tile")), [cst.Arg(value)])


_DTYPE_NAMES = {
    "float16", "half", "bfloat16", "float32", "float", "float64", "double", "int8", "int16",
    "short", "int32", "int", "int64", "long", "uint8", "bool", "complex64", "complex128",
    "cfloat", "cdouble", "bool_"}  # bool_: MindSpore's spelling, once the argument converted


def is_dtype(ctx, node: cst.BaseExpression) -> bool:
    dotted = dotted_name(node)
    if dotted is None:
        return False
    if dotted.endswith(".dtype") or dotted.split(".")[-1] == "dtype":  # `x.to(dtype)`
        return True
    qualified = ctx.resolve(node) or dotted
    head, _, last = qualified.rpartition(".")
    return head in ("torch", "mindspore") and last in _DTYPE_NAMES


_TO_OTHER = ("kept: MindSpore's Tensor.to casts to a dtype or to a tensor's dtype and moves "
             "nothing (remove it if the argument is a device)")


@transform
def tensor_to(ctx, rule, bound: Bound, call=None):
    """x.to(torch.float16) -> x.astype(mindspore.float16).

    `.to(device)` is the devices pass's (passes/devices.py); `.to(other)`, a name that
    may hold a dtype or a tensor, stays MindSpore's `Tensor.to`, which takes both.
    """
    dtype = bound.get("dtype")
    for name in ("non_blocking", "copy", "memory_format"):
        if literal(bound.get(name)) not in (None, "False", "torch.preserve_format"):
            raise Unsupported(f"argument {name!r} has no MindSpore equivalent")
    receiver = call.func.value
    if dtype is not None and "dtype" in bound.positional and not is_dtype(ctx, dtype):
        if dotted_name(dtype) is not None or isinstance(dtype, cst.Subscript):
            bound.warnings.append(_TO_OTHER)
            return cst.Call(cst.Attribute(receiver, cst.Name("to")), [cst.Arg(dtype)])
        dtype = None
    if dtype is None:
        raise Unsupported("only the .to(dtype) form converts here (MindSpore places "
                          "tensors by context)")
    return cst.Call(cst.Attribute(receiver, cst.Name("astype")), [cst.Arg(dtype)])


@transform
def unbiased_ddof(ctx, rule, bound: Bound, call=None):
    """std/var: torch's `unbiased`/`correction` (default: unbiased) -> MindSpore's ddof."""
    unbiased = bound.pop("unbiased")
    if unbiased is not None:
        if bound.get("correction") is not None:
            raise Unsupported("both unbiased and correction given")
        text = literal(unbiased)
        if text not in ("True", "False"):
            raise Unsupported("unbiased must be True or False literally")
        bound.set("correction", cst.Integer("1" if text == "True" else "0"))


def _is_number(node) -> bool:
    """A literal p: 2, 1.0, -1, float('inf'), 'fro', None."""
    if isinstance(node, cst.UnaryOperation):
        node = node.expression
    if isinstance(node, (cst.Integer, cst.Float, cst.SimpleString)):
        return True
    text = literal(node) or ""
    return text == "None" or text.startswith("float(")


@transform
def tensor_norm(ctx, rule, bound: Bound, call=None):
    """x.norm(p) over all elements: MindSpore takes a 2-D input as a matrix, so flatten.

    torch's norm without `dim` is the vector norm of all elements; MindSpore's gives a
    matrix norm for 2-D inputs, which differs for every p but 2.
    """
    p_node = bound.get("p")
    if "p" in bound.positional and not _is_number(p_node):
        # `block.norm(h)` calls a LayerNorm the object holds, not Tensor.norm(p)
        raise Unsupported("not a literal p: a layer called `norm`? convert by hand if a Tensor")
    p = literal(p_node)
    if bound.get("dim") is None and p not in (None, "2", "2.0", "'fro'", '"fro"'):
        name = rule.receiver or "self"
        bound.set(name, cst.Call(cst.Attribute(bound.values[name], cst.Name("flatten"))))
    if p in ("'fro'", '"fro"') and bound.get("dim") is not None:
        raise Unsupported("p='fro' with dim: give p=2")


@transform
def receiver_dtype(ctx, rule, bound: Bound, call=None):
    """x.new_full(size, v) -> ops.full(size, v, dtype=x.dtype): the receiver gives the dtype."""
    receiver = bound.pop(rule.receiver or "self")
    if bound.get("dtype") is None:
        bound.set("dtype", cst.Attribute(receiver, cst.Name("dtype")))


@transform
def int32_index(ctx, rule, bound: Bound, call=None):
    """MindSpore's index_fill/index_add take int32 indices: `i` -> `i.int()`."""
    index = bound.get("index")
    if index is None:
        return
    if isinstance(index, cst.Call) and isinstance(index.func, cst.Attribute) \
            and index.func.attr.value == "int" and not index.args:
        return  # already int32 (converting twice changes nothing)
    if not isinstance(index, (cst.Name, cst.Attribute, cst.Call, cst.Subscript)):
        index = index.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    bound.set("index", cst.Call(cst.Attribute(index, cst.Name("int"))))


@transform
def random_fill(ctx, rule, bound: Bound, call):
    """x.normal_(mean, std) / x.uniform_(a, b) / bernoulli_, exponential_, geometric_,
    random_ -> ops.assign(x, <a new sample of x's shape>).

    MindSpore 2.10 has no CPU kernel for the in-place samplers.
    """
    receiver = call.func.value
    if not _is_plain(receiver):
        raise Unsupported("in-place call on an expression: assign the result by hand")
    if literal(bound.get("generator")) not in (None, "None"):
        raise Unsupported("generator: MindSpore seeds globally (mindspore.set_seed)")
    name = code(receiver).strip()
    kind = rule.torch_name
    if kind == ".normal_":
        mean, std = literal(bound.get("mean")) or "0.0", literal(bound.get("std")) or "1.0"
        sample = f"ops.normal({name}.shape, {mean}, {std})"
    elif kind == ".bernoulli_":
        p = literal(bound.get("p")) or "0.5"
        sample = f"ops.bernoulli({name}, {p + '.0' if p.isdigit() else p})"  # p: a float
    elif kind == ".exponential_":  # inverse transform of a uniform draw in (0, 1]
        sample = f"-ops.log(1 - ops.rand_like({name})) / {_operand(bound.get('lambd'), '1.0')}"
    elif kind == ".geometric_":  # trials up to the first success: floor(log U / log(1 - p)) + 1
        p = bound.get("p")
        if p is None:
            raise Unsupported("needs the argument 'p'")
        ctx.require("import math")
        sample = (f"ops.floor(ops.log(1 - ops.rand_like({name})) / math.log(1 - "
                  f"{_operand(p, '')})) + 1")
    elif kind == ".random_":
        low, high = literal(bound.get("from")), literal(bound.get("to"))
        if low is None:
            raise Unsupported("random_() without bounds draws up to the dtype's largest "
                              "integer: give the range")
        if high in (None, "None"):
            low, high = "0", low
        sample = f"ops.randint({low}, {high}, {name}.shape)"
    else:
        low, high = literal(bound.get("from")) or "0.0", literal(bound.get("to")) or "1.0"
        tensor = ctx.name("mindspore.Tensor")
        t = code(tensor)
        sample = f"ops.uniform({name}.shape, {t}({low}, {name}.dtype), {t}({high}, {name}.dtype))"
    ctx.require("from mindspore import ops")
    if kind in (".exponential_", ".geometric_"):  # an arithmetic expression, not one call
        sample = f"({sample})"
    return parse_expression(f"ops.assign({name}, {sample}.astype({name}.dtype))")


def _operand(node, default: str) -> str:
    """An argument's text, bracketed unless it is a name or a number."""
    if node is None:
        return default
    text = code(node).strip()
    return text if re.fullmatch(r"[\w.]+", text) else f"({text})"


@transform
def rounded_div(ctx, rule, bound: Bound, call=None):
    """x.div(y, rounding_mode=m) -> ops.div(x, y, rounding_mode=m); plain x.div(y) stays.

    With a rounding mode and a Python number MindSpore 2.10's Tensor.div runs a scalar
    kernel that on CPU now and then fails to launch ("FloorDiv should have 1 outputs,
    but got 2", seen in the test suite); ops.div makes the number a tensor first.
    """
    mode = bound.get("rounding_mode")
    if mode is None:
        return None
    keyword = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                              whitespace_after=cst.SimpleWhitespace(""))
    return cst.Call(ctx.name("mindspore.ops.div"), [
        cst.Arg(call.func.value), cst.Arg(bound.get("other")),
        cst.Arg(mode, keyword=cst.Name("rounding_mode"), equal=keyword)])


@transform
def rounded_div_(ctx, rule, bound: Bound, call):
    """x.div_(y, rounding_mode=m) -> ops.assign(x, ops.div(x, y, rounding_mode=m)), for
    the reason rounded_div gives; without a rounding mode, as `inplace` does."""
    if bound.get("rounding_mode") is None:
        return inplace(ctx, rule, bound, call)
    receiver = call.func.value
    if not _is_plain(receiver):
        raise Unsupported("in-place call on an expression: assign the result by hand")
    return _assign_back(ctx, receiver, rounded_div(ctx, rule, bound, call))


@transform
def int64_indices(ctx, rule, bound: Bound, call):
    """ops.argsort(x) -> ops.argsort(x).astype(mindspore.int64).

    Index results are int64 in torch and int32 from these MindSpore ops; code that
    concatenates them with int64 indices, or compares dtypes, needs torch's dtype.
    """
    if rule.target.startswith("."):
        func = call.func.with_changes(attr=cst.Name(rule.target[1:]))
    else:
        func = ctx.name(rule.target)
    int32 = literal(bound.get("out_int32")) == "True"  # torch's own int32 request
    value = rewrite(rule, bound, func, call, ctx.name)
    if int32:
        return value
    return cst.Call(cst.Attribute(value, cst.Name("astype")), [cst.Arg(ctx.name("mindspore.int64"))])


@transform
def inplace_input(ctx, rule, bound: Bound, call):
    """torch.abs_(x) -> ops.assign(x, ops.abs(x)): the in-place function form.

    As for `inplace` (Tensor methods), the out-of-place call the rule describes
    (target, arguments, renames) is written back into the tensor given as the
    argument `input`, which must name an object.
    """
    target = bound.get("input")
    if target is None:
        return None
    fresh = _is_fresh(target)
    if not _is_plain(target) and not fresh:
        raise Unsupported("in-place call on an expression: assign the result by hand")
    value = rewrite(rule, bound, ctx.name(rule.target), call, ctx.name)
    return value if fresh else _assign_back(ctx, target, value)


@transform
def inplace_reshape(ctx, rule, bound: Bound, call):
    """x.squeeze_() / x.t_() on a tensor just made: the out-of-place method.

    These change the receiver's shape, which ops.assign cannot; a whole statement
    `x.t_()` or `y = x.t_()` is rebound before this pass (passes/reshape_inplace.py)
    and any other use is refused.
    """
    receiver = call.func.value
    if not _is_fresh(receiver):
        raise Unsupported("changes the tensor's shape: only a whole statement (`x.t_()`, "
                          "`y = x.t_()`) converts, as an assignment to the name")
    return rewrite(rule, bound, call.func.with_changes(attr=cst.Name(rule.target[1:])),
                   call, ctx.name)


@transform
def rebound_resize(ctx, rule, bound: Bound, call):
    """x.resize_(sizes) -> x.resize(sizes) where passes/reshape_inplace.py rebound the name
    (`x = x.resize_(2, 1)`) or the tensor was just made; any other use is refused. A list
    of sizes becomes a tuple (MindSpore's Tensor.resize takes no list)."""
    receiver = call.func.value
    if not (_is_fresh(receiver) or any(
            isinstance(new.func, cst.Attribute) and new.func.value is receiver
            for new, _ in ctx.facts.out_args.values() if isinstance(new, cst.Call))):
        raise Unsupported("changes the tensor's shape: only a whole statement (`x.resize_(n)`, "
                          "`y = x.resize_(n)`) converts, as an assignment to the name")
    sizes_tuple(ctx, rule, bound, call)
    return rewrite(rule, bound, call.func.with_changes(attr=cst.Name(rule.target[1:])),
                   call, ctx.name)


def _operand_node(node: cst.BaseExpression) -> cst.BaseExpression:
    """An operand of `*`: bracketed unless it is a name, an attribute, a call, a subscript
    or a number."""
    if isinstance(node, (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Integer,
                         cst.Float)) or node.lpar:
        return node
    return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


@transform
def index_add_alpha(ctx, rule, bound: Bound, call=None):
    """`x.index_add_(dim, index, source, alpha=a)`: ops.index_add has no alpha, so the
    source is scaled first; `x.index_add(...)` (a new tensor in torch) adds into a copy,
    as ops.index_add writes into its input."""
    alpha = bound.pop("alpha")
    if alpha is not None and literal(alpha) not in ("1", "1.0"):
        bound.set("source", cst.BinaryOperation(_operand_node(bound.get("source")),
                                                cst.Multiply(), _operand_node(alpha)))
    if not rule.torch_name.endswith("_"):
        receiver = rule.receiver or "self"
        bound.set(receiver, cst.Call(cst.Attribute(_operand_node(bound.get(receiver)),
                                                   cst.Name("copy"))))


@transform
def shape_tuple(ctx, rule, bound: Bound, call=None):
    """torch.Size(sizes) -> tuple(sizes): a MindSpore shape is a plain tuple. The call's
    arguments stay as they are: torch.Size takes what tuple takes, and `torch.Size(1, 2)`
    raises the TypeError `tuple(1, 2)` raises."""
    if len(call.args) > 1:
        bound.warnings.append("torch.Size takes one iterable: this call raises TypeError in "
                              "torch as tuple(...) does here (torch.Size((1, 2)) is a shape)")
    return cst.Call(cst.Name("tuple"), list(call.args))
