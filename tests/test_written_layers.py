"""torch.nn layers MindSpore 2.10 lacks (Softplus, PairwiseDistance), whose MindSpore
namesake means something else (CosineSimilarity) or has no CPU kernel (SoftMarginLoss):
the converted file gets a Cell of torch's name. A model using them is converted, run in
torch and in MindSpore on the same inputs, and the numbers compared."""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402

SOURCE = """\
    import torch
    import torch.nn as nn


    class Siamese(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(4, 3)
            self.act = nn.Softplus(beta=2.0)
            self.distance = nn.PairwiseDistance(p=1.0, keepdim=True)
            self.cosine = nn.CosineSimilarity(dim=-1)
            self.loss = nn.SoftMarginLoss(reduction="sum")

        def forward(self, a, b, y):
            a, b = self.act(self.proj(a)), self.act(self.proj(b))
            return self.distance(a, b), self.cosine(a, b), self.loss(self.cosine(a, b), y)
    """


def test_written_layers_compute_like_torch():
    source = textwrap.dedent(SOURCE)
    result = convert_source(source, "siamese.py")
    assert convert_source(result.code, "siamese.py").code == result.code  # idempotent
    assert "import torch" not in result.code and "# ms-migrate" not in result.code
    for name in ("Softplus", "PairwiseDistance", "CosineSimilarity", "SoftMarginLoss"):
        assert f"class {name}(nn.Cell):" in result.code
    t_ns, m_ns = {}, {}
    exec(compile(source, "<torch>", "exec"), t_ns)
    exec(compile(result.code, "<ms>", "exec"), m_ns)
    torch_model, ms_model = t_ns["Siamese"](), m_ns["Siamese"]()
    weight = torch_model.proj.weight.detach().numpy()
    bias = torch_model.proj.bias.detach().numpy()
    ms_model.proj.weight.set_data(mindspore.Tensor(weight))
    ms_model.proj.bias.set_data(mindspore.Tensor(bias))
    rng = np.random.default_rng(5)
    a, b = (rng.standard_normal((5, 4)).astype(np.float32) for _ in range(2))
    y = np.where(rng.standard_normal(5) > 0, 1.0, -1.0).astype(np.float32)
    expected = torch_model(*(torch.from_numpy(v) for v in (a, b, y)))
    got = ms_model(*(mindspore.Tensor(v) for v in (a, b, y)))
    for e, g in zip(expected, got):
        assert tuple(g.shape) == tuple(e.shape)
        np.testing.assert_allclose(g.asnumpy(), e.detach().numpy(), rtol=1e-4, atol=1e-5)
