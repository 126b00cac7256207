"""Transforms for the methods of Modules and distributions (the typed tables)."""
from __future__ import annotations

import libcst as cst

from ..core.callrewrite import Bound, Unsupported
from .base import literal, transform
from .tensors import is_dtype


@transform
def sample_shape(ctx, rule, bound: Bound, call=None):
    """d.sample([3]) / d.rsample(torch.Size([2, 3])) -> d.sample((3,)) / d.sample(tuple([2, 3])):
    MindSpore's distributions take the shape as a tuple, and only positionally."""
    receiver = bound.values["self"]
    shape = bound.get("sample_shape")
    args = []
    if shape is not None and literal(shape) not in ("()", "[]"):
        args.append(cst.Arg(_as_tuple(shape)))
    return cst.Call(cst.Attribute(receiver, cst.Name("sample")), args)


def _as_tuple(shape: cst.BaseExpression) -> cst.BaseExpression:
    """[2, 3] -> (2, 3); a tuple stays; anything else (a name, torch.Size) -> tuple(...)."""
    if isinstance(shape, cst.Tuple) or (isinstance(shape, cst.Call)
                                        and literal(shape.func) == "tuple"):
        return shape
    if isinstance(shape, cst.List) and all(isinstance(e, cst.Element) for e in shape.elements):
        values = [e.value for e in shape.elements]
        space = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        elements = [cst.Element(v, comma=space) for v in values[:-1]]
        elements.append(cst.Element(values[-1], comma=cst.Comma() if len(values) == 1
                                    else cst.MaybeSentinel.DEFAULT))
        return cst.Tuple(elements)
    return cst.Call(cst.Name("tuple"), [cst.Arg(shape)])


@transform
def module_to(ctx, rule, bound: Bound, call=None):
    """module.to(torch.float64) / module.to('cpu', dtype=torch.float64) -> module.to(mindspore.float64):
    Cell.to casts the parameters and buffers; MindSpore places them by context."""
    receiver = bound.values["self"]
    dtype = bound.get("dtype")
    device = bound.get("device")
    if dtype is None and device is not None and is_dtype(ctx, device):
        dtype = device
    if dtype is None or literal(dtype) == "None":
        raise Unsupported("only a cast converts here: MindSpore places a Cell's parameters "
                          "by context")
    if literal(bound.get("non_blocking")) not in (None, "False"):
        bound.warnings.append("non_blocking dropped: MindSpore casts in place")
    return cst.Call(cst.Attribute(receiver, cst.Name("to")), [cst.Arg(dtype)])
