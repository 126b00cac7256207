"""torch.nn.parallel's replicate / scatter / parallel_apply / gather become helpers that
run the pieces one after another on MindSpore's device. torch runs these functions only
on CUDA devices (on this CPU machine they raise), so the expectations here are what
torch documents and its code does, computed with torch on CPU without them: scatter
cuts a tensor as Tensor.chunk does and scatters containers item by item; gather
concatenates; replicate + parallel_apply + gather of a row-wise network is the network
on the whole batch (data parallelism), with the same gradients for its parameters."""
import numpy as np
import pytest

from ms_migrate import convert_source

torch = pytest.importorskip("torch")
ms = pytest.importorskip("mindspore")

SOURCE = '''import torch
import torch.nn as nn
from torch.nn.parallel.parallel_apply import parallel_apply
from torch.nn.parallel.replicate import replicate
from torch.nn.parallel.scatter_gather import gather, scatter


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))

    def forward(self, x):
        return self.layers(x)


def data_parallel(net, x, device_ids):
    replicas = replicate(net, device_ids)
    pieces = scatter(x, device_ids, dim=0)
    outputs = parallel_apply(replicas, pieces, None, device_ids)
    return gather(outputs, 0, dim=0)


def containers(x, y, device_ids):
    return (scatter((x, 7), device_ids), scatter([x, y], device_ids, dim=1),
            scatter({"a": x}, device_ids), gather([{"a": x}, {"a": y}], 0, dim=1))
'''
X = np.arange(21, dtype=np.float32).reshape(7, 3) / 10
Y = -np.arange(14, dtype=np.float32).reshape(7, 2)


@pytest.fixture(scope="module")
def converted():
    result = convert_source(SOURCE, "dp.py")
    assert "import torch" not in result.code
    assert not [f for f in result.report.findings if f.action == "unsupported"]
    scope = {}
    exec(compile(result.code, "<mindspore>", "exec"), scope)  # noqa: S102 - our own program
    return scope


def _torch_net():
    scope = {}
    exec(compile(SOURCE, "<torch>", "exec"), scope)  # noqa: S102
    torch.manual_seed(0)
    return scope["Mlp"]()


@pytest.mark.parametrize("devices", [1, 2, 3, 4])
def test_data_parallel_of_a_rowwise_network_is_the_network_on_the_batch(converted, devices):
    net = _torch_net()
    out = net(torch.tensor(X))
    out.sum().backward()
    cell = converted["Mlp"]()
    for (_, p), t in zip(cell.parameters_and_names(), net.parameters()):
        p.set_data(ms.Tensor(t.detach().numpy()))

    def run(x):
        return converted["data_parallel"](cell, x, range(devices)).sum()

    loss, grads = ms.value_and_grad(run, None, cell.trainable_params())(ms.Tensor(X))
    np.testing.assert_allclose(loss.asnumpy(), out.sum().item(), rtol=1e-5)
    for g, t in zip(grads, net.parameters()):
        np.testing.assert_allclose(g.asnumpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("devices", [2, 3, 5])
def test_scatter_cuts_as_chunk_and_gather_concatenates(converted, devices):
    pieces = converted["scatter"](ms.Tensor(X), list(range(devices)), 0)
    expected = torch.tensor(X).chunk(devices, 0)
    assert [p.shape for p in pieces] == [tuple(e.shape) for e in expected]
    for p, e in zip(pieces, expected):
        np.testing.assert_array_equal(p.asnumpy(), e.numpy())
    together = converted["gather"](list(pieces), 0, 0)
    np.testing.assert_array_equal(together.asnumpy(), X)


def test_containers_are_scattered_and_gathered_item_by_item(converted):
    pairs, lists, dicts, gathered = converted["containers"](ms.Tensor(X), ms.Tensor(Y), [0, 1])
    rows = torch.tensor(X).chunk(2, 0)
    assert [type(p) for p in pairs] == [tuple, tuple] and [p[1] for p in pairs] == [7, 7]
    for (piece, _), row in zip(pairs, rows):
        np.testing.assert_array_equal(piece.asnumpy(), row.numpy())
    x_cols, y_cols = torch.tensor(X).chunk(2, 1), torch.tensor(Y).chunk(2, 1)
    assert [type(item) for item in lists] == [list, list]
    for (xs, ys), xe, ye in zip(lists, x_cols, y_cols):
        np.testing.assert_array_equal(xs.asnumpy(), xe.numpy())
        np.testing.assert_array_equal(ys.asnumpy(), ye.numpy())
    assert [sorted(d) for d in dicts] == [["a"], ["a"]]
    np.testing.assert_array_equal(dicts[1]["a"].asnumpy(), rows[1].numpy())
    np.testing.assert_array_equal(gathered["a"].asnumpy(), np.concatenate([X, Y], 1))


def test_conversion_is_idempotent():
    once = convert_source(SOURCE, "dp.py").code
    assert convert_source(once, "dp.py").code == once
