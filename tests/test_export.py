"""Export for inference: a traced torch model saved and loaded back becomes a Cell
exported with mindspore.export and run again as nn.GraphCell, with the same outputs."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from ms_migrate import convert_source

PROGRAM = '''
import numpy as np
import torch
import torch.nn as nn


class Attention(nn.Module):
    def __init__(self, d=8, heads=2):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        q = q.view(b, t, self.heads, -1).transpose(1, 2)
        k = k.view(b, t, self.heads, -1).transpose(1, 2)
        v = v.view(b, t, self.heads, -1).transpose(1, 2)
        att = torch.softmax(q @ k.transpose(-2, -1) / 2.0, dim=-1)
        return self.out((att @ v).transpose(1, 2).reshape(b, t, d))


model = Attention()
model.eval()
x = torch.from_numpy(np.random.default_rng(0).standard_normal((2, 5, 8)).astype("float32"))
traced = torch.jit.trace(model, (x,))
traced.save("attention.pt")
loaded = torch.jit.load("attention.pt")
np.save("direct.npy", model(x).detach().numpy())
np.save("loaded.npy", loaded(x).detach().numpy())
'''


def test_traced_model_converts_to_export_and_graph_cell():
    result = convert_source(textwrap.dedent(PROGRAM), "export.py")
    code = result.code
    assert "torch" not in code
    assert 'mindspore.export(traced, x, file_name="attention.pt", file_format="MINDIR")' in code
    assert 'mindspore.nn.GraphCell(mindspore.load("attention.pt.mindir"))' in code
    assert convert_source(code, "export.py").code == code


def _run(folder, code):
    (folder / "program.py").write_text(code)
    done = subprocess.run([sys.executable, "program.py"], cwd=folder, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


def test_exported_mindir_gives_the_cells_outputs(tmp_path):
    pytest.importorskip("mindspore")
    torch_dir, ms_dir = tmp_path / "torch", tmp_path / "ms"
    torch_dir.mkdir()
    ms_dir.mkdir()
    pytest.importorskip("torch")
    _run(torch_dir, textwrap.dedent(PROGRAM))
    _run(ms_dir, convert_source(textwrap.dedent(PROGRAM), "export.py").code)
    assert (ms_dir / "attention.pt.mindir").stat().st_size > 0
    direct, loaded = np.load(ms_dir / "direct.npy"), np.load(ms_dir / "loaded.npy")
    np.testing.assert_allclose(loaded, direct, rtol=1e-5, atol=1e-6)
    # the torch program's own round trip, for the same shapes
    assert np.load(torch_dir / "loaded.npy").shape == loaded.shape


def test_onnx_export_writes_an_onnx_file(tmp_path):
    pytest.importorskip("mindspore")
    program = textwrap.dedent('''
        import torch
        import torch.nn as nn

        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        x = torch.randn(3, 4)
        torch.onnx.export(model, x, "mlp.onnx", input_names=["x"], opset_version=13)
    ''')
    result = convert_source(program, "onnx.py")
    assert "torch" not in result.code
    assert 'file_format="ONNX"' in result.code
    messages = [f.message for f in result.report.findings if f.api == "torch.onnx.export"]
    assert "without input_names, opset_version" in messages[0]
    _run(tmp_path, result.code)
    data = (tmp_path / "mlp.onnx").read_bytes()
    assert b"MindSpore" in data and data.count(b"Gemm") >= 2  # ONNX: both Linear layers


def test_compile_decorators_go_and_the_function_stays():
    source = textwrap.dedent('''
        import torch


        @torch.jit.script
        def gelu(x):
            return x * torch.sigmoid(1.702 * x)


        @torch.compile(mode="max-autotune")
        def double(x):
            return x * 2

        fast = torch.compile(double)
    ''')
    code = convert_source(source, "f.py").code
    assert "@" not in code and "torch" not in code
    assert "fast = double" in code
    assert convert_source(code, "f.py").code == code


def test_saving_a_scripted_module_without_inputs_stays_marked():
    source = textwrap.dedent('''
        import torch

        scripted = torch.jit.script(model)
        torch.jit.save(scripted, "m.pt")
    ''')
    result = convert_source(source, "s.py")
    assert "# ms-migrate: torch.jit.save: mindspore.export needs the model's example inputs" in result.code
    assert [f.action for f in result.report.findings if f.api == "torch.jit.save"] == ["unsupported"]
