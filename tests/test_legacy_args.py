"""torch spellings MindSpore lacks, converted end to end and run on both frameworks:
losses' deprecated size_average/reduce, and out= output arguments."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402

PROGRAM = '''\
import torch
import torch.nn as nn
import torch.nn.functional as F

def run(x, y, t, avg, red):
    results = {}
    results["mse_sum"] = nn.MSELoss(size_average=False)(x, y)
    results["l1_none"] = nn.L1Loss(reduce=False)(x, y)
    results["ce_sum"] = nn.CrossEntropyLoss(size_average=False, reduce=True)(x, t)
    results["nll_none"] = F.nll_loss(F.log_softmax(x, 1), t, None, True, -100, False)
    results["mse_ignored"] = F.mse_loss(x, y, size_average=False, reduction="mean")
    results["kl_given"] = F.kl_div(x, y.abs(), size_average=None, reduce=None, reduction="sum")
    results["mse_runtime"] = F.mse_loss(x, y, size_average=avg, reduce=red)
    acc = torch.empty(4, 3)
    torch.add(x, y, out=acc)
    results["add"] = acc
    prod = torch.empty(4, 4)
    same = torch.matmul(x, y.T, out=prod)
    results["matmul"] = prod + same
    total = torch.empty(4)
    torch.sum(x, 1, out=total)
    results["sum"] = total
    pair = torch.empty(8, 3)
    torch.cat([x, y], dim=0, out=pair)
    results["cat"] = pair
    torch.sub(x, y, out=x)
    results["sub"] = x
    return results
'''


@pytest.fixture(scope="module")
def converted():
    result = convert_source(PROGRAM, "legacy.py")
    return result


def _run(code, framework, avg, red):
    namespace = {"__name__": "legacy_" + framework}
    exec(compile(code, f"<{framework}>", "exec"), namespace)  # code this test wrote
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    y = rng.standard_normal((4, 3)).astype(np.float32)
    t = np.array([0, 2, 1, 2])
    if framework == "torch":
        args = (torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(t))
    else:
        args = (mindspore.Tensor(x), mindspore.Tensor(y), mindspore.Tensor(t.astype(np.int32)))
    out = namespace["run"](*args, avg, red)
    return {k: v.numpy() if framework == "torch" else v.asnumpy() for k, v in out.items()}


def test_everything_converts_with_the_out_warning(converted):
    actions = [(f.api, f.action) for f in converted.report.findings]
    assert not [a for a in actions if a[1] == "unsupported"], actions
    code_lines = [line for line in converted.code.splitlines() if not line.lstrip().startswith("#")]
    assert not any("torch" in line for line in code_lines), converted.code
    assert "acc = ops.add(x, y)" in converted.code
    assert "prod = same = ops.matmul(x, y.T)" in converted.code
    assert 'reduction="sum"' in converted.code and 'reduction="none"' in converted.code
    notes = [f.message for f in converted.report.findings if "out= rebinds" in f.message]
    assert len(notes) == 5 and all(f.action == "warning" for f in converted.report.findings
                                   if "out= rebinds" in f.message)


@pytest.mark.parametrize("avg, red", [(False, True), (True, False), (True, True)])
def test_values_match_torch(converted, avg, red):
    expected = _run(PROGRAM, "torch", avg, red)
    got = _run(converted.code, "mindspore", avg, red)
    assert expected.keys() == got.keys()
    for key in expected:
        assert expected[key].shape == got[key].shape, key
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, atol=1e-5, err_msg=key)


@pytest.mark.parametrize("source, reason", [
    ("w = torch.add(x, y, out=z) * 2\n", "assign the result"),
    ("buf = torch.zeros(3)\ndef f(a):\n    torch.add(buf, a, out=buf)\n", "assign the result"),
    ("F.soft_margin_loss(x, y, reduce=flag)\n", "reduction"),
])
def test_what_cannot_convert_stays_marked(source, reason):
    result = convert_source("import torch\nimport torch.nn.functional as F\n" + source, "t.py")
    messages = [f.message for f in result.report.findings if f.action == "unsupported"]
    assert messages and reason in messages[0]
    assert "# ms-migrate:" in result.code


def test_out_none_is_dropped_and_a_global_declared_name_is_rebound():
    result = convert_source("import torch\nbuf = torch.zeros(3)\ntorch.exp(a, out=None)\n"
                            "def f(a):\n    global buf\n    torch.add(buf, a, out=buf)\n", "t.py")
    assert "ops.exp(a)\n" in result.code
    assert "    buf = ops.add(buf, a)\n" in result.code


def test_converting_twice_changes_nothing(converted):
    again = convert_source(converted.code, "legacy.py")
    assert again.code == converted.code
