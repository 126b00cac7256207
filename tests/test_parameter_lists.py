"""`nn.ParameterList` (appended in a loop, nested, built from a comprehension, imported
by name): a small Cell written into the converted file. Parameter names are torch's;
torch and MindSpore compared on the same weights: outputs and gradients."""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402
from ms_migrate.runtime.equivalence import copy_torch_weights  # noqa: E402

PROGRAM = textwrap.dedent("""\
    import torch
    from torch import nn
    from torch.nn import Module, ParameterList

    class Stages(Module):
        def __init__(self, dim=3, depth=2):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(dim, dim) for _ in range(depth)])
            self.tokens = nn.ParameterList([])
            self.scales = nn.ParameterList([])
            for i in range(depth):
                self.tokens.append(nn.Parameter(torch.randn(2, dim)))
                self.scales.append(nn.ParameterList([
                    nn.Parameter(torch.ones(dim) * (i + 1)),
                    nn.Parameter(torch.ones(dim) * 0.5),
                ]))
            self.slots = ParameterList([nn.Parameter(torch.randn(n, dim)) for n in (1, 2)])

        def forward(self, x):
            for layer, token, (alpha, beta) in zip(self.layers, self.tokens, self.scales):
                x = layer(x) * alpha + token.sum(0) * beta
            return x.sum(1) + self.tokens[-1].mean() + sum(p.sum() for p in self.slots) * len(self.slots)
    """)


def test_parameter_lists_keep_names_values_and_gradients():
    result = convert_source(PROGRAM, "prog.py")
    code = result.code
    assert convert_source(code, "prog.py").code == code  # idempotent
    assert "self.tokens = ParameterList([])" in code and "class ParameterList(mindspore.nn.Cell)" in code
    assert "import torch" not in code and "from torch" not in code
    assert not [f for f in result.report.findings if f.action == "unsupported"]
    t_ns, m_ns = {}, {"__name__": "parameter_lists_ms"}
    exec(compile(PROGRAM, "<torch>", "exec"), t_ns)
    exec(compile(code, "<ms>", "exec"), m_ns)
    torch.manual_seed(0)
    tm, mm = t_ns["Stages"](), m_ns["Stages"]()
    assert [p.name for p in mm.trainable_params()] == [n for n, _ in tm.named_parameters()]
    copy_torch_weights(tm, mm)
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    out = tm(torch.from_numpy(x))
    out.sum().backward()
    value, grads = mindspore.value_and_grad(lambda t: mm(t).sum(), None,
                                            mm.trainable_params())(mindspore.Tensor(x))
    np.testing.assert_allclose(float(value), out.sum().item(), rtol=1e-5)
    for p, g in zip(tm.parameters(), grads):
        np.testing.assert_allclose(g.asnumpy(), p.grad.numpy(), rtol=1e-5, atol=1e-6)
