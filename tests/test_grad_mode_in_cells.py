"""no_grad blocks in a Cell's forward that MindSpore would differentiate: values
assigned to tuples, a layer switched to eval inside, and a no_grad chosen by a
condition (`ctx = torch.no_grad if freeze else nullcontext; with ctx(): ...`). Converted,
run in torch and MindSpore from the same weights, outputs and gradients compared."""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402
from ms_migrate.runtime.equivalence import copy_torch_weights  # noqa: E402

PROGRAM = textwrap.dedent("""\
    import torch
    import torch.nn as nn
    from contextlib import nullcontext

    class Frozen(nn.Module):
        def __init__(self):
            super().__init__()
            self.teacher = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5))
            self.student = nn.Linear(3, 4)

        def forward(self, x, freeze=True):
            with torch.no_grad():
                self.teacher.eval()
                one, two = self.teacher(x).chunk(2, dim=0)

            # the trunk is trained unless frozen
            context = torch.no_grad if freeze else nullcontext

            with context():
                embed, hidden = self.student(x).chunk(2, dim=1)
                doubled = embed * 2
            return (one * two).sum() + (doubled * hidden).sum() + self.student(x).pow(2).sum()
    """)


def test_no_grad_blocks_in_a_cell_stop_the_gradients_they_stopped():
    result = convert_source(PROGRAM, "prog.py")
    code = result.code
    assert convert_source(code, "prog.py").code == code  # idempotent
    assert not [f for f in result.report.findings if f.action == "unsupported"]
    t_ns, m_ns = {}, {"__name__": "grad_mode_ms"}
    exec(compile(PROGRAM, "<torch>", "exec"), t_ns)
    exec(compile(code, "<ms>", "exec"), m_ns)
    torch.manual_seed(0)
    tm, mm = t_ns["Frozen"](), m_ns["Frozen"]()
    copy_torch_weights(tm, mm)
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    for freeze in (True, False):
        tm.zero_grad()
        loss = tm(torch.from_numpy(x), freeze)
        loss.backward()
        expected = [p.grad.numpy() if p.grad is not None else np.zeros(p.shape, np.float32)
                    for p in tm.parameters()]
        mm.set_train()
        value, grads = mindspore.value_and_grad(lambda t: mm(t, freeze), None,
                                                mm.trainable_params())(mindspore.Tensor(x))
        np.testing.assert_allclose(float(value), loss.item(), rtol=1e-5)
        for a, b in zip(expected, grads):
            np.testing.assert_allclose(b.asnumpy(), a, rtol=1e-5, atol=1e-5)
