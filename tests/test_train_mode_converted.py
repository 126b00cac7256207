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
