"""Transposed convolutions for converted files: MindSpore 2.10's functional ones have no
CPU kernel, so each is composed from the ordinary convolution, which has one
(helper_code.py registers them)."""

_CONV_TRANSPOSE = '''\
def conv_transpose{n}d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """torch.nn.functional.conv_transpose{n}d from ops that run on CPU: the input
    spread `stride` apart (zeros between), padded by dilation * (kernel - 1) - padding
    (plus output_padding at the end), convolved with the flipped kernel, its in and out
    channels swapped per group."""
    n = weight.ndim - 2
    unbatched = input.ndim == n + 1
    if unbatched:
        input = input.unsqueeze(0)
    def per_axis(value):
        return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    stride, padding, output_padding, dilation = (
        per_axis(v) for v in (stride, padding, output_padding, dilation))
    x = input
    for axis in range(n):
        dim = 2 + axis
        if stride[axis] > 1:
            size = x.shape[dim]
            zeros = [mindspore.ops.zeros_like(x)] * (stride[axis] - 1)
            spread = mindspore.ops.stack([x] + zeros, dim + 1)
            shape = x.shape[:dim] + (size * stride[axis],) + x.shape[dim + 1:]
            x = mindspore.ops.narrow(spread.reshape(shape), dim, 0, (size - 1) * stride[axis] + 1)
        kernel = weight.shape[2 + axis]
        low = dilation[axis] * (kernel - 1) - padding[axis]
        high = low + output_padding[axis]
        pad_width = [(max(low, 0), max(high, 0)) if i == axis else (0, 0) for i in range(n)]
        x = mindspore.ops.pad(x, tuple(p for pair in reversed(pad_width) for p in pair))
        length = x.shape[dim] - max(-low, 0) - max(-high, 0)
        x = mindspore.ops.narrow(x, dim, max(-low, 0), length)
    in_channels, out_per_group = weight.shape[0], weight.shape[1]
    w = weight.reshape((groups, in_channels // groups, out_per_group) + weight.shape[2:])
    w = w.swapaxes(1, 2).reshape(
        (groups * out_per_group, in_channels // groups) + weight.shape[2:])
    w = mindspore.ops.flip(w, tuple(range(2, 2 + n)))
    conv = (mindspore.ops.conv1d, mindspore.ops.conv2d, mindspore.ops.conv3d)[n - 1]
    # the convolution kernels take no float64: computed in float32
    wide = x.dtype == mindspore.float64
    if wide:
        x, w = x.astype(mindspore.float32), w.astype(mindspore.float32)
        bias = None if bias is None else bias.astype(mindspore.float32)
    out = conv(x, w, bias, dilation=dilation, groups=groups)
    if wide:
        out = out.astype(mindspore.float64)
    return out.squeeze(0) if unbatched else out
'''

HELPERS = {f"conv_transpose{n}d": _CONV_TRANSPOSE.format(n=n) for n in (1, 2, 3)}
