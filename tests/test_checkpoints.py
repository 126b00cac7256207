"""Checkpoints: converted save/resume code really writes and reads files, restores the
network, its BatchNorm statistics, the optimizer's state and the epoch, and training
continues exactly as torch's does after its own resume."""
from pathlib import Path

import numpy as np
import pytest

from ms_migrate import convert_source

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate.runtime.equivalence import copy_torch_weights  # noqa: E402

SOURCE = (Path(__file__).parent / "fixtures" / "checkpoints" / "resume.in.py").read_text()


def converted():
    result = convert_source(SOURCE, "resume.py")
    assert not [f for f in result.report.findings if f.action == "unsupported"]
    namespace = {}
    exec(compile(result.code, "resume_ms.py", "exec"), namespace)
    return namespace


def original():
    namespace = {}
    exec(compile(SOURCE, "resume.py", "exec"), namespace)
    return namespace


def gradients(seed, shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype("float32") for s in shapes]


def torch_step(ns, grads):
    for p, g in zip(ns["model"].parameters(), grads):
        p.grad = torch.from_numpy(g.copy())
    ns["optimizer"].step()


def ms_step(ns, grads):
    ns["optimizer"](tuple(mindspore.Tensor(g) for g in grads))


def ms_state(ns):
    params = {**ns["model"].parameters_dict(), **ns["optimizer"].parameters_dict()}
    return {name: p.asnumpy().copy() for name, p in params.items()}


def test_resume_restores_everything_and_training_continues_like_torch(tmp_path):
    t, m = original(), converted()
    with torch.no_grad():  # BatchNorm statistics that are not the defaults
        t["model"][1].running_mean.copy_(torch.tensor([0.1, -0.2, 0.3, 0.4]))
        t["model"][1].running_var.copy_(torch.tensor([1.5, 0.5, 2.0, 1.0]))
    copy_torch_weights(t["model"], m["model"])
    shapes = [tuple(p.shape) for p in t["model"].parameters()]
    for seed in (1, 2, 3):
        torch_step(t, gradients(seed, shapes))
        ms_step(m, gradients(seed, shapes))

    t["save"](str(tmp_path / "t.pt"), 4, 0.75)
    m["save"](str(tmp_path / "m.ckpt"), 4, 0.75)
    assert (tmp_path / "m.ckpt").stat().st_size > 0

    t2, m2 = original(), converted()  # fresh objects, other random weights
    assert t2["resume"](str(tmp_path / "t.pt")) == (5, 0.75)
    resumed = m2["resume"](str(tmp_path / "m.ckpt"))
    assert resumed == (5, 0.75) and type(resumed[0]) is int

    before, after = ms_state(m), ms_state(m2)
    assert before.keys() == after.keys()
    assert any(name.startswith("exp_avg.") for name in after)
    for name in before:
        np.testing.assert_array_equal(after[name], before[name], err_msg=name)

    grads = gradients(4, shapes)
    torch_step(t2, grads)
    ms_step(m2, grads)
    expected = {k: v.detach().numpy() for k, v in t2["model"].state_dict().items()}
    got = {n: p.asnumpy() for n, p in m2["model"].parameters_and_names()}
    renames = {"1.weight": "1.gamma", "1.bias": "1.beta", "1.running_mean": "1.moving_mean",
               "1.running_var": "1.moving_variance"}
    for name, value in expected.items():
        if name.endswith("num_batches_tracked"):
            continue
        np.testing.assert_allclose(got[renames.get(name, name)], value, rtol=1e-5,
                                   atol=1e-6, err_msg=name)


def test_weights_only_round_trip(tmp_path):
    m = converted()
    m["model"][1].moving_mean.set_data(mindspore.Tensor(np.arange(4, dtype="float32")))
    m["export"](str(tmp_path / "w.ckpt"))
    m2 = converted()
    m2["load_weights"](str(tmp_path / "w.ckpt"))
    for (name, a), (_, b) in zip(m["model"].parameters_and_names(),
                                 m2["model"].parameters_and_names()):
        np.testing.assert_array_equal(a.asnumpy(), b.asnumpy(), err_msg=name)


@pytest.mark.parametrize("source,reason", [
    ("torch.save({'g': G.state_dict(), 'd': D.state_dict()}, p)", "collide"),
    ("torch.save({'model': m.state_dict(), 'scheduler': scheduler.state_dict()}, p)",
     "scheduler"),
])
def test_checkpoints_that_cannot_convert_are_marked(source, reason):
    result = convert_source("import torch\n" + source + "\n")
    assert "# ms-migrate: torch.save" in result.code
    assert any(reason in f.message for f in result.report.findings
               if f.action == "unsupported")


def test_entries_of_an_in_memory_dict_are_not_flattened():
    source = ("import torch\nckpt = {'model': m.state_dict()}\n"
              "m2.load_state_dict(ckpt['model'])\n")
    assert "load_param_into_net(m2, ckpt['model'])" in convert_source(source).code


def test_state_dict_read_through_a_variable():
    source = ("import torch\ncheckpoint = torch.load('a.pth')\n"
              "state_dict = checkpoint['state_dict']\nmodel.load_state_dict(state_dict)\n"
              "step = checkpoint['global_step']\n")
    code = convert_source(source).code
    assert "state_dict = checkpoint\n" in code
    assert "step = checkpoint['global_step'].item()" in code


def test_file_names_become_ckpt_and_round_trip(tmp_path):
    m = converted()
    m["save_best"](str(tmp_path), 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best_3.ckpt", "last.ckpt"]
    m2 = converted()
    m2["load_weights"](str(tmp_path / "best_3.ckpt"))
    source = "import torch\ntorch.save(m.state_dict(), 'w.pt')\nname = 'data.tar'\n"
    code = convert_source(source).code
    assert "mindspore.save_checkpoint(m, 'w.ckpt')" in code and "'data.tar'" in code
