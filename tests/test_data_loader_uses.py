"""Loaders whose batches GeneratorDataset cannot give as torch does, and the type
hints and bases that name torch's data classes.

- A loader of one-value batches that is passed on, stored or wrapped (`self.dl = dl`,
  `cycle(dl)`) is iterated where the converter cannot unpack MindSpore's one-element
  lists: it becomes the torch-style loader (mindspore.dataset.dataloader.DataLoader).
- A collate_fn that computes with tensors (itself or through a function it calls)
  would run inside per_batch_map, where MindSpore ops fail: the torch-style loader.
- `class Dataset(Dataset)` (denoising-diffusion-pytorch) loses its torch base.
- `dataset: Dataset` loses its hint; `-> DataLoader` names mindspore.dataset.Dataset.
- `BatchSampler(SubsetRandomSampler(range(n)), ...)` (pytorch-a2c-ppo-acktr-gail).
Each converted program runs on the same data as torch's and gives the same batches.
"""
import numpy as np
import pytest

from ms_migrate import convert_source

torch = pytest.importorskip("torch")
pytest.importorskip("mindspore")

SOURCE = '''
import torch
from torch.utils.data import Dataset, DataLoader
from torch.utils.data.sampler import BatchSampler, SubsetRandomSampler


class Dataset(Dataset):
    def __init__(self, n):
        self.x = torch.arange(n * 3, dtype=torch.float32).reshape(n, 3)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, index):
        return self.x[index] * 2


def cycle(dl):
    while True:
        for data in dl:
            yield data


class Trainer:
    def __init__(self, n, batch_size: int):
        self.ds = Dataset(n)
        dl = DataLoader(self.ds, batch_size=batch_size, shuffle=False)
        self.dl = cycle(dl)

    def batches(self, steps):
        return [next(self.dl).numpy() for _ in range(steps)]


def collate_pairs(batch):
    return torch.stack([b[0] for b in batch]), torch.stack([b[1] for b in batch]) + 1


def make_loader(data, batch_size=3):
    def collate_fn(batch):
        return collate_pairs(batch)

    loader = DataLoader(data, batch_size=batch_size, shuffle=False, collate_fn=collate_fn)
    return loader


def sampled(n, is_distributed):
    from torch.utils.data.distributed import DistributedSampler
    data = [(torch.ones(2) * i, torch.zeros(1) + i) for i in range(n)]
    sampler = (
        DistributedSampler(data) if is_distributed else None
    )
    loader = DataLoader(data, batch_size=2, shuffle=(sampler is None), sampler=sampler,
                        collate_fn=collate_pairs)
    return [(a.numpy(), b.numpy()) for a, b in loader]


def collated(n):
    data = [(torch.ones(2) * i, torch.zeros(1) + i) for i in range(n)]
    return [(a.numpy(), b.numpy()) for a, b in make_loader(data)]


def prepare(dataset: Dataset, batch_size: int) -> DataLoader:
    return DataLoader(dataset, batch_size=batch_size, shuffle=False)


class Pairs(torch.utils.data.Dataset):
    def __init__(self, n):
        self.x = torch.arange(n * 2, dtype=torch.float32).reshape(n, 2)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], i % 3


def prepared(n):
    return [(x.numpy(), y.numpy()) for x, y in prepare(Pairs(n), 4)]


def size_of(data: torch.utils.data.Dataset) -> int:
    return len(data)


def minibatches(n, size):
    sampler = BatchSampler(SubsetRandomSampler(range(n)), size, drop_last=True)
    return [list(indices) for indices in sampler]
'''


@pytest.fixture(scope="module")
def both():
    result = convert_source(SOURCE, "uses.py")
    unsupported = [f.message for f in result.report.findings if f.action == "unsupported"]
    assert not unsupported, unsupported
    code = result.code
    assert "import torch" not in code and "from torch" not in code
    assert "class Dataset:" in code
    assert "def prepare(dataset: Dataset, batch_size: int) -> ds.Dataset:" in code  # its own
    assert "def size_of(data) -> int:" in code
    assert "ds.dataloader.BatchSampler(ds.dataloader.RandomSampler(range(n)), size" in code
    assert code.count("ds.dataloader.DataLoader(") == 3, code
    # a sampler a torch-style loader iterates is torch-style too
    assert "ds.dataloader.DistributedSampler(data) if is_distributed else None" in code
    torch_ns, ms_ns = {}, {}
    exec(compile(SOURCE, "<torch>", "exec"), torch_ns)
    exec(compile(code, "<mindspore>", "exec"), ms_ns)
    return torch_ns, ms_ns, code


def test_stored_loader_of_one_value_gives_torchs_batches(both):
    torch_ns, ms_ns, _ = both
    expected = torch_ns["Trainer"](7, 3).batches(4)
    actual = ms_ns["Trainer"](7, 3).batches(4)
    for e, a in zip(expected, actual):
        np.testing.assert_array_equal(np.asarray(a), e)
        assert np.asarray(a).dtype == e.dtype


def test_collate_fn_with_tensor_operations_runs_and_matches(both):
    torch_ns, ms_ns, _ = both
    expected, actual = torch_ns["collated"](8), ms_ns["collated"](8)
    assert len(actual) == len(expected) == 3
    for (ea, eb), (aa, ab) in zip(expected, actual):
        np.testing.assert_array_equal(aa, ea)
        np.testing.assert_array_equal(ab, eb)


def test_torch_style_loader_with_a_conditional_sampler(both):
    torch_ns, ms_ns, _ = both
    expected, actual = torch_ns["sampled"](6, False), ms_ns["sampled"](6, False)
    assert [a.shape for a, _ in actual] == [a.shape for a, _ in expected]
    rows = sorted(float(v) for _, b in actual for v in b.ravel())
    assert rows == sorted(float(v) for _, b in expected for v in b.ravel()) == [1, 2, 3, 4, 5, 6]


def test_returned_loader_and_hints(both):
    torch_ns, ms_ns, _ = both
    expected, actual = torch_ns["prepared"](10), ms_ns["prepared"](10)
    assert len(actual) == len(expected) == 3
    for (ex, ey), (ax, ay) in zip(expected, actual):
        np.testing.assert_array_equal(ax, ex)
        np.testing.assert_array_equal(ay, ey)
        assert ax.dtype == ex.dtype and ay.dtype == ey.dtype


def test_hint_of_torchs_dataset_goes(both):
    torch_ns, ms_ns, _ = both
    assert ms_ns["size_of"](ms_ns["Pairs"](5)) == torch_ns["size_of"](torch_ns["Pairs"](5)) == 5


def test_batch_sampler_over_subset_random_sampler_of_a_range(both):
    torch_ns, ms_ns, _ = both
    actual = ms_ns["minibatches"](10, 3)
    assert [len(b) for b in actual] == [len(b) for b in torch_ns["minibatches"](10, 3)] == [3] * 3
    flat = [int(i) for b in actual for i in b]
    assert len(set(flat)) == 9 and set(flat) <= set(range(10))
    assert any(ms_ns["minibatches"](10, 10) != [list(range(10))] for _ in range(5))


def test_converting_again_changes_nothing(both):
    _, _, code = both
    assert convert_source(code, "uses.py").code == code


def test_unpacked_loop_is_not_unpacked_again():
    source = (
        "import torch\n"
        "from torch.utils.data import DataLoader\n\n"
        "class Ones(torch.utils.data.Dataset):\n"
        "    def __len__(self):\n        return 4\n\n"
        "    def __getitem__(self, i):\n        return torch.ones(2) * i\n\n"
        "loader = DataLoader(Ones(), batch_size=2)\n"
        "total = [x for (x,) in loader]\n"
        "y = torch.nested.nested_tensor([torch.ones(2)])\n")
    code = convert_source(source, "again.py").code
    assert "for (x,) in loader" in code and "((x,),)" not in code


def test_one_loader_per_dataset_is_judged_per_function():
    source = (
        "import torchvision\n"
        "from torch.utils.data import DataLoader\n\n"
        "def train_loader(root):\n"
        "    data = torchvision.datasets.MNIST(root, train=True)\n"
        "    return DataLoader(data, batch_size=4)\n\n"
        "def test_loader(root):\n"
        "    data = torchvision.datasets.MNIST(root, train=False)\n"
        "    return DataLoader(data, batch_size=4)\n")
    result = convert_source(source, "two.py")
    assert not [f for f in result.report.findings if "feeds one loader" in f.message]
    assert "feeds one loader" not in result.code
