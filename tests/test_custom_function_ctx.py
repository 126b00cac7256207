"""torch.autograd.Function subclasses that keep more than tensors on ctx (numbers,
functions, values computed in forward), take arguments that are not tensors (with
defaults or not), return several outputs, mark outputs dirty or non-differentiable
and ask ctx.needs_input_grad: converted to Cells with bprop and run on the same inputs
as torch's, forward values and gradients compared."""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402

PROGRAM = """\
    import torch
    from torch.autograd import Function


    class StraightThroughClamp(torch.autograd.Function):
        \"\"\"clamp() whose gradient passes through as if it were the identity.\"\"\"

        @staticmethod
        def forward(ctx, x, low=-0.5, high=0.5):
            return x.clamp(low, high)

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output, None, None


    class ScaledExp(Function):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.scale = scale
            y = torch.exp(x) * scale
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            y, = ctx.saved_tensors
            if ctx.needs_input_grad[0]:
                grad = grad * y
            return grad, None


    class Mix(Function):
        \"\"\"a * w + b ** 2 / n: two tensors and a number; ctx keeps a shape and n.\"\"\"

        @staticmethod
        def forward(ctx, a, b, n, fn=torch.square):
            ctx.n, ctx.fn = n, fn
            ctx.shape = a.shape
            ctx.save_for_backward(a, b)
            return a * b + fn(b) / n

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            grad_a = grad_b = None
            if ctx.needs_input_grad[0]:
                grad_a = (g * b).reshape(ctx.shape)
            if ctx.needs_input_grad[1]:
                grad_b = g * a + 2 * b * g / ctx.n
            return grad_a, grad_b, None


    class SplitTwo(Function):
        @staticmethod
        def forward(ctx, x):
            a = x * 2
            b = x * x
            ctx.mark_non_differentiable(a)
            ctx.save_for_backward(x)
            return a, b

        @staticmethod
        def backward(self, grad_a, grad_b):
            x, = self.saved_tensors
            return grad_b * 2 * x + 1


    class AddOneInPlace(Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 3


    CALLS = []


    class Doubling(Function):
        \"\"\"x * 2 ** times; backward reads the output it kept.\"\"\"

        @staticmethod
        def forward(ctx, x, times):
            CALLS.append(times)
            y = x
            for _ in range(times):
                y = y * 2
            ctx.y = y.detach()
            ctx.times = times
            return y

        @staticmethod
        def backward(ctx, g):
            return g * 2 ** ctx.times + ctx.y * 0.01, None


    def doubling(x, times):
        return Doubling.apply(x, times)


    def clamp_st(x):
        return StraightThroughClamp.apply(x)


    def scaled_exp(x, s):
        return ScaledExp.apply(x, s)


    def mix(a, b, n):
        return Mix.apply(a, b, n)


    def split_two(x):
        a, b = SplitTwo.apply(x)
        return a + b


    def add_one(x):
        return AddOneInPlace.apply(x * 1)
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


def test_every_function_becomes_a_cell(programs):
    result, _, _ = programs
    assert [f for f in result.report.findings if f.action == "unsupported"] == []
    assert "torch" not in result.code
    code = result.code
    assert "def construct(self, x, low=-0.5, high=0.5):" in code
    assert "def bprop(self, x, low, high, out, grad_output):" in code
    assert "def bprop(self, x, scale, y, grad):" in code  # ctx.scale is the input
    assert "ctx." not in code
    assert "shape = a.shape" in code.split("def bprop(self, a, b, n, fn")[1]  # recomputed
    assert "grad_a, grad_b = dout" in code
    doubling = code.split("def bprop(self, x, times, out, g):")[1]
    assert "y_saved = ops.stop_gradient(out)" in doubling and "for " not in doubling.split("def ")[0]
    warnings = " ".join(f.message for f in result.report.findings if f.action == "warning")
    assert "needs_input_grad" in warnings and "mark_dirty" in warnings \
        and "mark_non_differentiable" in warnings


def _data(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


CASES = [  # (function, tensor inputs' shapes, other arguments)
    ("clamp_st", [(3, 4)], ()),
    ("scaled_exp", [(3, 4)], (1.5,)),
    ("mix", [(2, 5), (2, 5)], (3.0,)),
    ("split_two", [(4,)], ()),
    ("add_one", [(2, 3)], ()),
    ("doubling", [(3,)], (3,)),
]


@pytest.mark.parametrize("name, shapes, extra", CASES)
def test_values_and_gradients_match_torch(programs, name, shapes, extra):
    _, t, m = programs
    arrays = _data(len(name), *shapes)
    weight = np.linspace(-1, 2, int(np.prod(shapes[0]))).reshape(shapes[0]).astype(np.float32)
    targs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = t[name](*targs, *extra)
    (out * torch.tensor(weight)).sum().backward()
    margs = [mindspore.Tensor(a) for a in arrays]
    got = m[name](*margs, *extra)
    np.testing.assert_allclose(got.asnumpy(), out.detach().numpy(), rtol=1e-5, atol=1e-6)
    mweight = mindspore.Tensor(weight)
    grads = mindspore.grad(lambda *xs: (m[name](*xs, *extra) * mweight).sum(),
                           grad_position=tuple(range(len(margs))))(*margs)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for g, want in zip(grads, targs):
        np.testing.assert_allclose(g.asnumpy(), want.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_the_straight_through_gradient_is_the_one_used(programs):
    """clamp's own derivative is zero outside [low, high]: bprop passes 1 everywhere."""
    _, _, m = programs
    x = mindspore.Tensor(np.array([-2.0, 0.0, 3.0], np.float32))
    grad = mindspore.grad(lambda v: m["clamp_st"](v).sum())(x)
    np.testing.assert_allclose(grad.asnumpy(), [1.0, 1.0, 1.0])


def test_value_and_grad_of_a_network_uses_bprop(programs):
    _, t, m = programs
    w = np.array([0.5, -1.0, 2.0], np.float32)
    x = np.array([0.1, 0.2, 0.3], np.float32)
    tw = torch.tensor(w, requires_grad=True)
    tloss = t["scaled_exp"](torch.tensor(x) * tw, 2.0).sum()
    tloss.backward()
    mw = mindspore.Parameter(mindspore.Tensor(w), name="w")
    loss, (grad,) = mindspore.value_and_grad(
        lambda: m["scaled_exp"](mindspore.Tensor(x) * mw, 2.0).sum(), None, [mw])()
    np.testing.assert_allclose(loss.asnumpy(), tloss.item(), rtol=1e-6)
    np.testing.assert_allclose(grad.asnumpy(), tw.grad.numpy(), rtol=1e-5)


def test_bprop_does_not_run_the_forward_side_effects_again(programs):
    _, t, m = programs
    t["CALLS"].clear()
    m["CALLS"].clear()
    t["doubling"](torch.ones(2, requires_grad=True), 2).sum().backward()
    mindspore.grad(lambda v: m["doubling"](v, 2).sum())(mindspore.Tensor(np.ones(2, np.float32)))
    assert m["CALLS"] == t["CALLS"] == [2]


def test_a_call_kept_on_ctx_runs_in_construct_only():
    """`ctx.handle = dist.all_reduce(x, async_op=True)`: the collective is forward's,
    backward never reads the handle: construct keeps it, bprop does not run it again."""
    source = textwrap.dedent("""\
        import torch
        import torch.distributed as dist


        class Reduced(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.handle = dist.all_reduce(x, async_op=True)
                ctx.n = x.size(0)
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * ctx.n
        """)
    code = convert_source(source, "f.py").code
    construct, bprop = code.split("def construct")[1].split("def bprop")
    assert "all_reduce" in construct and "all_reduce" not in bprop
    assert "x.shape[0]" in bprop and "x.shape[0]" not in construct


def test_graph_mode_gradients_match_pynative(tmp_path, monkeypatch):
    """In graph mode MindSpore gives bprop only the arguments a call passes: the calls
    pass the defaults too (`StraightThroughClamp()(x, -0.5, 0.5)`)."""
    import importlib

    code = convert_source(textwrap.dedent(PROGRAM), "prog.py").code
    assert "StraightThroughClamp()(x, -0.5, 0.5)" in code
    (tmp_path / "graph_prog.py").write_text(code + textwrap.dedent("""\


        def loss_clamp(x):
            return clamp_st(x).sum()


        def loss_mix(a, b):
            return mix(a, b, 3.0).sum()


        def loss_split(x):
            return split_two(x).sum()
        """))
    monkeypatch.syspath_prepend(str(tmp_path))
    m = importlib.import_module("graph_prog")
    x = mindspore.Tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3))
    for f, args in [(m.loss_clamp, (x,)), (m.loss_mix, (x, x * 2)), (m.loss_split, (x,))]:
        position = tuple(range(len(args)))
        eager = mindspore.grad(f, grad_position=position)(*args)
        graph = mindspore.jit(mindspore.grad(f, grad_position=position))(*args)
        eager = eager if isinstance(eager, tuple) else (eager,)
        graph = graph if isinstance(graph, tuple) else (graph,)
        for e, g in zip(eager, graph):
            np.testing.assert_allclose(g.asnumpy(), e.asnumpy(), rtol=1e-6)
