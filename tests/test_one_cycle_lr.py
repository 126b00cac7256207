"""OneCycleLR becomes a LambdaLR that gives every parameter group torch's rate.

Each variant runs on torch and, converted, on MindSpore: the rate of every group and
get_last_lr() must agree at every step, to float32 precision. A training script that
steps the schedule per batch trains like torch; what cannot convert is left, marked.
"""
import textwrap

import numpy as np
import pytest

from ms_migrate import convert_source

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate.runtime.equivalence import PRELUDE, copy_torch_weights  # noqa: E402

RTOL = 1e-6  # MindSpore keeps the rate as a float32 Parameter

SGD = "model = nn.Linear(3, 2)\nopt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)\n"
GROUPS = ("model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))\n"
          "opt = optim.SGD([{'params': model[0].parameters()},\n"
          "                 {'params': model[1].parameters(), 'lr': 0.5}], lr=0.01)\n")
ADAM = "model = nn.Linear(3, 2)\nopt = optim.Adam(model.parameters(), lr=1e-3)\n"

VARIANTS = {
    "cos": (SGD, "OneCycleLR(opt, max_lr=0.1, total_steps=100)", 100),
    "linear": (SGD, "OneCycleLR(opt, 0.1, 60, anneal_strategy='linear')", 60),
    "three_phase": (SGD, "OneCycleLR(opt, max_lr=0.1, total_steps=80, three_phase=True)", 80),
    "three_phase_linear": (SGD, "OneCycleLR(opt, 0.02, total_steps=37, pct_start=0.45, "
                                "three_phase=True, anneal_strategy='linear')", 37),
    "epochs": (SGD + "epochs, batches = 5, 12\n",
               "OneCycleLR(opt, 0.05, epochs=epochs, steps_per_epoch=batches)", 60),
    "epochs_literal": (ADAM, "OneCycleLR(opt, 3e-3, epochs=4, steps_per_epoch=25)", 100),
    "factors": (SGD, "OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=0.25, "
                     "div_factor=10, final_div_factor=100)", 10),  # the warm-up ends at 1.5
    "short": (SGD, "OneCycleLR(opt, max_lr=0.1, total_steps=3)", 3),
    "max_lr_list": (GROUPS, "OneCycleLR(opt, max_lr=[0.01, 0.1], total_steps=50)", 50),
    "one_max_lr_for_groups": (GROUPS, "OneCycleLR(opt, max_lr=0.1, total_steps=50)", 50),
    "names": (GROUPS + "group, peak, up = 7, 0.2, 0.4\n",  # names the conversion uses
              "OneCycleLR(opt, max_lr=peak, total_steps=group * 10, pct_start=up)", 70),
    "adam_three_phase": (ADAM + "cfg = {'lr': 0.01, 'steps': 45}\n",
                         "OneCycleLR(opt, max_lr=cfg['lr'], total_steps=cfg['steps'], "
                         "three_phase=True, cycle_momentum=False)", 45),
}


def _rates(namespace, steps, torch_side):
    opt, sched = namespace["opt"], namespace["sched"]
    rates = []
    for _ in range(steps + 1):  # torch allows stepping up to total_steps
        rates.append([float(g["lr"]) for g in opt.param_groups]
                     + [float(lr) for lr in sched.get_last_lr()])
        if len(rates) <= steps:
            if torch_side:
                opt.step()  # torch wants the optimizer to step first
            sched.step()
    return np.array(rates)


def _convert(source):
    result = convert_source(source)
    assert not [f for f in result.report.findings if f.action == "unsupported"], result.code
    return result


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_rates_match_torch(variant):
    setup, call, steps = VARIANTS[variant]
    source = PRELUDE + setup + "sched = optim.lr_scheduler." + call + "\n"
    t_ns, m_ns = {}, {}
    exec(compile(source, "torch", "exec"), t_ns)
    exec(compile(_convert(source).code, "mindspore", "exec"), m_ns)
    expected, got = _rates(t_ns, steps, True), _rates(m_ns, steps, False)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=0)
    assert expected.max() > expected.min() * 10  # the schedule did move


def test_the_converted_code():
    result = _convert(textwrap.dedent("""\
        import torch

        def fit(model, loader, epochs):
            optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
            scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=100)
            per_batch = torch.optim.lr_scheduler.OneCycleLR(
                optimizer, max_lr=0.01, epochs=epochs, steps_per_epoch=len(loader),
                cycle_momentum=False)
        """))
    assert result.code == textwrap.dedent("""\
        import math
        from mindspore.experimental import optim

        def fit(model, loader, epochs):
            optimizer = optim.SGD(model.trainable_params(), lr=0.01)
            # ms-migrate: torch.optim.lr_scheduler.OneCycleLR: -> mindspore.experimental.optim.lr_scheduler.LambdaLR (a LambdaLR giving each parameter group torch's rate); the optimizer's momentum (beta1) is not cycled: MindSpore's optimizers keep the one they were built with, torch's moves it between max_momentum and base_momentum (0.95, 0.85); the rates match, the updates only with cycle_momentum=False
            scheduler = optim.lr_scheduler.LambdaLR(optimizer, [
                lambda step, group=group: (
                    0.004 + (0.1 - 0.004) * (1 - math.cos(math.pi * float(step) / 29.0)) / 2 if step <= 29.0 else
                    0.1 + (4e-07 - 0.1) * (1 - math.cos(math.pi * (float(step) - 29.0) / 70.0)) / 2
                ) / group["initial_lr"]
                for group in optimizer.param_groups])
            per_batch = optim.lr_scheduler.LambdaLR(optimizer, [
                lambda step, group=group, up=0.3 * (epochs * len(loader)) - 1, end=epochs * len(loader) - 1: (
                    0.0004 + (0.01 - 0.0004) * (1 - math.cos(math.pi * float(step) / up)) / 2 if step <= up else
                    0.01 + (4e-08 - 0.01) * (1 - math.cos(math.pi * (float(step) - up) / (end - up))) / 2
                ) / group["initial_lr"]
                for group in optimizer.param_groups])
        """)
    actions = [f.action for f in result.report.findings if "OneCycleLR" in f.api]
    assert actions == ["warning", "converted"]  # momentum cycling, by default only


@pytest.mark.parametrize("args,reason", [
    ("opt, max_lr=0.1", "needs total_steps, or epochs and steps_per_epoch"),
    ("opt, 0.1, 100, anneal_strategy=strategy", "anneal_strategy"),
    ("opt, 0.1, 100, three_phase=args.three_phase", "three_phase"),
    ("opt, 0.1, 100, div_factor=factor", "div_factor"),
    ("opt, 0.1, 100, last_epoch=start", "last_epoch"),
    ("optim.SGD(model.parameters(), lr=0.1), 0.1, 100", "optimizer as a name"),
])
def test_what_cannot_convert_stays_marked(args, reason):
    line = f"sched = optim.lr_scheduler.OneCycleLR({args})"
    result = convert_source(f"import torch.optim as optim\n{line}\n")
    assert line in result.code and "# ms-migrate: torch.optim.lr_scheduler.OneCycleLR" in result.code
    assert "LambdaLR" not in result.code and "import math" not in result.code
    assert [f.message for f in result.report.findings
            if f.action == "unsupported" and reason in f.message]


SCRIPT = PRELUDE + textwrap.dedent("""\

    def build():
        return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


    def train(model, batches, epochs):
        optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
        scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.2, epochs=epochs,
                                                  steps_per_epoch=len(batches),
                                                  cycle_momentum=False)
        criterion = nn.CrossEntropyLoss()
        rates, losses = [], []
        for epoch in range(epochs):
            for x, y in batches:
                optimizer.zero_grad()
                loss = criterion(model(x), y)
                loss.backward()
                optimizer.step()
                scheduler.step()
                rates.append(scheduler.get_last_lr()[0])
                losses.append(loss.item())
        return rates, losses
""")


def test_training_script_steps_per_batch_like_torch():
    result = _convert(SCRIPT)
    assert "OneCycleLR" not in result.code and ".backward(" not in result.code
    t_ns, m_ns = {"__name__": "script"}, {"__name__": "script"}  # MindSpore reads __name__
    exec(compile(SCRIPT, "torch", "exec"), t_ns)
    exec(compile(result.code, "mindspore", "exec"), m_ns)
    torch.manual_seed(0)
    t_model, m_model = t_ns["build"](), m_ns["build"]()
    copy_torch_weights(t_model, m_model)
    rng = np.random.default_rng(0)
    data = [(rng.standard_normal((8, 4)).astype("float32"), rng.integers(0, 3, 8))
            for _ in range(6)]
    t_rates, t_losses = t_ns["train"](
        t_model, [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in data], 4)
    m_rates, m_losses = m_ns["train"](
        m_model, [(mindspore.Tensor(x), mindspore.Tensor(y.astype("int32"))) for x, y in data], 4)
    assert len(m_rates) == 24 and all(isinstance(r, float) for r in m_rates)
    np.testing.assert_allclose(m_rates, t_rates, rtol=RTOL, atol=0)
    np.testing.assert_allclose(m_losses, t_losses, rtol=1e-4, atol=1e-5)
    for t_param, m_param in zip(t_model.parameters(), m_model.trainable_params()):
        np.testing.assert_allclose(m_param.asnumpy(), t_param.detach().numpy(),
                                   rtol=1e-4, atol=1e-5)
