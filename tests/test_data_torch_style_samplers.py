"""Samplers that feed a BatchSampler or a torch-style DataLoader (batch_sampler=)
become MindSpore's torch-style classes of the same names (ds.dataloader.*), which
are iterable as torch's are; a sampler that feeds a GeneratorDataset loader stays a
mindspore.dataset sampler. The batches are torch's."""
import numpy as np
import pytest

from ms_migrate import convert_source

torch = pytest.importorskip("torch")
pytest.importorskip("mindspore")

SOURCE = '''
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler


class Rows(Dataset):
    def __init__(self, n):
        self.x = torch.arange(n * 2, dtype=torch.float32).reshape(n, 2)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], i % 3


def loaders(n, shuffle):
    dataset_train = Rows(n)
    dataset_val = Rows(n)
    if shuffle:
        sampler_train = torch.utils.data.RandomSampler(dataset_train)
    else:
        sampler_train = torch.utils.data.SequentialSampler(dataset_train)
    sampler_val = SequentialSampler(dataset_val)
    batch_sampler_train = torch.utils.data.BatchSampler(sampler_train, 3, drop_last=True)
    train = DataLoader(dataset_train, batch_sampler=batch_sampler_train)
    val = DataLoader(dataset_val, 4, sampler=sampler_val, drop_last=False)
    return ([(x.numpy(), y.numpy()) for x, y in train],
            [(x.numpy(), y.numpy()) for x, y in val], len(train))


def index_batches(n):
    return [list(indices) for indices in BatchSampler(SequentialSampler(range(n)), 2, drop_last=False)]
'''


@pytest.fixture(scope="module")
def both():
    result = convert_source(SOURCE, "samplers.py")
    unsupported = [f.message for f in result.report.findings if f.action == "unsupported"]
    assert not unsupported, unsupported
    code = result.code
    assert "import torch" not in code
    assert "sampler_train = ds.dataloader.RandomSampler(dataset_train)" in code
    assert "ds.dataloader.BatchSampler(sampler_train, 3, drop_last=True)" in code
    assert "sampler_val = ds.SequentialSampler()" in code
    torch_ns, ms_ns = {}, {}
    exec(compile(SOURCE, "<torch>", "exec"), torch_ns)
    exec(compile(code, "<mindspore>", "exec"), ms_ns)
    return torch_ns, ms_ns


def same(expected, actual):
    assert len(actual) == len(expected)
    for (ex, ey), (ax, ay) in zip(expected, actual):
        np.testing.assert_array_equal(ax, ex)
        np.testing.assert_array_equal(ay, ey)
        assert ax.dtype == ex.dtype and ay.dtype == ey.dtype


def test_sequential_batch_sampler_and_val_loader_give_torchs_batches(both):
    torch_ns, ms_ns = both
    t_train, t_val, t_len = torch_ns["loaders"](8, False)
    m_train, m_val, m_len = ms_ns["loaders"](8, False)
    same(t_train, m_train)
    same(t_val, m_val)
    assert m_len == t_len == 2


def test_random_batch_sampler_draws_distinct_rows(both):
    _, ms_ns = both
    m_train, _, _ = ms_ns["loaders"](7, True)
    assert [len(y) for _, y in m_train] == [3, 3]
    rows = np.concatenate([x for x, _ in m_train])[:, 0] / 2
    assert len(set(rows.tolist())) == 6 and set(rows.tolist()) <= set(range(7))


def test_batch_sampler_iterated_directly(both):
    torch_ns, ms_ns = both
    assert ms_ns["index_batches"](5) == torch_ns["index_batches"](5) == [[0, 1], [2, 3], [4]]
