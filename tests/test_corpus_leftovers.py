"""Constructs that kept real-world files importing torch: `.to(other_tensor)`,
`.to(rank)`, an API used as a value (`softmax = torch.softmax if ... else ...`), a
name from the removed `torch._six`. Each small program is converted, run in torch and
in MindSpore on the same inputs, and the numbers compared."""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402


def convert(source: str):
    source = textwrap.dedent(source)
    result = convert_source(source, "prog.py")
    assert convert_source(result.code, "prog.py").code == result.code  # idempotent
    assert "import torch" not in result.code, result.code
    torch_ns, ms_ns = {"__name__": "prog"}, {"__name__": "prog_ms"}
    exec(compile(source, "<torch>", "exec"), torch_ns)
    exec(compile(result.code, "<ms>", "exec"), ms_ns)
    return result, torch_ns, ms_ns


def _same(ms_value, torch_value, rtol=1e-5):
    assert ms_value.shape == tuple(torch_value.shape)
    assert str(torch_value.dtype).replace("torch.", "") == str(ms_value.dtype).lower()
    np.testing.assert_allclose(ms_value.asnumpy(), torch_value.detach().numpy(),
                               rtol=rtol, atol=1e-6)


def test_to_another_tensor_casts_to_its_dtype_and_a_rank_moves_nothing():
    """DiT's `th.tensor(x).to(tensor)`, DALLE's `torch.zeros(i, j).to(q)`, the DDP
    example's `torch.randn(20, 5).to(rank)`."""
    result, t, m = convert("""\
        import torch

        def like(values, tensor):
            return [x if isinstance(x, torch.Tensor) else torch.tensor(x).to(tensor)
                    for x in values]

        def mask(q, i, j):
            return torch.ones(i, j).to(q) * 2

        def labels(rank, x, args):
            y = (x * 3).to(rank)
            return y + torch.ones(2, 3).to(args.gpu)

        def on_first_gpu(x):
            return x.to(0)
        """)
    assert ".to(" not in result.code.split("def labels")[1]
    rng = np.random.default_rng(0)
    half = rng.standard_normal((2, 3)).astype(np.float16)
    for got, want in zip(m["like"]([1.5, 2, mindspore.Tensor(half)], mindspore.Tensor(half)),
                         t["like"]([1.5, 2, torch.from_numpy(half)], torch.from_numpy(half))):
        _same(got, want)
    q64 = rng.standard_normal((2, 2))
    _same(m["mask"](mindspore.Tensor(q64), 2, 3), t["mask"](torch.from_numpy(q64), 2, 3))
    x = rng.standard_normal((2, 3)).astype(np.float32)
    args = type("Args", (), {"gpu": "cpu"})  # torch on a CPU-only machine: a device name
    _same(m["labels"](0, mindspore.Tensor(x), args), t["labels"]("cpu", torch.from_numpy(x), args))
    _same(m["on_first_gpu"](mindspore.Tensor(x)), torch.from_numpy(x))


def test_softmax_used_as_a_value_computes_like_torch():
    """DALLE's `softmax = torch.softmax if not self.stable else stable_softmax`."""
    result, t, m = convert("""\
        import torch

        def stable_softmax(t, dim=-1, alpha=32 ** 2):
            t = t / alpha
            t = t - torch.amax(t, dim=dim, keepdim=True).detach()
            return (t * alpha).softmax(dim=dim)

        def attend(dots, stable):
            softmax = torch.softmax if not stable else stable_softmax
            return softmax(dots, dim=-1), torch.softmax(dots, 1, torch.float64)
        """)
    assert "# ms-migrate" not in result.code
    x = np.random.default_rng(1).standard_normal((2, 3, 4)).astype(np.float32)
    for stable in (False, True):
        for got, want in zip(m["attend"](mindspore.Tensor(x), stable),
                             t["attend"](torch.from_numpy(x), stable)):
            _same(got, want)


def test_inf_from_the_removed_six_module_is_math_inf():
    """mae's `from torch._six import inf` (torch < 2.0): the same float as torch.inf."""
    source = """\
        from torch._six import inf
        import torch

        def norm(x, p):
            if p == inf:
                return x.abs().max()
            return torch.norm(x, p)
        """
    result = convert_source(textwrap.dedent(source), "prog.py")
    assert "import torch" not in result.code and "math.inf" in result.code
    ms_ns = {}
    exec(compile(result.code, "<ms>", "exec"), ms_ns)
    x = np.random.default_rng(2).standard_normal(5).astype(np.float32)
    want = torch.from_numpy(x).abs().max()  # torch 2 has no torch._six: its inf was math.inf
    _same(ms_ns["norm"](mindspore.Tensor(x), float("inf")), want)


def test_one_hot_categorical_held_by_a_model_gives_torchs_values():
    """PyTorch-VAE's `self.sampling_dist = torch.distributions.OneHotCategorical(1. / k *
    torch.ones((k, 1)))`, its draws' shapes and one-hotness, log_prob and entropy."""
    result, t, m = convert("""\
        import torch
        from torch import nn

        class CatVAE(nn.Module):
            def __init__(self, k):
                super().__init__()
                self.sampling_dist = torch.distributions.OneHotCategorical(
                    1. / k * torch.ones((k, 1)))
                self.prior = torch.distributions.OneHotCategorical(logits=torch.arange(k) * 0.5)

            def forward(self, n):
                z = self.sampling_dist.sample((n,))
                return z, self.prior.log_prob(torch.eye(z.shape[1])), self.prior.entropy()
        """)
    tz, tlp, tent = t["CatVAE"](5)(3)
    mz, mlp, ment = m["CatVAE"](5)(3)
    assert mz.shape == tuple(tz.shape) == (3, 5, 1)
    np.testing.assert_array_equal(mz.asnumpy(), np.ones((3, 5, 1), np.float32))  # one category
    _same(mlp, tlp)
    _same(ment, tent)


@pytest.mark.parametrize("max_norm", [None, 1.0])
def test_embedding_with_max_norm_looks_up_and_differentiates_like_torch(max_norm):
    """DALLE's SharedEmbedding: `F.embedding(input, weight, self.padding_idx,
    self.max_norm, self.norm_type, self.scale_grad_by_freq, self.sparse)`."""
    result, t, m = convert("""\
        import torch.nn.functional as F

        def lookup(input, weight, max_norm, norm_type=2.0, scale=False):
            return F.embedding(input, weight, None, max_norm, norm_type, scale, False)
        """)
    rng = np.random.default_rng(4)
    index = rng.integers(0, 6, (3, 4))
    weight = (rng.standard_normal((6, 5)) * 2).astype(np.float32)
    coef = rng.standard_normal((3, 4, 5)).astype(np.float32)
    tw = torch.tensor(weight, requires_grad=True)
    tout = t["lookup"](torch.from_numpy(index), tw, max_norm)
    (tout * torch.from_numpy(coef)).sum().backward()

    def loss(w):
        return (m["lookup"](mindspore.Tensor(index), w, max_norm) * mindspore.Tensor(coef)).sum()

    mw = mindspore.Tensor(weight)
    _same(m["lookup"](mindspore.Tensor(index), mw, max_norm), tout)
    np.testing.assert_allclose(mindspore.grad(loss)(mw).asnumpy(), tw.grad.numpy(),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(NotImplementedError, match="scale_grad_by_freq"):
        m["lookup"](mindspore.Tensor(index), mw, max_norm, 2.0, True)


def test_pytree_functions_walk_args_and_kwargs_like_torch():
    """denoising-diffusion-pytorch's xm.py: the first tensor of `(args, kwargs)` found
    with tree_flatten, each batch tensor repeated and sliced with tree_map."""
    result, t, m = convert("""\
        import torch
        from torch.utils._pytree import tree_map, tree_flatten

        def repeat_batch(k, *args, **kwargs):
            leaves, _ = tree_flatten((args, kwargs))
            first = next(x for x in leaves if torch.is_tensor(x))
            batch = first.shape[0]
            is_batch = lambda x: torch.is_tensor(x) and x.shape[0] == batch
            args_k, kwargs_k = tree_map(
                lambda x: x.repeat_interleave(k, dim=0) if is_batch(x) else x, (args, kwargs))
            return tree_map(lambda x: x[1:3] if is_batch(x) else x, (args_k, kwargs_k))
        """)
    rng = np.random.default_rng(5)
    a = rng.standard_normal((2, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)

    def call(ns, tensor):
        return ns["repeat_batch"](2, None, tensor(a), scale=0.5, time=tensor(b), cond=[tensor(a)])

    (t_args, t_kwargs), (m_args, m_kwargs) = call(t, torch.from_numpy), call(m, mindspore.Tensor)
    assert m_args[0] is None and list(m_kwargs) == list(t_kwargs) == ["scale", "time", "cond"]
    _same(m_args[1], t_args[1])
    _same(m_kwargs["cond"][0], t_kwargs["cond"][0])
    _same(m_kwargs["time"], t_kwargs["time"])
    assert m_kwargs["scale"] == t_kwargs["scale"] == 0.5


def test_distributions_subclassed_compute_like_torchs():
    """pytorch-a2c-ppo-acktr-gail's FixedCategorical / FixedNormal / FixedBernoulli:
    torch distributions as base classes, with super() calls and torch's attributes."""
    result, t, m = convert("""\
        import torch
        import torch.nn as nn

        class FixedCategorical(torch.distributions.Categorical):
            def sample(self):
                return super().sample().unsqueeze(-1)

            def log_probs(self, actions):
                return (super().log_prob(actions.squeeze(-1)).view(actions.size(0), -1)
                        .sum(-1).unsqueeze(-1))

            def mode(self):
                return self.probs.argmax(dim=-1, keepdim=True)

        class FixedNormal(torch.distributions.Normal):
            def log_probs(self, actions):
                return super().log_prob(actions).sum(-1, keepdim=True)

            def entropy(self):
                return super().entropy().sum(-1)

            def mode(self):
                return self.mean

        class FixedBernoulli(torch.distributions.Bernoulli):
            def entropy(self):
                return super().entropy().sum(-1)

            def mode(self):
                return torch.gt(self.probs, 0.5).float()

        class Categorical(nn.Module):  # the file's own class of the same name
            def forward(self, x):
                return FixedCategorical(logits=x)
        """)
    rng = np.random.default_rng(6)
    logits = rng.standard_normal((4, 3)).astype(np.float32)
    actions = np.array([[0], [2], [1], [2]])
    loc, scale = rng.standard_normal((4, 2)).astype(np.float32), rng.random((4, 2)).astype(np.float32) + 0.5
    value = rng.standard_normal((4, 2)).astype(np.float32)
    bits = np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0], [0.0, 1.0]], np.float32)
    T, M = torch.from_numpy, mindspore.Tensor

    tc, mc = t["Categorical"]()(T(logits)), m["Categorical"]()(M(logits))
    _same(mc.log_probs(M(actions)), tc.log_probs(T(actions)))
    _same(mc.entropy(), tc.entropy())
    _same(mc.mode(), tc.mode())
    assert mc.sample().shape == tuple(tc.sample().shape) == (4, 1)
    tc, mc = t["FixedCategorical"](probs=T(np.abs(logits))), m["FixedCategorical"](probs=M(np.abs(logits)))
    _same(mc.log_probs(M(actions)), tc.log_probs(T(actions)))

    tn, mn = t["FixedNormal"](T(loc), T(scale)), m["FixedNormal"](M(loc), M(scale))
    _same(mn.log_probs(M(value)), tn.log_probs(T(value)))
    _same(mn.entropy(), tn.entropy())
    _same(mn.mode(), tn.mode())
    _same(mn.cdf(M(value)), tn.cdf(T(value)))
    assert mn.sample((5,)).shape == tuple(tn.sample((5,)).shape) == (5, 4, 2)

    for kwargs in ({"logits": loc}, {"probs": scale - 0.5}):
        tb = t["FixedBernoulli"](**{k: T(v) for k, v in kwargs.items()})
        mb = m["FixedBernoulli"](**{k: M(v) for k, v in kwargs.items()})
        _same(mb.log_prob(M(bits)), tb.log_prob(T(bits)))
        _same(mb.entropy(), tb.entropy())
        _same(mb.mode(), tb.mode())
        _same(mb.mean, tb.mean)
        np.testing.assert_array_equal(np.unique(mb.sample((3,)).asnumpy()) <= 1, True)
