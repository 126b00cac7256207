"""`nn.Unfold` layers (a ViT's patch embedding) -> a small Cell written into the file
that calls ops.unfold; torch and MindSpore compared on the same input."""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402

PROGRAM = textwrap.dedent("""\
    import torch.nn as nn

    class Patches(nn.Module):
        def __init__(self, patch_size=4):
            super().__init__()
            self.to_patches = nn.Sequential(
                nn.Unfold(kernel_size=patch_size, stride=patch_size // 2),
                nn.Flatten(),
            )
            self.soft_split = nn.Unfold(3, 1, 1, 2)

        def forward(self, x):
            return self.to_patches(x), self.soft_split(x)
    """)


def test_unfold_layers_lay_out_patches_as_torch():
    result = convert_source(PROGRAM, "prog.py")
    code = result.code
    assert convert_source(code, "prog.py").code == code  # idempotent
    assert "Unfold(kernel_size=patch_size, stride=patch_size // 2)," in code
    assert "self.soft_split = Unfold(3, 1, 1, 2)" in code
    assert not [f for f in result.report.findings if f.action == "unsupported"]
    t_ns, m_ns = {}, {"__name__": "unfold_ms"}
    exec(compile(PROGRAM, "<torch>", "exec"), t_ns)
    exec(compile(code, "<ms>", "exec"), m_ns)
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    expected = [y.numpy() for y in t_ns["Patches"]()(torch.from_numpy(x))]
    got = [y.asnumpy() for y in m_ns["Patches"]()(mindspore.Tensor(x))]
    for a, b in zip(expected, got):
        assert a.shape == b.shape
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-6)
