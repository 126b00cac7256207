"""torch.device("mps") (Apple GPUs, which MindSpore has no target for): the work runs on
MindSpore's CPU target, with a warning, and computes what torch computes on its CPU."""
import numpy as np
import pytest

from ms_migrate import convert_source

SOURCE = '''
import torch
import torch.nn as nn


def pick(use_cuda, use_mps):
    if use_cuda:
        device = torch.device("cuda")
    elif use_mps:
        device = torch.device("mps")
    else:
        device = torch.device("cpu")
    return device


def run(x, device):
    torch.manual_seed(0)
    model = nn.Linear(3, 2).to(device)
    nn.init.constant_(model.weight, 0.5)
    nn.init.constant_(model.bias, -1.0)
    return model(x.to(device))
'''


def test_mps_becomes_the_cpu_target_with_a_warning():
    result = convert_source(SOURCE, "mps.py")
    assert "torch" not in result.code.replace("# ms-migrate: torch", "")
    assert 'device = "CPU"' in result.code.split("elif use_mps:")[1].split("else:")[0]
    assert any("mps" in f.message and f.action == "warning" for f in result.report.findings)


def test_the_converted_program_computes_torchs_cpu_values():
    torch = pytest.importorskip("torch")
    mindspore = pytest.importorskip("mindspore")
    m, t = {}, {}
    exec(compile(convert_source(SOURCE, "mps.py").code, "mps_ms.py", "exec"), m)
    exec(compile(SOURCE, "mps.py", "exec"), t)
    device = m["pick"](False, True)
    assert device == "CPU"
    x = np.arange(6, dtype="float32").reshape(2, 3)
    expected = t["run"](torch.from_numpy(x), t["pick"](False, False)).detach().numpy()
    got = m["run"](mindspore.Tensor(x), device).asnumpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6)
