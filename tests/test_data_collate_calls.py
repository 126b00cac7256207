"""A collate function that calls default_collate itself converts and gives torch's
batches, inside the converted pipeline's per_batch_map (which must return one row per
sample: a collate function that flattens several clips per sample into more rows needs
the torch-style mindspore.dataset.dataloader.DataLoader)."""
import numpy as np
import pytest

from ms_migrate import convert_source

torch = pytest.importorskip("torch")
pytest.importorskip("mindspore")

SOURCE = '''
import torch
from torch.utils.data import DataLoader, Dataset
from torch.utils.data.dataloader import default_collate


def collate_fn(batch):
    batch_clips, batch_targets = zip(*batch)
    batch_clips = [multi_clips[-1] for multi_clips in batch_clips]
    batch_targets = [multi_targets[0] for multi_targets in batch_targets]
    return default_collate(batch_clips), default_collate(batch_targets)


class Clips(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        clips = [torch.ones(2, 3) * index, torch.ones(2, 3) * (index + 0.5)]
        return clips, [index * 10, index * 10 + 1]


def batches(n):
    loader = DataLoader(Clips(n), batch_size=2, collate_fn=collate_fn)
    return [(x.numpy(), y.numpy()) for x, y in loader]
'''


def test_multi_clip_collate_gives_torchs_batches():
    result = convert_source(SOURCE, "clips.py")
    assert "import torch" not in result.code
    namespace = {}
    exec(compile(SOURCE, "<torch>", "exec"), namespace)
    expected = namespace["batches"](5)
    namespace = {}
    exec(compile(result.code, "<mindspore>", "exec"), namespace)
    actual = namespace["batches"](5)
    assert len(actual) == len(expected) == 3
    for (ex, ey), (ax, ay) in zip(expected, actual):
        assert ax.dtype == ex.dtype and ay.dtype == ey.dtype
        np.testing.assert_array_equal(ax, ex)
        np.testing.assert_array_equal(ay, ey)
