"""torch spellings the real-world corpus left unconverted: LayerNorm without affine
parameters, softmax without dim. Each is converted, run in torch and in MindSpore on
the same weights and inputs, and the numbers compared."""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402
from ms_migrate.runtime.equivalence import copy_torch_weights  # noqa: E402


def convert(source: str):
    source = textwrap.dedent(source)
    result = convert_source(source, "prog.py")
    assert convert_source(result.code, "prog.py").code == result.code  # idempotent
    torch_ns, ms_ns = {"__name__": "prog"}, {"__name__": "prog_ms"}
    exec(compile(source, "<torch>", "exec"), torch_ns)
    exec(compile(result.code, "<ms>", "exec"), ms_ns)
    return result, torch_ns, ms_ns


def test_layer_norm_without_affine_parameters_trains_like_torch():
    result, t, m = convert("""\
        import torch
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self, d):
                super().__init__()
                self.norm1 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
                self.fc = nn.Linear(d, d)
                self.norm2 = nn.LayerNorm(d, bias=False)

            def forward(self, x):
                return self.norm2(self.fc(self.norm1(x)))

        def train(model, batches):
            opt = torch.optim.SGD(model.parameters(), lr=0.5)
            losses = []
            for x, y in batches:
                opt.zero_grad()
                loss = ((model(x) - y) ** 2).mean()
                loss.backward()
                opt.step()
                losses.append(loss.item())
            return losses
        """)
    assert "import torch" not in result.code
    assert "self.norm1.gamma.requires_grad = False" in result.code
    assert "self.norm2.beta.requires_grad = False" in result.code
    torch.manual_seed(0)
    tm, mm = t["Block"](6), m["Block"](6)
    copy_torch_weights(tm, mm)
    rng = np.random.default_rng(0)
    data = [(rng.standard_normal((4, 6)).astype(np.float32) * 3 + 1,
             rng.standard_normal((4, 6)).astype(np.float32)) for _ in range(5)]
    t_losses = t["train"](tm, [(torch.from_numpy(a), torch.from_numpy(b)) for a, b in data])
    m_losses = m["train"](mm, [(mindspore.Tensor(a), mindspore.Tensor(b)) for a, b in data])
    np.testing.assert_allclose(m_losses, t_losses, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(mm.norm1.gamma.asnumpy(), np.ones(6, np.float32))
    np.testing.assert_array_equal(mm.norm2.beta.asnumpy(), np.zeros(6, np.float32))
    np.testing.assert_allclose(mm.norm2.gamma.asnumpy(), tm.norm2.weight.detach().numpy(),
                               rtol=1e-4, atol=1e-5)


def test_layer_norm_without_affine_parameters_inside_a_sequential_trains_like_torch():
    result, t, m = convert("""\
        import torch
        import torch.nn as nn

        def block(d):
            return nn.Sequential(nn.LayerNorm(d, elementwise_affine=False, eps=1e-6),
                                 nn.Linear(d, d), nn.LayerNorm(d, bias=False))

        def train(model, batches):
            opt = torch.optim.SGD(model.parameters(), lr=0.5)
            losses = []
            for x, y in batches:
                opt.zero_grad()
                loss = ((model(x) - y) ** 2).mean()
                loss.backward()
                opt.step()
                losses.append(loss.item())
            return losses
        """)
    assert "frozen_parameters(nn.LayerNorm((d,), epsilon=1e-6), \"gamma\", \"beta\")" in result.code
    assert "frozen_parameters(nn.LayerNorm((d,), epsilon=1e-5), \"beta\")" in result.code
    torch.manual_seed(0)
    tm, mm = t["block"](6), m["block"](6)
    assert len(mm.trainable_params()) == len(list(tm.parameters())) == 3
    copy_torch_weights(tm, mm)
    rng = np.random.default_rng(0)
    data = [(rng.standard_normal((4, 6)).astype(np.float32) * 3 + 1,
             rng.standard_normal((4, 6)).astype(np.float32)) for _ in range(5)]
    t_losses = t["train"](tm, [(torch.from_numpy(a), torch.from_numpy(b)) for a, b in data])
    m_losses = m["train"](mm, [(mindspore.Tensor(a), mindspore.Tensor(b)) for a, b in data])
    np.testing.assert_allclose(m_losses, t_losses, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(mm[2].beta.asnumpy(), np.zeros(6, np.float32))

@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (2, 3, 4, 5)])
def test_softmax_without_dim_picks_torchs_axis(shape):
    result, t, m = convert("""\
        import torch
        import torch.nn.functional as F

        def scores(x):
            return F.softmax(x), F.log_softmax(x)
        """)
    assert "import torch" not in result.code
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    with pytest.warns(UserWarning):
        expected = [v.numpy() for v in t["scores"](torch.from_numpy(x))]
    got = [v.asnumpy() for v in m["scores"](mindspore.Tensor(x))]
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_no_grad_block_in_forward_stops_gradients_of_what_it_assigns():
    result, t, m = convert("""\
        import torch
        import torch.nn as nn

        class Enc(nn.Module):
            def __init__(self):
                super().__init__()
                self.backbone = nn.Linear(4, 3)
                self.head = nn.Linear(3, 2)

            def forward(self, x):
                with torch.no_grad():
                    feats = self.backbone(x)
                    feats.detach_()
                return self.head(feats * x[:, :3])
        """)
    assert "import torch" not in result.code
    assert "feats = ops.stop_gradient(self.backbone(x))" in result.code
    torch.manual_seed(0)
    tm, mm = t["Enc"](), m["Enc"]()
    copy_torch_weights(tm, mm)
    x = np.random.default_rng(2).standard_normal((5, 4)).astype(np.float32)
    tx = torch.from_numpy(x).requires_grad_()
    tm(tx).sum().backward()
    loss_fn = lambda a: mm(a).sum()  # noqa: E731
    (x_grad, param_grads) = mindspore.grad(loss_fn, 0, mm.trainable_params())(mindspore.Tensor(x))
    names = [p.name for p in mm.trainable_params()]
    grads = dict(zip(names, param_grads))
    np.testing.assert_allclose(grads["head.weight"].asnumpy(), tm.head.weight.grad.numpy(),
                               rtol=1e-5, atol=1e-6)
    assert tm.backbone.weight.grad is None
    assert not grads["backbone.weight"].asnumpy().any()
    np.testing.assert_allclose(x_grad.asnumpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_inplace_calls_on_new_tensors():
    result, t, m = convert("""\
        import torch

        def f(shape, prob, dim, i, j, idx):
            a = torch.zeros(shape).float().uniform_(0, 1) < prob
            b = torch.zeros(1, 1, dim).fill_(0.1)
            c = torch.ones(i, j).triu_(j - i + 1)
            d = torch.zeros(shape).uniform_(-0.5, 1.5)
            e = torch.zeros((2, 5)).masked_fill_(idx > 1, 2.0).bool()
            g = torch.empty(shape).normal_(1.0, 0.5)
            return a, b, c, d, e, g
        """)
    assert "import torch" not in result.code and "ms-migrate" not in result.code
    idx = np.array([[1, 3, 0, 2, 4], [0, 4, 2, 2, 1]])
    want = t["f"]((400, 300), 0.3, 4, 3, 5, torch.from_numpy(idx))
    got = m["f"]((400, 300), 0.3, 4, 3, 5, mindspore.Tensor(idx))
    for k in (1, 2, 4):  # deterministic values
        np.testing.assert_array_equal(got[k].asnumpy(), want[k].numpy())
    assert got[1].dtype == mindspore.float32
    for k, bounds in ((0, None), (3, (-0.5, 1.5)), (5, None)):  # random: same distribution
        a, b = got[k].asnumpy().astype(np.float64), want[k].numpy().astype(np.float64)
        np.testing.assert_allclose([a.mean(), a.std()], [b.mean(), b.std()], atol=0.01)
        if bounds is not None:
            assert bounds[0] <= a.min() and a.max() < bounds[1]


@pytest.mark.parametrize("qk_norm", [True, False])
def test_layer_norm_without_bias_in_a_conditional(qk_norm):
    result, t, m = convert("""\
        import torch
        import torch.nn as nn

        class Attn(nn.Module):
            def __init__(self, d, qk_norm):
                super().__init__()
                self.query_norm = nn.LayerNorm(d, bias=False) if qk_norm else nn.Identity()

            def forward(self, q):
                return self.query_norm(q) * 2
        """)
    assert "if qk_norm:\n            self.query_norm.beta.requires_grad = False" in result.code
    torch.manual_seed(0)
    tm, mm = t["Attn"](5, qk_norm), m["Attn"](5, qk_norm)
    copy_torch_weights(tm, mm)
    assert len(list(tm.parameters())) == len(mm.trainable_params())
    q = np.random.default_rng(3).standard_normal((2, 5)).astype(np.float32)
    np.testing.assert_allclose(mm(mindspore.Tensor(q)).asnumpy(),
                               tm(torch.from_numpy(q)).detach().numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("freeze", ["", ", freeze=True", ", freeze=False"])
def test_embedding_from_pretrained_table(freeze):
    result, t, m = convert(f"""\
        import numpy as np
        import torch
        import torch.nn as nn

        def table(n, d):
            return torch.FloatTensor(np.arange(n * d, dtype=np.float32).reshape(n, d) / 10)

        class Enc(nn.Module):
            def __init__(self, n, d):
                super().__init__()
                self.pos_emb = nn.Embedding.from_pretrained(table(n, d){freeze})
                self.proj = nn.Linear(d, 2)

            def forward(self, pos):
                return self.proj(self.pos_emb(pos))
        """)
    assert "import torch" not in result.code
    torch.manual_seed(0)
    tm, mm = t["Enc"](6, 3), m["Enc"](6, 3)
    np.testing.assert_array_equal(mm.pos_emb.embedding_table.asnumpy(),
                                  tm.pos_emb.weight.detach().numpy())
    copy_torch_weights(tm, mm)
    trainable = [n for n, p in tm.named_parameters() if p.requires_grad]
    assert len(mm.trainable_params()) == len(trainable)
    pos = np.array([[0, 5, 2], [1, 1, 3]])
    np.testing.assert_allclose(mm(mindspore.Tensor(pos.astype(np.int32))).asnumpy(),
                               tm(torch.from_numpy(pos)).detach().numpy(), rtol=1e-5, atol=1e-5)
