"""Parameter attributes renamed inside `isinstance` branches, checked on both frameworks."""
import numpy as np
import pytest

from ms_migrate import convert_source

SOURCE = '''
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, bias=False)
        self.bn = nn.BatchNorm2d(4)
        self.head = nn.Sequential(nn.Linear(4, 2), nn.LayerNorm(2))
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 0.5)
                nn.init.constant_(m.bias, 0.25)
                m.running_var.fill_(4.0)
            elif isinstance(m, nn.LayerNorm):
                nn.init.constant_(m.weight, 2.0)
            elif isinstance(m, nn.Linear):
                nn.init.constant_(m.bias, -1.0)

    def forward(self, x):
        return self.head(self.bn(self.conv(x)).mean((2, 3)))


net = Net()
'''


def test_renamed_only_inside_the_branch():
    code = convert_source(SOURCE).code
    assert "m.gamma" in code and "m.beta" in code and "m.moving_variance" in code
    assert "nn.init.constant_(m.bias, -1.0)" not in code
    assert "m.bias.set_data" in code  # Dense keeps `bias`


def test_initialised_values_match_torch():
    pytest.importorskip("torch")
    pytest.importorskip("mindspore")
    from ms_migrate.runtime.weights import torch_state_to_mindspore

    t_ns, m_ns = {}, {}
    exec(SOURCE, t_ns)
    exec(convert_source(SOURCE).code, m_ns)
    expected = torch_state_to_mindspore(t_ns["net"])
    actual = {name: p.asnumpy() for name, p in m_ns["net"].parameters_and_names()}
    for name in ("bn.gamma", "bn.beta", "bn.moving_variance", "head.1.gamma", "head.0.bias"):
        np.testing.assert_allclose(actual[name], expected[name], err_msg=name)
