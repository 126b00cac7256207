"""torch.nn.modules.batchnorm._BatchNorm in isinstance/issubclass tests (SWA-style
BatchNorm resets): the converted tests pick MindSpore's BatchNorm layers, and the
statistics the branch reads and writes are moving_mean/moving_variance."""
import numpy as np
import pytest

from ms_migrate import convert_source

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate.runtime.equivalence import copy_torch_weights  # noqa: E402

SOURCE = '''
import torch
import torch.nn as nn


def build():
    return nn.Sequential(nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3), nn.ReLU(),
                         nn.Flatten(), nn.Linear(12, 4), nn.BatchNorm1d(4))


def _check_bn(module, flag):
    if issubclass(module.__class__, torch.nn.modules.batchnorm._BatchNorm):
        flag[0] = True


def check_bn(model):
    flag = [False]
    model.apply(lambda module: _check_bn(module, flag))
    return flag[0]


def reset_bn(module):
    if issubclass(module.__class__, torch.nn.modules.batchnorm._BatchNorm):
        module.running_mean = torch.zeros_like(module.running_mean)
        module.running_var = torch.ones_like(module.running_var)


def count_bn(model):
    return sum(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in model.modules())
'''


def test_batchnorm_tests_and_statistics_reset_like_torch():
    result = convert_source(SOURCE, "bn.py")
    assert "import torch" not in result.code
    assert "moving_mean = ops.zeros_like(module.moving_mean)" in result.code
    m, t = {}, {}
    exec(compile(result.code, "bn_ms.py", "exec"), m)
    exec(compile(SOURCE, "bn.py", "exec"), t)
    tnet, mnet = t["build"](), m["build"]()
    copy_torch_weights(tnet, mnet)
    x = np.random.default_rng(0).standard_normal((5, 2, 2, 2)).astype("float32")
    tnet.train()
    mnet.set_train(True)
    tnet(torch.from_numpy(x))
    mnet(mindspore.Tensor(x))  # the running statistics move away from 0 and 1
    assert t["check_bn"](tnet) and m["check_bn"](mnet)
    assert t["count_bn"](tnet) == m["count_bn"](mnet) == 2
    assert not t["check_bn"](torch.nn.Linear(2, 2)) and not m["check_bn"](mindspore.nn.Dense(2, 2))
    tnet.apply(t["reset_bn"])
    mnet.apply(m["reset_bn"])
    tnet.eval()
    mnet.set_train(False)
    expected = tnet(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(mnet(mindspore.Tensor(x)).asnumpy(), expected, rtol=1e-5, atol=1e-5)
    assert np.all(mnet[1].moving_mean.asnumpy() == 0)
