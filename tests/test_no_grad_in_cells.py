"""no_grad inside a Cell's forward where ops.stop_gradient of assigned values does
not say it (a decorator on the forward, tuple results, in-place parameter updates,
the class chosen at run time): mindspore._no_grad, run against torch, gradients
included."""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402
from ms_migrate.runtime.equivalence import copy_torch_weights  # noqa: E402

SOURCE = textwrap.dedent("""\
    from contextlib import nullcontext

    import torch
    import torch.nn as nn


    class Teacher(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        @torch.no_grad()
        def forward(self, x):
            return self.fc(x)


    class Student(nn.Module):
        def __init__(self, frozen):
            super().__init__()
            self.encoder = nn.Linear(4, 4)
            self.teacher = Teacher()
            self.scale = nn.Parameter(torch.ones(4) * 2)
            self.frozen = frozen

        def pick(self):
            return self.encoder

        def forward(self, x):
            with torch.no_grad():
                encoder = self.pick()
                a, b = encoder(x), self.teacher(x)
                self.scale.copy_(self.scale / self.scale.norm())
            context = torch.no_grad if self.frozen else nullcontext
            with context():
                c = self.encoder(x * self.scale)
            return (a * b + c + self.encoder(x)).sum()
    """)


def test_no_grad_in_a_cell_stops_gradients_like_torch():
    result = convert_source(SOURCE, "prog.py")
    code = result.code
    assert "import torch" not in code, code
    assert convert_source(code, "prog.py").code == code  # idempotent
    assert "@mindspore._no_grad()" in code and "with mindspore._no_grad():" in code
    assert "context = mindspore._no_grad if self.frozen else nullcontext" in code
    t, m = {}, {}
    exec(compile(SOURCE, "<torch>", "exec"), t)
    exec(compile(code, "<ms>", "exec"), m)
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    for frozen in (True, False):
        torch.manual_seed(0)
        theirs, ours = t["Student"](frozen), m["Student"](frozen)
        copy_torch_weights(theirs, ours)
        loss = theirs(torch.tensor(x))
        loss.backward()
        their_grads = {n: (p.grad.numpy() if p.grad is not None else np.zeros(p.shape))
                       for n, p in theirs.named_parameters()}
        params = ours.trainable_params()
        value, grads = mindspore.value_and_grad(ours, None, params)(mindspore.tensor(x))
        np.testing.assert_allclose(value.asnumpy(), loss.item(), rtol=1e-5)
        for p, g in zip(params, grads):
            name = p.name.replace("encoder.weight", "encoder.weight")
            np.testing.assert_allclose(g.asnumpy(), their_grads[name], atol=1e-5, err_msg=name)
        np.testing.assert_allclose(ours.scale.asnumpy(), theirs.scale.detach().numpy(), atol=1e-6)


def test_no_grad_class_as_a_value_outside_a_cell_is_nullcontext():
    result = convert_source(textwrap.dedent("""\
        import torch

        def evaluate(model, x, frozen):
            context = torch.no_grad if frozen else torch.enable_grad
            with context():
                return model(x)
        """), "prog.py")
    assert "context = nullcontext if frozen" in result.code
    assert "from contextlib import nullcontext" in result.code
