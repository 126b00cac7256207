"""In-place functions (`torch.abs_(x)`, `F.hardtanh_(x)`, `torch.rrelu_(x)`) write into
their input: another name for the same tensor sees the change. A tensor made in the
same expression (`torch.tensor([...]).cos_()`) has no other name: its in-place call
is the out-of-place one. Programs run on both frameworks and are compared."""
import pytest

from ms_migrate import convert_source
from ms_migrate.runtime.equivalence import compare

pytest.importorskip("torch")
pytest.importorskip("mindspore")

PRELUDE = "import torch\nimport torch.nn.functional as F\n"
X = "x = torch.tensor([[-1.5, 0.25, 2.0], [0.5, -0.75, 3.0]])\nalias = x\n"
CASES = [
    (X + "out = torch.abs_(x)", "ops.assign(x, ops.abs(x))"),
    (X + "out = torch.clamp_(x, min=-0.5, max=0.5)", "ops.assign(x, ops.clamp(x, min=-0.5, max=0.5))"),
    (X + "out = F.hardtanh_(x, -0.5, 0.5)", "ops.assign(x, ops.hardtanh(x, -0.5, 0.5))"),
    (X + "out = torch.rrelu_(x, 0.1, 0.3)", "ops.assign(x, ops.leaky_relu(x, (0.1 + 0.3) / 2))"),
    (X + "out = torch.tensor([0.25, -0.5], dtype=torch.float64).cos_()",
     "out = mindspore.tensor([0.25, -0.5], dtype=mindspore.float64).cos()"),
    (X + "out = torch.floor_(torch.tensor([-2.2, 0.0, 3.3]))",
     "out = ops.floor(mindspore.tensor([-2.2, 0.0, 3.3]))"),
]


def _run(code):
    namespace = {}
    exec(compile(code, "<inplace>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("body,expected", CASES, ids=[b.splitlines()[-1] for b, _ in CASES])
def test_in_place_functions_run_like_torch(body, expected):
    source = PRELUDE + body + "\n"
    converted = convert_source(source, "<test>")
    assert "torch" not in converted.code, converted.code
    assert expected in converted.code, converted.code
    theirs, ours = _run(source), _run(converted.code)
    for name in ("out", "x", "alias"):
        compare(theirs[name], ours[name])


@pytest.mark.parametrize("line", [
    "out = torch.tensor([1.0, -2.0]).gt_(0)",      # keeps the receiver's dtype in torch
    "out = torch.abs_(x[0])",                        # a view: the write would go to a copy
    "out = torch.rrelu(x, training=flag)",           # random or not: unknown here
])
def test_forms_that_cannot_be_written_are_marked(line):
    source = PRELUDE + X + "flag = True\n" + line + "\n"
    converted = convert_source(source, "<test>")
    assert line.split("=", 1)[1].strip() in converted.code, converted.code
    assert any(f.action == "unsupported" for f in converted.report.findings)


def test_a_dropped_dense_layout_leaves_no_note_and_no_torch_import():
    source = "import torch\nx = torch.ones(2, 3, layout=torch.strided)\n"
    converted = convert_source(source, "<test>")
    assert "torch" not in converted.code and "ms-migrate" not in converted.code, converted.code
    sparse = "import torch\nx = torch.ones(2, 3, layout=torch.sparse_coo)\n"
    converted = convert_source(sparse, "<test>")
    assert "torch.ones(2, 3, layout=torch.sparse_coo)" in converted.code, converted.code


@pytest.mark.parametrize("line,expected", [
    ("x.unsqueeze_(0)\nout = x", "x = x.unsqueeze(0)"),
    ("out = x.t_()", "x = out = x.t()"),
    ("out = x.transpose_(dim0=1, dim1=0)", "x = out = x.swapaxes(axis0=1, axis1=0)"),
    ("x.squeeze_()\nout = x.squeeze_(0)", "x = out = x.squeeze(0)"),
    ("x.detach_()\nout = x * 2", "x = ops.stop_gradient(x)"),
])
def test_shape_changing_in_place_methods_rebind_the_name(line, expected):
    source = PRELUDE + "x = torch.tensor([[-1.5, 0.25, 2.0]])\n" + line + "\n"
    converted = convert_source(source, "<test>")
    assert "torch" not in converted.code, converted.code
    assert expected in converted.code, converted.code
    assert any("rebound" in f.message for f in converted.report.findings)
    assert convert_source(converted.code, "<again>").code == converted.code
    theirs, ours = _run(source), _run(converted.code)
    for name in ("out", "x"):
        compare(theirs[name], ours[name])


def test_a_global_tensor_reshaped_in_a_function_is_marked():
    source = PRELUDE + "x = torch.zeros(2, 1)\ndef f():\n    x.squeeze_()\n"
    converted = convert_source(source, "<test>")
    assert "x.squeeze_()" in converted.code
    assert any(f.action == "unsupported" for f in converted.report.findings)
