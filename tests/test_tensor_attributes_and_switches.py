"""Tensor attributes read without a call (`x.real`, `x.is_leaf`), backend switches read
back (`torch.backends.cudnn.benchmark`), and calls that do nothing to values
(`torch.cpu.set_device`): the converted program computes what torch computes."""
import textwrap

import numpy as np
import pytest

from ms_migrate import convert_source

torch = pytest.importorskip("torch")
pytest.importorskip("mindspore")


def _run(source: str, names):
    """Run the torch program and its conversion; the named results of both."""
    source = textwrap.dedent(source)
    t_ns: dict = {}
    exec(compile(source, "<torch>", "exec"), t_ns)
    result = convert_source(source)
    code_lines = [line for line in result.code.splitlines() if not line.lstrip().startswith("#")]
    assert not any("torch" in line for line in code_lines), result.code
    m_ns: dict = {}
    exec(compile(result.code, "<mindspore>", "exec"), m_ns)
    return [(t_ns[n], m_ns[n]) for n in names], result


def _same(expected, actual):
    if isinstance(expected, torch.Tensor):
        np.testing.assert_allclose(actual.asnumpy(), expected.numpy(), rtol=1e-6)
    else:
        assert expected == actual and type(expected) is type(actual)


def test_real_and_imag_of_known_tensors():
    pairs, _ = _run('''
        import torch
        z = torch.tensor([[1. + 2j, -3j], [0.5 + 0j, 4 - 1j]])
        re = z.real
        im = z.T.imag
        both = z.real + z.imag.T
    ''', ["re", "im", "both"])
    for expected, actual in pairs:
        _same(expected, actual)


def test_real_of_other_objects_stays():
    code = convert_source("import torch\nimport numpy as np\na = np.ones(2) + 1j\n"
                          "r = a.real\nc = complex(1, 2).real\n").code
    assert "a.real\n" in code and "complex(1, 2).real\n" in code


def test_converted_attributes_convert_again_to_the_same():
    source = "import torch\nz = torch.tensor([1j])\nr = z.real\nl = z.is_leaf\n"
    once = convert_source(source).code
    assert convert_source(once).code == once


def test_flags_of_dense_tensors():
    pairs, result = _run('''
        import torch
        x = torch.tensor([1., 2., 3.])
        leaf = x.is_leaf
        detached_leaf = x.detach().is_leaf
        sparse = x.is_sparse
        conj = x.is_conj()
        inference = x.is_inference()
        order = torch.zeros(2, 3, 4).dim_order()
    ''', ["leaf", "detached_leaf", "sparse", "conj", "inference", "order"])
    for expected, actual in pairs:
        _same(expected, actual)
    assert any(f.api == "Tensor.is_leaf" and "leaf" in f.message for f in result.report.findings)


@pytest.fixture
def torch_switch_defaults():
    """torch's switches at their defaults (another test's program may have set them)."""
    names = ("benchmark", "enabled", "allow_tf32")
    saved = [getattr(torch.backends.cudnn, n) for n in names]
    saved_matmul = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.benchmark, torch.backends.cudnn.enabled = False, True
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = True, False
    yield
    for name, value in zip(names, saved):
        setattr(torch.backends.cudnn, name, value)
    torch.backends.cuda.matmul.allow_tf32 = saved_matmul


def test_backend_switches_read_back_what_the_file_set(torch_switch_defaults):
    pairs, result = _run('''
        import torch
        before = torch.backends.cudnn.benchmark
        torch.backends.cudnn.benchmark = True
        after = torch.backends.cudnn.benchmark
        torch.backends.cuda.matmul.allow_tf32 = True
        tf32 = torch.backends.cuda.matmul.allow_tf32
        enabled = torch.backends.cudnn.enabled
        conv_tf32 = torch.backends.cudnn.allow_tf32
        torch.backends.cudnn.enabled = False
        disabled = torch.backends.cudnn.enabled
    ''', ["before", "after", "tf32", "enabled", "conv_tf32", "disabled"])
    for expected, actual in pairs:
        _same(expected, actual)
    messages = [f.message for f in result.report.findings
                if f.api == "torch.backends.cudnn.benchmark"]
    assert any("torch's default" in m for m in messages)
    assert any("set above" in m for m in messages)


def test_switch_set_to_an_expression_is_not_guessed():
    code = convert_source("import torch\nimport sys\n"
                          "torch.backends.cudnn.benchmark = len(sys.argv) > 1\n"
                          "b = torch.backends.cudnn.benchmark\n").code
    assert "b = torch.backends.cudnn.benchmark" in code


def test_calls_without_effect_on_values_go():
    pairs, result = _run('''
        import torch
        torch.cpu.set_device(device='cpu:0')
        torch.set_deterministic_debug_mode(debug_mode="warn")
        x = torch.ones(2) * 3
    ''', ["x"])
    for expected, actual in pairs:
        _same(expected, actual)
    assert "# ms-migrate: torch.cpu.set_device removed" in result.code


@pytest.mark.parametrize("call", [
    "torch.testing.assert_close(x, x + 1e-3)",             # beyond float32's tolerance
    "torch.testing.assert_close(x, x.double())",            # dtypes differ
    "torch.testing.assert_close(x, x[:2])",                 # shapes differ
    "torch.testing.assert_close(y, y)",                     # NaN without equal_nan
])
def test_assert_close_fails_where_torch_fails(call):
    source = ("import torch\nx = torch.tensor([1., 2., 3.])\n"
              "y = torch.tensor([1., float('nan')])\n" + call + "\n")
    with pytest.raises(AssertionError):
        exec(compile(source, "<torch>", "exec"), {})
    code = convert_source(source).code
    assert "import torch" not in code and "def assert_close" in code
    with pytest.raises(AssertionError):
        exec(compile(code, "<mindspore>", "exec"), {})
