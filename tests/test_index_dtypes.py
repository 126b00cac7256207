"""Unpacked indices of torch.topk / torch.sort / torch.cummin are int64 in torch and
int32 from MindSpore's ops: converted, the unpacked indices (and those of a pair kept
whole) are cast back, so code that concatenates them with int64 indices gets torch's
values and dtypes."""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402

SOURCE = textwrap.dedent("""\
    import torch

    def pick(scores, extra):
        top, idx = torch.topk(scores, 2, dim=1)
        ordered, order = torch.sort(scores, dim=0, descending=True)
        low, where = torch.cummin(scores, 1)
        res = torch.topk(scores, 1)
        pair = torch.sort(scores, stable=True)
        return top, torch.cat([idx, extra], 1), order, ordered, low, where, res[0], res[1], pair[1]
""")


def test_unpacked_indices_are_int64():
    code = convert_source(SOURCE, "pick.py").code
    assert "torch" not in code and code.count(".astype(mindspore.int64)") == 5
    assert convert_source(code, "pick.py").code == code
    t_ns, m_ns = {}, {}
    exec(compile(SOURCE, "<torch>", "exec"), t_ns)
    exec(compile(code, "<ms>", "exec"), m_ns)
    scores = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    extra = np.array([[4], [0], [2]], dtype=np.int64)
    expected = t_ns["pick"](torch.from_numpy(scores), torch.from_numpy(extra))
    got = m_ns["pick"](mindspore.Tensor(scores), mindspore.Tensor(extra))
    for e, g in zip(expected, got):
        assert str(g.dtype).lower() == str(e.dtype).replace("torch.", "")
        np.testing.assert_allclose(g.asnumpy(), e.numpy())


METHODS = textwrap.dedent("""\
    import torch

    def pick(scores, extra):
        res = scores.topk(2, dim=1)
        low, where = scores.cummin(0)
        ordered, order = scores.sort(dim=1)
        names = ["b", "a"]
        names.sort()
        return res[0], torch.cat([res[1], extra], 1), low, where, ordered, order
""")


def test_indices_of_tensor_methods_are_int64():
    """x.topk / x.cummin assigned whole or unpacked, and an unpacked x.sort: the same
    casts; a list's sort() is left alone, and converting again adds nothing."""
    code = convert_source(METHODS, "pick.py").code
    assert code.count(".astype(mindspore.int64)") == 3 and "names.sort()\n" in code
    assert convert_source(code, "pick.py").code == code
    t_ns, m_ns = {}, {}
    exec(compile(METHODS, "<torch>", "exec"), t_ns)
    exec(compile(code, "<ms>", "exec"), m_ns)
    scores = np.random.default_rng(1).standard_normal((3, 5)).astype(np.float32)
    extra = np.array([[4], [0], [2]], dtype=np.int64)
    expected = t_ns["pick"](torch.from_numpy(scores), torch.from_numpy(extra))
    got = m_ns["pick"](mindspore.Tensor(scores), mindspore.Tensor(extra))
    for e, g in zip(expected, got):
        assert str(g.dtype).lower() == str(e.dtype).replace("torch.", "")
        np.testing.assert_allclose(g.asnumpy(), e.numpy(), rtol=1e-6)
