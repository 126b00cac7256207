"""A custom optimizer (a torch.optim.Optimizer subclass whose step() reads p.grad)
becomes a mindspore.experimental.optim.Optimizer subclass whose construct(gradients)
applies the same update. Torch's program and the converted one train the same model
from the same weights on the same data; the parameters after the steps must agree."""
import textwrap

import numpy as np
import pytest

from ms_migrate import convert_source

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate.runtime.equivalence import copy_torch_weights  # noqa: E402

PROGRAM = textwrap.dedent('''\
    import torch
    import torch.nn as nn
    from torch.optim import Optimizer


    class TrustMomentum(Optimizer):
        """Momentum SGD with a layer-wise trust ratio and per-group rates."""

        def __init__(self, params, lr=0.1, momentum=0.9, weight_decay=0.0, trust=0.01):
            defaults = dict(lr=lr, momentum=momentum, weight_decay=weight_decay, trust=trust)
            super().__init__(params, defaults)
            for group in self.param_groups:
                for p in group["params"]:
                    self.state[p]["step"] = 0

        @torch.no_grad()
        def step(self, closure=None):
            loss = None
            if closure is not None:
                with torch.enable_grad():
                    loss = closure()
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    grad = p.grad.data
                    if grad.is_sparse:
                        raise RuntimeError("dense gradients only")
                    state = self.state[p]
                    state["step"] += 1
                    if p.ndim > 1:
                        grad = grad.add(p, alpha=group["weight_decay"])
                        ratio = group["trust"] * torch.norm(p) / (torch.norm(grad) + 1e-8)
                        grad = grad.mul(ratio)
                    if "buf" not in state:
                        state["buf"] = torch.zeros_like(p)
                    buf = state["buf"]
                    buf.mul_(group["momentum"]).add_(grad)
                    state["sq"] = state.get("sq", torch.zeros_like(p))
                    state["sq"].addcmul_(grad, grad, value=1.0)
                    scale = state["sq"].sqrt().add_(1.0)
                    p.add_(buf / scale, alpha=-float(group["lr"]) / state["step"] ** 0.5)
            return loss


    def train(model, data):
        optimizer = TrustMomentum([
            {"params": [model.weight], "weight_decay": 0.01},
            {"params": [model.bias], "lr": 0.05},
        ], lr=0.2)
        losses = []
        for x, y in data:
            optimizer.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return losses
    ''')


def test_the_custom_optimizer_becomes_a_mindspore_optimizer():
    result = convert_source(PROGRAM, "trust.py")
    assert not [f for f in result.report.findings if f.action == "unsupported"], result.code
    assert "torch" not in result.code
    assert "class TrustMomentum(optim.Optimizer):" in result.code
    assert "def construct(self, gradients):" in result.code
    assert "grads = dict(zip(self.parameters, gradients))" in result.code
    assert "closure" not in result.code.split("def construct")[1].split("def train")[0]
    assert convert_source(result.code, "trust.py").code == result.code


def test_torch_and_mindspore_train_to_the_same_parameters():
    result = convert_source(PROGRAM, "trust.py")
    t, m = {"__name__": "trust_torch"}, {"__name__": "trust_ms"}
    exec(compile(PROGRAM, "<torch>", "exec"), t)
    exec(compile(result.code, "<ms>", "exec"), m)
    torch.manual_seed(0)
    tnet = torch.nn.Linear(3, 2)
    mnet = mindspore.nn.Dense(3, 2)
    copy_torch_weights(tnet, mnet)
    start = tnet.weight.detach().numpy().copy()
    rng = np.random.default_rng(0)
    data = [(rng.standard_normal((4, 3)).astype(np.float32),
             rng.standard_normal((4, 2)).astype(np.float32)) for _ in range(5)]
    want = t["train"](tnet, [(torch.tensor(x), torch.tensor(y)) for x, y in data])
    got = m["train"](mnet, [(mindspore.Tensor(x), mindspore.Tensor(y)) for x, y in data])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mnet.weight.asnumpy(), tnet.weight.detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mnet.bias.asnumpy(), tnet.bias.detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    assert np.abs(tnet.weight.detach().numpy() - start).max() > 1e-3, "the steps must move"


def test_a_step_that_writes_the_gradient_is_left_to_the_table():
    source = textwrap.dedent("""\
        import torch

        class Clipper(torch.optim.Optimizer):
            def step(self):
                for group in self.param_groups:
                    for p in group["params"]:
                        p.grad.clamp_(-1, 1)
                        p.add_(p.grad, alpha=-group["lr"])
        """)
    result = convert_source(source, "clip.py")
    refused = [f for f in result.report.findings if f.action == "unsupported"]
    assert any(f.api == "torch.optim.Optimizer" for f in refused), result.code
    assert "def step(self):" in result.code


def test_a_step_that_changes_the_gradient_through_data_is_left_to_the_table():
    source = textwrap.dedent("""\
        import torch

        class Natural(torch.optim.Optimizer):
            def step(self):
                for group in self.param_groups:
                    for p in group["params"]:
                        p.grad.data.mul_(0.5)
                        p.data.add_(p.grad.data, alpha=-group["lr"])
        """)
    result = convert_source(source, "natural.py")
    refused = [f for f in result.report.findings if f.action == "unsupported"]
    assert any(f.api == "torch.optim.Optimizer" for f in refused), result.code
    assert "def step(self):" in result.code and "grads[p]" not in result.code
