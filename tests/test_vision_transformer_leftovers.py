"""Spellings vision-transformer code uses that stayed torch: meshgrid of a starred list
of grids, a legacy typed constructor sampled in place, ... Each is converted, run in
torch and in MindSpore on the same inputs, and the numbers compared."""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402
from ms_migrate.runtime.equivalence import copy_torch_weights  # noqa: E402


def convert(source: str):
    source = textwrap.dedent(source)
    result = convert_source(source, "prog.py")
    assert convert_source(result.code, "prog.py").code == result.code  # idempotent
    torch_ns, ms_ns = {"__name__": "prog"}, {"__name__": "prog_ms"}
    exec(compile(source, "<torch>", "exec"), torch_ns)
    exec(compile(result.code, "<ms>", "exec"), ms_ns)
    return result, torch_ns, ms_ns


def test_meshgrid_of_starred_grids():
    result, t, m = convert("""\
        import torch

        def positions(spatial_dims):
            grids = [torch.arange(d, dtype=torch.float32) for d in spatial_dims]
            grid = torch.meshgrid(*grids, indexing='ij')
            return torch.stack(grid, dim=-1), torch.block_diag(*grids)
        """)
    assert "import torch" not in result.code
    for dims in ((3, 4), (2, 3, 5)):
        tp, tb = t["positions"](dims)
        mp, mb = m["positions"](dims)
        np.testing.assert_array_equal(mp.asnumpy(), tp.numpy())
        np.testing.assert_array_equal(mb.asnumpy(), tb.numpy())


def test_legacy_typed_constructor_with_device_sampled_in_place():
    result, t, m = convert("""\
        import torch

        def keep_mask(x, prob):
            device = x.device
            # torch reads the tuple as data: four values, not a shape
            return torch.FloatTensor((x.shape[0], 1, 1, 1), device = device).uniform_() > prob

        def typed(x):
            return torch.FloatTensor([[1, 2]], device = x.device) + x
        """)
    assert "import torch" not in result.code
    x = np.ones((6, 2), np.float32)
    tm = t["keep_mask"](torch.from_numpy(x), 0.5)
    mm = m["keep_mask"](mindspore.Tensor(x), 0.5)
    assert tuple(mm.shape) == tuple(tm.shape) == (4,)
    assert mm.dtype == mindspore.bool_
    assert not m["keep_mask"](mindspore.Tensor(x), 1.0).asnumpy().any()
    assert m["keep_mask"](mindspore.Tensor(x), -0.1).asnumpy().all()
    np.testing.assert_array_equal(m["typed"](mindspore.Tensor(x)).asnumpy(),
                                  t["typed"](torch.from_numpy(x)).numpy())


def test_partial_of_torch_functions():
    result, t, m = convert("""\
        from functools import partial
        import torch
        from torch.nn.utils.rnn import pad_sequence as orig_pad_sequence

        def pack(seqs, device):
            arange = partial(torch.arange, device = device)
            pad_sequence = partial(orig_pad_sequence, batch_first = True)
            lengths = torch.tensor([s.shape[0] for s in seqs])
            mask = arange(int(lengths.max())) < lengths[:, None]
            return pad_sequence(seqs), mask, arange(2, 7)
        """)
    assert "import torch" not in result.code
    assert "partial(ops.arange)" in result.code
    rng = np.random.default_rng(0)
    seqs = [rng.standard_normal((n, 3)).astype(np.float32) for n in (2, 5, 1)]
    t_out = t["pack"]([torch.from_numpy(s) for s in seqs], "cpu")
    m_out = m["pack"]([mindspore.Tensor(s) for s in seqs], "CPU")
    for a, b in zip(m_out, t_out):
        np.testing.assert_array_equal(a.asnumpy(), b.numpy())
