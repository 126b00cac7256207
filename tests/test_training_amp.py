"""Mixed precision: a converted AMP training script, run on CPU beside torch's.

fixtures/training/amp_cnn_script.py trains a small CNN under
`torch.autocast(float16)` with a GradScaler, unscale_ and clipping. Converted, the
network is cast with amp.auto_mixed_precision(net, "O1") (its convolutions and
Dense layers compute in float16 on CPU in MindSpore 2.10) and the step uses a
DynamicLossScaler. Both run from the same weights on the same batches; torch's
GradScaler runs on CPU too ("cpu" device), so the loss-scale rule is compared
step for step: growth after the window, a skipped step and a smaller scale after
non-finite gradients, and the float16 overflow a too-large scale causes.
"""
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402
from ms_migrate.runtime.equivalence import copy_torch_weights  # noqa: E402

SCRIPT = Path(__file__).parent / "fixtures" / "training" / "amp_cnn_script.py"


@pytest.fixture(scope="module")
def script(tmp_path_factory):
    source = SCRIPT.read_text(encoding="utf-8")
    result = convert_source(source, SCRIPT.name)
    problems = [f"{f.line}: {f.api}: {f.message}" for f in result.report.findings
                if f.action == "unsupported"]
    assert not problems, "not converted:\n" + "\n".join(problems)
    assert 'amp.auto_mixed_precision(model, "O1")' in result.code
    # auto_mixed_precision reads the network's source: the converted script is a file
    folder = tmp_path_factory.mktemp("amp")
    (folder / "amp_torch.py").write_text(source, encoding="utf-8")
    (folder / "amp_ms.py").write_text(result.code, encoding="utf-8")
    import mindspore
    # The script selects its device at start-up, as a fresh process may; inside a test
    # worker that has run kernels already MindSpore refuses that, and it is CPU anyway.
    original_set_device = mindspore.set_device
    mindspore.set_device = lambda *args, **kwargs: None
    try:
        return _load(folder / "amp_torch.py"), _load(folder / "amp_ms.py")
    finally:
        mindspore.set_device = original_set_device


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    # auto_mixed_precision(O1) writes each rewritten network to ./rewritten_network/
    monkeypatch.chdir(tmp_path)


def _load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def _batches(steps, seed=0, poison=None):
    """Separable synthetic images: the class sets which quadrant is bright.
    `poison`: the step whose batch holds an infinity (non-finite gradients)."""
    rng = np.random.default_rng(seed)
    batches = []
    for step in range(steps):
        y = rng.integers(0, 4, 16)
        x = rng.normal(0, 0.3, (16, 1, 16, 16)).astype(np.float32)
        for i, c in enumerate(y):
            r, q = divmod(int(c), 2)
            x[i, 0, r * 8:(r + 1) * 8, q * 8:(q + 1) * 8] += 1.0
        if step == poison:
            x[0, 0, 0, 0] = np.inf
        batches.append((x, y))
    return batches


def _run(script, batches, **options):
    """Train both from the same weights; (torch losses, scaler, model), (MindSpore ...)."""
    torch_ns, ms_ns = script
    torch.manual_seed(0)
    torch_model, ms_model = torch_ns.build_model(), ms_ns.build_model()
    copy_torch_weights(torch_model, ms_model)
    torch_ns.DEVICE = "cpu"  # torch's autocast and GradScaler, on CPU
    t_losses, t_scaler = torch_ns.train(
        torch_model, [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches], **options)
    m_losses, m_scaler = ms_ns.train(
        ms_model, [(mindspore.Tensor(x), mindspore.Tensor(y.astype(np.int32)))
                   for x, y in batches], **options)
    return (t_losses, t_scaler, torch_model), (m_losses, m_scaler, ms_model)


def _ms_scale(scaler):
    return float(scaler.scale_value.asnumpy())


def _weights(model):
    if isinstance(model, torch.nn.Module):
        return [p.detach().numpy().copy() for p in model.parameters()]
    return [p.asnumpy().copy() for p in model.trainable_params()]


def test_loss_goes_down_and_follows_torch(script):
    (t_losses, t_scaler, _), (m_losses, m_scaler, _) = _run(script, _batches(12))
    # Both compute in float16 where autocast/O1 do: the losses differ by float16
    # rounding, which grows with the updates
    # (measured: within 1e-3 over these 12 steps)
    for t, m in zip(t_losses[:8], m_losses[:8]):
        assert abs(t - m) < 1e-2 * max(1.0, abs(t)), (t_losses, m_losses)
    assert np.mean(m_losses[-3:]) < 0.5 * np.mean(m_losses[:3]), m_losses
    assert _ms_scale(m_scaler) == t_scaler.get_scale() == 2.0**16  # window not reached


def test_scale_grows_after_the_window(script):
    (_, t_scaler, _), (_, m_scaler, _) = _run(script, _batches(7), scale_window=3, init_scale=4.0)
    assert t_scaler.get_scale() == 16.0  # grown after steps 3 and 6
    assert _ms_scale(m_scaler) == t_scaler.get_scale()


def test_non_finite_gradients_skip_the_step_and_shrink_the_scale(script):
    # Step 2 holds an infinity: its gradients are NaN, the step is skipped and the
    # scale halves; the window count restarts, so no growth in the next two steps.
    batches = _batches(5, poison=2)
    options = dict(scale_window=3, init_scale=4.0)
    torch_run, ms_run = _run(script, batches[:2], **options)
    (torch_ns, ms_ns), poisoned = script, batches[2:3]
    # The same models go on with the poisoned batch alone: compared with themselves,
    # not with a second run (float16 CPU kernels need not repeat to the last bit)
    for ns, model, batch in ((ms_ns, ms_run[2], [(mindspore.Tensor(x), mindspore.Tensor(
            y.astype(np.int32))) for x, y in poisoned]), (torch_ns, torch_run[2], [
            (torch.from_numpy(x), torch.from_numpy(y)) for x, y in poisoned])):
        before = _weights(model)
        losses, _ = ns.train(model, batch, **options)
        assert np.isnan(losses[0])
        for a, b in zip(before, _weights(model)):
            np.testing.assert_array_equal(a, b)  # the poisoned step changed nothing
    torch_run, ms_run = _run(script, batches[:3], **options)
    assert np.isnan(ms_run[0][2]) and np.isnan(torch_run[0][2])
    assert _ms_scale(ms_run[1]) == torch_run[1].get_scale() == 2.0
    torch_run, ms_run = _run(script, batches, **options)
    assert _ms_scale(ms_run[1]) == torch_run[1].get_scale() == 2.0
    assert int(ms_run[1].counter.asnumpy()) == 2
    assert all(np.isfinite(ms_run[0][i]) for i in (0, 1, 3, 4))


def test_float16_overflow_backs_the_scale_off(script):
    # A scale of 2**40 overflows float16 gradients inside the cast layers: steps
    # are skipped and the scale halves until the gradients fit, as torch does.
    (t_losses, t_scaler, _), (m_losses, m_scaler, _) = _run(
        script, _batches(40), init_scale=2.0**40)
    assert _ms_scale(m_scaler) < 2.0**40 and t_scaler.get_scale() < 2.0**40
    skipped_ms = np.log2(2.0**40 / _ms_scale(m_scaler))
    skipped_torch = np.log2(2.0**40 / t_scaler.get_scale())
    # (measured: both settle at 2**17 after 23 skipped steps)
    assert abs(skipped_ms - skipped_torch) <= 1, (skipped_ms, skipped_torch)
    assert m_losses[-1] < m_losses[0]
