"""A torch Module starts in training mode, a MindSpore Cell in inference mode.

A script that trains without ever calling `model.train()` must train the converted
model in training mode too (BatchNorm on the batch's statistics, Dropout on), and a
layer built and called directly must compute what torch's computes.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402
from ms_migrate.runtime.equivalence import copy_torch_weights  # noqa: E402

CNN_SCRIPT = '''\
import torch
import torch.nn as nn


class ConvNet(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.layer1 = nn.Sequential(
            nn.Conv2d(1, 4, kernel_size=3, padding=1),
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.MaxPool2d(2))
        self.drop = nn.Dropout(p)
        self.fc = nn.Linear(4 * 4 * 4, 3)

    def forward(self, x):
        out = self.layer1(x)
        out = out.reshape(out.size(0), -1)
        return self.fc(self.drop(out))


def build_model(p=0.0):
    model = ConvNet(p)
    return model


def train(model, batches):
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for images, labels in batches:
        print("training", model.training)
        outputs = model(images)
        loss = criterion(outputs, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
'''

DIRECT_SCRIPT = '''\
import torch
import torch.nn as nn

x = torch.from_numpy(x_np)
bn = nn.BatchNorm1d(3)
y = bn(x)
'''


def _execute(code, name, **values):
    namespace = {"__name__": name, **values}
    exec(compile(code, f"<{name}>", "exec"), namespace)
    return namespace


def _batches(framework, steps=6):
    rng = np.random.RandomState(0)
    out = []
    for _ in range(steps):
        images = (rng.randn(8, 1, 8, 8) * 2 + 1).astype(np.float32)
        labels = rng.randint(0, 3, size=8)
        if framework == "torch":
            out.append((torch.from_numpy(images), torch.from_numpy(labels)))
        else:
            out.append((mindspore.Tensor(images), mindspore.Tensor(labels.astype(np.int32))))
    return out


@pytest.fixture(scope="module")
def cnn():
    result = convert_source(CNN_SCRIPT, "cnn.py")
    return (_execute(CNN_SCRIPT, "cnn_torch"), _execute(result.code, "cnn_ms"), result.code)


def test_the_built_model_is_set_to_training(cnn):
    code = cnn[2]
    assert "    model = ConvNet(p)\n    model.set_train()\n    return model\n" in code
    assert code.count("set_train") == 1
    assert convert_source(code, "cnn.py").code == code  # a fixed point


def test_converted_model_trains_in_training_mode_as_torch(cnn, capsys):
    torch_ns, ms_ns, _ = cnn
    torch.manual_seed(0)
    torch_model = torch_ns["build_model"]()
    ms_model = ms_ns["build_model"]()
    copy_torch_weights(torch_model, ms_model)
    torch_losses = torch_ns["train"](torch_model, _batches("torch"))
    torch_out = capsys.readouterr().out
    ms_losses = ms_ns["train"](ms_model, _batches("mindspore"))
    ms_out = capsys.readouterr().out
    assert torch_out.splitlines() == ["training True"] * 6
    assert ms_out.splitlines() == torch_out.splitlines()
    # BatchNorm normalises with the batch's statistics in both: the same losses
    np.testing.assert_allclose(ms_losses, torch_losses, rtol=1e-3, atol=1e-4)


def test_dropout_is_on_in_the_converted_model(cnn):
    ms_model = cnn[1]["build_model"](0.5)
    drops = [cell for _, cell in ms_model.cells_and_names()
             if type(cell).__name__ == "Dropout"]
    assert len(drops) == 1 and drops[0].training
    x = mindspore.Tensor(np.ones((64, 64), np.float32))
    out = drops[0](x).asnumpy()
    assert (out == 0).sum() > 0 and np.allclose(out[out != 0], 2.0)


def test_a_layer_called_directly_normalises_like_torch():
    result = convert_source(DIRECT_SCRIPT, "direct.py")
    assert "bn = nn.BatchNorm1d(3, momentum=0.9)\nbn.set_train()\ny = bn(x)\n" in result.code
    x_np = (np.random.RandomState(1).randn(5, 3) * 3 + 2).astype(np.float32)
    expected = _execute(DIRECT_SCRIPT, "direct_torch", x_np=x_np)["y"].detach().numpy()
    got = _execute(result.code, "direct_ms", x_np=x_np)["y"].asnumpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    # the batch's statistics, not the running ones (which would leave x almost as is)
    assert not np.allclose(got, x_np, atol=0.1)


@pytest.mark.parametrize("source", [
    "model = Net()\nmodel.train()\nout = model(x)\n",     # the script sets the mode itself
    "model = Net()\nmodel.to(device)\nmodel.eval()\nout = model(x)\n",  # set before any use
    "model = Net()\nfor x in data:\n    model.train()\n    out = model(x)\n",
    "model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())\nout = model(x)\n",  # no mode to set
])
def test_nothing_added_where_the_mode_is_set_or_irrelevant(source):
    header = ("import torch.nn as nn\n\n\nclass Net(nn.Module):\n"
              "    def __init__(self):\n        super().__init__()\n"
              "        self.bn = nn.BatchNorm1d(2)\n\n\n")
    code = convert_source(header + source, "x.py").code
    assert code.count("set_train()") == source.count(".train()")


def test_evaluated_after_training_without_train_call():
    """yunjey's tutorials: train right after construction, `model.eval()` only to test."""
    source = ("import torch.nn as nn\n\nmodel = nn.Sequential(nn.Linear(2, 2), nn.Dropout())\n"
              "out = model(x)\nmodel.eval()\ntest = model(x)\n")
    code = convert_source(source, "x.py").code
    assert code.index("model.set_train()\n") < code.index("out = model(x)")
    assert "model.set_train(False)\n" in code
