"""nn.Softmax(), nn.LogSoftmax(), nn.Softmin() without dim: torch picks the axis from
the input's rank; the converted layer does too (run on 1- to 4-D inputs in both)."""
import textwrap
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402
from ms_migrate.runtime.equivalence import copy_torch_weights  # noqa: E402

SOURCE = textwrap.dedent("""\
    import torch.nn as nn


    class Heads(nn.Module):
        def __init__(self):
            super().__init__()
            self.softmax = nn.Softmax()
            self.log_softmax = nn.LogSoftmax(dim=None)
            self.softmin = nn.Softmin()
            self.aux = nn.Sequential(nn.Linear(4, 3), nn.Softmax())
            self.kept = nn.Softmax(dim=0)

        def forward(self, x):
            return self.softmax(x), self.log_softmax(x), self.softmin(x), self.kept(x)
    """)


def test_softmax_layers_without_dim_pick_the_axis_like_torch():
    result = convert_source(SOURCE, "prog.py")
    code = result.code
    assert "torch" not in code.replace("torch's", ""), code
    assert convert_source(code, "prog.py").code == code  # idempotent
    assert "SoftmaxByRank(ops.log_softmax)" in code and "nn.Softmax(axis=0)" in code
    t, m = {}, {}
    exec(compile(SOURCE, "<torch>", "exec"), t)
    exec(compile(code, "<ms>", "exec"), m)
    torch.manual_seed(0)
    theirs, ours = t["Heads"](), m["Heads"]()
    copy_torch_weights(theirs, ours)
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: "Implicit dimension choice ... deprecated"
        for shape in [(5,), (2, 5), (3, 2, 4), (2, 3, 2, 4)]:
            x = rng.standard_normal(shape).astype(np.float32)
            for a, b in zip(theirs(torch.tensor(x)), ours(mindspore.tensor(x))):
                np.testing.assert_allclose(b.asnumpy(), a.numpy(), atol=1e-5, rtol=1e-5)
        x = rng.standard_normal((6, 4)).astype(np.float32)
        np.testing.assert_allclose(ours.aux(mindspore.tensor(x)).asnumpy(),
                                   theirs.aux(torch.tensor(x)).detach().numpy(), atol=1e-5, rtol=1e-5)
