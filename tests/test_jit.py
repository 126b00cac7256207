"""`--jit`: converted training steps and models compiled with mindspore.jit.

- Without the flag the output is what it always was; with it, converting again
  changes nothing.
- Converted programs train like torch and like the PyNative conversion (same
  initial weights, same batches, losses compared step by step).
- What the graph-mode findings claim is run on MindSpore here.
"""
import importlib.util
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from ms_migrate import convert_source
from ms_migrate.cli.config import ConfigError, parse_config

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TINY_GPT = FIXTURES / "jit" / "tiny_gpt.py"
CNN = FIXTURES / "training" / "scripts" / "cnn_classifier.py"


def _graph(report):
    return [(f.line, f.action, f.message) for f in report.findings if f.api == "mindspore.jit"]


# --- the converter alone ------------------------------------------------------------
@pytest.mark.parametrize("path", [TINY_GPT, CNN, *sorted(EXAMPLES.glob("*/*.py"))],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_off_by_default_and_idempotent(path):
    source = path.read_text(encoding="utf-8")
    plain = convert_source(source, path.name)
    assert convert_source(source, path.name, jit=False).code == plain.code
    compiled = convert_source(source, path.name, jit=True)
    assert "mindspore.jit" not in plain.code
    again = convert_source(compiled.code, path.name, jit=True)
    assert again.code == compiled.code
    assert compiled.report.conversion_rate == plain.report.conversion_rate


def test_training_step_becomes_a_jit_function():
    code = convert_source(TINY_GPT.read_text(), "tiny_gpt.py", jit=True).code
    assert textwrap.dedent("""\
        @mindspore.jit
        def train_step(x, y):
            loss, grads = grad_fn(x, y)
            grads = ops.clip_by_global_norm(grads, 1.0)
            optimizer(grads)
            return loss
    """) in textwrap.dedent(code.split("grad_fn = mindspore.value_and_grad")[1].split(
        "\n", 2)[2].split("    for epoch")[0])
    assert "            loss = train_step(x, y)\n" in code
    assert "optimizer(grads)" not in code.split("def train_step")[1].split("return loss")[1]
    # only the outermost model is decorated: its layers compile with it
    assert code.count("@mindspore.jit\n    def construct") == 1
    assert "@mindspore.jit\n    def construct(self, idx)" in code


def test_steps_that_stay_pynative_say_why():
    source = textwrap.dedent("""\
        import torch

        class Trainer:
            def step(self, x, y):
                self.optimizer.zero_grad()
                loss = self.model(x, y)
                loss.backward()
                self.optimizer.step()
                return loss.item()

        def accumulate(model, optimizer, batches):
            for i, (x, y) in enumerate(batches):
                loss = model(x, y)
                loss.backward()
                if i % 2 == 1:
                    optimizer.step()
                    optimizer.zero_grad()
        """)
    result = convert_source(source, "t.py", jit=True)
    assert "mindspore.jit" not in result.code
    messages = {line: message for line, action, message in _graph(result.report)}
    assert "no loop around it in `step`" in messages[7]
    assert "gradients are accumulated" in messages[14]


def test_a_gan_keeps_its_steps_in_pynative():
    source = (EXAMPLES / "dcgan" / "train.py").read_text()
    result = convert_source(source, "train.py", jit=True)
    assert "def train_step" not in result.code
    reasons = [m for _line, _a, m in _graph(result.report)]
    assert len(reasons) == 2 and all("several optimizers step here" in m for m in reasons)


def test_config_and_cli(tmp_path):
    assert parse_config({"jit": True}, tmp_path / "pyproject.toml").jit is True
    assert parse_config({}, tmp_path / "pyproject.toml").jit is False
    with pytest.raises(ConfigError, match="'jit' must be a bool"):
        parse_config({"jit": "yes"}, tmp_path / "pyproject.toml")
    from click.testing import CliRunner

    from ms_migrate.cli.main import main
    (tmp_path / "pyproject.toml").write_text("[tool.ms-migrate]\njit = true\n")
    script = tmp_path / "train.py"
    script.write_text(TINY_GPT.read_text())
    runner = CliRunner()
    on = runner.invoke(main, ["convert", str(script), "-q"])
    off = runner.invoke(main, ["convert", str(script), "-q", "--no-jit"])
    assert on.exit_code == 0 and off.exit_code == 0
    assert "def train_step(x, y)" in on.output and "mindspore.jit" not in off.output


def test_graph_mode_findings_with_lines():
    source = textwrap.dedent("""\
        import numpy as np
        import torch.nn as nn


        class Inner(nn.Module):
            def forward(self, x):
                try:
                    y = x * 2
                except RuntimeError:
                    y = x
                return y


        class Outer(nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = Inner()

            def forward(self, x):
                s = x.sum().item()
                print("x", x)
                return self.inner(x) * np.exp(s)


        class Head(nn.Module):
            def forward(self, x):
                if x.sum() > 0:
                    return x * x.numpy().sum()
                return x

        """)
    jit = convert_source(source, "m.py", jit=True)
    found = {(line, action): message for line, action, message in _graph(jit.report)}
    assert "`try`: rejected by mindspore.jit" in found[7, "warning"]
    assert "Outer.construct not compiled: Inner has `try` (line 7)" in found[14, "warning"]
    assert "`.item()`" in found[20, "warning"]
    assert "`print(...)`" in found[21, "warning"]
    assert "`np.exp(...)`" in found[22, "warning"]
    assert "`.numpy()`" in found[28, "warning"]
    assert "Head.construct not compiled" in found[25, "warning"]
    assert not any(line == 27 for line, _action in found)  # `if` on a tensor compiles

    assert "mindspore.jit" not in jit.code
    plain = convert_source(source, "m.py")  # without the flag: the same, as information
    assert {a for _line, a, _m in _graph(plain.report)} == {"info"}
    assert plain.report.conversion_rate == jit.report.conversion_rate


# --- on MindSpore ---------------------------------------------------------------------
torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate.runtime.equivalence import copy_torch_weights  # noqa: E402


def _load(code: str, name: str, folder: Path):
    """A module from a file: mindspore.jit reads the source and finds it by name."""
    path = folder / f"{name}.py"
    path.write_text(code, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _three(path: Path, tmp_path: Path, tag: str):
    source = path.read_text(encoding="utf-8")
    torch_mod = _load(source, f"jit_torch_{tag}", tmp_path)
    pynative = _load(convert_source(source, path.name).code, f"jit_pyn_{tag}", tmp_path)
    compiled = _load(convert_source(source, path.name, jit=True).code, f"jit_jit_{tag}",
                     tmp_path)
    torch.manual_seed(0)
    t = torch_mod.build_model()
    models = [t]
    for module in (pynative, compiled):
        m = module.build_model()
        copy_torch_weights(t, m)
        models.append(m)
    return (torch_mod, pynative, compiled), models


def _batches(arrays, framework):
    if framework == "torch":
        return [tuple(torch.from_numpy(a.copy()) for a in b) for b in arrays]
    return [tuple(mindspore.Tensor(a.astype(np.int32) if a.dtype == np.int64 else a.copy())
                  for a in b) for b in arrays]


def _close(a, b, tol, what):
    for step, (x, y) in enumerate(zip(a, b)):
        assert abs(x - y) <= tol * max(1.0, abs(x)), f"{what}, step {step}: {a} vs {b}"


def test_tiny_gpt_trains_like_torch_and_pynative(tmp_path):
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 16, (4, 8, 9))
    tokens[:, :, 4:] = tokens[:, :, :5]  # the second half repeats the first: learnable
    arrays = [(t[:, :-1], t[:, 1:]) for t in tokens]
    modules, (t, p, j) = _three(TINY_GPT, tmp_path, "gpt")
    losses = [modules[0].train(t, _batches(arrays, "torch"), epochs=3),
              *(m.train(model, _batches(arrays, "ms"), epochs=3)
                for m, model in zip(modules[1:], (p, j)))]
    _close(losses[0], losses[1], 2e-3, "PyNative vs torch")
    _close(losses[0], losses[2], 2e-3, "jit vs torch")
    _close(losses[1], losses[2], 1e-4, "jit vs PyNative")
    assert np.mean(losses[2][-2:]) < 0.95 * np.mean(losses[2][:2])
    evals = [modules[0].evaluate(t, _batches(arrays, "torch")),
             *(m.evaluate(model, _batches(arrays, "ms"))
               for m, model in zip(modules[1:], (p, j)))]
    _close(evals[0], evals[2], 2e-3, "compiled evaluation vs torch")
    _close(evals[1], evals[2], 1e-4, "compiled evaluation vs PyNative")


def test_cnn_with_batchnorm_trains_like_torch_and_pynative(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 64)
    images = rng.standard_normal((64, 1, 8, 8)).astype(np.float32) * 0.5
    images.reshape(64, -1)[np.arange(64), labels] += 3.0
    arrays = [(images[i:i + 16], labels[i:i + 16].astype(np.int64)) for i in range(0, 64, 16)]
    modules, (t, p, j) = _three(CNN, tmp_path, "cnn")
    losses = [modules[0].train(t, _batches(arrays, "torch"), epochs=2),
              *(m.train(model, _batches(arrays, "ms"), epochs=2)
                for m, model in zip(modules[1:], (p, j)))]
    _close(losses[0], losses[2], 1e-3, "jit vs torch")
    _close(losses[1], losses[2], 1e-4, "jit vs PyNative")


# What the graph-mode findings say, run: a Cell whose construct holds the construct,
# trained three SGD steps compiled (whole step under mindspore.jit) and in PyNative.
_CELL = """
import numpy as np
import mindspore
from mindspore import nn, ops


class Net(nn.Cell):
    def __init__(self):
        super().__init__()
        self.fc = nn.Dense(3, 3)

    def construct(self, x):
        y = self.fc(x)
{body}
"""


def _train(body: str, tmp_path: Path, name: str, compiled: bool):
    module = _load(_CELL.format(body=textwrap.indent(textwrap.dedent(body), " " * 8)),
                   name, tmp_path)
    net = module.Net()
    net.fc.weight.set_data(mindspore.Tensor(np.eye(3, dtype=np.float32)))
    net.fc.bias.set_data(mindspore.Tensor(np.ones(3, np.float32)))
    optimizer = mindspore.nn.SGD(net.trainable_params(), learning_rate=0.1)

    def forward_fn(x):
        return (net(x) ** 2).mean()

    grad_fn = mindspore.value_and_grad(forward_fn, None, optimizer.parameters)

    def step(x):
        loss, grads = grad_fn(x)
        optimizer(grads)
        return loss

    step = mindspore.jit(step) if compiled else step
    x = mindspore.Tensor(np.arange(6, dtype=np.float32).reshape(2, 3) / 10)
    return [float(step(x)) for _ in range(3)]


@pytest.mark.parametrize("case, body, outcome", [
    ("try", "try:\n    y = y * 2\nexcept ValueError:\n    pass\nreturn y", "rejected"),
    ("del", "z = y * 2\ndel z\nreturn y", "rejected"),
    ("walrus", "if (n := y.shape[0]) > 1:\n    y = y * n\nreturn y", "rejected"),
    ("asnumpy", "s = y.asnumpy().sum()\nreturn y * (s * 0 + 1)", "no training"),
    ("tolist", "s = y.sum().tolist()\nreturn y * (s * 0 + 1)", "no training"),
    ("item", "return y * (y.sum().item() * 0 + 1)", "same"),
    ("print", "print('y', y)\nreturn y", "same"),
    ("if_tensor", "if y.sum() > 0:\n    return y * 2\nreturn y * 3", "same"),
    ("while_tensor", "while y.abs().sum() < 100:\n    y = y * 2\nreturn y", "same"),
])
def test_graph_mode_claims(case, body, outcome, tmp_path):
    eager = _train(body, tmp_path, f"claim_eager_{case}", compiled=False)
    if outcome == "rejected":
        with pytest.raises(RuntimeError, match="Unsupported (statement|expression)"):
            _train(body, tmp_path, f"claim_jit_{case}", compiled=True)
        return
    compiled = _train(body, tmp_path, f"claim_jit_{case}", compiled=True)
    if outcome == "no training":
        assert eager[2] < eager[0]  # PyNative trains
        assert compiled == [compiled[0]] * 3 and compiled[0] == pytest.approx(eager[0])
    else:
        assert compiled == pytest.approx(eager, rel=1e-5)


EXAMPLE_PROJECTS = sorted(p for p in EXAMPLES.iterdir() if (p / "train.py").exists())


@pytest.mark.parametrize("project", EXAMPLE_PROJECTS, ids=[p.name for p in EXAMPLE_PROJECTS])
def test_examples_train_under_jit(project, tmp_path):
    """Each example converted with --jit runs its own checks (the loss goes down)."""
    import os
    import subprocess
    out = tmp_path / project.name
    convert = subprocess.run([sys.executable, "-m", "ms_migrate", "convert", "--jit",
                              str(project), "-o", str(out)],
                             capture_output=True, text=True, timeout=300)
    assert convert.returncode == 0, convert.stderr
    code = "\n".join(p.read_text() for p in out.glob("*.py"))
    assert "@mindspore.jit\n    def construct" in code
    run = subprocess.run([sys.executable, "train.py"], cwd=out, capture_output=True,
                         text=True, timeout=900, env=dict(os.environ, GLOG_v="3"))
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
