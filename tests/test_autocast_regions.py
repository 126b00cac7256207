"""Autocast regions no network cast stands for (inside a Cell, `enabled=` decided at
run time, a decorator, a context chosen at run time) compute in float32: converted,
run in torch and in MindSpore on the same weights and inputs, and compared."""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402
from ms_migrate.runtime.equivalence import copy_torch_weights  # noqa: E402

SOURCE = textwrap.dedent("""\
    import torch
    import torch.nn as nn
    from contextlib import nullcontext
    from torch.amp import autocast


    @autocast('cpu', enabled=False)
    def rotate(x):
        return torch.stack((-x[..., 1], x[..., 0]), -1)


    class Net(nn.Module):
        def __init__(self, use_amp):
            super().__init__()
            self.fc = nn.Linear(4, 3)
            self.use_amp = use_amp

        def forward(self, x):
            with torch.autocast('cpu', dtype=torch.bfloat16, enabled=self.use_amp):
                y = self.fc(x)
            return rotate(y.float()[..., :2])


    def train(net, batches, device_type, use_amp):
        ctx = nullcontext() if device_type == 'cpu' else torch.amp.autocast(device_type=device_type, dtype=torch.float16)
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        losses = []
        for x, y in batches:
            opt.zero_grad()
            with torch.autocast(device_type, enabled=use_amp):
                with ctx:
                    loss = ((net(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses
    """)


def test_autocast_regions_compute_in_float32_like_torch_without_autocast():
    result = convert_source(SOURCE, "prog.py")
    code = result.code
    assert "torch" not in code.replace("torch's", ""), code
    assert convert_source(code, "prog.py").code == code  # idempotent
    assert "ctx = nullcontext()\n" in code
    assert "@" not in code
    warnings = [f for f in result.report.findings if f.check == "autocast-regions"]
    assert {f.action for f in warnings} == {"converted", "warning"}
    t, m = {"__name__": "prog"}, {"__name__": "prog_ms"}
    exec(compile(SOURCE, "<torch>", "exec"), t)
    exec(compile(code, "<ms>", "exec"), m)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    for use_amp in (False, True):
        torch.manual_seed(0)
        tn, mn = t["Net"](use_amp), m["Net"](use_amp)
        copy_torch_weights(tn, mn)
        theirs = tn(torch.tensor(x)).detach().numpy()
        ours = mn(mindspore.tensor(x)).asnumpy()
        # torch's bfloat16 region rounds to 8 bits of mantissa; ours stays float32
        np.testing.assert_allclose(ours, theirs, atol=1e-5 if not use_amp else 5e-2, rtol=2e-2)
    batches = [(rng.standard_normal((6, 4)).astype(np.float32),
                rng.standard_normal((6, 2)).astype(np.float32)) for _ in range(4)]
    torch.manual_seed(0)
    tn, mn = t["Net"](False), m["Net"](False)
    copy_torch_weights(tn, mn)
    theirs = t["train"](tn, [(torch.tensor(a), torch.tensor(b)) for a, b in batches], "cpu", False)
    ours = m["train"](mn, [(mindspore.tensor(a), mindspore.tensor(b)) for a, b in batches], "cpu", False)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    assert theirs[-1] < theirs[0]
