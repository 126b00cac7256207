"""F.scaled_dot_product_attention whose attn_mask is an optional argument (None by
default, a boolean or float mask when given): the converted function computes torch's
values in all three cases."""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402

SOURCE = textwrap.dedent("""\
    import torch.nn.functional as F

    def attend(q, k, v, mask = None):
        return F.scaled_dot_product_attention(q, k, v, attn_mask = mask, scale = 0.3)
""")


@pytest.mark.parametrize("mask", [None, "bool", "float"])
def test_optional_mask(mask):
    code = convert_source(SOURCE, "attend.py").code
    assert "torch" not in code
    t_ns, m_ns = {}, {}
    exec(compile(SOURCE, "<torch>", "exec"), t_ns)
    exec(compile(code, "<ms>", "exec"), m_ns)
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((2, 3, n, 8)).astype(np.float32) for n in (4, 5, 5))
    m = None
    if mask == "bool":
        m = (rng.random((4, 5)) > 0.4) | np.eye(4, 5, dtype=bool)
    elif mask == "float":
        m = rng.standard_normal((4, 5)).astype(np.float32)
    expected = t_ns["attend"](*map(torch.from_numpy, (q, k, v)),
                              None if m is None else torch.from_numpy(m)).numpy()
    got = m_ns["attend"](*map(mindspore.Tensor, (q, k, v)),
                         None if m is None else mindspore.Tensor(m)).asnumpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
