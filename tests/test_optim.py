"""Optimizers and schedules in a converted script: the same gradients give the same
parameters as torch, epoch after epoch, with a scheduler and with rates written by
hand; and the step-equivalence harness does catch a wrong mapping."""
import textwrap

import numpy as np
import pytest

from ms_migrate import convert_source

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate.runtime.equivalence import Mismatch, compare, copy_torch_weights  # noqa: E402
from ms_migrate.runtime.equivalence_steps import run_steps  # noqa: E402

SCRIPT = textwrap.dedent('''\
    import torch
    import torch.nn as nn
    import torch.optim as optim

    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    optimizer = optim.SGD([{'params': model[0].parameters(), 'lr': 0.05},
                           {'params': model[2].parameters()}], lr=0.1, momentum=0.9)
    scheduler = optim.lr_scheduler.MultiStepLR(optimizer, milestones=[3, 6], gamma=0.5)

    other = nn.Linear(3, 2)
    adam = optim.Adam(other.parameters(), lr=0.01, weight_decay=0)


    def end_of_epoch(epoch):
        scheduler.step()
        if epoch % 2 == 1:  # a decay written by hand
            for group in adam.param_groups:
                group['lr'] *= 0.5
        return [optimizer.param_groups[0]['lr'], scheduler.get_last_lr()[1],
                adam.param_groups[0]['lr']]
''')


def torch_step(opt, grads):
    params = [p for group in opt.param_groups for p in group["params"]]
    for p, g in zip(params, grads):
        p.grad = torch.from_numpy(g.copy())
    opt.step()


def test_script_trains_like_torch_over_epochs():
    result = convert_source(SCRIPT, "train.py")
    assert not [f for f in result.report.findings if f.action == "unsupported"]
    t, m = {}, {}
    exec(compile(SCRIPT, "torch", "exec"), t)
    exec(compile(result.code, "mindspore", "exec"), m)
    copy_torch_weights(t["model"], m["model"])
    copy_torch_weights(t["other"], m["other"])
    rng = np.random.default_rng(0)
    t_rates, m_rates = [], []
    for epoch in range(9):
        for name in ("optimizer", "adam"):
            shapes = [tuple(p.shape) for g in t[name].param_groups for p in g["params"]]
            grads = [rng.standard_normal(s).astype("float32") for s in shapes]
            torch_step(t[name], grads)
            m[name](tuple(mindspore.Tensor(g) for g in grads))
        t_rates.append(t["end_of_epoch"](epoch))
        m_rates.append(m["end_of_epoch"](epoch))
    assert all(isinstance(r, float) for rates in m_rates for r in rates)
    np.testing.assert_allclose(m_rates, t_rates, rtol=1e-6)
    assert t_rates[-1][2] == pytest.approx(0.01 / 16)  # the hand-written decay happened
    for module in ("model", "other"):
        expected = {k: v.detach().numpy() for k, v in t[module].state_dict().items()}
        got = {k: p.asnumpy() for k, p in m[module].parameters_and_names()}
        assert expected.keys() == got.keys()
        for name in expected:
            np.testing.assert_allclose(got[name], expected[name], rtol=1e-5, atol=1e-6,
                                       err_msg=f"{module}.{name}")


def _pair(torch_code, ms_code):
    t = {"torch": torch, "nn": torch.nn, "optim": torch.optim}
    exec(torch_code, t)
    from mindspore import nn
    from mindspore.experimental import optim
    m = {"nn": nn, "optim": optim}
    exec(ms_code, m)
    return t, m


def test_harness_catches_a_wrong_optimizer_mapping():
    t, m = _pair("m = nn.Linear(3, 2)\nout = optim.SGD(m.parameters(), lr=0.1, momentum=0.9)",
                 "m = nn.Dense(3, 2)\nout = optim.SGD(m.trainable_params(), lr=0.1)")
    expected, actual = run_steps({"steps": 4}, t, m)
    with pytest.raises(Mismatch):
        compare(expected, actual)


def test_harness_catches_a_wrong_schedule():
    t, m = _pair("m = nn.Linear(2, 2)\nopt = optim.SGD(m.parameters(), lr=0.1)\n"
                 "out = optim.lr_scheduler.StepLR(opt, 3, gamma=0.5)",
                 "m = nn.Dense(2, 2)\nopt = optim.SGD(m.trainable_params(), lr=0.1)\n"
                 "out = optim.lr_scheduler.StepLR(opt, 3, gamma=0.4)")
    expected, actual = run_steps({"steps": 8}, t, m)
    assert compare(expected[:3], actual[:3]) == pytest.approx(0, abs=1e-7)  # same before
    with pytest.raises(Mismatch):
        compare(expected, actual)


@pytest.mark.parametrize("source,expected", [
    ("optim.SGD(model.parameters())", "optim.SGD(model.trainable_params(), lr=0.001)"),
    ("optim.AdamW(model.parameters(), 1e-3, (0, 0.99), weight_decay=0)",
     "optim.AdamW(model.trainable_params(), 1e-3, (0.0, 0.99), weight_decay=0.0)"),
    ("optim.Adam(model.parameters(), fused=True, foreach=False)",
     "optim.Adam(model.trainable_params())"),
])
def test_optimizer_arguments(source, expected):
    code = convert_source("import torch.optim as optim\nx = " + source + "\n").code
    assert "x = " + expected in code


@pytest.mark.parametrize("source,reason", [
    ("optim.LBFGS(model.parameters(), line_search_fn='strong_wolfe')", "line search"),
    ("optim.Adam(model.parameters(), differentiable=True)", "differentiable"),
    ("optim.NAdam(model.parameters(), maximize=True)", "maximize"),
    ("optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10, last_epoch=9)", "last_epoch"),
    ("optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1)", "cycle_momentum"),
])
def test_what_cannot_convert_is_marked(source, reason):
    result = convert_source("import torch.optim as optim\nx = " + source + "\n")
    assert "# ms-migrate:" in result.code
    assert any(reason in f.message for f in result.report.findings
               if f.action == "unsupported")
