"""DataLoaders that GeneratorDataset(...).batch(...) cannot express become
MindSpore's torch-style mindspore.dataset.dataloader.DataLoader.

`DataLoader(dataset, **train_kwargs)` (pytorch/examples' mnist and vae) binds its
arguments only when it runs; batch_sampler= and worker_init_fn= have no
GeneratorDataset counterpart. Left as torch, torch's default_collate would meet
the converted Dataset's MindSpore values. The converted script yields the
same batches as torch's.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402

SOURCE = '''
import torch
from torch.utils.data import Dataset, DataLoader


class Squares(Dataset):
    def __init__(self, n):
        self.x = torch.arange(n, dtype=torch.float32)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i].unsqueeze(0), self.x[i] ** 2


def batches(n, **overrides):
    train_kwargs = {'batch_size': 4}
    train_kwargs.update(overrides)
    dataset = Squares(n)
    loader = torch.utils.data.DataLoader(dataset, **train_kwargs)
    out = []
    for data, target in loader:
        out.append((data.numpy(), target.numpy()))
    return out, len(loader), len(loader.dataset)


def pairs(n):
    loader = DataLoader(Squares(n), batch_sampler=[[0, 1], [5, 2, 3]])
    return [(data.numpy(), target.numpy()) for data, target in loader]
'''


@pytest.fixture(scope="module")
def converted():
    result = convert_source(SOURCE, "loader.py")
    unsupported = [f for f in result.report.findings if f.action == "unsupported"]
    assert not unsupported, unsupported
    notes = [f.message for f in result.report.findings
             if f.api == "DataLoader" and f.action == "converted"]
    assert any("mindspore.dataset.dataloader.DataLoader" in m for m in notes), notes
    return result.code


def _run(code, name):
    namespace = {"__name__": name}
    exec(compile(code, f"<{name}>", "exec"), namespace)
    return namespace


def test_converted_code_has_no_torch(converted):
    assert "torch" not in converted.replace("torch-style", "")
    assert "ds.dataloader.DataLoader(dataset, **train_kwargs)" in converted


def test_converting_again_changes_nothing(converted):
    assert convert_source(converted, "loader.py").code == converted


@pytest.mark.parametrize("overrides", [{}, {"drop_last": True}, {"batch_size": 3}])
def test_keyword_loader_gives_torch_batches(converted, overrides):
    theirs = _run(SOURCE, "loader")["batches"](10, **overrides)
    ours = _run(converted, "loader_ms")["batches"](10, **overrides)
    assert ours[1:] == theirs[1:]
    assert len(ours[0]) == len(theirs[0]) == theirs[1]
    for (a, b), (c, d) in zip(ours[0], theirs[0]):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_batch_sampler_loader_gives_torch_batches(converted):
    theirs = _run(SOURCE, "loader")["pairs"](6)
    ours = _run(converted, "loader_ms")["pairs"](6)
    assert [a.shape for a, _ in ours] == [(2, 1), (3, 1)]
    for (a, b), (c, d) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
