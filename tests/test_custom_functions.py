"""torch.autograd.Function subclasses (forward/backward staticmethods, ctx.save_for_backward,
ctx.saved_tensors, X.apply) -> Cells with a custom bprop. Each converted program is
run on the same inputs as torch's: outputs, input gradients and a few training
steps are compared. The backward() formulas differ on purpose from the true
derivative where that shows which one ran."""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402
from ms_migrate.runtime.equivalence import copy_torch_weights  # noqa: E402

PROGRAM = """\
    import torch
    import torch.nn as nn
    from torch.autograd import Function


    # A memory-efficient implementation of Swish function
    class SwishImplementation(torch.autograd.Function):
        @staticmethod
        def forward(ctx, i):
            result = i * torch.sigmoid(i)
            ctx.save_for_backward(i)
            return result

        @staticmethod
        def backward(ctx, grad_output):
            i = ctx.saved_tensors[0]
            sigmoid_i = torch.sigmoid(i)
            return grad_output * (sigmoid_i * (1 + i * (1 - sigmoid_i)))


    class MemoryEfficientSwish(nn.Module):
        def forward(self, x):
            return SwishImplementation.apply(x)


    class ShiftedTanh(Function):
        @staticmethod
        def forward(ctx, x):
            y = torch.tanh(x)
            ctx.save_for_backward(x, y)
            return y

        @staticmethod
        def backward(ctx, dy):
            x, y = ctx.saved_tensors
            grad = y + dy + 1
            return grad


    class Scale(Function):
        \"\"\"x * w, the gradient of x through 2 * w only, none for w.\"\"\"

        @staticmethod
        def forward(ctx, x, w):
            h = x * 2
            ctx.save_for_backward(h, w)
            return h * w

        @staticmethod
        def backward(ctx, g):
            h, w = ctx.saved_tensors
            return g * w * 2 + h.mean(), None


    def combined(a, b):
        return Scale.apply(a, b) + ShiftedTanh.apply(a)


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(4, 8)
            self.act = MemoryEfficientSwish()
            self.fc2 = nn.Linear(8, 1)

        def forward(self, x):
            return self.fc2(self.act(self.fc1(x)))


    def train(model, data, steps):
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        losses = []
        for x, y in data[:steps]:
            optimizer.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return losses
    """


@pytest.fixture(scope="module")
def programs():
    source = textwrap.dedent(PROGRAM)
    result = convert_source(source, "prog.py")
    assert convert_source(result.code, "prog.py").code == result.code  # idempotent
    t, m = {"__name__": "prog_torch"}, {"__name__": "prog_ms"}
    exec(compile(source, "<torch>", "exec"), t)
    exec(compile(result.code, "<ms>", "exec"), m)
    return result, t, m


def test_the_functions_become_cells_with_bprop(programs):
    result, _, _ = programs
    assert [f for f in result.report.findings if f.action == "unsupported"] == []
    assert "torch" not in result.code
    assert "class SwishImplementation(nn.Cell):" in result.code
    assert "def bprop(self, x, y, dy):" in result.code  # the saved output is bprop's out
    assert "return SwishImplementation()(x)" in result.code
    assert "ops.zeros_like(w)" in result.code


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((3, 4)).astype(np.float32), \
        rng.standard_normal((3, 4)).astype(np.float32)


@pytest.mark.parametrize("name, arity", [("SwishImplementation", 1), ("ShiftedTanh", 1),
                                         ("Scale", 2)])
def test_forward_and_gradients_match_torch(programs, name, arity):
    _, t, m = programs
    a, b = _inputs()
    ta = torch.tensor(a, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    targs = (ta, tb)[:arity]
    out = t[name].apply(*targs)
    weight = torch.linspace(-1, 1, 12).reshape(3, 4)
    (out * weight).sum().backward()
    margs = tuple(mindspore.Tensor(v) for v in (a, b)[:arity])
    mweight = mindspore.Tensor(weight.numpy())
    got_out = m[name]()(*margs)
    np.testing.assert_allclose(got_out.asnumpy(), out.detach().numpy(), rtol=1e-5, atol=1e-6)
    grads = mindspore.grad(lambda *xs: (m[name]()(*xs) * mweight).sum(),
                           grad_position=tuple(range(arity)))(*margs)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for got, want in zip(grads, targs):
        want = want.grad.numpy() if want.grad is not None else np.zeros_like(a)
        np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-5, atol=1e-6)


def test_custom_gradient_is_the_one_used(programs):
    """ShiftedTanh's backward is not tanh's derivative: the gradient shows bprop ran."""
    _, _, m = programs
    x = mindspore.Tensor(np.zeros((2, 2), np.float32))
    grad = mindspore.grad(lambda v: m["ShiftedTanh"]()(v).sum())(x)
    np.testing.assert_allclose(grad.asnumpy(), np.full((2, 2), 2.0))  # tanh(0) + 1 + 1


def test_a_function_of_two_calls_matches(programs):
    _, t, m = programs
    a, b = _inputs(1)
    ta = torch.tensor(a, requires_grad=True)
    t["combined"](ta, torch.tensor(b)).sum().backward()
    got = mindspore.grad(lambda v: m["combined"](v, mindspore.Tensor(b)).sum())(
        mindspore.Tensor(a))
    np.testing.assert_allclose(got.asnumpy(), ta.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_training_through_the_custom_function_matches(programs):
    _, t, m = programs
    torch.manual_seed(0)
    tnet, mnet = t["Net"](), m["Net"]()
    copy_torch_weights(tnet, mnet)
    rng = np.random.default_rng(2)
    data = [(rng.standard_normal((5, 4)).astype(np.float32),
             rng.standard_normal((5, 1)).astype(np.float32)) for _ in range(5)]
    want = t["train"](tnet, [(torch.tensor(x), torch.tensor(y)) for x, y in data], 5)
    got = m["train"](mnet, [(mindspore.Tensor(x), mindspore.Tensor(y)) for x, y in data], 5)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert want[-1] < want[0]


@pytest.mark.parametrize("body", [
    # a return inside forward()
    """\
    @staticmethod
    def forward(ctx, x):
        if x.sum() > 0:
            return x
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g
    """,
    # None for unused gradients (set_materialize_grads(False)): bprop's dout is zeros
    """\
    @staticmethod
    def forward(ctx, x):
        ctx.set_materialize_grads(False)
        return x * 2, x * 3

    @staticmethod
    def backward(ctx, g1, g2):
        return g1 * 2 if g2 is None else g1 * 2 + g2 * 3
    """,
    # a gradient count that does not match the inputs
    """\
    @staticmethod
    def forward(ctx, x, y):
        return x * y

    @staticmethod
    def backward(ctx, g):
        return g
    """,
    # varargs
    """\
    @staticmethod
    def forward(ctx, *xs):
        return xs[0] * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2
    """,
])
def test_other_shapes_stay_and_are_reported(body):
    source = "import torch\n\nclass F(torch.autograd.Function):\n" + \
        textwrap.indent(textwrap.dedent(body), "    ")
    result = convert_source(source, "f.py")
    assert "class F(torch.autograd.Function):" in result.code
    assert "torch.autograd.Function" in [f.api for f in result.report.findings
                                         if f.action == "unsupported"]
