"""Method calls on names known to hold a Module or a distribution use that type's
methods, never the Tensor ones: `m.half()` casts a Cell's parameters and buffers,
`d.sample([3])` draws from a MindSpore distribution. A name the file also binds to
anything else keeps the Tensor methods. Programs run on both frameworks and are compared."""
import pytest

from ms_migrate import convert_source
from ms_migrate.runtime.equivalence import compare

pytest.importorskip("torch")
pytest.importorskip("mindspore")


def _run(code):
    namespace = {}
    exec(compile(code, "<receivers>", "exec"), namespace)
    return namespace


MODULE_PROGRAM = """\
import torch
import torch.nn as nn


class Scale(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("factor", torch.tensor([2.0, 3.0]))
        self.register_parameter("bias", nn.Parameter(torch.tensor([0.5, -0.5])))

    def forward(self, x):
        return x * self.factor + self.bias


class Twice(Scale):
    pass


net = Twice()
net.double()
x = torch.tensor([1.0, 2.0], dtype=torch.float64)
out = net(x)
halves = torch.tensor([1.0, 2.0]).double()
outer = nn.Module()
outer.register_module("inner", net)
inner = outer.get_submodule("inner")
same = inner is net
bias = outer.get_parameter("inner.bias")
outer.to("cpu", dtype=torch.float32)
factor = net.factor
"""


def test_module_methods_on_a_known_module_run_like_torch():
    converted = convert_source(MODULE_PROGRAM, "<test>")
    code = converted.code
    assert "torch" not in code, code
    assert "net.to(mindspore.float64)" in code, code
    assert "mindspore.tensor([1.0, 2.0]).double()" in code, code  # a Tensor stays a Tensor
    assert "outer.to(mindspore.float32)" in code, code
    theirs, ours = _run(MODULE_PROGRAM), _run(code)
    for name in ("out", "halves", "same", "bias", "factor"):
        compare(theirs[name], ours[name])


DISTRIBUTION_PROGRAM = """\
import torch

mu = torch.tensor([0.0, 1.0])
sd = torch.tensor([1.0, 2.0])
normal = torch.distributions.Normal(mu, sd)
drawn = normal.sample([3])
reparam = normal.rsample(sample_shape=torch.Size([4, 1]))
coin = torch.distributions.Bernoulli(torch.tensor([0.3])).sample((5,))
shapes = (tuple(drawn.shape), tuple(reparam.shape), tuple(coin.shape), str(coin.dtype)[-7:])
"""


def test_distribution_draws_have_torch_shapes_and_dtypes():
    converted = convert_source(DISTRIBUTION_PROGRAM, "<test>")
    code = converted.code
    assert "torch" not in code.replace("str(coin.dtype)", ""), code
    assert "normal.sample((3,))" in code and "normal.sample(tuple([4, 1]))" in code, code
    theirs, ours = _run(DISTRIBUTION_PROGRAM), _run(code)
    assert theirs["shapes"][:3] == ours["shapes"][:3]
    compare(theirs["drawn"][:0], ours["drawn"][:0])
    assert str(ours["coin"].dtype) == "Float32"


@pytest.mark.parametrize("program", [
    # a parameter of that name elsewhere: not known to be a Module
    "import torch.nn as nn\nm = nn.Linear(2, 2)\ndef f(m):\n    return m.half()\n",
    # bound to a layer and, later, to a tensor
    "import torch\nimport torch.nn as nn\nm = nn.Linear(2, 2)\nm = torch.ones(2)\ny = m.half()\n",
    # nn.Parameter is a Tensor
    "import torch\nimport torch.nn as nn\nm = nn.Parameter(torch.ones(2))\ny = m.half()\n",
])
def test_names_not_only_bound_to_modules_keep_the_tensor_methods(program):
    code = convert_source(program, "<test>").code
    assert "m.half()" in code and "m.to(" not in code, code


def test_converting_twice_changes_nothing():
    once = convert_source(MODULE_PROGRAM, "<test>").code
    assert convert_source(once, "<test>").code == once


PLAIN_PROGRAM = """\
import torch
from torch import nn


class Trainer:
    def __init__(self, model):
        self.model = model
        self.epochs_run = 0

    def train(self, epochs):
        self.model.train()
        for _ in range(epochs):
            self.epochs_run += 1
        return self.model.training


def main():
    model = nn.Linear(2, 2)
    model.eval()
    trainer = Trainer(model)
    return trainer.train(3), trainer.epochs_run
"""


def test_methods_of_a_plain_class_of_the_file_are_its_own():
    # `trainer.train(3)` is Trainer.train, not Module.train (set_train(3) would set
    # the mode from an epoch count and skip the loop)
    code = convert_source(PLAIN_PROGRAM).code
    assert "trainer.train(3)" in code and "self.model.set_train()" in code
    assert _run(code)["main"]() == _run(PLAIN_PROGRAM)["main"]() == (True, 3)
