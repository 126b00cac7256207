"""InstanceNorm with track_running_stats=True -> a small Cell written into the file:
sample statistics in training (running ones updated), running ones in evaluation.
torch and MindSpore compared in both modes, with gradients of gamma and beta."""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402

PROGRAM = textwrap.dedent("""\
    import torch.nn as nn

    class Block(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.norm = nn.Sequential(nn.InstanceNorm2d(c, affine=True, track_running_stats=True))
            self.plain = nn.InstanceNorm1d(c * 5, 1e-3, 0.2, False, track_running_stats=True)

        def forward(self, x):
            y = self.norm(x)
            return y, self.plain(y.flatten(1, 2))
    """)


def test_running_statistics_as_torch_keeps_them():
    result = convert_source(PROGRAM, "prog.py")
    code = result.code
    assert convert_source(code, "prog.py").code == code  # idempotent
    assert "nn.SequentialCell(InstanceNormTracked(c, affine=True))" in code
    assert "self.plain = InstanceNormTracked(c * 5, 1e-3, 0.2, False)" in code
    assert not [f for f in result.report.findings if f.action == "unsupported"]
    t_ns, m_ns = {}, {"__name__": "tracked_norms_ms"}
    exec(compile(PROGRAM, "<torch>", "exec"), t_ns)
    exec(compile(code, "<ms>", "exec"), m_ns)
    tm, mm = t_ns["Block"](3), m_ns["Block"](3)
    rng = np.random.default_rng(0)
    weight, bias = rng.random(3).astype(np.float32), rng.random(3).astype(np.float32)
    with torch.no_grad():
        tm.norm[0].weight.copy_(torch.from_numpy(weight))
        tm.norm[0].bias.copy_(torch.from_numpy(bias))
    mm.norm[0].gamma.set_data(mindspore.Tensor(weight))
    mm.norm[0].beta.set_data(mindspore.Tensor(bias))
    mm.set_train()
    for _ in range(3):
        x = (rng.standard_normal((2, 3, 5, 4)) * 2 + 1).astype(np.float32)
        for a, b in zip(tm(torch.from_numpy(x)), mm(mindspore.Tensor(x))):
            np.testing.assert_allclose(b.asnumpy(), a.detach().numpy(), rtol=1e-4, atol=1e-5)
    for t_norm, m_norm in ((tm.norm[0], mm.norm[0]), (tm.plain, mm.plain)):
        np.testing.assert_allclose(m_norm.moving_mean.asnumpy(), t_norm.running_mean.numpy(),
                                   rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(m_norm.moving_variance.asnumpy(), t_norm.running_var.numpy(),
                                   rtol=1e-5, atol=1e-6)
    tm.eval()
    mm.set_train(False)
    x = rng.standard_normal((2, 3, 5, 4)).astype(np.float32)
    for a, b in zip(tm(torch.from_numpy(x)), mm(mindspore.Tensor(x))):
        np.testing.assert_allclose(b.asnumpy(), a.detach().numpy(), rtol=1e-4, atol=1e-5)
    # gradients of gamma and beta in training
    tm.train()
    mm.set_train()
    scale = np.arange(120, dtype=np.float32).reshape(2, 3, 5, 4)
    loss = (tm(torch.from_numpy(x))[0] ** 2 * torch.from_numpy(scale)).sum()
    loss.backward()
    params = [mm.norm[0].gamma, mm.norm[0].beta]
    value, grads = mindspore.value_and_grad(
        lambda t: (mm(t)[0] ** 2 * mindspore.Tensor(scale)).sum(), None, params)(mindspore.Tensor(x))
    np.testing.assert_allclose(float(value), loss.item(), rtol=1e-5)
    for p, g in zip((tm.norm[0].weight, tm.norm[0].bias), grads):
        np.testing.assert_allclose(g.asnumpy(), p.grad.numpy(), rtol=1e-4, atol=1e-4)
