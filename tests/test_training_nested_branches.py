"""A training step whose backward() sits in an `if` inside the `if` that follows the
loss (`if train:` / `if use_amp:` scaled ... `else:` plain), as trainers that share one
batch function between training and evaluation write it. The forward functions are
defined before the outer `if`, whose other branch computes the loss without gradients;
clipping converts in both branches. Torch and the converted code run the same batches
(training with and without loss scaling, then evaluation) from the same weights."""
import textwrap

import numpy as np
import pytest

from ms_migrate import convert_source

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate.runtime.equivalence import copy_torch_weights  # noqa: E402

PROGRAM = textwrap.dedent('''\
    import torch


    class Trainer:
        def __init__(self, model, optimizer, use_amp=False):
            self.model = model
            self.optimizer = optimizer
            self.use_amp = use_amp
            self.scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)

        def run_batch(self, source, targets, train: bool = True) -> float:
            loss = ((self.model(source) - targets) ** 2).mean()
            if train:
                self.optimizer.zero_grad()
                if self.use_amp:
                    self.scaler.scale(loss).backward()
                    self.scaler.unscale_(self.optimizer)
                    torch.nn.utils.clip_grad_norm_(self.model.parameters(), 0.5)
                    self.scaler.step(self.optimizer)
                    self.scaler.update()
                else:
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(self.model.parameters(), 0.5)
                    self.optimizer.step()
            return loss.item()


    def run_plain(model, optimizer, x, y, train=True):
        loss = ((model(x) - y) ** 2).mean()
        if train:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return loss.item()
    ''')


def _convert():
    result = convert_source(PROGRAM, "trainer.py")
    assert not [f for f in result.report.findings if f.action == "unsupported"], result.code
    assert "torch" not in result.code
    assert convert_source(result.code, "trainer.py").code == result.code
    return result


def test_the_nested_step_converts_with_its_clipping():
    code = _convert().code
    body = code.split("def run_batch")[1].split("def run_plain")[0]
    # the definitions come before `if train:`, so that its other branch can use them
    assert body.index("grad_fn_2 = ") < body.index("if train:")
    assert body.count("ops.clip_by_global_norm(grads, 0.5)") == 2
    plain = code.split("def run_plain")[1]
    assert plain.index("grad_fn = ") < plain.index("if train:")
    assert "else:\n        loss = forward_fn(x, y)" in plain


def _pair():
    torch.manual_seed(0)
    tnet = torch.nn.Linear(3, 2)
    mnet = mindspore.nn.Dense(3, 2)
    copy_torch_weights(tnet, mnet)
    return tnet, mnet


def _check(tnet, mnet):
    np.testing.assert_allclose(mnet.weight.asnumpy(), tnet.weight.detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mnet.bias.asnumpy(), tnet.bias.detach().numpy(),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("use_amp", [False, True])
def test_torch_and_mindspore_train_and_evaluate_alike(use_amp):
    result = _convert()
    t, m = {"__name__": "trainer_torch"}, {"__name__": "trainer_ms"}
    exec(compile(PROGRAM, "<torch>", "exec"), t)
    exec(compile(result.code, "<ms>", "exec"), m)
    tnet, mnet = _pair()
    start = tnet.weight.detach().numpy().copy()
    ttrainer = t["Trainer"](tnet, torch.optim.SGD(tnet.parameters(), lr=0.5), use_amp)
    mtrainer = m["Trainer"](mnet, mindspore.experimental.optim.SGD(mnet.trainable_params(),
                                                                    lr=0.5), use_amp)
    rng = np.random.default_rng(1)
    for step in range(6):
        x = rng.standard_normal((4, 3)).astype(np.float32)
        y = (3 * rng.standard_normal((4, 2))).astype(np.float32)
        train = step != 3  # an evaluation batch in between changes nothing
        want = ttrainer.run_batch(torch.tensor(x), torch.tensor(y), train)
        got = mtrainer.run_batch(mindspore.Tensor(x), mindspore.Tensor(y), train)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        _check(tnet, mnet)
    assert np.abs(tnet.weight.detach().numpy() - start).max() > 1e-2, "the steps must move"


def test_a_plain_step_under_if_train_without_a_loop():
    result = _convert()
    t, m = {"__name__": "plain_torch"}, {"__name__": "plain_ms"}
    exec(compile(PROGRAM, "<torch>", "exec"), t)
    exec(compile(result.code, "<ms>", "exec"), m)
    tnet, mnet = _pair()
    topt = torch.optim.SGD(tnet.parameters(), lr=0.1)
    mopt = mindspore.experimental.optim.SGD(mnet.trainable_params(), lr=0.1)
    rng = np.random.default_rng(2)
    for train in (True, False, True):
        x = rng.standard_normal((4, 3)).astype(np.float32)
        y = rng.standard_normal((4, 2)).astype(np.float32)
        want = t["run_plain"](tnet, topt, torch.tensor(x), torch.tensor(y), train)
        got = m["run_plain"](mnet, mopt, mindspore.Tensor(x), mindspore.Tensor(y), train)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        _check(tnet, mnet)


BRANCHES = textwrap.dedent('''\
    import torch


    def train(model, optimizer, data, fp16):
        losses = []
        for x, y in data:
            model.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            if fp16:
                (loss * 1.0).backward()
            else:
                loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            optimizer.step()
            losses.append((loss.item(), float(grad_norm)))
        return losses
    ''')


@pytest.mark.parametrize("fp16", [False, True])
def test_a_backward_in_each_branch_runs_the_model_once(fp16):
    """Each branch differentiates its own forward function: neither computes the loss
    once more without gradients (a second forward would update batch statistics)."""
    result = convert_source(BRANCHES, "branches.py")
    assert not [f for f in result.report.findings if f.action == "unsupported"], result.code
    assert convert_source(result.code, "branches.py").code == result.code
    t, m = {"__name__": "branches_torch"}, {"__name__": "branches_ms"}
    exec(compile(BRANCHES, "<torch>", "exec"), t)
    exec(compile(result.code, "<ms>", "exec"), m)

    class TorchCounting(torch.nn.Linear):
        calls = 0

        def forward(self, x):
            TorchCounting.calls += 1
            return super().forward(x)

    class MsCounting(mindspore.nn.Dense):
        calls = 0

        def construct(self, x):
            MsCounting.calls += 1
            return super().construct(x)

    torch.manual_seed(0)
    tnet, mnet = TorchCounting(3, 2), MsCounting(3, 2)
    copy_torch_weights(tnet, mnet)
    rng = np.random.default_rng(3)
    data = [(rng.standard_normal((4, 3)).astype(np.float32),
             (3 * rng.standard_normal((4, 2))).astype(np.float32)) for _ in range(4)]
    want = t["train"](tnet, torch.optim.SGD(tnet.parameters(), lr=0.3),
                      [(torch.tensor(x), torch.tensor(y)) for x, y in data], fp16)
    got = m["train"](mnet, mindspore.experimental.optim.SGD(mnet.trainable_params(), lr=0.3),
                     [(mindspore.Tensor(x), mindspore.Tensor(y)) for x, y in data], fp16)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    _check(tnet, mnet)
    assert MsCounting.calls == TorchCounting.calls == len(data)


def test_the_grad_mode_around_the_loss_is_no_argument():
    """`with torch.set_grad_enabled(train):` around the loss goes from the forward
    function, so `train` is not passed to it."""
    source = textwrap.dedent('''\
        import torch


        def run_batch(model, optimizer, x, y, train=True):
            with torch.set_grad_enabled(train):
                loss = ((model(x) - y) ** 2).mean()
            if train:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            return loss.item()
        ''')
    result = convert_source(source, "phase.py")
    assert "def forward_fn(x, y):" in result.code, result.code
    assert "set_grad_enabled" not in result.code
    t, m = {"__name__": "phase_torch"}, {"__name__": "phase_ms"}
    exec(compile(source, "<torch>", "exec"), t)
    exec(compile(result.code, "<ms>", "exec"), m)
    tnet, mnet = _pair()
    topt = torch.optim.SGD(tnet.parameters(), lr=0.1)
    mopt = mindspore.experimental.optim.SGD(mnet.trainable_params(), lr=0.1)
    rng = np.random.default_rng(4)
    for train in (True, False, True):
        x = rng.standard_normal((4, 3)).astype(np.float32)
        y = rng.standard_normal((4, 2)).astype(np.float32)
        want = t["run_batch"](tnet, topt, torch.tensor(x), torch.tensor(y), train)
        got = m["run_batch"](mnet, mopt, mindspore.Tensor(x), mindspore.Tensor(y), train)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        _check(tnet, mnet)
