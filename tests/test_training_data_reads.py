"""A value made from data inside a training step but from what the forward computes
(`target = torch.ones(out.size(0), 1)` after `out = model(x)`) is computed inside the
forward function, not passed in before it exists. Converted, run in torch and in
MindSpore from the same weights, and the losses compared."""
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

    def train(model, batches):
        criterion = nn.MSELoss()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        losses = []
        for x in batches:
            opt.zero_grad()
            out = model(x)
            target = torch.ones(out.size(0), 1) * 0.5
            loss = criterion(out, target)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses
    """)


def test_data_read_from_the_forward_is_computed_in_it():
    result = convert_source(PROGRAM, "prog.py")
    code = result.code
    assert convert_source(code, "prog.py").code == code
    forward = code[code.index("def forward_fn"):code.index("grad_fn =")]
    assert "target = ops.ones((out.shape[0], 1)) * 0.5" in forward
    assert "grad_fn(x)" in code
    t_ns, m_ns = {}, {"__name__": "data_reads_ms"}
    exec(compile(PROGRAM, "<torch>", "exec"), t_ns)
    exec(compile(code, "<ms>", "exec"), m_ns)
    torch.manual_seed(0)
    tm = torch.nn.Linear(3, 1)
    mm = mindspore.nn.Dense(3, 1)
    copy_torch_weights(tm, mm)
    rng = np.random.default_rng(0)
    batches = [rng.standard_normal((4, 3)).astype(np.float32) for _ in range(3)]
    expected = t_ns["train"](tm, [torch.from_numpy(b) for b in batches])
    got = m_ns["train"](mm, [mindspore.Tensor(b) for b in batches])
    np.testing.assert_allclose(got, expected, rtol=1e-5)
