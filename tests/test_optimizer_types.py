"""`torch.optim.Optimizer` as a type (annotations, isinstance) becomes MindSpore's
optimizer base class; a subclass of it (a custom optimizer) is refused with the
reason. The converted program runs the same training steps as torch's."""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402
from ms_migrate.runtime.equivalence import copy_torch_weights  # noqa: E402

PROGRAM = """\
    from typing import Optional

    import torch
    import torch.nn as nn
    import torch.optim as optim
    from torch.optim import Optimizer


    def train_one_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, data,
                        fallback: Optional[Optimizer] = None) -> list:
        if not isinstance(optimizer, (optim.Optimizer, list)):
            raise TypeError("not an optimizer")
        losses = []
        for x, y in data:
            optimizer.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return losses


    def is_optimizer(value) -> bool:
        return isinstance(value, Optimizer)
    """


def test_annotations_and_isinstance_name_mindspores_base_class():
    source = textwrap.dedent(PROGRAM)
    result = convert_source(source, "prog.py")
    assert convert_source(result.code, "prog.py").code == result.code
    assert [f for f in result.report.findings if f.action == "unsupported"] == []
    assert "torch" not in result.code
    assert "optimizer: mindspore.experimental.optim.Optimizer" in result.code
    t, m = {"__name__": "prog_torch"}, {"__name__": "prog_ms"}
    exec(compile(source, "<torch>", "exec"), t)
    exec(compile(result.code, "<ms>", "exec"), m)
    torch.manual_seed(0)
    tnet = torch.nn.Linear(3, 1)
    mnet = mindspore.nn.Dense(3, 1)
    copy_torch_weights(tnet, mnet)
    topt = torch.optim.Adam(tnet.parameters(), lr=0.1)
    mopt = mindspore.experimental.optim.Adam(mnet.trainable_params(), lr=0.1)
    assert m["is_optimizer"](mopt) and not m["is_optimizer"](mnet)
    assert t["is_optimizer"](topt) and not t["is_optimizer"](tnet)
    rng = np.random.default_rng(0)
    data = [(rng.standard_normal((4, 3)).astype(np.float32),
             rng.standard_normal((4, 1)).astype(np.float32)) for _ in range(4)]
    want = t["train_one_epoch"](tnet, topt, [(torch.tensor(x), torch.tensor(y)) for x, y in data])
    got = m["train_one_epoch"](mnet, mopt, [(mindspore.Tensor(x), mindspore.Tensor(y))
                                            for x, y in data])
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    with pytest.raises(TypeError):
        m["train_one_epoch"](mnet, mnet, [])


def test_a_custom_optimizer_class_is_refused_with_the_reason():
    source = textwrap.dedent("""\
        import torch

        class LARS(torch.optim.Optimizer):
            def __init__(self, params, lr=0.1):
                super().__init__(params, dict(lr=lr))
        """)
    result = convert_source(source, "lars.py")
    refused = [f for f in result.report.findings if f.action == "unsupported"]
    assert [f.api for f in refused] == ["torch.optim.Optimizer"]
    assert "construct(gradients)" in refused[0].message
    assert "class LARS(torch.optim.Optimizer)" in result.code
