"""The training pass as a converter: reports, names, fixed points, what it leaves alone."""
import subprocess
import sys
from pathlib import Path

import pytest

from ms_migrate import convert_source

SCRIPTS = sorted((Path(__file__).parent / "fixtures" / "training" / "scripts").glob("*.py"))

STEP = """\
import torch.nn as nn

def train(model, loader, optimizer, criterion):
    for x, y in loader:
        optimizer.zero_grad()
        out = model(x)
        loss = criterion(out, y)
        loss.backward()
        optimizer.step()
"""


def _findings(result, api):
    return [f for f in result.report.findings if f.api == api]


def test_report_lines_and_actions():
    result = convert_source(STEP, "step.py")
    (backward,) = _findings(result, "Tensor.backward")
    (step,) = _findings(result, "torch.optim.Optimizer.step")
    (zero,) = _findings(result, "torch.optim.Optimizer.zero_grad")
    assert (backward.line, step.line, zero.line) == (8, 9, 5)
    assert {backward.action, step.action, zero.action} == {"converted"}
    assert "forward_fn" in backward.message and "optimizer(grads)" in step.message


def test_unsupported_backward_is_marked_and_counted():
    source = STEP.replace("loss.backward()", "loss.backward(retain_graph=True)")
    result = convert_source(source, "step.py")
    (backward,) = _findings(result, "Tensor.backward")
    assert backward.action == "unsupported" and "retain_graph" in backward.message
    assert result.report.unsupported >= 2  # the step that depends on it too
    assert "# ms-migrate: Tensor.backward: retain_graph" in result.code
    assert "optimizer.zero_grad()" in result.code and "optimizer.step()" in result.code


def test_new_names_do_not_hide_the_users():
    source = STEP.replace("out = model(x)", "forward_fn, grads, grad_fn = 1, 2, 3\n"
                          "        out = model(x)")
    code = convert_source(source, "step.py").code
    assert "def forward_fn2(x, y):" in code
    assert "grad_fn2 = mindspore.value_and_grad(forward_fn2, None, optimizer.parameters" in code
    assert "loss, grads2 = grad_fn2(x, y)" in code and "optimizer(grads2)" in code


def test_files_without_backward_are_left_to_the_other_passes():
    source = "import torch\n\nx = torch.zeros(2)\nprint(x.grad)\n"
    result = convert_source(source, "plain.py")
    assert not _findings(result, "Tensor.grad")


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_converted_scripts_are_fixed_points(script):
    first = convert_source(script.read_text(encoding="utf-8"), script.name)
    again = convert_source(first.code, script.name)
    assert again.code == first.code
    compile(first.code, script.name, "exec")


def test_converter_imports_neither_framework():
    code = ("import sys\nfrom ms_migrate import convert_source\n"
            f"convert_source({STEP!r}, 'step.py')\n"
            "assert 'torch' not in sys.modules and 'mindspore' not in sys.modules, "
            "[m for m in sys.modules if m.split('.')[0] in ('torch', 'mindspore')]\n")
    subprocess.run([sys.executable, "-c", code], check=True)
