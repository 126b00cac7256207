"""Training steps in shapes found in public trainers: a loss kept on `self`
(`logits, self.loss = model(x, y)`), and a step after another backward() that
cannot convert but whose gradients a zero_grad() discards before the step. Each
program is converted, run in torch and in MindSpore from the same weights on the
same batches, and the losses of several steps are compared."""
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
    t_ns, m_ns = {"__name__": "prog_torch"}, {"__name__": "prog_ms"}
    exec(compile(source, "<torch>", "exec"), t_ns)
    exec(compile(result.code, "<ms>", "exec"), m_ns)
    return result, t_ns, m_ns


def unsupported(result):
    return [(f.api, f.message) for f in result.report.findings if f.action == "unsupported"]


def batches(n, shape_x=(4, 3), shape_y=(4, 1), seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(shape_x).astype(np.float32),
             rng.standard_normal(shape_y).astype(np.float32)) for _ in range(n)]


def as_torch(data):
    return [tuple(torch.from_numpy(a.copy()) for a in b) for b in data]


def as_ms(data):
    return [tuple(mindspore.Tensor(a.copy()) for a in b) for b in data]


TRAINER = """\
    import torch
    import torch.nn as nn
    from torch.nn import functional as F


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 1)

        def forward(self, x, y):
            out = self.fc(x)
            return out, F.mse_loss(out, y)


    class Trainer:
        def __init__(self, model, lr):
            self.model = model
            self.optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
            self.losses = []

        def run(self, data):
            model = self.model
            for x, y in data:
                logits, self.loss = model(x, y)
                model.zero_grad(set_to_none=True)
                self.loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
                self.optimizer.step()
                self.losses.append(self.loss.item())
    """


def test_loss_kept_on_self_trains_like_torch():
    result, t, m = convert(TRAINER)
    assert unsupported(result) == []
    assert "self.loss, grads = grad_fn(x, y)" in result.code
    assert "ops.clip_by_global_norm(grads, 0.5)" in result.code
    torch.manual_seed(0)
    tnet, mnet = t["Net"](), m["Net"]()
    copy_torch_weights(tnet, mnet)
    data = batches(5)
    tt, mt = t["Trainer"](tnet, 0.3), m["Trainer"](mnet, 0.3)
    tt.run(as_torch(data))
    mt.run(as_ms(data))
    np.testing.assert_allclose(mt.losses, tt.losses, rtol=1e-4, atol=1e-5)
    assert float(mt.loss.asnumpy()) == pytest.approx(mt.losses[-1])
    # clipping was active: the unclipped steps give other losses
    assert max(abs(a - b) for a, b in zip(tt.losses[1:], _unclipped(t, data))) > 1e-3


def _unclipped(t, data):
    torch.manual_seed(0)
    net = t["Net"]()
    opt = torch.optim.SGD(net.parameters(), lr=0.3, momentum=0.9)
    losses = []
    for x, y in as_torch(data):
        _, loss = net(x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses[1:]


A2C = """\
    import torch
    import torch.nn as nn
    import torch.optim as optim


    class A2C:
        def __init__(self, net, fisher, max_grad_norm):
            self.net = net
            self.fisher = fisher
            self.max_grad_norm = max_grad_norm
            self.optimizer = optim.RMSprop(net.parameters(), 0.01, eps=1e-5, alpha=0.99)

        def update(self, obs, returns):
            values = self.net(obs)
            advantages = returns - values
            value_loss = advantages.pow(2).mean()
            if self.fisher:
                # a statistics pass whose gradients the zero_grad() below discards
                self.net.zero_grad()
                fisher_loss = -values.mean()
                fisher_loss.backward(retain_graph=True)
            self.optimizer.zero_grad()
            (value_loss * 0.5 + values.abs().mean()).backward()
            if self.max_grad_norm:
                nn.utils.clip_grad_norm_(self.net.parameters(), self.max_grad_norm)
            self.optimizer.step()
            return value_loss.item()
    """


def test_step_after_a_discarded_backward_converts():
    result, t, m = convert(A2C)
    problems = unsupported(result)
    # only the statistics pass stays (retain_graph=True); the update converts
    assert [api for api, _ in problems] == ["Tensor.backward"]
    assert "retain_graph" in problems[0][1]
    assert "self.optimizer(grads)" in result.code
    torch.manual_seed(1)
    tnet = nn_net(torch.nn)
    mnet = nn_net(mindspore.nn, like=tnet)
    ta, ma = t["A2C"](tnet, False, 0.1), m["A2C"](mnet, False, 0.1)
    data = batches(5, seed=3)
    got = [ma.update(x, r) for x, r in as_ms(data)]
    want = [ta.update(x, r) for x, r in as_torch(data)]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert want[0] != pytest.approx(want[-1])


def nn_net(nn, like=None):
    if like is None:
        return nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1))
    net = nn.SequentialCell(nn.Dense(3, 5), nn.Tanh(), nn.Dense(5, 1))
    copy_torch_weights(like, net)
    return net


ENGINE = """\
    import torch
    from torch.nn.utils import clip_grad_norm_


    def train(engine, model, opt, data, use_engine):
        losses = []
        for x, y in data:
            loss = ((model(x) - y) ** 2).mean()
            if use_engine:
                engine.backward(loss)
                engine.step()
            else:
                loss.backward()
                clip_grad_norm_(model.parameters(), 0.5)
                opt.step()
                opt.zero_grad()
            losses.append(loss.item())
        return losses
    """


class _Engine:  # an external training engine (DeepSpeed-like) that does nothing here
    def backward(self, loss):
        self.seen = loss

    def step(self):
        pass


@pytest.mark.parametrize("use_engine", [False, True])
def test_backward_in_the_else_branch_of_an_if(use_engine):
    result, t, m = convert(ENGINE)
    # the engine's own backward(loss) stays; the step in `else:` converts
    assert [api for api, _ in unsupported(result)] == ["Tensor.backward"]
    assert "loss, grads = grad_fn(x, y)" in result.code
    assert "loss = forward_fn(x, y)" in result.code
    torch.manual_seed(0)
    tnet = nn_net(torch.nn)
    mnet = nn_net(mindspore.nn, like=tnet)
    topt = torch.optim.Adam(tnet.parameters(), lr=0.05)
    mopt = mindspore.experimental.optim.Adam(mnet.trainable_params(), lr=0.05)
    data = batches(1, seed=5) * 5  # one batch: only training changes the loss
    want = t["train"](_Engine(), tnet, topt, as_torch(data), use_engine)
    got = m["train"](_Engine(), mnet, mopt, as_ms(data), use_engine)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert (want[0] == pytest.approx(want[-1])) == use_engine
