"""einops in converted code: the backend written into the file makes rearrange/repeat/
reduce/pack/einsum work on MindSpore tensors, and einops' torch layers become Cells.
A ViT-like program (patch embedding through Rearrange, a class token through repeat,
heads through rearrange, mean pooling through reduce) is run by torch and, converted,
by MindSpore on the same weights: outputs and gradients compared."""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")
einops = pytest.importorskip("einops")

from ms_migrate import convert_source  # noqa: E402
from ms_migrate.runtime.equivalence import copy_torch_weights  # noqa: E402

PROGRAM = textwrap.dedent("""\
    import torch
    from torch import nn
    from einops import rearrange, repeat, reduce, pack, unpack, einsum
    from einops.layers.torch import Rearrange, Reduce as Pool

    class Net(nn.Module):
        def __init__(self, dim=8, heads=2):
            super().__init__()
            self.heads = heads
            self.to_patch = nn.Sequential(
                Rearrange('b c (h p1) (w p2) -> b (h w) (p1 p2 c)', p1=2, p2=2),
                nn.Linear(12, dim))
            self.cls = nn.Parameter(torch.randn(1, 1, dim))
            self.pool = Pool('b n d -> b d', 'max')
            self.out = nn.Linear(dim, 3)

        def forward(self, img):
            x = self.to_patch(img)
            cls = repeat(self.cls, '1 1 d -> b 1 d', b=x.shape[0])
            x, shapes = pack([cls, x], 'b * d')
            cls, x = unpack(x, shapes, 'b * d')
            x = torch.cat((cls, x), dim=1)
            q = rearrange(x, 'b n (h d) -> b h n d', h=self.heads)
            attn = einsum(q, q, 'b h i d, b h j d -> b h i j').softmax(dim=-1)
            x = rearrange(einsum(attn, q, 'b h i j, b h j d -> b h i d'), 'b h n d -> b n (h d)')
            return self.out(reduce(x, 'b n d -> b d', 'mean') + self.pool(x))
    """)


def _run_both(code):
    t_ns, m_ns = {}, {"__name__": "einops_ms"}
    exec(compile(PROGRAM, "<torch>", "exec"), t_ns)
    exec(compile(code, "<ms>", "exec"), m_ns)
    torch.manual_seed(0)
    return t_ns["Net"](), m_ns["Net"]()


def test_einops_program_computes_and_trains_like_torch():
    result = convert_source(PROGRAM, "prog.py")
    code = result.code
    assert convert_source(code, "prog.py").code == code  # idempotent
    assert "torch" not in code.replace("einops.layers.torch", "")
    assert "einops.layers.torch" not in code
    assert "class Pool(PoolMixin" not in code and "class Pool(ReduceMixin, mindspore.nn.Cell)" in code
    assert "rearrange(x, 'b n (h d) -> b h n d', h=self.heads)" in code  # the user's calls stay
    assert not [f for f in result.report.findings if f.action == "unsupported"]
    tm, mm = _run_both(code)
    copy_torch_weights(tm, mm)
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4)).astype(np.float32)
    out = tm(torch.from_numpy(x))
    out.sum().backward()
    value, grads = mindspore.value_and_grad(lambda t: mm(t).sum(), None,
                                            mm.trainable_params())(mindspore.Tensor(x))
    np.testing.assert_allclose(mm(mindspore.Tensor(x)).asnumpy(), out.detach().numpy(),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(float(value), out.sum().item(), rtol=1e-4)
    for p, g in zip(tm.parameters(), grads):
        np.testing.assert_allclose(g.asnumpy(), p.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("call", [
    "reduce(x, 'b c h w -> b h', 'min')",
    "reduce(x, 'b c (h 2) w -> b c h w', 'max')",
    "reduce(x, 'b c h w -> c', 'sum')",
    "reduce(x, 'b c h w -> b w', 'prod')",
    "reduce(x > 0.5, 'b c h w -> b c', 'any')",
    "reduce(x > 0.1, 'b c h w -> b', 'all')",
    "repeat(x, 'b c h w -> b c h w k', k=3)",
    "repeat(x[0, 0, 0], 'd -> (r d)', r=2)",
    "rearrange(x, 'b ... -> b (...)')",
    "einsum(x, x[0], 'b c h w, c h v -> b w v')",
    "einsum(x, 'b c h w -> c')",
    "einsum(x[..., :4], x, '... i j, ... j k -> ... i k')",
    "einsum(x[0, :, :, :4], x, '... i j, ... j k -> ... k i')",
    "einsum(x, x[0, 0], '... h w, h w -> ...')",
])
def test_backend_matches_torch(call):
    source = f"import torch\nfrom einops import rearrange, repeat, reduce, einsum\n\ndef f(x):\n    return {call}\n"
    code = convert_source(source, "f.py").code
    t_ns, m_ns = {}, {}
    exec(compile(source, "<torch>", "exec"), t_ns)
    exec(compile(code, "<ms>", "exec"), m_ns)
    x = np.random.default_rng(1).random((2, 3, 4, 5)).astype(np.float32)
    expected = t_ns["f"](torch.from_numpy(x)).numpy()
    got = m_ns["f"](mindspore.Tensor(x)).asnumpy()
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_einmix_is_left_and_reported():
    source = "import torch\nfrom einops.layers.torch import EinMix, Rearrange\nimport einops\n"
    result = convert_source(source, "m.py")
    assert "from einops.layers.torch import EinMix\n" in result.code
    assert "class Rearrange(RearrangeMixin, mindspore.nn.Cell)" in result.code
    assert "def einsum(self" in result.code  # `einops.einsum` may be called
    unsupported = [f for f in result.report.findings if f.action == "unsupported"]
    assert [(f.api, f.line) for f in unsupported] == [("einops.layers.torch.EinMix", 2)]


def test_file_without_einops_is_untouched():
    code = convert_source("import torch\nx = torch.ones(2)\n", "p.py").code
    assert "einops" not in code
