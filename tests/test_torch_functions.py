"""torch.* function rules beyond their examples: the call shapes a transform tells
apart, what must stay unconverted, and that converting converted code changes nothing."""
import pytest

from ms_migrate import convert_source
from ms_migrate.runtime.equivalence import PRELUDE
from ms_migrate.tables.load import load_rules

EXAMPLES = [pytest.param(rule, ex, id=f"{rule.torch_name}:{ex['code']}")
            for rule in sorted(load_rules(), key=lambda r: r.torch_name)
            if rule.source.split(":")[0] == "torch.toml"
            for ex in rule.examples]


def convert(body: str):
    return convert_source(PRELUDE + body, "<test>")


def unsupported(result):
    return {f.api: f.message for f in result.report.findings if f.action == "unsupported"}


def warnings(result):
    return {f.api: f.message for f in result.report.findings if f.action == "warning"}


@pytest.mark.parametrize("rule,example", EXAMPLES)
def test_converting_twice_changes_nothing(rule, example):
    once = convert(f"{example.get('setup', '')}\nout = {example['code']}\n").code
    twice = convert_source(once, "<test>")
    assert twice.code == once
    assert not unsupported(twice)


def test_max_tells_a_dim_from_a_tensor():
    result = convert("a = torch.max(x)\nb = torch.max(x, 1)\nc = torch.max(x, dim)\n"
                     "d = torch.max(x, dim=-1, keepdim=True)\ne = torch.max(x, other=y)\n"
                     "f = torch.max(x, y)\ng = torch.min(x, torch.zeros_like(x))\n")
    code = result.code
    assert "a = ops.amax(x)" in code
    assert "b = ops.max(x, 1)" in code
    assert "c = ops.max(x, dim)" in code
    assert "d = ops.max(x, axis=-1, keepdims=True)" in code
    assert "e = ops.maximum(x, y)" in code
    assert "f = ops.maximum(x, y)" in code
    assert "g = ops.minimum(x, ops.zeros_like(x))" in code
    # only the guess is marked, where a person should look
    assert list(warnings(result)) == ["torch.max"]
    assert code.count("# ms-migrate: torch.max") == 1


def test_std_and_var_spell_out_ddof():
    result = convert("a = torch.std(x)\nb = torch.std(x, False)\nc = torch.var(x, 1, True, True)\n"
                     "d = torch.var(x, dim=0, correction=2)\n")
    assert "a = ops.std(x, ddof=1)" in result.code
    assert "b = ops.std(x, ddof=0)" in result.code
    assert "c = ops.var(x, 1, keepdims=True, ddof=1)" in result.code
    assert "d = ops.var(x, axis=0, ddof=2)" in result.code
    result = convert("e = torch.std(x, unbiased=flag)\n")
    assert "torch.std(x, unbiased=flag)" in result.code
    assert "unbiased" in unsupported(result)["torch.std"]


def test_full_writes_the_dtype_only_when_it_must():
    result = convert("a = torch.full((2,), 1.5)\nb = torch.full((2,), 3)\n"
                     "c = torch.full((2,), float('-inf'))\nd = torch.full((2,), v)\n"
                     "e = torch.full((2,), v, dtype=torch.float16)\n"
                     "f = torch.full((2,), -torch.inf)\ng = torch.full((2,), math.floor(v))\n")
    assert "a = ops.full((2,), 1.5, dtype=mindspore.float32)" in result.code
    assert "b = ops.full((2,), 3)\n" in result.code
    assert "c = ops.full((2,), float('-inf'), dtype=mindspore.float32)" in result.code
    assert "f = ops.full((2,), -math.inf, dtype=mindspore.float32)" in result.code
    assert "g = torch.full((2,), math.floor(v))" in result.code
    assert "d = ops.full((2,), v, dtype=mindspore.tensor(v).dtype)" in result.code
    assert "e = ops.full((2,), v, dtype=mindspore.float16)" in result.code
    assert "dtype=" in unsupported(result)["torch.full"]


def test_randint_always_gets_low():
    result = convert("a = torch.randint(10, (4,))\nb = torch.randint(2, 5, (3,))\n"
                     "c = torch.randint(high=4, size=(5,))\nd = torch.randint(10, size=(2, 2))\n")
    assert "a = ops.randint(0, 10, (4,))" in result.code
    assert "b = ops.randint(2, 5, (3,))" in result.code
    assert "c = ops.randint(0, 4, (5,))" in result.code
    assert "d = ops.randint(0, 10, (2, 2))" in result.code


def test_sequence_arguments_are_spread():
    result = convert("a = torch.meshgrid(x, y)\nb = torch.meshgrid([x, y], indexing='xy')\n"
                     "c = torch.meshgrid(grids)\nd = torch.block_diag(p, q)\n")
    assert 'a = ops.meshgrid(x, y, indexing="ij")' in result.code
    assert "b = ops.meshgrid(x, y, indexing='xy')" in result.code
    assert 'c = ops.meshgrid(*grids, indexing="ij")' in result.code
    assert "d = ops.block_diag(p, q)" in result.code


def test_tensor_constructors():
    result = convert("a = torch.Tensor([1, 2])\nb = torch.Tensor(2, 3)\nc = torch.LongTensor(3)\n"
                     "d = torch.Tensor(data)\nok = isinstance(a, torch.Tensor)\n"
                     "bad = isinstance(a, torch.FloatTensor)\n")
    code = result.code
    assert "a = mindspore.Tensor([1, 2], dtype=mindspore.float32)" in code
    assert "b = ops.zeros((2, 3), dtype=mindspore.float32)" in code
    assert "c = ops.zeros((3,), dtype=mindspore.int64)" in code
    assert "d = mindspore.Tensor(data, dtype=mindspore.float32)" in code
    assert "ok = isinstance(a, mindspore.Tensor)" in code
    assert "bad = (isinstance(a, mindspore.Tensor) and a.dtype == mindspore.float32)" in code
    assert "torch.Tensor" in warnings(result)


def test_what_cannot_convert_is_left_and_says_why():
    result = convert("a = torch.einsum(equation, x, y)\n"
                     "d = torch.rand(3, generator=g)\n"
                     "f = torch.norm(x, 3, dim=(0, 1))\n")
    reasons = unsupported(result)
    assert "literal" in reasons["torch.einsum"]
    assert "Generator" in reasons["torch.rand"]
    assert "matrix norm" in reasons["torch.norm"]
    for line in ("torch.einsum(equation, x, y)",
                 "torch.rand(3, generator=g)",
                 "torch.norm(x, 3, dim=(0, 1))"):
        assert line in result.code


def test_unique_is_an_op_where_one_gives_it_and_a_helper_otherwise():
    result = convert("a = torch.unique(x, return_inverse=False, dim=None)\n"
                     "b = torch.unique(x, sorted=False, return_counts=True)\n"
                     "c = torch.unique(x, return_inverse=True)\n")
    assert "a = ops.unique_consecutive(ops.sort(x.flatten())[0])" in result.code
    assert "b = ops.unique_consecutive(ops.sort(x.flatten())[0], return_counts=True)" in result.code
    assert "c = unique(x, return_inverse=True)" in result.code
    assert "def unique(" in result.code and not unsupported(result)


def test_norm_is_a_vector_norm_unless_told_otherwise():
    # MindSpore's norm of a matrix with ord=2 is the spectral norm; torch's p=2 is not
    result = convert("a = torch.norm(x, 2)\nb = torch.norm(x, p=2, dim=(0, 1))\n"
                     "c = torch.norm(x, p='fro')\nd = torch.norm(x, 1, dim=1)\n")
    assert "a = ops.norm(x.flatten(), 2)" in result.code
    assert "b = ops.norm(x, dim=(0, 1))" in result.code
    assert "c = ops.norm(x)" in result.code
    assert "d = ops.norm(x, 1, dim=1)" in result.code


def test_out_arguments_inside_expressions_are_refused():
    # a whole statement becomes an assignment (tests/test_legacy_args.py)
    result = convert("w = torch.add(x, y, out=z) + 1\nprint(torch.sum(x, 0, out=z))\n")
    assert set(unsupported(result)) == {"torch.add", "torch.sum"}


# Compositions put their inputs inside a larger expression: an input that is itself an
# expression must keep its meaning. Each case runs on both frameworks.
COMPOSED = [
    ("torch.median(a - b)", {"a": "randn(3, 4)", "b": "randn(3, 4)"}),
    ("torch.take(a + b, i)", {"a": "randn(3, 4)", "b": "randn(4)", "i": "randint(0, 12, (5,))"}),
    ("torch.masked_fill(a * 2, a > 0, -1.0)", {"a": "randn(3, 4)"}),
    ("torch.add(a, b - 1, alpha=-2)", {"a": "randn(3, 4)", "b": "randn(3, 4)"}),
    ("torch.sub(a, b, alpha=a.shape[0])", {"a": "randn(3, 4)", "b": "randn(3, 4)"}),
    ("torch.norm(a + 1, 1)", {"a": "randn(3, 4)"}),
    ("torch.unique(a % 3)", {"a": "randint(0, 9, (3, 4))"}),
    ("torch.clone(a)[0] + 1", {"a": "randn(3, 4)"}),
    ("torch.count_nonzero(a > b, dim=0)", {"a": "randn(3, 4)", "b": "randn(3, 4)"}),
    ("torch.max(a, torch.zeros_like(a))", {"a": "randn(3, 4)"}),
    ("torch.where(a > b)", {"a": "randn(3, 4)", "b": "randn(4)"}),
    ("torch.nonzero(a == 1, as_tuple=True)", {"a": "randint(0, 3, (2, 3, 4))"}),
    ("torch.bincount(a.flatten(), minlength=10)", {"a": "randint(0, 5, (3, 4))"}),
    ("torch.index_fill(a, 0, torch.tensor([0, 2]), 0.0)", {"a": "randn(3, 4)"}),
    ("torch.mean(a, dtype=torch.float64)", {"a": "randn(3, 4)"}),
]


@pytest.mark.parametrize("code,inputs", COMPOSED, ids=[c for c, _ in COMPOSED])
def test_compositions_keep_the_meaning_of_expression_inputs(code, inputs):
    pytest.importorskip("torch")
    pytest.importorskip("mindspore")
    from ms_migrate.runtime.equivalence import run_example
    run_example({"code": code, "inputs": inputs}, "function")
