"""Gradients read from `.grad` after a backward() no optimizer step follows: the
forward computation becomes a function differentiated by mindspore.value_and_grad
(a scalar loss) or mindspore.vjp (backward(gradient), torch.autograd.backward with
grad_tensors), and `x.grad` the gradient it returns. Each program is converted, run in
torch and in MindSpore and the named values compared."""
import importlib.util
import os
import sys
import tempfile
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402


def run_both(source: str):
    source = textwrap.dedent(source)
    result = convert_source(source, "prog.py")
    assert convert_source(result.code, "prog.py").code == result.code  # idempotent
    assert "import torch" not in result.code, result.code
    expected: dict = {}
    exec(compile(source, "<torch>", "exec"), expected)
    folder = tempfile.mkdtemp(prefix="leaf_grads_")
    name = f"leaf_grads_prog{len(sys.modules)}"
    path = os.path.join(folder, name + ".py")
    with open(path, "w") as f:
        f.write(result.code)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return result, expected, module.__dict__


def same(t, m):
    if t is None or m is None:
        assert t is None and m is None, (t, m)
        return
    t = t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)
    m = m.asnumpy() if hasattr(m, "asnumpy") else np.asarray(m)
    assert t.shape == m.shape, (t.shape, m.shape)
    np.testing.assert_allclose(m, t, rtol=1e-5, atol=1e-6)


def check(source: str, names):
    result, expected, got = run_both(source)
    for n in names:
        same(expected[n], got[n])
    return result


def test_scalar_loss_of_one_tensor_with_intermediates_read_after():
    result = check("""\
        import torch
        x = torch.tensor([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]], requires_grad=True)
        y = x * x + 2
        out = y.mean()
        out.backward()
        g = x.grad
        z = y * 2
    """, ["g", "out", "y", "z"])
    assert "mindspore.value_and_grad(forward_fn, has_aux=True)" in result.code
    assert "(out, y), g = grad_fn(x)" in result.code


def test_two_tensors_and_an_unnamed_loss():
    result = check("""\
        import torch
        a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = torch.tensor([0.5, -1.0, 2.0])
        b.requires_grad = True
        def f(u, v):
            return (u * v + torch.sin(u)).sum()
        f(a, b).backward()
        a_grad = a.grad
        b_grad = b.grad
        both = a.grad + b.grad
    """, ["a_grad", "b_grad", "both"])
    assert "mindspore.grad(forward_fn, (0, 1))" in result.code


def test_backward_with_a_gradient_reading_the_output():
    result = check("""\
        import torch
        x = torch.tensor([[1.0, 5.0, 2.0], [3.0, 0.0, 4.0]], requires_grad=True)
        results = torch.max(x * 2, dim=1)
        results.values.backward(torch.ones_like(results.values) * 3)
        grad_tensor = x.grad
    """, ["grad_tensor"])
    assert "mindspore.vjp(forward_fn, x" in result.code


def test_autograd_backward_of_several_tensors():
    check("""\
        import torch
        x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = torch.tensor([[3.0, 2.0], [3.0, 4.0]])
        g1 = torch.tensor([[1.0, 2.0], [2.0, 3.0]])
        g2 = torch.tensor([[1.0, 1.0], [1.0, 1.0]])
        z1 = torch.matmul(x, y)
        z2 = torch.matmul(y, x)
        torch.autograd.backward([z1, z2], grad_tensors=[g1, g2])
        result = x.grad
    """, ["result", "z1", "z2"])


def test_gradients_of_parameters_and_zero_grad():
    result = check("""\
        import torch
        import torch.nn as nn
        torch.manual_seed(0)
        model = nn.Linear(3, 2)
        with torch.no_grad():
            model.weight.copy_(torch.tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]))
            model.bias.fill_(0.25)
        x = torch.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
        out = model(x).pow(2).sum()
        out.backward()
        w = model.weight.grad
        b = model.bias.grad
        model.zero_grad(set_to_none=False)
        w_after = model.weight.grad
    """, ["w", "b", "w_after", "out"])
    assert "[model.weight, model.bias]" in result.code
    assert "ops.zeros_like" in result.code


def test_zero_grad_sets_none():
    check("""\
        import torch
        x = torch.ones(2, 2)
        layer = torch.nn.Linear(2, 1)
        layer(x).sum().backward()
        before = layer.weight.grad.clone()
        layer.zero_grad()
        after = layer.weight.grad
    """, ["after"])


def test_inside_a_function():
    result = check("""\
        import torch
        def input_gradient(x, w):
            x.requires_grad_(True)
            loss = torch.tanh(x @ w).sum()
            loss.backward()
            return x.grad
        x = torch.tensor([[1.0, 2.0], [0.5, -1.0]])
        w = torch.tensor([[0.3], [-0.7]])
        g = input_gradient(x, w)
    """, ["g"])
    assert "return x_grad" in result.code


def test_left_marked_where_torch_would_differ():
    # an earlier backward() adds its gradients to .grad; create_graph asks for more
    source = textwrap.dedent("""\
        import torch
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        twice = x.grad
        z = (x ** 3).sum()
        z.backward(create_graph=True)
        third = x.grad
    """)
    result = convert_source(source, "prog.py")
    messages = [f.message for f in result.report.findings if f.action == "unsupported"]
    assert any("adds up" in m for m in messages)
    assert any("create_graph" in m for m in messages)
    assert "twice = x.grad" in result.code


def test_in_place_result_in_the_loss_is_left():
    source = textwrap.dedent("""\
        import torch
        a = torch.tensor([3.0, 4.0], requires_grad=True)
        x = a + 0
        y = x.mul_(a)
        y.sum().backward()
        g = a.grad
    """)
    result = convert_source(source, "prog.py")
    assert any("in-place" in f.message for f in result.report.findings
               if f.action == "unsupported")


def test_module_level_step_keeps_the_model_outside_the_forward_function():
    # the layer is built once, before the optimizer that holds its parameters
    result = check("""\
        import torch
        theta = torch.tensor([1.0, 2.0, 3.0, 4.0])
        layer = torch.nn.Linear(4, 2)
        with torch.no_grad():
            layer.weight.copy_(torch.arange(8.0).reshape(2, 4) / 10)
            layer.bias.zero_()
        optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)
        z = layer(theta)
        z.sum().backward()
        optimizer.step()
        weight = layer.weight.detach()
    """, ["weight"])
    forward = result.code.split("def forward_fn", 1)[1].split("return", 1)[0]
    assert "Dense" not in forward


def test_custom_function_once_differentiable():
    # the custom backward (not the true derivative) gives the gradients, in both
    result = check("""\
        import torch
        from torch.autograd.function import once_differentiable

        class Twice(torch.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                ctx.save_for_backward(a, b)
                return a * b * 2

            @staticmethod
            @once_differentiable
            def backward(ctx, grad_output):
                a, b = ctx.saved_tensors
                return grad_output * 3, grad_output * a

        a = torch.tensor([1.0, 2.0], requires_grad=True)
        b = torch.tensor([3.0, 4.0], requires_grad=True)
        y = Twice.apply(a, b)
        y.sum().backward()
        a_grad = a.grad
        b_grad = b.grad
    """, ["y", "a_grad", "b_grad"])
    assert "once_differentiable" not in result.code


def test_loop_updating_tensors_by_hand():
    # the tutorial's two-layer net: gradients read, applied and zeroed every iteration
    result = check("""\
        import torch
        x = torch.linspace(-1, 1, 20).unsqueeze(1)
        y = torch.sin(3 * x)
        w1 = torch.tensor([[-0.4, -0.3, -0.1, 0.0, 0.2, 0.3, 0.5, 0.6]], requires_grad=True)
        w2 = torch.tensor([[0.3], [-0.2], [0.1], [0.4], [-0.3], [0.2], [0.5], [-0.1]],
                          requires_grad=True)
        learning_rate = 1e-2
        for t in range(30):
            y_pred = x.mm(w1).clamp(min=0).mm(w2)
            loss = (y_pred - y).pow(2).sum()
            loss.backward()
            with torch.no_grad():
                w1 -= learning_rate * w1.grad
                w2 -= learning_rate * w2.grad
                w1.grad.zero_()
                w2.grad.zero_()
        final = loss.detach()
    """, ["w1", "w2", "final"])
    assert "grad_fn(w1, w2)" in result.code


def test_loop_without_reset_is_left():
    source = textwrap.dedent("""\
        import torch
        w = torch.ones(3, requires_grad=True)
        for step in range(3):
            loss = (w * w).sum()
            loss.backward()
            print(w.grad)
    """)
    result = convert_source(source, "prog.py")
    assert any("not reset in the loop" in f.message for f in result.report.findings)


def test_layers_of_the_object_are_left():
    # torch.autograd.backward inside a method also fills the layers' parameter gradients
    source = textwrap.dedent("""\
        import torch
        class Block(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.g = torch.nn.Linear(2, 2)

            def backward_pass(self, y1, dy2):
                y1.requires_grad = True
                gy1 = self.g(y1)
                torch.autograd.backward(gy1, dy2)
                return y1.grad
    """)
    result = convert_source(source, "prog.py")
    assert any("parameters' gradients" in f.message for f in result.report.findings)
