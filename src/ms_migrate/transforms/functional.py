"""Transforms for torch.nn.functional calls whose arguments differ beyond renames."""
from __future__ import annotations

import libcst as cst

from ..core.callrewrite import Bound, Unsupported, code, render_template
from ..core.names import dotted_name
from ..core.parsed import parsed_expression
from ..core.quick_libcst import parse_expression
from .base import literal, transform
from .helper_code import request

_ATOMS = (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Integer, cst.Float)


def _text(node: cst.BaseExpression) -> str:
    """Source of an argument, parenthesised when it is not an atom."""
    text = code(node).strip()
    return text if isinstance(node, _ATOMS) else f"({text})"


def _receiver(node: cst.BaseExpression) -> str:
    """Source of an expression a method is called on: `(3).unsqueeze(2)`, not `3.`."""
    text = _text(node)
    return f"({text})" if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary)) else text


def _named(node: cst.BaseExpression, what: str) -> str:
    """An argument used twice must be a plain name: evaluating it twice is harmless."""
    if dotted_name(node) is None:
        raise Unsupported(f"{what} is used twice in the MindSpore form: bind it to a name first")
    return code(node).strip()


def _expression(ctx, text: str) -> cst.BaseExpression:
    ctx.require("from mindspore import ops")
    return parsed_expression(text)  # the same compositions recur: parsed once per process


@transform
def stride_of_kernel(ctx, rule, bound: Bound, call=None):
    """Pools: torch's stride defaults to the kernel size, MindSpore's ops to 1."""
    if bound.get("kernel_size") is None:
        raise Unsupported("needs the argument 'kernel_size'")
    if literal(bound.get("stride")) in (None, "None"):
        bound.pop("stride")
        bound.set("stride", bound.get("kernel_size"))
    if literal(bound.get("divisor_override")) == "None":  # MindSpore wants an int or nothing
        bound.pop("divisor_override")


@transform
def one_hot_classes(ctx, rule, bound: Bound, call=None):
    """F.one_hot(t, n) -> ops.one_hot(t, n); without n (or -1) the count is t.max() + 1."""
    tensor = bound.get("tensor")
    classes = bound.get("num_classes")
    if classes is None or literal(classes) == "-1":
        depth = f"int({_named(tensor, 'the input')}.max()) + 1"
    else:
        depth = code(classes).strip()
    return _expression(ctx, f"ops.one_hot({code(tensor).strip()}, {depth})")


@transform
def normalize_p(ctx, rule, bound: Bound, call=None):
    """F.normalize: x / max(||x||_p, eps) along dim.

    For p=2 MindSpore's L2Normalize does it in one op; it bounds the squared norm,
    so its epsilon is torch's eps squared.
    """
    if bound.get("out") is not None:
        raise Unsupported("out= has no MindSpore equivalent")
    x = bound.get("input")
    p = literal(bound.get("p")) or "2.0"
    dim = literal(bound.get("dim")) or "1"
    eps = literal(bound.get("eps")) or "1e-12"
    if p in ("2", "2.0"):
        try:
            epsilon = repr(float(eps) ** 2)
        except ValueError:
            epsilon = f"({eps}) ** 2"
        return _expression(ctx, f"ops.L2Normalize(axis={dim}, epsilon={epsilon})({code(x).strip()})")
    name = _named(x, "the input")
    return _expression(
        ctx, f"{name} / ops.clamp(ops.norm({name}, {p}, dim={dim}, keepdim=True), min={eps})")


@transform
def attention(ctx, rule, bound: Bound, call=None):
    """F.scaled_dot_product_attention as MindSpore ops: softmax(q kᵀ · scale + mask) v.

    MindSpore's fused attention kernels run on Ascend only. A boolean attn_mask keeps
    the True places; a float one is added to the scores; a mask held in a name may be
    None, as torch allows.
    """
    if literal(bound.get("enable_gqa")) not in (None, "False"):
        raise Unsupported("enable_gqa: repeat the key/value heads first")
    q, k, v = (bound.get(n) for n in ("query", "key", "value"))
    if q is None or k is None or v is None:
        raise Unsupported("needs query, key and value")
    scale = bound.get("scale")
    scale_text = _text(scale) if scale is not None and literal(scale) != "None" else None
    if scale_text is None:
        scale_text = f"{_named(k, 'key')}.shape[-1] ** -0.5"
    scores = f"ops.matmul({_text(q)}, {_receiver(k)}.swapaxes(-2, -1)) * {scale_text}"
    mask = bound.get("attn_mask")
    if mask is not None and literal(mask) != "None":
        m = _named(mask, "attn_mask")
        # a name may hold None at run time (an optional mask argument): torch adds nothing
        none = f"0. if {m} is None else " if isinstance(mask, cst.Name) else ""
        scores += (f" + ({none}{m} if {m}.is_floating_point() "
                   f"else ops.zeros(m_shape, {_receiver(q)}.dtype).masked_fill({m}.logical_not(), "
                   f"float(\"-inf\")))").replace("m_shape", f"{m}.shape")
    causal = literal(bound.get("is_causal"))
    if causal not in (None, "False", "0"):
        if causal != "True" and not _is_plain_name(bound.get("is_causal")):
            causal = f"({causal})"
        has_mask = mask is not None and literal(mask) != "None"
        if has_mask and causal == "True":
            raise Unsupported("attn_mask together with is_causal=True (torch refuses it)")
        qn, kn = _named(q, "query"), _named(k, "key")
        term = (f"ops.full(({qn}.shape[-2], {kn}.shape[-2]), float(\"-inf\"), "
                f"dtype={qn}.dtype).triu(1)")
        # a flag known at run time: torch refuses it together with a mask, so where it
        # runs at most one of the two terms is there
        scores += f" + {term}" if causal == "True" else f" + ({term} if {causal} else 0.)"
    weights = f"ops.softmax({scores}, axis=-1)"
    dropout = literal(bound.get("dropout_p"))
    if dropout not in (None, "0", "0.0"):
        weights = f"ops.dropout({weights}, p={dropout})"
    return _expression(ctx, f"ops.matmul({weights}, {_text(v)})")


def _is_plain_name(node) -> bool:
    return isinstance(node, (cst.Name, cst.Attribute))


def _quoted(text: str) -> cst.SimpleString:
    return cst.SimpleString(f'"{text}"')


@transform
def conv_function_padding(ctx, rule, bound: Bound, call=None):
    """F.conv*d padding -> ops.conv*d pad_mode + padding.

    ops.conv2d takes torch's padding as it is (one value per side pair) once
    pad_mode is "pad"; torch's "same"/"valid" are pad modes.
    """
    padding = bound.get("padding")
    text = literal(padding)
    if text is None or text in ("0", "(0, 0)", "(0, 0, 0)", "(0,)", "'valid'", '"valid"'):
        bound.pop("padding")
        bound.set("pad_mode", _quoted("valid"))
    elif text in ("'same'", '"same"'):
        if literal(bound.get("stride")) not in (None, "1"):
            raise Unsupported("padding='same' needs stride 1 in torch")
        bound.pop("padding")
        bound.set("pad_mode", _quoted("same"))
    else:
        bound.pop("padding")
        bound.set("pad_mode", _quoted("pad"))
        bound.set("padding", padding)


_SPATIAL_DIMS = {"'linear'": 1, "'bilinear'": 2, "'bicubic'": 2, "'trilinear'": 3}


@transform
def interpolate_size(ctx, rule, bound: Bound, call=None):
    """F.interpolate(scale_factor=s) -> ops.interpolate(size=...).

    MindSpore 2.10 refuses scale_factor for 4-D inputs, so the output size torch
    computes (floor(n * s) per spatial dim) is passed; that is the same sampling
    whenever n * s is whole. Bicubic weights differ between the two (max 0.19 here):
    bicubic calls a helper with torch's.
    """
    mode = (literal(bound.get("mode")) or "'nearest'").replace('"', "'")
    bound.pop("recompute_scale_factor")
    scale = bound.get("scale_factor")
    if scale is None or literal(scale) == "None":
        bound.pop("scale_factor")
        return _bicubic(ctx, bound) if mode == "'bicubic'" else None
    if bound.get("size") is not None and literal(bound.get("size")) != "None":
        raise Unsupported("both size and scale_factor given")
    x = _named(bound.get("input"), "the input")
    scales = [e.value for e in scale.elements] if isinstance(scale, (cst.Tuple, cst.List)) else None
    dims = _SPATIAL_DIMS.get(mode) or (len(scales) if scales else None)

    def times(n: str, s: cst.BaseExpression) -> str:
        return f"{n} * {code(s).strip()}" if isinstance(s, cst.Integer) else f"int({n} * {_text(s)})"

    if dims is None:
        size = f"tuple({times('n', scale)} for n in {x}.shape[2:])"
    else:
        size = "(" + ", ".join(times(f"{x}.shape[{i - dims}]", scales[i] if scales else scale)
                               for i in range(dims)) + ("," if dims == 1 else "") + ")"
    bound.pop("scale_factor")
    bound.pop("size")
    bound.set("size", parse_expression(size))
    return _bicubic(ctx, bound) if mode == "'bicubic'" else None


@transform
def signed_pad(ctx, rule, bound: Bound, call=None):
    """F.pad whose amounts may be negative (a crop): MindSpore 2.10's CPU kernel gives
    wrong values for a negative amount from its second call on, so a helper cuts those
    by slicing first. Amounts written out, none negative, stay ops.pad."""
    pad = bound.get("pad")
    if isinstance(pad, (cst.Tuple, cst.List)):
        if not any(isinstance(e.value, cst.UnaryOperation) and isinstance(
                e.value.operator, cst.Minus) for e in pad.elements):
            return None
    elif pad is None or not isinstance(pad, (cst.Name, cst.Attribute, cst.Subscript)):
        return None
    args = [cst.Arg(bound.get("input")), cst.Arg(pad)]
    for name in ("mode", "value"):
        if bound.get(name) is not None:
            args.append(cst.Arg(bound.get(name), keyword=cst.Name(name), equal=cst.AssignEqual(
                cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))))
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    return cst.Call(request(ctx, "signed_pad"),
                    [a.with_changes(comma=comma) for a in args[:-1]] + args[-1:])


def _bicubic(ctx, bound: Bound) -> cst.Call:
    """MindSpore's bicubic kernel weighs other pixels than torch's (max 0.19 apart): a
    helper written into the file computes torch's weights (cubic convolution, A=-0.75)."""
    size = bound.get("size")
    if size is None or literal(size) == "None":
        raise Unsupported("needs size= or scale_factor=")
    args = [cst.Arg(bound.get("input")), cst.Arg(size)]
    corners = bound.get("align_corners")
    if corners is not None and literal(corners) not in ("None", "False"):
        args.append(cst.Arg(corners))
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    return cst.Call(request(ctx, "interpolate_bicubic"),
                    [a.with_changes(comma=comma) for a in args[:-1]] + args[-1:])


@transform
def layer_norm_primitive(ctx, rule, bound: Bound, call=None):
    """F.layer_norm -> ops.LayerNorm(axis, axis, eps)(x, weight, bias)[0].

    ops.layer_norm has no CPU kernel in MindSpore 2.10; the LayerNorm primitive
    does, but it takes a non-negative axis for more than one normalized dim, and
    needs weight and bias.
    """
    x = bound.get("input")
    shape = bound.get("normalized_shape")
    if isinstance(shape, (cst.Tuple, cst.List)):
        count = str(len(shape.elements))
    elif isinstance(shape, cst.Integer):
        count = "1"
    else:
        count = f"len({code(shape).strip()})"
    axis = "-1" if count == "1" else f"{_named(x, 'the input')}.ndim - {count}"
    eps = literal(bound.get("eps")) or "1e-05"
    shape_text = code(shape).strip()
    weight = literal(bound.get("weight"))
    bias = literal(bound.get("bias"))
    weight = weight if weight not in (None, "None") else f"ops.ones({shape_text})"
    bias = bias if bias not in (None, "None") else f"ops.zeros({shape_text})"
    return _expression(ctx, f"ops.LayerNorm({axis}, {axis}, {eps})"
                            f"({code(x).strip()}, {weight}, {bias})[0]")


@transform
def tuple_arguments(ctx, rule, bound: Bound, call=None):
    """A list literal where MindSpore takes only a tuple: [1, 1, 3, 3] -> (1, 1, 3, 3)."""
    for name, value in list(bound.values.items()):
        if isinstance(value, cst.List):
            bound.values[name] = cst.Tuple(value.elements)


def _one(node: cst.BaseExpression) -> str:
    """The single value of `3` or `(3,)`."""
    if isinstance(node, (cst.Tuple, cst.List)):
        if len(node.elements) != 1:
            raise Unsupported("a 1-D pool takes one kernel size, stride and padding")
        node = node.elements[0].value
    return code(node).strip()


@transform
def pool1d_as_2d(ctx, rule, bound: Bound, call=None):
    """F.max_pool1d(x, k, s, p) -> ops.max_pool2d(x.unsqueeze(2), (1, k), (1, s), (0, p)).squeeze(2)."""
    x = bound.get("input")
    if x is None or bound.get("kernel_size") is None:
        raise Unsupported("needs the arguments 'input' and 'kernel_size'")
    kernel = _one(bound.get("kernel_size"))
    stride = bound.get("stride")
    stride = kernel if stride is None or literal(stride) == "None" else _one(stride)
    args = [f"{_receiver(x)}.unsqueeze(2)", f"(1, {kernel})", f"(1, {stride})"]
    padding = bound.get("padding")
    if padding is not None and literal(padding) != "0":
        args.append(f"(0, {_one(padding)})")
    dilation = bound.get("dilation")
    if dilation is not None and literal(dilation) != "1":
        args.append(f"dilation=(1, {_one(dilation)})")
    for name in ("ceil_mode", "return_indices"):
        if literal(bound.get(name)) not in (None, "False"):
            if name == "return_indices":
                raise Unsupported("return_indices: the indices would be of the 2-D pool")
            args.append(f"{name}={literal(bound.get(name))}")
    return _expression(ctx, f"ops.max_pool2d({', '.join(args)}).squeeze(2)")


@transform
def dim_required(ctx, rule, bound: Bound, call=None):
    """F.softmax(x) without dim: torch picks dim 0 for 0-, 1- and 3-D inputs and 1
    otherwise, MindSpore always -1: that choice is written out for a named input
    (`axis=0 if x.ndim in (0, 1, 3) else 1`); another expression needs an explicit dim."""
    if literal(bound.get("dim")) not in (None, "None"):
        return
    value = bound.get("input")
    if not isinstance(value, (cst.Name, cst.Attribute)) or dotted_name(value) is None:
        raise Unsupported("give dim explicitly (torch's implicit dim depends on the input's rank)")
    bound.set("dim", parse_expression(f"0 if {dotted_name(value)}.ndim in (0, 1, 3) else 1"))
    bound.warnings.append("no dim: torch's implicit one (0 for 0-, 1- and 3-D inputs, else 1) "
                          "is written out")


@transform
def batch_norm_affine(ctx, rule, bound: Bound, call=None):
    """F.batch_norm without weight/bias: MindSpore needs both, so ones and zeros are passed."""
    mean = bound.get("running_mean")
    if mean is None or literal(mean) == "None":
        raise Unsupported("MindSpore's batch_norm needs running_mean and running_var")
    for name, fill in (("weight", "ones_like"), ("bias", "zeros_like")):
        if literal(bound.get(name)) in (None, "None"):
            bound.set(name, parse_expression(f"ops.{fill}({_named(mean, 'running_mean')})"))
            ctx.require("from mindspore import ops")


@transform
def rrelu(ctx, rule, bound: Bound, call=None):
    """F.rrelu(x, lower, upper, training): in training the slopes of the negative part
    are drawn from U(lower, upper), as ops.rrelu draws them; otherwise torch uses their
    mean, a leaky relu. The `_` forms write the result back into x (ops.assign)."""
    training = literal(bound.pop("training"))
    if literal(bound.pop("generator")) not in (None, "None"):
        raise Unsupported("generator: MindSpore seeds globally (mindspore.set_seed)")
    x = bound.get("input")
    if x is None:
        raise Unsupported("needs the argument 'input'")
    lower = _text(bound.get("lower")) if bound.get("lower") is not None else "1.0 / 8"
    upper = _text(bound.get("upper")) if bound.get("upper") is not None else "1.0 / 3"
    if training == "True":
        value = f"ops.rrelu({_text(x)}, {lower}, {upper})"
    elif training in (None, "False"):
        value = f"ops.leaky_relu({_text(x)}, ({lower} + {upper}) / 2)"
    else:
        raise Unsupported("training must be True or False literally")
    if rule.torch_name.endswith("_"):
        if dotted_name(x) is None:
            raise Unsupported("in-place call on an expression: assign the result by hand")
        value = f"ops.assign({_text(x)}, {value})"
    ctx.require("from mindspore import ops")
    return parse_expression(value)


@transform
def elu_composed(ctx, rule, bound: Bound, call=None):
    """ops.elu takes alpha=1.0 only: another alpha renders the rule's template (the
    formula); alpha=1.0 stays the one call."""
    text = literal(bound.get("alpha"))
    if text in (None, "1", "1.0", "1."):
        bound.pop("alpha")
        return None
    return render_template(rule, bound, ctx.name)


_SELU_ALPHA = 1.7580993408473766  # SELU's scale * alpha: the value a dropped unit takes


@transform
def alpha_dropout(ctx, rule, bound: Bound, call=None):
    """Alpha dropout (SELU networks), as torch computes it: a kept unit is
    a * (x + alpha), a dropped one a * alpha * (p - 1) ... written as one expression
    with the constants a = ((alpha**2 * p + 1) * (1 - p)) ** -0.5 worked out for a
    literal p. Not training (or p=0) it is the input itself. The feature_ form drops
    whole channels (a mask of shape (N, C, 1, ...))."""
    bound.pop("inplace")
    training = literal(bound.pop("training") if "training" in bound.values else bound.pop("train"))
    x, p_text = bound.get("input"), literal(bound.get("p")) or "0.5"
    if x is None:
        raise Unsupported("needs the argument 'input'")
    if training in (None, "False"):
        return x
    if training != "True":
        raise Unsupported(f"training={training}: write the two branches by hand")
    if not isinstance(x, (cst.Name, cst.Attribute)) or dotted_name(x) is None:
        raise Unsupported("the input is used twice: assign it to a variable first")
    try:
        p = float(p_text)
    except ValueError:
        raise Unsupported(f"p={p_text}: the constants need a literal p") from None
    if p == 0:
        return x
    if not 0 < p < 1:
        raise Unsupported(f"p={p_text}: outside (0, 1)")
    a = ((_SELU_ALPHA ** 2 * p + 1) * (1 - p)) ** -0.5
    name = dotted_name(x)
    bernoulli = code(ctx.name("mindspore.ops.bernoulli")).strip()
    like = name
    if "feature" in rule.torch_name:
        zeros = code(ctx.name("mindspore.ops.zeros")).strip()
        like = f"{zeros}({name}.shape[:2] + (1,) * ({name}.ndim - 2), {name}.dtype)"
    shift = _SELU_ALPHA * a * (p - 1)
    return parse_expression(
        f"{bernoulli}({like}, p={1 - p!r}) * ({name} + {_SELU_ALPHA!r}) * {a!r} - {-shift!r}")


_RENORM_NOTE = ("torch also rescales those rows of weight in place, so later reads of weight "
                "see them rescaled; MindSpore's weight keeps its values")
_FREQ_NOTE = ("scale_grad_by_freq given as an expression: the helper raises if it is true "
              "(MindSpore does not scale gradients by frequency)")


@transform
def embedding_lookup(ctx, rule, bound: Bound, call=None):
    """F.embedding: a row lookup (the template); with max_norm (or a scale_grad_by_freq
    known only at run time) a helper that rescales the rows looked up, as torch does
    before reading them."""
    freq = bound.pop("scale_grad_by_freq")
    if literal(freq) == "True":
        raise Unsupported("scale_grad_by_freq: MindSpore does not scale gradients by frequency")
    freq = None if literal(freq) in (None, "False") else freq
    max_norm, norm_type = bound.pop("max_norm"), bound.pop("norm_type")
    if literal(max_norm) in (None, "None") and freq is None:
        return render_template(rule, bound, ctx.name)
    args = [cst.Arg(bound.get("input")), cst.Arg(bound.get("weight"))]
    if literal(max_norm) not in (None, "None"):
        args.append(cst.Arg(max_norm))
        bound.warnings.append(_RENORM_NOTE)
    if literal(norm_type) not in (None, "2", "2.0", "2.") or (freq is not None and len(args) == 3):
        args.append(cst.Arg(norm_type if norm_type is not None else cst.Float("2.0"),
                            keyword=None if len(args) == 3 else cst.Name("norm_type")))
    if freq is not None:
        args.append(cst.Arg(freq, keyword=None if len(args) == 4 else cst.Name("scale_grad_by_freq")))
        bound.warnings.append(_FREQ_NOTE)
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    equal = cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))
    args = [a.with_changes(equal=equal) if a.keyword is not None else a for a in args]
    return cst.Call(request(ctx, "embedding_rows"),
                    [a.with_changes(comma=comma) for a in args[:-1]] + args[-1:])
