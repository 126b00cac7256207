"""torch.finfo's limits are Python floats: a masked attention fills the masked scores
with -finfo(dtype).max (MindSpore's masked_fill takes Python numbers only), scaled by
a float computed from finfo's eps. Converted, it computes torch's values."""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402

SOURCE = textwrap.dedent("""\
    import torch

    def masked_softmax(dots, mask):
        mask_value = -torch.finfo(dots.dtype).max / 2
        dots = dots.masked_fill(~mask, mask_value)
        return dots.softmax(dim=-1) * (1 + float(torch.finfo(dots.dtype).eps)), torch.finfo(torch.float16).tiny
""")


def test_finfo_limits_are_python_floats():
    code = convert_source(SOURCE, "masked.py").code
    assert "torch" not in code
    t_ns, m_ns = {}, {}
    exec(compile(SOURCE, "<torch>", "exec"), t_ns)
    exec(compile(code, "<ms>", "exec"), m_ns)
    rng = np.random.default_rng(0)
    dots = rng.standard_normal((2, 4, 5)).astype(np.float32)
    mask = (rng.random((2, 4, 5)) > 0.5) | np.eye(4, 5, dtype=bool)
    expected, t_tiny = t_ns["masked_softmax"](torch.from_numpy(dots), torch.from_numpy(mask))
    got, m_tiny = m_ns["masked_softmax"](mindspore.Tensor(dots), mindspore.Tensor(mask))
    np.testing.assert_allclose(got.asnumpy(), expected.numpy(), rtol=1e-5, atol=1e-7)
    assert type(m_tiny) is type(t_tiny) is float and m_tiny == t_tiny
    assert convert_source(code, "masked.py").code == code
