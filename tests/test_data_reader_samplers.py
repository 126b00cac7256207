"""DataLoader(reader, sampler=...) over a torchvision reader: the converted pipeline
hands the sampler to its mindspore.dataset reader (reader_with_sampler, written into
the file) and yields the batches torch's DataLoader yields with the same sampler.

torchvision cannot be installed here: torch's side is torch's own DataLoader and
samplers over a Dataset that lists an image folder as torchvision's ImageFolder does
(classes and files sorted, label = class index, ToTensor = CHW float32 / 255).
"""
import os

import numpy as np
import pytest
from PIL import Image

from ms_migrate import convert_source

torch = pytest.importorskip("torch")
pytest.importorskip("mindspore")

SOURCE = """\
import torch
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler
from torchvision import datasets, transforms


def sharded(root, replicas, rank, shuffle):
    dataset = datasets.ImageFolder(root, transform=transforms.ToTensor())
    sampler = DistributedSampler(dataset, num_replicas=replicas, rank=rank, shuffle=shuffle)
    loader = DataLoader(
        dataset,
        batch_size=2,
        shuffle=False,
        sampler=sampler,
        num_workers=1,
        pin_memory=True,
        drop_last=True
    )
    return [(x.numpy(), y.numpy()) for x, y in loader]


def maybe_sharded(root, distributed):
    dataset = datasets.ImageFolder(root, transform=transforms.ToTensor())
    sampler = DistributedSampler(dataset, num_replicas=2, rank=0, shuffle=False) if distributed else None
    loader = DataLoader(dataset, 3, shuffle=(sampler is None), sampler=sampler)
    return [(x.numpy(), y.numpy()) for x, y in loader]


def epochs(root, rank, count):
    dataset = datasets.ImageFolder(root, transform=transforms.ToTensor())
    sampler = DistributedSampler(dataset, num_replicas=2, rank=rank, shuffle=True)
    loader = DataLoader(dataset, batch_size=8, sampler=sampler)
    seen = []
    for epoch in range(count):
        sampler.set_epoch(epoch)
        seen.append(sorted(int(v) for _, y in loader for v in y))
    return seen
"""


class TorchImageFolder(torch.utils.data.Dataset):
    """torchvision's ImageFolder, as documented, for the torch side."""

    def __init__(self, root):
        classes = sorted(os.listdir(root))
        self.items = [(os.path.join(root, c, f), i) for i, c in enumerate(classes)
                      for f in sorted(os.listdir(os.path.join(root, c)))]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        path, label = self.items[index]
        image = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255
        return torch.from_numpy(image.transpose(2, 0, 1).copy()), label


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for c, count in zip("abc", (3, 4, 2)):
        os.makedirs(root / c)
        for i in range(count):
            Image.fromarray(rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)).save(
                root / c / f"{i}.png")
    return str(root)


@pytest.fixture(scope="module")
def converted():
    result = convert_source(SOURCE, "loader.py")
    unsupported = [f.message for f in result.report.findings if f.action == "unsupported"]
    assert not unsupported, unsupported
    assert "import torch" not in result.code and "def reader_with_sampler(" in result.code
    namespace = {}
    exec(compile(result.code, "<mindspore>", "exec"), namespace)
    return namespace


def torch_batches(root, sampler, batch_size, **kwargs):
    loader = torch.utils.data.DataLoader(TorchImageFolder(root), batch_size=batch_size,
                                         sampler=sampler, **kwargs)
    return [(x.numpy(), y.numpy()) for x, y in loader]


def same(expected, actual):
    assert len(actual) == len(expected)
    for (ex, ey), (ax, ay) in zip(expected, actual):
        assert ax.dtype == np.float32 and ay.dtype == np.int64
        np.testing.assert_allclose(ax, ex, rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(ay, ey)


@pytest.mark.parametrize("rank", [0, 1, 2])
def test_distributed_sampler_without_shuffle_gives_torchs_shard(folder, converted, rank):
    dataset = TorchImageFolder(folder)
    sampler = torch.utils.data.distributed.DistributedSampler(
        dataset, num_replicas=3, rank=rank, shuffle=False)
    same(torch_batches(folder, sampler, 2, drop_last=True),
         converted["sharded"](folder, 3, rank, False))


def test_shuffled_shards_split_the_folder_as_torchs(folder, converted):
    """Shuffled shards: each as long as torch's, together every image (padded)."""
    labels = []
    for rank in (0, 1):
        batches = converted["sharded"](folder, 2, rank, True)
        sampler = torch.utils.data.distributed.DistributedSampler(
            TorchImageFolder(folder), num_replicas=2, rank=rank, shuffle=True)
        assert len(batches) == len(torch_batches(folder, sampler, 2, drop_last=True))
        labels += [int(v) for _, y in batches for v in y]
    assert sorted(set(labels)) == [0, 1, 2] and len(labels) == 8


def test_sampler_or_shuffle_as_torch(folder, converted):
    sampler = torch.utils.data.distributed.DistributedSampler(
        TorchImageFolder(folder), num_replicas=2, rank=0, shuffle=False)
    same(torch_batches(folder, sampler, 3), converted["maybe_sharded"](folder, True))
    shuffled = converted["maybe_sharded"](folder, False)  # no sampler: shuffle=True
    in_order = torch_batches(folder, None, 9)
    images = np.concatenate([x for x, _ in shuffled])
    labels = np.concatenate([y for _, y in shuffled])
    assert [len(y) for _, y in shuffled] == [3, 3, 3]
    order = [int(np.flatnonzero(np.abs(in_order[0][0] - image).max(axis=(1, 2, 3)) < 1e-6)[0])
             for image in images]
    assert sorted(order) == list(range(9))
    np.testing.assert_array_equal(labels, in_order[0][1][order])


def test_set_epoch_goes_and_every_epoch_splits_the_folder(folder, converted):
    """torch reshuffles through set_epoch; MindSpore's sampler does it itself, the same
    order on both shards: each epoch the two shards hold every image once (9 images,
    one repeated to pad to 10), as torch's do."""
    mine = [converted["epochs"](folder, rank, 2) for rank in (0, 1)]
    for epoch in range(2):
        labels = mine[0][epoch] + mine[1][epoch]
        assert len(mine[0][epoch]) == len(mine[1][epoch]) == 5
        assert sorted(set(labels)) == [0, 1, 2]
        counts = [labels.count(c) for c in range(3)]
        assert sum(counts) == 10 and all(n >= m for n, m in zip(counts, (3, 4, 2)))


PYTHON_DATASET = """\
import torch
from torch.utils.data import DataLoader, Dataset
from torch.utils.data.distributed import DistributedSampler


class Numbers(Dataset):
    def __len__(self):
        return 7

    def __getitem__(self, i):
        return torch.ones(2) * i, i


def batches(rank, distributed):
    dataset = Numbers()
    sampler = DistributedSampler(dataset, num_replicas=2, rank=rank, shuffle=False) if distributed else None
    loader = DataLoader(dataset, batch_size=2, shuffle=(sampler is None), sampler=sampler, num_workers=1)
    return [(x.numpy(), y.numpy()) for x, y in loader]


def maybe_sharded(rank, distributed):
    data = Numbers()
    loader = DataLoader(data, batch_size=3, shuffle=False,
                        sampler=DistributedSampler(data, 2, rank, shuffle=False) if distributed else None)
    return [(x.numpy(), y.numpy()) for x, y in loader]
"""


def test_python_dataset_with_sampler_or_shuffle_as_torch():
    result = convert_source(PYTHON_DATASET, "numbers.py")
    assert "import torch" not in result.code
    assert "reader_with_sampler(ds.GeneratorDataset(" in result.code
    torch_ns, ms_ns = {}, {}
    exec(compile(PYTHON_DATASET, "<torch>", "exec"), torch_ns)
    exec(compile(result.code, "<mindspore>", "exec"), ms_ns)
    for rank in (0, 1):
        same(torch_ns["batches"](rank, True), ms_ns["batches"](rank, True))
    shuffled = ms_ns["batches"](0, False)
    assert [len(y) for _, y in shuffled] == [2, 2, 2, 1]
    assert sorted(int(v) for _, y in shuffled for v in y) == list(range(7))
    for flag in (True, False):  # no sampler: in order, as torch (GeneratorDataset would shuffle)
        same(torch_ns["maybe_sharded"](1, flag), ms_ns["maybe_sharded"](1, flag))
