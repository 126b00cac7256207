"""Argument forms of plain torch calls the real-world corpus left as torch:
`th.randn(*shape, device=device)` (DiT), a fresh tensor cast with type_as then filled in
place (a greedy decoder). Each small self-written program is converted, run in torch
and in MindSpore, and compared."""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402


def convert(source: str):
    source = textwrap.dedent(source)
    result = convert_source(source, "prog.py")
    assert convert_source(result.code, "prog.py").code == result.code  # idempotent
    torch_ns, ms_ns = {"__name__": "prog"}, {"__name__": "prog_ms"}
    exec(compile(source, "<torch>", "exec"), torch_ns)
    exec(compile(result.code, "<ms>", "exec"), ms_ns)
    return result, torch_ns, ms_ns


def test_unpacked_sizes_reach_the_random_factories():
    result, t, m = convert("""\
        import torch as th

        def noise(shape, device="cpu"):
            return th.randn(*shape, device=device), th.rand(2, *shape[1:])
        """)
    assert "import torch" not in result.code and "# ms-migrate" not in result.code
    for (a, b), (c, d) in zip([m["noise"]([3, 4, 5])], [t["noise"]([3, 4, 5])]):
        assert a.shape == tuple(c.shape) and b.shape == tuple(d.shape)
        assert str(a.dtype).lower() == "float32" and float(b.min()) >= 0


def test_a_fresh_tensor_cast_like_another_then_filled():
    result, t, m = convert("""\
        import torch

        def extend(ys, src, next_word):
            return torch.cat([ys, torch.ones(1, 1).type_as(src.data).fill_(next_word)], dim=0)
        """)
    assert "import torch" not in result.code and "# ms-migrate" not in result.code
    ys, src = np.array([[1], [2]]), np.array([[5, 6]])
    got = m["extend"](mindspore.tensor(ys), mindspore.tensor(src), 7)
    want = t["extend"](torch.from_numpy(ys), torch.from_numpy(src), 7)
    np.testing.assert_array_equal(got.asnumpy(), want.numpy())
    assert str(got.dtype).lower() == str(want.dtype).split(".")[1]
