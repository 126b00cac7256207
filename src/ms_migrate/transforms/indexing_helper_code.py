"""Indexing and sign helpers for converted files (helper_code.py registers them): torch
Tensor functions MindSpore 2.10 lacks, or whose MindSpore namesake differs, composed
from gathers and masks."""

HELPERS = {
    "take_along_dim": '''\
def take_along_dim(input, indices, dim=None):
    """torch.take_along_dim: ops.gather_elements along dim, input and indices broadcast
    against each other on the other axes; without dim, of the flattened input."""
    if dim is None:
        return mindspore.ops.gather(input.reshape(-1), indices.reshape(-1), 0)
    dim = dim % input.ndim
    common = [max(a, b) for a, b in zip(input.shape, indices.shape)]
    input = input.broadcast_to(tuple(common[:dim] + [input.shape[dim]] + common[dim + 1:]))
    indices = indices.broadcast_to(
        tuple(common[:dim] + [indices.shape[dim]] + common[dim + 1:]))
    return mindspore.ops.gather_elements(input, dim, indices)
''',
    "signbit": '''\
def signbit(input):
    """torch.signbit: True where the sign bit is set, -0.0 included (1 / -0.0 is -inf);
    MindSpore's signbit reads -0.0 as positive."""
    if input.is_floating_point():
        return (input < 0) | ((input == 0) & (1 / input < 0))
    return input < 0
''',
    "as_strided": '''\
def as_strided(input, size, stride, storage_offset=0):
    """torch.as_strided on a contiguous tensor: the elements at storage_offset plus
    index * stride along each axis of size, gathered from the row-major flattening."""
    index = mindspore.ops.zeros(tuple(size), mindspore.int64) + storage_offset
    for axis, (length, step) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[axis] = length
        index = index + (mindspore.ops.arange(length) * step).reshape(shape)
    return mindspore.ops.gather(input.reshape(-1), index.reshape(-1), 0).reshape(tuple(size))
''',
    "fill_diagonal": '''\
def fill_diagonal(input, fill_value, wrap=False):
    """Tensor.fill_diagonal_'s values: fill_value where all indices are equal; a tall
    matrix with wrap=True starts the diagonal again every columns + 1 rows."""
    shape = input.shape
    step, stride = 0, 1  # the flat distance between diagonal entries: the strides' sum
    for length in reversed(shape):
        step, stride = step + stride, stride * length
    limit = input.size
    if input.ndim == 2 and not wrap:
        limit = min(shape) * shape[1]
    flat = mindspore.ops.arange(input.size)
    mask = ((flat % step) == 0) & (flat < limit)
    value = mindspore.ops.full_like(input, fill_value)
    return mindspore.ops.where(mask.reshape(shape), value, input)
''',
}
