"""Whole training scripts, converted and run on CPU against the torch originals.

Each script in fixtures/training/scripts/ is an ordinary PyTorch training program
with a `train(...)` function. The test converts it, builds the model in both
frameworks, loads the torch initial weights into the MindSpore model, feeds both
the same synthetic batches, and checks that:
- the conversion reports nothing unsupported;
- the losses of the first steps match torch's (deterministic scripts; tolerance
  per test, relative to max(1, |loss|): the two frameworks' kernels round
  differently and the difference grows with every update);
- the loss goes down.
"""
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402
from ms_migrate.runtime.equivalence import copy_torch_weights  # noqa: E402

STRICT = True
SCRIPTS = Path(__file__).parent / "fixtures" / "training" / "scripts"


class Script:
    """A training script and its conversion, each executed as a module."""

    def __init__(self, name: str):
        source = (SCRIPTS / f"{name}.py").read_text(encoding="utf-8")
        result = convert_source(source, f"{name}.py")
        problems = [f"{f.line}: {f.api}: {f.message}" for f in result.report.findings
                    if f.action == "unsupported"]
        assert STRICT is False or not problems, "not converted:\n" + "\n".join(problems)
        self.code = result.code
        self.torch = _execute(source, name)
        self.mindspore = _execute(result.code, f"{name}_ms")


def _execute(code: str, name: str) -> dict:
    namespace = {"__name__": name}
    exec(compile(code, f"<{name}>", "exec"), namespace)
    return namespace


def _tensors(batches, framework):
    """The same numpy batches as torch or MindSpore tensors.

    Class indices go to MindSpore as int32, as its data pipeline delivers them (its
    losses take no int64 labels on CPU).
    """
    if framework == "torch":
        return [tuple(torch.from_numpy(a.copy()) for a in batch) for batch in batches]
    return [tuple(mindspore.Tensor(a.astype(np.int32) if a.dtype == np.int64 else a.copy())
                  for a in batch) for batch in batches]


def _same_model(script: Script, build: str = "build_model"):
    torch.manual_seed(0)
    torch_model = script.torch[build]()
    ms_model = script.mindspore[build]()
    if isinstance(torch_model, tuple):
        for t, m in zip(torch_model, ms_model):
            copy_torch_weights(t, m)
    else:
        copy_torch_weights(torch_model, ms_model)
    return torch_model, ms_model


def _assert_close(torch_losses, ms_losses, steps: int, tol: float):
    for step, (a, b) in enumerate(zip(torch_losses[:steps], ms_losses[:steps])):
        assert abs(a - b) <= tol * max(1.0, abs(a)), (
            f"step {step}: torch loss {a:.6f}, MindSpore loss {b:.6f} (tolerance {tol})\n"
            f"torch: {torch_losses[:steps]}\nMindSpore: {ms_losses[:steps]}")


def _assert_learns(losses, factor: float):
    start, end = np.mean(losses[:2]), np.mean(losses[-2:])
    assert end < factor * start, f"loss did not go down: {losses}"


def _classes(rng, n, shape, classes):
    """Inputs whose class is readable from them: learnable in a few steps."""
    labels = rng.integers(0, classes, size=n)
    x = rng.standard_normal((n, *shape)).astype(np.float32) * 0.5
    flat = x.reshape(n, -1)
    flat[np.arange(n), labels] += 3.0
    return x, labels.astype(np.int64)


def test_cnn_classifier():
    script = Script("cnn_classifier")
    rng = np.random.default_rng(0)
    images, labels = _classes(rng, 64, (1, 8, 8), 4)
    batches = [(images[i:i + 16], labels[i:i + 16]) for i in range(0, 64, 16)]
    torch_model, ms_model = _same_model(script)
    torch_losses = script.torch["train"](torch_model, _tensors(batches, "torch"), epochs=3)
    ms_losses = script.mindspore["train"](ms_model, _tensors(batches, "ms"), epochs=3)
    _assert_close(torch_losses, ms_losses, steps=4, tol=1e-3)
    _assert_learns(ms_losses, 0.7)


def test_lstm_language_model():
    script = Script("lstm_lm")
    # A repeating token stream: the next token is predictable.
    stream = (np.arange(4 * 41).reshape(4, 41) * 3 + np.arange(4)[:, None] * 7) % 20
    batches = [(stream[:, i:i + 10], stream[:, i + 1:i + 11]) for i in range(0, 40, 10)]
    torch_model, ms_model = _same_model(script)
    torch_losses = script.torch["train"](torch_model, _tensors(batches, "torch"), epochs=3)
    ms_losses = script.mindspore["train"](ms_model, _tensors(batches, "ms"), epochs=3)
    _assert_close(torch_losses, ms_losses, steps=4, tol=1e-3)
    _assert_learns(ms_losses, 0.5)


def test_vae_loss_goes_down():
    script = Script("vae")
    rng = np.random.default_rng(1)
    patterns = (rng.random((4, 16)) > 0.5).astype(np.float32)
    data = patterns[rng.integers(0, 4, size=64)]
    batches = [(data[i:i + 16],) for i in range(0, 64, 16)]
    torch_model, ms_model = _same_model(script)
    ms_losses = script.mindspore["train"](ms_model, _tensors(batches, "ms"), epochs=6)
    torch_losses = script.torch["train"](torch_model, _tensors(batches, "torch"), epochs=6)
    # The reparameterisation samples noise: the frameworks' losses differ from step 1.
    assert abs(ms_losses[0] - torch_losses[0]) < 0.1 * torch_losses[0]
    _assert_learns(ms_losses, 0.8)


def test_gan_two_optimizers():
    script = Script("gan")
    rng = np.random.default_rng(2)
    batches = [(rng.standard_normal((32, 2)) * 0.1 + 2.0).astype(np.float32) for _ in range(40)]
    noises = [rng.standard_normal((32, 4)).astype(np.float32) for _ in range(40)]
    (tg, td), (mg, md) = _same_model(script, "build_models")
    probe = mindspore.Tensor(noises[0])
    before = float(mg(probe).asnumpy().mean())
    torch_d, torch_g = script.torch["train"](tg, td, [torch.from_numpy(b) for b in batches],
                                             [torch.from_numpy(z) for z in noises])
    ms_d, ms_g = script.mindspore["train"](mg, md, [mindspore.Tensor(b) for b in batches],
                                           [mindspore.Tensor(z) for z in noises])
    _assert_close(torch_d, ms_d, steps=5, tol=1e-4)
    _assert_close(torch_g, ms_g, steps=5, tol=1e-4)
    # The generator moves its points towards the data (centred on 2.0).
    after = float(mg(probe).asnumpy().mean())
    assert abs(after - 2.0) < 0.75 * abs(before - 2.0), (before, after)


def test_train_and_evaluate_functions():
    script = Script("train_eval")
    rng = np.random.default_rng(3)
    x, y = _classes(rng, 96, (10,), 3)
    batches = [(x[i:i + 32], y[i:i + 32]) for i in range(0, 96, 32)]
    torch_model, ms_model = _same_model(script)
    torch_losses, torch_acc = script.torch["train"](torch_model, _tensors(batches, "torch"))
    ms_losses, ms_acc = script.mindspore["train"](ms_model, _tensors(batches, "ms"))
    _assert_close(torch_losses, ms_losses, steps=6, tol=1e-4)
    assert ms_acc[0] == torch_acc[0]
    assert ms_acc[-1] > ms_acc[0] and ms_acc[-1] >= 0.9
    _assert_learns(ms_losses, 0.5)


def test_trainer_class_with_accumulation():
    script = Script("trainer")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((64, 6)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True) * 0.5
    batches = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]
    torch_model, ms_model = _same_model(script)
    torch_losses, torch_val = script.torch["train"](torch_model, _tensors(batches, "torch"))
    ms_losses, ms_val = script.mindspore["train"](ms_model, _tensors(batches, "ms"))
    _assert_close(torch_losses, ms_losses, steps=8, tol=1e-4)
    _assert_close(torch_val, ms_val, steps=3, tol=1e-4)
    assert ms_val[-1] < 0.7 * ms_val[0]
