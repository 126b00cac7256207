"""Transforms for torch.* functions whose arguments decide the MindSpore form.

Each one handles a call shape that a rule's data cannot tell apart (an optional
argument that changes the result's type or structure); the rest of the call
follows the rule's data through `rewrite`.
"""
from __future__ import annotations

import re

import libcst as cst

from ..core.callrewrite import Bound, Unsupported, code, render_template, rewrite
from ..core.quick_libcst import parse_expression
from .base import literal, transform
from .distributions import alike_twice
from .helper_code import request

# Fill values whose text shows a float: `float('inf')`, and math constants
# (torch.inf and torch.pi are math.inf and math.pi by the time a transform sees them).
_FLOAT_TEXT = ("float(", "math.inf", "math.nan", "math.pi", "math.e", "math.tau")


def _data_call(ctx, rule, bound: Bound, call: cst.Call) -> cst.Call:
    """The call the rule's data gives for these (possibly edited) arguments."""
    return rewrite(rule, bound, ctx.name(rule.target), call, ctx.name)


def _method(value: cst.BaseExpression, name: str, *args: cst.BaseExpression) -> cst.Call:
    """`value.name(args)`, with parentheses around a value that needs them."""
    if not isinstance(value, (cst.Name, cst.Attribute, cst.Call, cst.Subscript)) and not value.lpar:
        value = value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    return cst.Call(cst.Attribute(value, cst.Name(name)),
                    [cst.Arg(a, comma=comma) for a in args[:-1]] + [cst.Arg(a) for a in args[-1:]])


def _fill_dtype(text: str):
    """MindSpore dtype name that torch gives a tensor filled with this literal, or ''
    when ops.full infers the same one; None when the type cannot be seen."""
    bare = text.lstrip("-+ ")
    if bare in ("True", "False"):
        return "mindspore.bool_"
    if bare.isdigit():
        return ""
    if bare.startswith("float(") or bare in _FLOAT_TEXT:
        return "mindspore.float32"
    try:
        float(bare)
    except ValueError:
        return None
    return "mindspore.float32"


@transform
def full_dtype(ctx, rule, bound: Bound, call=None):
    """torch.full((2,), 1.5) is float32; ops.full makes it int64 unless told the dtype."""
    if bound.get("dtype") is None:
        value = bound.get("fill_value")
        dtype = _fill_dtype(literal(value) or "")
        if dtype is None and _is_plain_value(value):
            # a Python float, int or bool gives the dtype torch infers from it
            bound.set("dtype", cst.Attribute(
                cst.Call(ctx.name("mindspore.tensor"), [cst.Arg(value)]), cst.Name("dtype")))
        elif dtype is None:
            raise Unsupported("the fill value's type is not visible here and ops.full "
                              "turns a float into int64; pass dtype=")
        elif dtype:
            bound.set("dtype", ctx.name(dtype))
    return None


def _is_plain_value(value) -> bool:
    """`sigma`, `self.eps`, `-2 * scale`: read twice without running anything."""
    if isinstance(value, cst.UnaryOperation):
        return _is_plain_value(value.expression)
    if isinstance(value, cst.BinaryOperation):
        return _is_plain_value(value.left) and _is_plain_value(value.right)
    while isinstance(value, cst.Attribute):
        value = value.value
    return isinstance(value, (cst.Name, cst.Integer, cst.Float))


@transform
def with_dtype(ctx, rule, bound: Bound, call=None):
    """A `dtype=` MindSpore's function lacks becomes `.astype(dtype)` on the result."""
    dtype = bound.pop("dtype")
    result = _data_call(ctx, rule, bound, call)
    return result if dtype is None else _method(result, "astype", dtype)


def _parens(value: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(value, (cst.BinaryOperation, cst.UnaryOperation, cst.BooleanOperation,
                          cst.Comparison, cst.IfExp, cst.Lambda)) and not value.lpar:
        return value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return value


@transform
def alpha_scale(ctx, rule, bound: Bound, call=None):
    """add/sub(input, other, alpha=a) -> add/sub(input, a * other): MindSpore has no alpha."""
    alpha = bound.pop("alpha")
    if alpha is not None and literal(alpha) not in ("1", "1.0"):
        if bound.get("other") is None:
            raise Unsupported("needs the argument 'other'")
        bound.set("other", cst.BinaryOperation(_parens(alpha), cst.Multiply(),
                                               _parens(bound.get("other"))))
    return None


@transform
def where_indices(ctx, rule, bound: Bound, call=None):
    """where(condition) alone is nonzero(as_tuple=True): the indices, one tensor per dim."""
    if bound.get("input") is not None or bound.get("other") is not None:
        return None
    nonzero = cst.Call(ctx.name("mindspore.ops.nonzero"), [cst.Arg(bound.get("condition"))])
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    return cst.Call(ctx.name("mindspore.ops.unbind"),
                    [cst.Arg(nonzero, comma=comma), cst.Arg(cst.Integer("1"))])


def _made_by_mindspore(node: cst.BaseExpression) -> bool:
    """A call already converted to a MindSpore op (`ops.zeros_like(x)`): a tensor."""
    if not isinstance(node, cst.Call):
        return False
    callee = literal(node.func) or ""
    return callee.startswith(("ops.", "mindspore."))


def _is_dim(node: cst.BaseExpression) -> bool:
    """An int literal, or a name that only a dim would have (`dim`, `axis`, `self.dim`)."""
    text = literal(node) or ""
    if text.lstrip("-").isdigit():
        return True
    last = text.rpartition(".")[2].lower()
    return "dim" in last or "axis" in last


@transform
def max_min(ctx, rule, bound: Bound, call=None):
    """torch.max/min: no dim -> amax/amin; a tensor second -> maximum/minimum; a dim -> max/min.

    The second positional is a dim or a tensor depending on its value; unless the
    source shows a dim (an int, a name like `dim`), it is taken as a tensor and
    the assumption is marked in the code.
    """
    name = rule.torch_name.rpartition(".")[2]
    other = bound.get("other")
    dim = bound.get("dim")
    if other is None and dim is not None and "dim" in bound.positional and not _is_dim(dim):
        if not _made_by_mindspore(dim):
            bound.warnings.append(f"assumed the second argument is a tensor (elementwise "
                                  f"{name}imum); write dim= if it is a dim")
        other = bound.pop("dim")
    if other is not None:
        if bound.get("dim") is not None or bound.get("keepdim") is not None:
            raise Unsupported("a tensor and a dim together")
        comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        return cst.Call(ctx.name(f"mindspore.ops.{name}imum"),
                        [cst.Arg(bound.get("input"), comma=comma), cst.Arg(other)])
    if dim is None:
        if bound.get("keepdim") is not None:
            raise Unsupported("keepdim without dim")
        return cst.Call(ctx.name(f"mindspore.ops.a{name}"), [cst.Arg(bound.get("input"))])
    return None


@transform
def std_var(ctx, rule, bound: Bound, call=None):
    """torch's unbiased (bool) or correction (int) -> MindSpore's ddof; torch defaults to 1.

    `torch.std(x, False)` is the old (input, unbiased) form: a bool where dim goes.
    """
    if literal(bound.get("dim")) in ("True", "False"):
        bound.set("unbiased", bound.pop("dim"))
    unbiased = bound.pop("unbiased")
    correction = bound.pop("correction")
    if unbiased is not None and correction is not None:
        raise Unsupported("both unbiased and correction given")
    if unbiased is not None:
        text = literal(unbiased)
        if text not in ("True", "False"):
            raise Unsupported("unbiased must be True or False literally")
        correction = cst.Integer("1" if text == "True" else "0")
    bound.set("ddof", correction if correction is not None else cst.Integer("1"))
    return None


def _flattened(value: cst.BaseExpression) -> cst.Call:
    return _method(value, "flatten")


@transform
def median_all(ctx, rule, bound: Bound, call=None):
    """median(x) without dim is the median of all elements and only the value."""
    if bound.get("dim") is not None:
        return None
    if bound.get("keepdim") is not None:
        raise Unsupported("keepdim without dim")
    median = cst.Call(ctx.name(rule.target), [cst.Arg(_flattened(bound.get("input")))])
    return cst.Subscript(median, [cst.SubscriptElement(cst.Index(cst.Integer("0")))])


_FRO = ("'fro'", '"fro"')


@transform
def norm_p(ctx, rule, bound: Bound, call=None):
    """torch.norm with a number p is a vector norm over the given dims (all of them
    without dim); MindSpore's norm over two dims or of a 2-D input is a matrix norm
    (p=2: the spectral norm). 'fro' is MindSpore's default."""
    p = literal(bound.get("p"))
    dim = bound.get("dim")
    several = isinstance(dim, (cst.Tuple, cst.List)) and len(dim.elements) > 1
    if p in _FRO or p in ("2", "2.0") and several:
        bound.pop("p")  # ord=None: the 2-norm of the elements, over dim or all of them
        if several and len(dim.elements) > 2:
            raise Unsupported("a 2-norm over more than two dims")
    elif p in ("'nuc'", '"nuc"'):
        raise Unsupported("p='nuc': write mindspore.ops.norm(A, 'nuc') for a matrix")
    elif p is not None and several:
        raise Unsupported(f"p={p} over several dims: MindSpore takes it as a matrix norm")
    elif p is not None and dim is None:
        bound.set("input", _flattened(bound.get("input")))
    return None


@transform
def cast_input(ctx, rule, bound: Bound, call=None):
    """A reduction's dtype=d casts the input before reducing, as torch does."""
    dtype = bound.pop("dtype")
    if dtype is not None:
        bound.set("input", _method(bound.get("input"), "astype", dtype))
    return None


@transform
def unique_sorted(ctx, rule, bound: Bound, call=None):
    """torch.unique sorts; ops.unique does not: unique_consecutive over the sorted input;
    with return_inverse or dim (or a `**` dict that may hold them), the helper `unique`
    written into the file."""
    if bound.spread is not None or any(literal(bound.get(name)) not in (None, "False", "None")
                                       for name in ("return_inverse", "dim")):
        # the inverse, or slices along dim: a helper written into the file, which takes
        # torch's arguments
        return rewrite(rule, bound, request(ctx, "unique"), call, ctx.name)
    bound.pop("sorted")  # an unsorted unique may come back in any order, so sorted is fine
    for name in ("return_inverse", "dim"):
        bound.pop(name)
    values = cst.Call(ctx.name("mindspore.ops.sort"), [cst.Arg(_flattened(bound.get("input")))])
    bound.set("input", cst.Subscript(values, [cst.SubscriptElement(cst.Index(cst.Integer("0")))]))
    return None


@transform
def spread_tensors(ctx, rule, bound: Bound, call: cst.Call):
    """torch.meshgrid(x, y) or torch.meshgrid([x, y]) -> ops.meshgrid(x, y): MindSpore
    takes the tensors as separate arguments, not as one sequence."""
    return _separate(ctx, rule, bound, sequence=True)


@transform
def separate_tensors(ctx, rule, bound: Bound, call: cst.Call):
    """torch.block_diag(a, b) -> ops.block_diag(a, b): each argument is one tensor, a
    lone one too (`torch.block_diag(A)`: A is not a sequence to spread)."""
    return _separate(ctx, rule, bound, sequence=False)


def _separate(ctx, rule, bound: Bound, sequence: bool):
    items = bound.packed.get("tensors")
    if items is None:
        raise Unsupported("no tensors given")
    if len(items) == 1 and sequence and not isinstance(items[0], cst.StarredElement):
        only = items[0]
        if isinstance(only, (cst.List, cst.Tuple)) and not any(
                isinstance(e, cst.StarredElement) for e in only.elements):
            items = [e.value for e in only.elements]
        else:
            items = None  # one sequence whose length is not visible: spread it with *
            args = [cst.Arg(only, star="*")]
    if items is not None:  # `*grids` stays unpacked: it holds the tensors themselves
        args = [cst.Arg(v.value, star="*") if isinstance(v, cst.StarredElement) else cst.Arg(v)
                for v in items]
    for name, default in rule.defaults.items():
        value = bound.get(name)
        value = value if value is not None else parse_expression(default)
        args.append(cst.Arg(value, keyword=cst.Name(name), equal=cst.AssignEqual(
            cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))))
    extra = set(bound.values) - {"tensors"} - set(rule.defaults)
    if extra:
        raise Unsupported(f"unknown argument {sorted(extra)[0]!r}")
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    return cst.Call(ctx.name(rule.target), [a.with_changes(comma=comma) for a in args[:-1]]
                    + args[-1:])


@transform
def nonzero_tuple(ctx, rule, bound: Bound, call=None):
    """nonzero(x, as_tuple=True) -> one index tensor per dim, split from ops.nonzero."""
    as_tuple = literal(bound.pop("as_tuple"))
    if as_tuple in (None, "False"):
        return None
    if as_tuple != "True":
        raise Unsupported("as_tuple must be True or False literally")
    bound.set("condition", bound.pop("input"))
    return where_indices(ctx, rule, bound, call)


@transform
def nonzero_method(ctx, rule, bound: Bound, call=None):
    """x.nonzero(as_tuple=True) -> the columns of ops.nonzero(x); without it the method
    stays."""
    as_tuple = literal(bound.pop("as_tuple"))
    receiver = bound.pop("input")
    if as_tuple in (None, "False"):
        return cst.Call(cst.Attribute(receiver, cst.Name("nonzero")))
    if as_tuple != "True":
        raise Unsupported("as_tuple must be True or False literally")
    bound.set("condition", receiver.with_changes(lpar=[], rpar=[]))
    return where_indices(ctx, rule, bound, call)


@transform
def repeats_required(ctx, rule, bound: Bound, call=None):
    """repeat_interleave(repeats) alone (a different function in torch) has no equivalent."""
    if bound.get("repeats") is None:
        raise Unsupported("repeat_interleave(repeats) without an input tensor has no "
                          "MindSpore equivalent")
    return None


@transform
def randint_low(ctx, rule, bound: Bound, call=None):
    """torch.randint(high, size) leaves out low (0); MindSpore always takes (low, high, size)."""
    low, high, size = bound.pop("low"), bound.pop("high"), bound.pop("size")
    if size is None:  # randint(high, size): each argument sits one place early
        size, high, low = high, low, None
    if high is None:
        high, low = low, None
    if high is None or size is None:
        raise Unsupported("randint needs high and size")
    rest = dict(bound.values)
    bound.values.clear()
    for name, value in (("low", low or cst.Integer("0")), ("high", high), ("size", size)):
        bound.values[name] = value
        bound.positional.append(name)
    bound.values.update(rest)
    return None


@transform
def positional_size(ctx, rule, bound: Bound, call=None):
    """ops.rand(*size) takes no `size=` keyword: torch.rand(size=(2, 3)) passes it first."""
    size = bound.pop("size")
    if size is not None:
        rest = dict(bound.values)
        bound.values.clear()
        bound.values["size"] = size
        bound.values.update(rest)
        bound.positional.insert(0, "size")
    return None


@transform
def typed_tensor(ctx, rule, bound: Bound, call=None):
    """torch.Tensor(data) / LongTensor(data) -> mindspore.Tensor(data, dtype=...);
    torch.Tensor(2, 3) (sizes, uninitialised) -> ops.zeros((2, 3), dtype); torch.Tensor()
    -> ops.zeros((0,), dtype)."""
    items = bound.packed.get("data") or []
    if set(bound.values) - {"data"}:
        raise Unsupported(f"unknown argument {sorted(set(bound.values) - {'data'})[0]!r}")
    dtype = ctx.name(rule.defaults["dtype"])
    keyword = cst.Arg(dtype, keyword=cst.Name("dtype"), equal=cst.AssignEqual(
        cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    if not items:  # torch.FloatTensor(): an empty tensor of the type
        items = [cst.Integer("0")]
    if all(isinstance(v, cst.Integer) for v in items):
        last = cst.Comma() if len(items) == 1 else cst.MaybeSentinel.DEFAULT  # (3,)
        size = cst.Tuple([cst.Element(v, comma=comma) for v in items[:-1]]
                         + [cst.Element(items[-1], comma=last)])
        return cst.Call(ctx.name("mindspore.ops.zeros"), [cst.Arg(size, comma=comma), keyword])
    if len(items) > 1:
        raise Unsupported("sizes that are not int literals: write ops.zeros(shape, dtype)")
    if not isinstance(items[0], (cst.List, cst.Tuple)):
        bound.warnings.append("assumed the argument is a list or an array: torch keeps a "
                              "tensor argument's own dtype")
    return cst.Call(ctx.name(rule.target), [cst.Arg(items[0], comma=comma), keyword])


@transform
def numpy_type_info(ctx, rule, bound: Bound, call=None):
    """torch.finfo(dtype) -> np.finfo(mindspore.dtype_to_nptype(dtype)): MindSpore has no
    finfo of its own, and numpy's gives the same limits for the same type."""
    name = rule.torch_name.rpartition(".")[2]
    dtype = bound.get("type")
    if dtype is None:
        if name != "finfo":
            raise Unsupported("iinfo needs a dtype")
        dtype = ctx.name("mindspore.float32")  # torch's default dtype
    nptype = cst.Call(ctx.name("mindspore.dtype_to_nptype"), [cst.Arg(dtype)])
    return cst.Call(ctx.name(f"numpy.{name}"), [cst.Arg(nptype)])


@transform
def all_of(ctx, rule, bound: Bound, call=None):
    """allclose(a, b) is isclose(a, b) over every element: `.all()` of the data's call,
    as a Python bool (`.item()`), as torch returns."""
    return _method(_method(_data_call(ctx, rule, bound, call), "all"), "item")


def _has_imaginary(node: cst.CSTNode) -> bool:
    if isinstance(node, cst.Imaginary):
        return True
    if isinstance(node, (cst.List, cst.Tuple, cst.BinaryOperation, cst.UnaryOperation,
                         cst.Element, cst.Integer, cst.Float, cst.Imaginary)):
        return any(_has_imaginary(child) for child in node.children)
    return False


@transform
def tensor_literal(ctx, rule, bound, call=None):
    """torch.tensor([1 + 2j, ...]) is complex64 in torch, complex128 in MindSpore (which
    follows numpy): a literal with complex numbers and no dtype gets complex64."""
    data = bound.get("data")
    if data is not None and bound.get("dtype") is None and _has_imaginary(data):
        bound.set("dtype", ctx.name("mindspore.complex64"))


@transform
def window_sym(ctx, rule, bound, call=None):
    """torch.signal.windows.hann(M, sym=True) -> ops.hann_window(M, periodic=False): a
    symmetric window is the non-periodic one. general_hamming(M, alpha=a) is
    hamming_window with beta = 1 - a; MindSpore's blackman_window takes its length as
    a Tensor."""
    sym = bound.pop("sym")
    text = literal(sym)
    if text in (None, "True"):
        periodic = cst.Name("False")
    elif text == "False":
        periodic = cst.Name("True")
    else:
        periodic = parse_expression(f"not {_operand(sym)}")
    length = bound.get("M")
    if length is None:
        raise Unsupported("needs the argument 'M'")
    if rule.torch_name.endswith(".blackman"):
        length = cst.Call(ctx.name("mindspore.tensor"), [cst.Arg(length)])
    values = {"M": length, "periodic": periodic}
    alpha = bound.get("alpha")
    if rule.torch_name.endswith(".general_hamming") and alpha is not None:
        values["alpha"] = alpha
        number = literal(alpha)
        try:
            values["beta"] = parse_expression(repr(round(1 - float(number), 12)))
        except ValueError:
            values["beta"] = parse_expression(f"1 - {_operand(alpha)}")
    rest = {k: v for k, v in bound.values.items() if k not in values and k != "alpha"}
    bound.values.clear()
    bound.values.update(values)
    bound.values.update(rest)
    bound.positional[:] = ["M"]


def _operand(node) -> str:
    from ..core.callrewrite import operand
    return operand(node)


@transform
def window_formula(ctx, rule, bound, call=None):
    """torch.signal.windows.cosine / gaussian / exponential / general_cosine, which
    MindSpore has no op for, as torch defines them over n = 0 .. M-1 (a periodic
    window, sym=False, is the symmetric one of length M + 1 without its last point)."""
    kind = rule.torch_name.rpartition(".")[2]
    length = bound.get("M")
    if length is None:
        raise Unsupported("needs the argument 'M'")
    m = _operand(length)
    sym = literal(bound.get("sym"))
    if sym in (None, "True"):
        wide = m  # the span the symmetric window's points cover: M - 1 intervals
    elif sym == "False":
        wide = f"({m} + 1)"
    else:
        wide = f"({m} if {_operand(bound.get('sym'))} else {m} + 1)"
    dtype = bound.get("dtype")
    dtype_text = code(dtype).strip() if dtype is not None else "mindspore.float32"
    ops = "mindspore.ops"
    n = f"{ops}.arange({m}, dtype={dtype_text})"
    if kind == "cosine":
        ctx.require("import math")
        text = f"{ops}.sin(math.pi * ({n} + 0.5) / {wide})"
    elif kind == "gaussian":
        std = _operand(bound.get("std")) if bound.get("std") is not None else "1.0"
        text = f"{ops}.exp(-0.5 * (({n} - ({wide} - 1) / 2) / {std}) ** 2)"
    elif kind == "exponential":
        tau = bound.get("tau")
        center = bound.get("center")
        if center is not None and literal(center) != "None":
            if sym in (None, "True"):
                raise Unsupported("torch refuses center= for a symmetric window")
            middle = _operand(center)
        else:
            middle = f"({wide} - 1) / 2"
        scale = f" / {_operand(tau)}" if tau is not None else ""
        text = f"{ops}.exp(-{ops}.abs({n} - {middle}){scale})"
    else:  # general_cosine
        coefficients = bound.get("a")
        if coefficients is None:
            raise Unsupported("needs the argument 'a'")
        ctx.require("import math")
        text = (f"sum((-1) ** i * c * {ops}.cos(2 * math.pi * i * {n} / ({wide} - 1))"
                f" for i, c in enumerate({code(coefficients).strip()}))")
    from ..core.callrewrite import _MindSporeNames
    from ..core.traversal import traverse
    return traverse(parse_expression(text), _MindSporeNames(ctx.name))


@transform
def aminmax_all(ctx, rule, bound, call=None):
    """torch.aminmax(x) without dim reduces over every element, MindSpore's over axis 0
    by default: the input is flattened first."""
    dim = bound.get("dim")
    if dim is not None and literal(dim) != "None":
        return None
    bound.pop("dim")
    if literal(bound.get("keepdim")) not in (None, "False"):
        raise Unsupported("keepdim=True without dim: reshape the results to x.ndim ones")
    bound.pop("keepdim")
    name = "input"
    value = bound.get(name)
    if value is None:
        raise Unsupported("needs the argument 'input'")
    bound.set(name, cst.Call(cst.Attribute(
        value if isinstance(value, (cst.Name, cst.Attribute, cst.Call, cst.Subscript))
        else value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()]),
        cst.Name("reshape")), [cst.Arg(cst.UnaryOperation(cst.Minus(), cst.Integer("1")))]))


@transform
def pad_sequence(ctx, rule, bound, call=None):
    """nn.utils.rnn.pad_sequence(seqs, batch_first, padding_value): each sequence padded
    at the end of its first axis to the longest, stacked on axis 0 (batch_first) or 1."""
    sequences = bound.get("sequences")
    if sequences is None:
        raise Unsupported("needs the argument 'sequences'")
    from ..core.callrewrite import _has_call
    if _has_call(sequences):  # a name or a list of names may be read twice
        raise Unsupported("the sequences are read twice: assign them to a name first")
    if literal(bound.get("padding_side")) not in (None, "'right'", '"right"'):
        raise Unsupported("padding_side='left': pad at the start by hand")
    first = literal(bound.get("batch_first"))
    if first in (None, "False"):
        axis = "1"
    elif first == "True":
        axis = "0"
    else:
        axis = f"0 if {_operand(bound.get('batch_first'))} else 1"
    value = bound.get("padding_value")
    fill = f", value={code(value).strip()}" if value is not None else ""
    seqs = code(sequences).strip()
    taken = set(re.findall(r"\w+", seqs))
    s, t = [n for n in ("s", "t", "seq", "other", "s_", "t_") if n not in taken][:2]
    text = (f"mindspore.ops.stack([mindspore.ops.pad({s}, (0, 0) * ({s}.ndim - 1) + "
            f"(0, max({t}.shape[0] for {t} in {seqs}) - {s}.shape[0]){fill}) for {s} in {seqs}], "
            f"axis={axis})")
    from ..core.callrewrite import _MindSporeNames
    from ..core.traversal import traverse
    return traverse(parse_expression(text), _MindSporeNames(ctx.name))


@transform
def randint_like(ctx, rule, bound: Bound, call=None):
    """torch.randint_like(x, high) / (x, low, high): integers drawn in [low, high) in x's
    shape and dtype (or dtype=). MindSpore's randint_like refuses float dtypes, so draw
    with ops.randint(low, high, x.shape) and cast."""
    low, high = bound.get("low"), bound.get("high")
    if high is None:  # randint_like(x, high): the one number is high
        low, high = None, low
    if high is None:
        raise Unsupported("randint_like needs high")
    bound.set("low", low or cst.Integer("0"))
    bound.set("high", high)
    if bound.get("dtype") is None:
        source = bound.get("input")
        if source is None:
            raise Unsupported("needs the argument 'input'")
        if not alike_twice(source):
            raise Unsupported("the tensor gives both the shape and the dtype: assign it to a "
                              "variable first")
        bound.set("dtype", cst.Attribute(source, cst.Name("dtype")))
    return render_template(rule, bound, ctx.name)
