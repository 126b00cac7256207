"""Tensor method rules beyond their examples: what must stay unconverted, and that
converting converted code changes nothing."""
import pytest

from ms_migrate import convert_source
from ms_migrate.runtime.equivalence import PRELUDE
from ms_migrate.tables.load import load_rules

TABLES = ("tensor_methods.toml", "torch_nn_functional.toml")
EXAMPLES = [pytest.param(rule, ex, id=f"{rule.torch_name}:{ex['code']}")
            for rule in sorted(load_rules(), key=lambda r: r.torch_name)
            if rule.source.split(":")[0] in TABLES
            for ex in rule.examples]


def convert(body: str):
    return convert_source(PRELUDE + body, "<test>")


@pytest.mark.parametrize("rule,example", EXAMPLES)
def test_converting_twice_changes_nothing(rule, example):
    once = convert(f"{example.get('setup', '')}\nout = {example['code']}\n").code
    twice = convert_source(once, "<test>")
    assert twice.code == once
    assert not [f for f in twice.report.findings if f.action == "unsupported"]


def unsupported(result):
    return [f for f in result.report.findings if f.action == "unsupported"]


def test_inplace_on_an_expression_is_marked_not_rewritten():
    # ops.assign(x[0], ...) would write into a copy of the row
    result = convert("x[0].add_(1)\nmodel.weight.data.mul_(0.5)\n")
    assert "x[0].add_(1)" in result.code
    assert "ops.assign(model.weight.data, model.weight.data.mul(0.5))" in result.code
    assert [f.api for f in unsupported(result)] == ["Tensor.add_"]
    assert "# ms-migrate: Tensor.add_" in result.code


def test_only_the_dtype_form_of_to_is_a_cast():
    # .to(device) is device handling; .to(other_tensor) takes its dtype (and device):
    # MindSpore's Tensor.to takes a dtype or a tensor, so it stays, with a warning
    result = convert("y = x.to(device)\nz = x.to(torch.float16)\nw = x.to(other)\n")
    assert "astype(device)" not in result.code
    assert "z = x.astype(mindspore.float16)" in result.code
    assert "w = x.to(other)" in result.code
    assert unsupported(result) == []
    assert any(f.api == "Tensor.to" and f.action == "warning" and "moves nothing" in f.message
               for f in result.report.findings)


def test_varargs_and_tuple_forms_give_the_same_call():
    result = convert("a = x.repeat(2, 1)\nb = x.repeat((2, 1))\nc = x.new_zeros(2, 3)\n")
    assert "a = ops.tile(x, (2, 1))" in result.code
    assert "b = ops.tile(x, (2, 1))" in result.code
    assert "c = x.new_zeros((2, 3))" in result.code


def test_unsupported_methods_are_marked_with_their_reason():
    result = convert("y = x.sparse_dim()\nt = x.type()\n")
    reasons = {f.api: f.message for f in unsupported(result)}
    assert "dense" in reasons["Tensor.sparse_dim"]
    assert "dtype" in reasons["Tensor.type"]
    assert "x.sparse_dim()" in result.code and "# ms-migrate: Tensor.sparse_dim" in result.code


def test_weight_initialisation_in_place_writes_the_parameters():
    pytest.importorskip("mindspore")
    result = convert("m = nn.Linear(16, 8)\n"
                     "m.weight.data.normal_(0, 0.02)\n"
                     "m.bias.data.zero_()\n"
                     "with torch.no_grad():\n"
                     "    m.weight.clamp_(-0.01, 0.01)\n")
    assert not unsupported(result), result.report.findings
    namespace = {}
    exec(compile(result.code, "<converted>", "exec"), namespace)
    m = namespace["m"]
    assert (m.bias.asnumpy() == 0).all()
    weight = m.weight.asnumpy()
    assert abs(weight).max() <= 0.01 + 1e-7
    assert 0.005 < weight.std() < 0.02  # a sample of N(0, 0.02), clamped


def test_gradients_flow_through_converted_methods():
    torch = pytest.importorskip("torch")
    mindspore = pytest.importorskip("mindspore")
    import numpy as np
    source = ("def f(x):\n"
              "    y = x.clone().view(2, 3).permute(1, 0).contiguous()\n"
              "    y = y.repeat(2, 1).clamp_min(-1.0)\n"
              "    return (y.std(0) + y.norm(dim=1).sum() + y.unflatten(0, (2, 3)).mean()).sum()\n")
    data = np.random.default_rng(0).standard_normal(6).astype("float32")
    t_ns, m_ns = {}, {"__name__": "converted"}  # MindSpore reads the function's module name
    exec(PRELUDE + source, t_ns)
    x = torch.tensor(data, requires_grad=True)
    t_ns["f"](x).backward()
    result = convert(source)
    assert not unsupported(result)
    exec(result.code, m_ns)
    grad = mindspore.grad(m_ns["f"])(mindspore.Tensor(data))
    np.testing.assert_allclose(grad.asnumpy(), x.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_a_layer_called_norm_is_not_taken_for_tensor_norm():
    result = convert("h = self.encoder.norm(h)\nn = x.norm(2, dim=1)\nm = x.norm(float('inf'))\n")
    assert "h = self.encoder.norm(h)" in result.code
    assert "n = ops.norm(x, 2, dim=1)" in result.code
    assert "m = ops.norm(x.flatten(), float('inf'))" in result.code
    assert [f.api for f in unsupported(result)] == ["Tensor.norm"]
