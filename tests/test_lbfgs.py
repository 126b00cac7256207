"""torch.optim.LBFGS with optimizer.step(closure), as time-series examples train: the
converted program (an LBFGS class written into the file, the closure's loss and
gradients from mindspore.value_and_grad) takes torch's steps: the same losses at every
evaluation and the same weights."""
import numpy as np
import pytest

from ms_migrate import convert_source

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate.runtime.equivalence import copy_torch_weights  # noqa: E402

SOURCE = '''
import torch
import torch.nn as nn
import torch.optim as optim


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(3, 8)
        self.out = nn.Linear(8, 1)

    def forward(self, x):
        return self.out(torch.tanh(self.hidden(x)))


def train(net, input, target, steps, history):
    criterion = nn.MSELoss()
    optimizer = optim.LBFGS(net.parameters(), lr=0.8)
    for i in range(steps):
        def closure():
            optimizer.zero_grad()
            out = net(input)
            loss = criterion(out, target)
            history.append(loss.item())
            loss.backward()
            return loss
        optimizer.step(closure)
'''


def test_lbfgs_steps_like_torch():
    result = convert_source(SOURCE, "lbfgs.py")
    assert "import torch" not in result.code
    assert "optimizer.step(mindspore.value_and_grad(closure, None, optimizer.parameters))" in result.code
    assert "backward" not in result.code and "zero_grad" not in result.code
    assert convert_source(result.code, "lbfgs.py").code == result.code
    m, t = {"__name__": "lbfgs_ms"}, {}  # MindSpore's grad reads the function's module name
    exec(compile(result.code, "lbfgs_ms.py", "exec"), m)
    exec(compile(SOURCE, "lbfgs.py", "exec"), t)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 3)).astype("float32")
    y = np.sin(x.sum(1, keepdims=True)).astype("float32")
    tnet, mnet = t["Net"](), m["Net"]()
    copy_torch_weights(tnet, mnet)
    tnet.double()  # float64: float32 sums in another order would drift along the steps
    mnet.to(mindspore.float64)
    th, mh = [], []
    t["train"](tnet, torch.from_numpy(x).double(), torch.from_numpy(y).double(), 2, th)
    m["train"](mnet, mindspore.Tensor(x.astype("float64")), mindspore.Tensor(y.astype("float64")),
               2, mh)
    assert len(mh) == len(th) > 10 and th[-1] < th[0] / 2
    np.testing.assert_allclose(mh, th, rtol=1e-6)
    np.testing.assert_allclose(mnet.out.weight.asnumpy(), tnet.out.weight.detach().numpy(),
                               rtol=1e-6, atol=1e-9)
