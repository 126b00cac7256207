"""torch.testing written into a converted file: MindSpore has no testing module."""
from __future__ import annotations

HELPERS = {
    "assert_close": '''\
def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """torch.testing.assert_close: |actual - expected| <= atol + rtol * |expected|
    elementwise, with torch's tolerances for the dtype when none are given; shapes,
    and with check_dtype the dtypes, must match; NaNs are equal only with equal_nan.
    Sequences and dicts are compared item by item."""
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        if len(actual) != len(expected):
            raise AssertionError(msg or f"The length of the sequences mismatch: "
                                        f"{len(actual)} != {len(expected)}")
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_dtype=check_dtype, msg=msg)
        return
    if isinstance(actual, dict) and isinstance(expected, dict):
        if set(actual) != set(expected):
            raise AssertionError(msg or "The keys of the mappings do not match")
        for key in actual:
            assert_close(actual[key], expected[key], rtol=rtol, atol=atol,
                         equal_nan=equal_nan, check_dtype=check_dtype, msg=msg)
        return
    if (rtol is None) != (atol is None):
        raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted, "
                         f"but got no {'rtol' if rtol is None else 'atol'}.")
    a, e = numpy.asarray(actual), numpy.asarray(expected)
    if (check_dtype and isinstance(actual, mindspore.Tensor)
            and isinstance(expected, mindspore.Tensor) and actual.dtype != expected.dtype):
        raise AssertionError(msg or f"The values for attribute 'dtype' do not match: "
                                    f"{actual.dtype} != {expected.dtype}.")
    if a.shape != e.shape:
        raise AssertionError(msg or f"The values for attribute 'shape' do not match: "
                                    f"{a.shape} != {e.shape}.")
    if rtol is None:
        tolerances = {numpy.float16: (1e-3, 1e-5), numpy.float32: (1.3e-6, 1e-5),
                      numpy.float64: (1e-7, 1e-7), numpy.complex64: (1.3e-6, 1e-5),
                      numpy.complex128: (1e-7, 1e-7)}
        rtol, atol = max((tolerances.get(x.dtype.type, (0.0, 0.0)) for x in (a, e)),
                         key=lambda pair: pair[0])
    numpy.testing.assert_allclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan,
                                  err_msg=msg or "Tensor-likes are not close!")
''',
    "make_tensor": '''\
def make_tensor(*shape, dtype, device=None, low=None, high=None, requires_grad=False,
                noncontiguous=False, exclude_zero=False, memory_format=None):
    """torch.testing.make_tensor: uniform values in [low, high) (torch's defaults -9 and
    9, 10 for integers) of the shape given as sizes or one sequence; bools are drawn
    evenly; exclude_zero replaces zeros by 1 for integers, by the dtype's resolution
    for floats."""
    if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        shape = tuple(shape[0])
    if dtype == mindspore.bool_:
        return mindspore.ops.rand(shape) < 0.5
    integer = dtype in (mindspore.uint8, mindspore.int8, mindspore.int16, mindspore.int32,
                        mindspore.int64)
    low = -9 if low is None else low
    high = (10 if integer else 9) if high is None else high
    if integer:
        values = mindspore.ops.randint(math.ceil(low), math.ceil(high), shape, dtype=dtype)
    else:
        values = (mindspore.ops.rand(shape) * (high - low) + low).astype(dtype)
    if exclude_zero:
        step = 1 if integer else float(numpy.finfo(mindspore.dtype_to_nptype(dtype)).resolution)
        values = mindspore.ops.where(values == 0, mindspore.ops.full_like(values, step), values)
    return values
''',
}

IMPORTS = {"make_tensor": ("import math",)}
