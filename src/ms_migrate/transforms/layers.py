"""Transforms for torch.nn layers whose arguments differ beyond renames."""
from __future__ import annotations

from typing import List, Optional

import libcst as cst

from ..core.callrewrite import Bound, Unsupported, rewrite
from ..core.quick_libcst import parse_expression
from .base import literal as _literal
from .base import quoted as _quoted
from .base import transform
from .helper_code import request


def _tuple(values) -> cst.Tuple:
    nodes = [v if isinstance(v, cst.BaseExpression) else cst.Integer(str(v)) for v in values]
    return cst.Tuple([cst.Element(v, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                      for v in nodes[:-1]] + [cst.Element(nodes[-1])])


def _refuse_padding_mode(bound: Bound) -> None:
    mode = _literal(bound.get("padding_mode"))
    if mode not in (None, "'zeros'", '"zeros"'):
        raise Unsupported(f"padding_mode={mode} has no MindSpore Conv equivalent")
    bound.pop("padding_mode")


def _ints(node: Optional[cst.BaseExpression], dims: int) -> Optional[List[int]]:
    """An int or a tuple of ints written in the source, one value per spatial dim."""
    if node is None:
        return [0] * dims
    if isinstance(node, cst.Integer):
        return [int(node.value)] * dims
    if isinstance(node, (cst.Tuple, cst.List)) and len(node.elements) == dims and all(
            isinstance(el.value, cst.Integer) for el in node.elements):
        return [int(el.value.value) for el in node.elements]
    return None


def _spatial_dims(rule) -> int:
    return int(rule.torch_name[-2])  # Conv1d, ConvTranspose3d, ...


@transform
def conv_padding(ctx, rule, bound: Bound, call=None):
    """torch padding (int, tuple, "same", "valid") -> MindSpore pad_mode + padding.

    torch pads symmetrically; MindSpore's "pad" mode does the same, while its
    "same" pads the other side first, so explicit numbers always use "pad".
    """
    _refuse_padding_mode(bound)
    padding = bound.get("padding")
    if isinstance(padding, (cst.Tuple, cst.List)) and len(padding.elements) == 1:
        padding = padding.elements[0].value  # Conv1d: MindSpore takes an int only
        bound.set("padding", padding)
    text = _literal(padding)
    if text is None or text in ("0", "(0, 0)", "(0, 0, 0)"):
        bound.pop("padding")
        bound.set("pad_mode", _quoted("valid"))
    elif text in ("'valid'", '"valid"', "'same'", '"same"'):
        bound.pop("padding")
        if text.strip("'\"") == "same" and _literal(bound.get("stride")) not in (None, "1"):
            raise Unsupported("padding='same' needs stride 1 in torch")
        bound.set("pad_mode", _quoted(text.strip("'\"")))
    else:
        bound.set("pad_mode", _quoted("pad"))
        if isinstance(padding, (cst.Tuple, cst.List)) and len(padding.elements) in (2, 3):
            # torch: one value per spatial dim; MindSpore: before/after per dim.
            bound.set("padding", _tuple([el.value for el in padding.elements for _ in (0, 1)]))
        # keep `padding` last in the output, after pad_mode, as a person would write it
        bound.set("padding", bound.pop("padding"))


@transform
def conv_transpose_padding(ctx, rule, bound: Bound, call=None):
    """ConvTranspose: padding p trims p from each side of the full output.

    Always pad_mode="pad": MindSpore's "valid" gives a longer output when the kernel
    is smaller than the stride. MindSpore's output_padding fills the added rows with
    zeros, while torch computes them, so output_padding op becomes an asymmetric trim
    (p before, p - op after).
    """
    _refuse_padding_mode(bound)
    dims = _spatial_dims(rule)
    extra = _ints(bound.pop("output_padding"), dims)
    if extra is None:
        raise Unsupported("output_padding must be written as numbers to convert")
    padding = bound.pop("padding")
    if any(extra):
        if dims == 1:
            raise Unsupported("MindSpore Conv1dTranspose takes no output_padding or uneven padding")
        numbers = _ints(padding, dims)
        if numbers is None:
            raise Unsupported("padding must be written as numbers to convert with output_padding")
        if any(p < op for p, op in zip(numbers, extra)):
            raise Unsupported("output_padding larger than padding has no MindSpore equivalent")
        padding = _tuple([v for p, op in zip(numbers, extra) for v in (p, p - op)])
    elif padding is None:
        padding = cst.Integer("0")
    elif isinstance(padding, (cst.Tuple, cst.List)) and len(padding.elements) == 1:
        padding = padding.elements[0].value  # Conv1dTranspose takes an int only
    elif isinstance(padding, (cst.Tuple, cst.List)):
        # torch: one value per spatial dim; MindSpore: before/after per dim.
        padding = _tuple([el.value for el in padding.elements for _ in (0, 1)])
    bound.set("pad_mode", _quoted("pad"))
    bound.set("padding", padding)
    return None


@transform
def pool_padding(ctx, rule, bound: Bound, call=None):
    """MaxPool/AvgPool: stride defaults to kernel_size; MindSpore accepts padding,
    dilation, return_indices and ceil_mode only with pad_mode="pad"."""
    if bound.get("kernel_size") is None:
        raise Unsupported("needs the argument 'kernel_size'")
    if bound.get("stride") is None or _literal(bound.get("stride")) == "None":
        bound.pop("stride")
        bound.set("stride", bound.get("kernel_size"))
    defaults = {"padding": "0", "dilation": "1", "return_indices": "False", "ceil_mode": "False"}
    for name, default in defaults.items():
        if _literal(bound.get(name)) == default:
            bound.pop(name)
    if any(name in bound.values for name in defaults):
        bound.set("pad_mode", _quoted("pad"))
        if "padding" in bound.values:  # after pad_mode, as a person would write it
            bound.set("padding", bound.pop("padding"))
    return None


_SIMPLE = (cst.Name, cst.Attribute, cst.Integer)


def _pure(node) -> bool:
    """Names, attributes and numbers combined by arithmetic: the same value written twice."""
    if isinstance(node, _SIMPLE):
        return True
    if isinstance(node, cst.BinaryOperation):
        return _pure(node.left) and _pure(node.right)
    if isinstance(node, cst.UnaryOperation):
        return _pure(node.expression)
    return False


@transform
def layer_norm_shape(ctx, rule, bound: Bound, call=None):
    """LayerNorm: MindSpore takes normalized_shape as a tuple only, and its
    begin_norm_axis cannot count from the end past -1, so only the last axis converts."""
    frozen = []  # without affine parameters: MindSpore's, frozen at ones and zeros
    for flag, params in (("elementwise_affine", ("gamma", "beta")), ("bias", ("beta",))):
        text = _literal(bound.get(flag))
        if text == "False":
            frozen += [p for p in params if p not in frozen]
        elif text not in (None, "True"):
            raise Unsupported(f"{flag}={text}: MindSpore LayerNorm always has gamma and beta")
        bound.pop(flag)
    shape = bound.get("normalized_shape")
    if shape is None:
        raise Unsupported("needs the argument 'normalized_shape'")
    if isinstance(shape, (cst.Tuple, cst.List)):
        if len(shape.elements) != 1:
            raise Unsupported("normalizing over several trailing axes needs begin_norm_axis "
                              "counted from the front: the input rank is not known here")
    else:  # an int in torch (`d`, `2 * d`); a tuple variable fails loudly in MindSpore
        bound.set("normalized_shape", cst.Tuple([cst.Element(shape, comma=cst.Comma())]))
    if not frozen:
        return None
    bound.warnings.append(f"{' and '.join(frozen)} frozen at their initial values: "
                          "MindSpore's LayerNorm always has them")
    layer = rewrite(rule, bound, ctx.name(rule.target), call, ctx.name)
    return cst.Call(request(ctx, "frozen_parameters"), [
        cst.Arg(layer, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
        *(cst.Arg(cst.SimpleString(f'"{p}"'), comma=cst.Comma(
            whitespace_after=cst.SimpleWhitespace(" "))) for p in frozen[:-1]),
        cst.Arg(cst.SimpleString(f'"{frozen[-1]}"'))])


@transform
def instance_norm(ctx, rule, bound: Bound, call=None):
    """InstanceNorm has no CPU kernel in MindSpore; GroupNorm with one group per
    channel computes the same thing everywhere."""
    text = _literal(bound.get("track_running_stats"))
    if text not in (None, "False"):
        raise Unsupported("track_running_stats=True: running statistics are not supported")
    bound.pop("track_running_stats")
    bound.pop("momentum")  # only used with running statistics
    channels = bound.get("num_features")
    if not _pure(channels):
        raise Unsupported("num_features must be arithmetic of names and numbers (it is "
                          "used twice)")
    bound.values = {"num_groups": channels, "num_channels": channels,
                    **{k: v for k, v in bound.values.items() if k != "num_features"}}
    bound.positional = ["num_groups", "num_channels"] + [
        p for p in bound.positional if p != "num_features"]
    return None


@transform
def gelu_approximate(ctx, rule, bound: Bound, call=None):
    """GELU: torch's approximate="none"|"tanh" is MindSpore's approximate=False|True."""
    text = _literal(bound.get("approximate"))
    if text is None or text.strip("'\"") == "none":
        bound.set("approximate", cst.Name("False"))  # torch is exact erf by default
    elif text.strip("'\"") == "tanh":
        bound.set("approximate", cst.Name("True"))
    else:
        raise Unsupported(f"approximate={text} must be written as 'none' or 'tanh' to convert")
    return None


@transform
def needs_dim(ctx, rule, bound: Bound, call=None):
    """Softmax & co.: without `dim` torch picks the axis from the input's rank."""
    if _literal(bound.get("dim")) in (None, "None"):
        raise Unsupported("no dim given: torch infers the axis from the input rank; pass dim")
    return None


@transform
def elu_alpha(ctx, rule, bound: Bound, call=None):
    """MindSpore's Elu kernel raises for any alpha but 1.0."""
    text = _literal(bound.get("alpha"))
    if text not in (None, "1", "1.0", "1."):
        raise Unsupported(f"alpha={text}: MindSpore's ELU supports alpha=1.0 only")
    return None


def _as_float(node: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(node, cst.Integer):
        return cst.Float(f"{int(node.value)}.0")
    if isinstance(node, (cst.Tuple, cst.List)):
        return node.with_changes(elements=[
            el.with_changes(value=_as_float(el.value)) for el in node.elements])
    if isinstance(node, (cst.Float, cst.Name)) and _literal(node) != "None":
        return node if isinstance(node, cst.Float) else parse_expression(
            f"float({node.value})")
    return node


def _whole(node: cst.BaseExpression) -> bool:
    if isinstance(node, (cst.Tuple, cst.List)):
        return all(_whole(el.value) for el in node.elements)
    return isinstance(node, cst.Integer) or (
        isinstance(node, cst.Float) and float(node.value).is_integer())


@transform
def upsample(ctx, rule, bound: Bound, call=None):
    """Upsample by scale_factor: MindSpore on CPU interpolates only from the size it
    recomputes (floor(in * scale)), and wants a float. torch uses the scale itself,
    which gives the same result when the scale is a whole number."""
    if (_literal(bound.get("mode")) or "").strip("'\"") == "bicubic":
        raise Unsupported("mode='bicubic': MindSpore's cubic kernel differs from torch's")
    scale = bound.get("scale_factor")
    if scale is None or _literal(scale) == "None":
        return None
    recompute = _literal(bound.get("recompute_scale_factor"))
    if recompute != "True" and not _whole(scale):
        if not isinstance(scale, (cst.Name, cst.Attribute)):
            raise Unsupported("a fractional scale_factor converts only with "
                              "recompute_scale_factor=True (MindSpore recomputes the size)")
        bound.warnings.append("scale_factor: exact when it is a whole number; otherwise "
                              "MindSpore interpolates as recompute_scale_factor=True")
    if not isinstance(scale, (cst.Integer, cst.Float, cst.Name, cst.Tuple, cst.List)):
        raise Unsupported("scale_factor must be a number, a name or a tuple to convert")
    bound.set("scale_factor", _as_float(scale))
    bound.pop("recompute_scale_factor")
    bound.set("recompute_scale_factor", cst.Name("True"))
    return None


@transform
def kl_div_log_target(ctx, rule, bound: Bound, call=None):
    """MindSpore's KLDivLoss takes the target as probabilities only."""
    text = _literal(bound.pop("log_target"))
    if text not in (None, "False"):
        raise Unsupported(f"log_target={text}: MindSpore's KLDivLoss takes probabilities; "
                          "pass target.exp()")
    return None


_CONTAINERS = {"Sequential", "ModuleList", "ModuleDict", "SequentialCell", "CellList", "CellDict"}


@transform
def module_dict(ctx, rule, bound: Bound, call=None):
    """MindSpore's CellDict raises when it is given a container as a value."""
    modules = bound.get("modules")
    values = []
    if isinstance(modules, cst.Dict):
        values = [el.value for el in modules.elements if isinstance(el, cst.DictElement)]
    elif isinstance(modules, (cst.List, cst.Tuple)):  # [("name", layer), ...]
        values = [el.value.elements[-1].value for el in modules.elements
                  if isinstance(el.value, cst.Tuple) and el.value.elements]
    for value in values:
        func = value.func if isinstance(value, cst.Call) else None
        name = func.attr.value if isinstance(func, cst.Attribute) else (
            func.value if isinstance(func, cst.Name) else None)
        if name in _CONTAINERS:
            raise Unsupported("MindSpore's CellDict cannot hold a SequentialCell, CellList or "
                              "CellDict: keep such containers as attributes or in a CellList")
    return None


@transform
def batch_norm(ctx, rule, bound: Bound, call=None):
    """BatchNorm: MindSpore keeps running statistics, as an exponential average, and
    normalises with them in inference; without them (track_running_stats=False) torch
    always uses the batch's, which is MindSpore's use_batch_statistics=True."""
    text = _literal(bound.pop("track_running_stats"))
    if text == "False":
        if _literal(bound.get("momentum")) == "None":
            bound.pop("momentum")  # no running statistics to average
        bound.set("use_batch_statistics", cst.Name("True"))
        return None
    if text not in (None, "True"):
        raise Unsupported(f"track_running_stats={text}: MindSpore decides between batch and "
                          "running statistics when the layer is built (use_batch_statistics)")
    if _literal(bound.get("momentum")) == "None":
        raise Unsupported("momentum=None (a cumulative average) has no MindSpore equivalent")
    return None


@transform
def embedding_padding(ctx, rule, bound: Bound, call=None):
    """MindSpore zeroes the padding row at the start but, unlike torch, trains it."""
    if _literal(bound.get("padding_idx")) not in (None, "None"):
        bound.warnings.append("padding_idx: MindSpore zeroes that row at the start but, unlike "
                              "torch, its gradient is not masked: the row changes in training")
    return None


@transform
def modules_positional(ctx, rule, bound: Bound, call=None):
    """nn.ModuleList(modules=[...]) -> nn.CellList([...]): CellList takes its cells
    only by place (a `modules=` keyword would be ignored, leaving the list empty)."""
    if "modules" in bound.values and "modules" not in bound.positional:
        bound.positional.insert(0, "modules")
    modules = bound.get("modules")
    if isinstance(modules, cst.List) and any(_may_be_none(e.value) for e in modules.elements):
        # `nn.ModuleList([nn.Linear(...) if half else None, ...])`: CellList refuses None
        bound.warnings.append("a list that may hold None: a Cell written into this file "
                              "keeps None in its place, as torch's ModuleList does")
        return cst.Call(request(ctx, "CellListWithNone"), [cst.Arg(modules)])
    if modules is not None and not _is_list(modules) and _literal(modules) != "None":
        # `nn.ModuleList(fns)` of a tuple (`*fns`), a generator, map(...): CellList takes
        # a list only
        bound.set("modules", cst.Call(cst.Name("list"), [cst.Arg(modules)]))
    return None


def _is_list(node: cst.BaseExpression) -> bool:
    """A list written out: `[...]`, a comprehension, `[layer] * n`, `a + [b]`."""
    if isinstance(node, cst.BinaryOperation):
        return _is_list(node.left) or _is_list(node.right)
    return isinstance(node, (cst.List, cst.ListComp))


def _may_be_none(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Name):
        return node.value == "None"
    if isinstance(node, cst.IfExp):
        return _may_be_none(node.body) or _may_be_none(node.orelse)
    return False
