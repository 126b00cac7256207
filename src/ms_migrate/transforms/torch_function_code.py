"""Helper functions a converted file gets for torch.* functions that MindSpore lacks
on CPU and that take more than one expression to compose (transforms/helper_code.py
writes them into the file; `mindspore.` names are respelled as the file imports them).
"""
from __future__ import annotations

HELPERS = {
    "unique": '''\
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """torch.unique: the sorted distinct values (or slices along dim), the index of each
    element's (slice's) value in them, and how often each occurs. Stable sorts from the
    last column to the first order the slices lexicographically."""
    if dim is None:
        rows = input.reshape(-1, 1)
    else:
        rows = mindspore.ops.moveaxis(input, dim, 0)
        rows = rows.reshape(rows.shape[0], -1)
    n = rows.shape[0]
    order = mindspore.ops.arange(n)
    for column in reversed(range(rows.shape[1])):
        order = order[mindspore.ops.sort(rows[order, column])[1]]
    ordered = rows[order]
    starts = mindspore.ops.concat([mindspore.ops.ones(min(n, 1), mindspore.bool_),
                                   (ordered[1:] != ordered[:-1]).any(1)])
    values = ordered[starts]
    if dim is None:
        values = values.reshape(-1)
    else:
        shape = mindspore.ops.moveaxis(input, dim, 0).shape[1:]
        values = mindspore.ops.moveaxis(values.reshape((values.shape[0],) + shape), 0, dim)
    result = (values,)
    if return_inverse:
        group = mindspore.ops.cumsum(starts.astype(mindspore.int64), 0) - 1
        inverse = group[mindspore.ops.argsort(order)]
        result += (inverse.reshape(input.shape) if dim is None else inverse,)
    if return_counts:
        first = mindspore.ops.nonzero(starts).reshape(-1)
        ends = mindspore.ops.concat([first, mindspore.tensor([n], first.dtype)])
        result += (mindspore.ops.diff(ends).astype(mindspore.int64),)
    return result[0] if len(result) == 1 else result
''',
    "frexp": '''\
def frexp(input):
    """torch.frexp: input = mantissa * 2 ** exponent, |mantissa| in [0.5, 1) (0 for 0),
    the exponent int32. log2 gives it to within one; the mantissa's range corrects it."""
    nonzero = input != 0
    magnitude = mindspore.ops.where(nonzero, input.abs(), mindspore.ops.ones_like(input))
    exponent = mindspore.ops.floor(mindspore.ops.log2(magnitude)) + 1
    mantissa = input * mindspore.ops.pow(2.0, -exponent)
    high = mantissa.abs() >= 1
    low = nonzero & (mantissa.abs() < 0.5)
    mantissa = mindspore.ops.where(high, mantissa / 2, mindspore.ops.where(low, mantissa * 2, mantissa))
    exponent = exponent + high.astype(exponent.dtype) - low.astype(exponent.dtype)
    return mantissa, mindspore.ops.where(nonzero, exponent, 0).astype(mindspore.int32)
''',
}
