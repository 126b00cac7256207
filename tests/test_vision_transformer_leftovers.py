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


def convert(source: str, run_torch: bool = True):
    source = textwrap.dedent(source)
    result = convert_source(source, "prog.py")
    assert convert_source(result.code, "prog.py").code == result.code  # idempotent
    torch_ns, ms_ns = {"__name__": "prog"}, {"__name__": "prog_ms"}
    if run_torch:
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


# torchvision cannot be installed beside torch 2.13 here: each expected value is
# computed from torchvision's documented tensor semantics with torch ops (F.pad, conv2d,
# F.interpolate with antialias) and the standard library's colorsys.
AUGMENTATIONS = """\
    import torch
    from torch import nn
    from torchvision import transforms as T

    class Crops(nn.Module):
        def __init__(self, size, hue):
            super().__init__()
            self.down = T.RandomResizedCrop((size, size + 2), scale=(1.0, 1.0), ratio=(1.5, 1.5))
            self.up = T.RandomResizedCrop(size * 3, scale=(1.0, 1.0), ratio=(1.5, 1.5), antialias=False)
            self.hue = T.ColorJitter(hue=(hue, hue))

        def forward(self, x):
            return self.down(x), self.up(x), self.hue(x)

    def layers():
        return nn.Sequential(
            T.ColorJitter(brightness=(1.3, 1.3)),
            T.ColorJitter(contrast=(0.6, 0.6)),
            T.ColorJitter(saturation=(1.4, 1.4)),
            T.RandomGrayscale(p=1.0),
            T.RandomHorizontalFlip(p=1.0),
            T.GaussianBlur((3, 5), 1.3),
            T.Normalize(mean=torch.tensor([0.485, 0.456, 0.406]), std=torch.tensor([0.229, 0.224, 0.225])),
        )
    """


def _gray(x):
    return 0.2989 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]


def _blur(x, kx, ky, sigma):
    def kernel(n):
        k = torch.exp(-0.5 * (torch.linspace(-(n - 1) / 2, (n - 1) / 2, n) / sigma) ** 2)
        return k / k.sum()
    k2 = kernel(ky)[:, None] * kernel(kx)[None, :]
    padded = torch.nn.functional.pad(x, (kx // 2, kx // 2, ky // 2, ky // 2), mode="reflect")
    return torch.nn.functional.conv2d(padded, k2.expand(x.shape[1], 1, ky, kx).contiguous(),
                                      groups=x.shape[1])


def _hue(x, shift):
    import colorsys
    out = np.empty_like(x)
    for n in range(x.shape[0]):
        for i in range(x.shape[2]):
            for j in range(x.shape[3]):
                h, s, v = colorsys.rgb_to_hsv(*x[n, :, i, j])
                out[n, :, i, j] = colorsys.hsv_to_rgb((h + shift) % 1.0, s, v)
    return out


def test_torchvision_transforms_on_tensor_batches_inside_a_model():
    result, _, m = convert(AUGMENTATIONS, run_torch=False)
    assert "import torch" not in result.code and "from torch" not in result.code
    assert "dataset" not in result.code
    rng = np.random.default_rng(0)
    x = rng.random((2, 3, 8, 12)).astype(np.float32)
    tx = torch.from_numpy(x)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(-1, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(-1, 1, 1)
    expected = [
        (tx * 1.3).clamp(0, 1),
        (0.6 * tx + 0.4 * _gray(tx).mean(dim=(-3, -2, -1), keepdim=True)).clamp(0, 1),
        (1.4 * tx + (1 - 1.4) * _gray(tx)).clamp(0, 1),
        _gray(tx).expand(-1, 3, -1, -1),
        tx.flip(-1),
        _blur(tx, 3, 5, 1.3),
        (tx - mean) / std,
    ]
    seq = m["layers"]()
    for layer, want in zip(seq.cell_list, expected):
        np.testing.assert_allclose(layer(mindspore.Tensor(x)).asnumpy(), want.numpy(),
                                   rtol=1e-5, atol=1e-5)
    chained = tx
    for step in (lambda v: (v * 1.3).clamp(0, 1),
                 lambda v: (0.6 * v + 0.4 * _gray(v).mean(dim=(-3, -2, -1), keepdim=True)).clamp(0, 1),
                 lambda v: (1.4 * v - 0.4 * _gray(v)).clamp(0, 1),
                 lambda v: _gray(v).expand(-1, 3, -1, -1), lambda v: v.flip(-1),
                 lambda v: _blur(v, 3, 5, 1.3), lambda v: (v - mean) / std):
        chained = step(chained)
    np.testing.assert_allclose(seq(mindspore.Tensor(x)).asnumpy(), chained.numpy(),
                               rtol=1e-4, atol=1e-4)
    interpolate = torch.nn.functional.interpolate
    for hue in (0.1, -0.3):
        down, up, shifted = m["Crops"](4, hue)(mindspore.Tensor(x))
        np.testing.assert_allclose(down.asnumpy(), interpolate(
            tx, (4, 6), mode="bilinear", align_corners=False, antialias=True).numpy(),
            rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(up.asnumpy(), interpolate(
            tx, (12, 12), mode="bilinear", align_corners=False).numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(shifted.asnumpy(), _hue(x, hue), rtol=1e-4, atol=1e-5)


def test_random_augmentations_draw_from_torchvision_ranges():
    result, _, m = convert("""\
        from torch import nn
        import torchvision.transforms as T

        def layers():
            return nn.Sequential(T.GaussianBlur(3, (0.5, 2.0)), T.RandomHorizontalFlip(),
                                 T.ColorJitter(0.8, 0.8, 0.8, 0.2), T.RandomResizedCrop(6))

        def pipeline():
            return T.Compose([T.RandomResizedCrop(6), T.ToTensor()])
        """, run_torch=False)
    assert "vision.RandomResizedCrop(6)" in result.code  # a data pipeline's stays
    seq = m["layers"]()
    x = mindspore.Tensor(np.random.default_rng(1).random((2, 3, 10, 9)).astype(np.float32))
    flips = set()
    for _ in range(12):
        out = seq(x)
        assert out.shape == (2, 3, 6, 6)
        assert float(out.min()) >= -1e-5 and float(out.max()) <= 1.0 + 1e-5
        flip = seq.cell_list[1](x).asnumpy()
        flips.add(bool((flip == x.asnumpy()).all()))
    assert flips == {True, False}
    jitter = seq.cell_list[2]
    assert jitter.brightness == (0.19999999999999996, 1.8) and jitter.hue == (-0.2, 0.2)


def test_parameters_of_a_layer_held_in_a_local_name():
    result, t, m = convert("""\
        import torch
        from torch import nn

        class Block(nn.Module):
            def __init__(self, dim):
                super().__init__()
                out_batch_norm = nn.BatchNorm2d(dim)
                nn.init.zeros_(out_batch_norm.weight)
                nn.init.constant_(out_batch_norm.bias, 0.25)
                norm = nn.Linear(dim, dim)  # the name bound anew: a Linear's bias
                nn.init.zeros_(norm.bias)
                self.net = nn.Sequential(nn.Conv2d(dim, dim, 1), out_batch_norm)
                self.fc = norm

            def forward(self, x):
                return self.net(x), self.fc(x.mean(dim=(2, 3)))
        """)
    assert "out_batch_norm.gamma" in result.code and "norm.bias.set_data" in result.code
    torch.manual_seed(0)
    tm, mm = t["Block"](4).eval(), m["Block"](4)
    mm.set_train(False)
    np.testing.assert_array_equal(mm.net[1].gamma.asnumpy(), np.zeros(4, np.float32))
    np.testing.assert_array_equal(mm.net[1].beta.asnumpy(), np.full(4, 0.25, np.float32))
    copy_torch_weights(tm.net[0], mm.net[0])
    copy_torch_weights(tm.fc, mm.fc)
    np.testing.assert_array_equal(mm.fc.bias.asnumpy(), np.zeros(4, np.float32))
    x = np.random.default_rng(0).standard_normal((2, 4, 3, 3)).astype(np.float32)
    for a, b in zip(mm(mindspore.Tensor(x)), tm(torch.from_numpy(x))):
        np.testing.assert_allclose(a.asnumpy(), b.detach().numpy(), rtol=1e-5, atol=1e-5)


def test_module_lists_of_a_tuple_and_holding_none():
    result, t, m = convert("""\
        import torch
        from torch import nn

        class Parallel(nn.Module):
            def __init__(self, *fns):
                super().__init__()
                self.fns = nn.ModuleList(fns)

            def forward(self, x):
                return sum([fn(x) for fn in self.fns])

        class Net(nn.Module):
            def __init__(self, dim, depth):
                super().__init__()
                self.layers = nn.ModuleList([])
                for layer in range(depth):
                    half = layer >= depth // 2
                    self.layers.append(nn.ModuleList([
                        nn.Linear(dim * 2, dim) if half else None,
                        Parallel(nn.Linear(dim, dim), nn.Linear(dim, dim)),
                    ]))

            def forward(self, x):
                skips = []
                for combine, par in self.layers:
                    if combine is None:
                        skips.append(x)
                    else:
                        x = combine(torch.cat((skips.pop(), x), dim=-1))
                    x = par(x) + x
                return x
        """)
    assert "import torch" not in result.code
    torch.manual_seed(0)
    tm, mm = t["Net"](4, 4), m["Net"](4, 4)
    assert len(list(mm.trainable_params())) == len(list(tm.parameters())) == 20
    copy_torch_weights(tm, mm)
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(mm(mindspore.Tensor(x)).asnumpy(),
                               tm(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-5)


def test_registered_parametrization_and_pytree_helpers():
    result, t, m = convert("""\
        import torch
        from torch import nn
        import torch.nn.functional as F
        import torch.nn.utils.parametrize as parametrize
        from torch.utils._pytree import tree_flatten, tree_unflatten

        class L2Norm(nn.Module):
            def __init__(self, dim = -1):
                super().__init__()
                self.dim = dim

            def forward(self, t):
                return F.normalize(t, dim = self.dim, p = 2)

        class NormLinear(nn.Module):
            def __init__(self, dim, dim_out, norm_dim_in = True):
                super().__init__()
                self.linear = nn.Linear(dim, dim_out, bias = False)
                parametrize.register_parametrization(
                    self.linear, 'weight', L2Norm(dim = -1 if norm_dim_in else 0))

            @property
            def weight(self):
                return self.linear.weight

            def forward(self, x):
                outputs, spec = tree_flatten({'a': [x, None], 'b': (x * 2,)})
                outputs[0] = self.linear(outputs[0])
                return tree_unflatten(outputs, spec)
        """)
    assert "import torch" not in result.code and "from torch" not in result.code
    torch.manual_seed(0)
    for norm_dim_in in (True, False):
        tm, mm = t["NormLinear"](4, 3, norm_dim_in), m["NormLinear"](4, 3, norm_dim_in)
        copy_torch_weights(tm, mm)
        np.testing.assert_allclose(mm.weight.asnumpy(), tm.weight.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
        x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
        t_out, m_out = tm(torch.from_numpy(x)), mm(mindspore.Tensor(x))
        assert m_out["a"][1] is None and isinstance(m_out["b"], tuple)
        np.testing.assert_allclose(m_out["a"][0].asnumpy(), t_out["a"][0].detach().numpy(),
                                   rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(m_out["b"][0].asnumpy(), t_out["b"][0].numpy())
