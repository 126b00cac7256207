"""Device handling: converted scripts choose a MindSpore device, move nothing, and
compute what torch computes. Converted scripts run in a fresh process, because
mindspore.set_device must come before MindSpore's runtime starts."""
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from ms_migrate import convert_source

torch = pytest.importorskip("torch")
pytest.importorskip("mindspore")

SCRIPT = textwrap.dedent('''\
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.manual_seed(0)
    torch.backends.cudnn.benchmark = True
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)

        def forward(self, x):
            return F.relu(self.fc(x))


    def predict(model, batch, device):
        model.to(device)
        batch = batch.to(device, non_blocking=True)
        return model(batch).cpu()


    model = Net().to(device)
    model.eval()
''')

# Appended to the converted script: same weights and input, outputs as JSON.
MINDSPORE_RUNNER = textwrap.dedent('''
    import json as _json
    import numpy as _np
    _data = _np.load(r"{data}")
    for _name, _param in model.parameters_and_names():
        _param.set_data(mindspore.Tensor(_data[_name]))
    _out = predict(model, mindspore.Tensor(_data["input"]), device)
    print(_json.dumps({{"device": device, "target": mindspore.get_context("device_target"),
                       "out": _out.asnumpy().tolist()}}))
''')


def run_converted(code: str, tmp_path) -> dict:
    path = tmp_path / "converted.py"
    path.write_text(code, encoding="utf-8")
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_converted_script_selects_cpu_and_matches_torch(tmp_path):
    result = convert_source(SCRIPT, "script.py")
    assert ".to(" not in result.code and ".cpu()" not in result.code
    assert "mindspore.set_device(device)" in result.code

    namespace = {}
    exec(compile(SCRIPT, "torch script", "exec"), namespace)
    model = namespace["model"]
    x = np.random.default_rng(0).standard_normal((5, 4)).astype("float32")
    weights = {name: t.detach().numpy() for name, t in model.state_dict().items()}
    np.savez(tmp_path / "data.npz", input=x, **weights)
    expected = namespace["predict"](model, torch.from_numpy(x), namespace["device"])

    ms = run_converted(result.code + MINDSPORE_RUNNER.format(data=tmp_path / "data.npz"),
                       tmp_path)
    assert ms["device"] == ms["target"] == "CPU"
    np.testing.assert_allclose(np.array(ms["out"]), expected.detach().numpy(), rtol=1e-5,
                               atol=1e-6)


def test_removed_moves_are_reported_on_their_lines():
    result = convert_source(SCRIPT, "script.py")
    lines = {(f.api, f.line) for f in result.report.findings}
    assert ("Tensor.to", 21) in lines and ("Tensor.cpu", 22) in lines
    assert ("torch.backends.cudnn.benchmark", 6) in lines
    # findings of the API pass keep their lines after the removed statement
    assert ("torch.nn.Linear", 13) in lines and ("torch.device", 7) in lines


@pytest.mark.parametrize("source", [
    "x = x.to(torch.float16)\n",     # a cast
    "x = x.to(y)\n",                 # to another tensor's device and dtype: not ours
    "x = x.to(dtype=torch.int32)\n",
])
def test_to_without_a_device_is_not_a_move(source):
    result = convert_source("import torch\n" + source)
    assert not any(f.api == "Tensor.to" and "removed" in f.message
                   for f in result.report.findings)
    assert ".to(y)" in result.code or ".astype(" in result.code


def test_device_then_dtype_keeps_the_cast():
    result = convert_source("import torch\ndevice = 'cpu'\nx = x.to(device, torch.float16)\n")
    assert "x = x.astype(mindspore.float16)" in result.code


def test_device_index_is_reported():
    result = convert_source('import torch\ndevice = torch.device("cuda:1")\n')
    assert 'device = "GPU"' in result.code
    assert "# ms-migrate: torch.device:" in result.code
    assert any("device_id" in f.message for f in result.report.findings)


def test_device_selected_in_a_helper_does_not_set_the_device():
    source = ("import torch\n\ndef pick():\n"
              "    dev = 'cuda' if torch.cuda.is_available() else 'cpu'\n    return dev\n")
    result = convert_source(source)
    assert "dev = 'GPU' if mindspore.hal.is_available(\"GPU\") else 'CPU'" in result.code
    assert "set_device" not in result.code


def test_all_moves_in_a_block_leave_pass_and_comments():
    source = "import torch\nfor x in xs:\n    # to the GPU\n    x = x.cuda()\n"
    result = convert_source(source)
    assert result.code.endswith("for x in xs:\n    # to the GPU\n    pass\n")


def test_device_comparisons_use_mindspore_names():
    source = ('import torch\ndevice = torch.device("cuda" if torch.cuda.is_available() else "cpu")\n'
              'pin = device.type == "cuda"\nslow = device == "cpu"\nother = x == "cpu"\n')
    code = convert_source(source).code
    assert 'pin = device == "GPU"' in code and 'slow = device == "CPU"' in code
    assert 'other = x == "cpu"' in code  # not a device


def test_device_without_a_mindspore_target_is_marked():
    result = convert_source('import torch\ndevice = "xpu"\nx = torch.ones(2).to(device)\n')
    assert '# ms-migrate: torch device:' in result.code and 'device = "xpu"' in result.code
    assert any(f.action == "unsupported" and "xpu" in f.message
               for f in result.report.findings)


IS_CUDA = textwrap.dedent("""\
    import torch


    def scale(x, y):
        if x.is_cuda:
            y = y.cpu()
        if not x.is_cuda and (x.is_cuda or x.is_xpu) == False:
            y = y * 2
        return y + x.is_cuda
    """)


def test_is_cuda_asks_the_device_target_and_runs_like_torch_on_cpu():
    torch = pytest.importorskip("torch")
    mindspore = pytest.importorskip("mindspore")
    result = convert_source(IS_CUDA)
    code = result.code
    assert 'if mindspore.get_context("device_target") == "GPU":' in code
    assert "is_cuda" not in code and "is_xpu" not in code
    assert convert_source(code).code == code
    t_ns, m_ns = {}, {}
    exec(compile(IS_CUDA, "<torch>", "exec"), t_ns)
    exec(compile(code, "<ms>", "exec"), m_ns)
    x = np.arange(3, dtype=np.float32)
    expected = t_ns["scale"](torch.from_numpy(x), torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(m_ns["scale"](mindspore.Tensor(x), mindspore.Tensor(x)).asnumpy(),
                                  expected)


def test_an_is_cuda_attribute_the_file_sets_is_its_own():
    source = "import torch\n\nclass A:\n    def __init__(self):\n        self.is_cuda = True\n\ndef f(a):\n    return a.is_cuda\n"
    assert "return a.is_cuda" in convert_source(source).code
