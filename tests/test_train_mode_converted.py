"""A Sequential whose arguments are converted calls (`ops.trace()`, `mindspore.tensor(...)`)
is judged as its torch form was: converting the output again adds no set_train()."""
from ms_migrate import convert_source


def test_converted_calls_in_a_container_do_not_add_set_train_on_a_second_pass():
    source = ("import torch\nimport torch.nn as nn\nfrom torch import optim\n"
              "def f(x, nn=None):\n"
              "    model = nn.Sequential(torch.trace(x), torch.tensor(x, torch.float32), nn.ReLU())\n"
              "    opt = optim.SGD(model.parameters(), lr=0.1)\n"
              "    return opt\n")
    once = convert_source(source, "<test>").code
    assert "set_train" not in once, once
    assert convert_source(once, "<again>").code == once


def test_with_a_training_loop_and_mindspore_imports_the_output_is_a_fixed_point():
    source = ("import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
              "from torch import optim\n"
              "def f(self, x, nn=None):\n"
              "    model = nn.Sequential(torch.tensor(x), nn.ReLU())\n"
              "    opt = optim.SGD(model.parameters(), lr=0.1)\n"
              "    for x, t in loader:\n"
              "        opt.zero_grad()\n"
              "        loss = F.cross_entropy(model(x), t)\n"
              "        loss.backward()\n"
              "        opt.step()\n"
              "class Net(nn.Module):\n"
              "    def __init__(self):\n"
              "        super().__init__()\n"
              "        self.layer = nn.AdaptiveMaxPool1d(output_size=2, return_indices=x)\n")
    once = convert_source(source, "<test>").code
    assert "import mindspore" in once
    assert convert_source(once, "<again>").code == once
