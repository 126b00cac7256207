"""A subclass of torch's DataLoader or DistributedSampler (deepspeech.pytorch's
AudioDataLoader and elastic sampler) extends MindSpore's torch-style class of the same
name: the torch program and its conversion give the same batches."""
import numpy as np
import pytest

from ms_migrate import convert_source

torch = pytest.importorskip("torch")
pytest.importorskip("mindspore")

PROGRAM = '''\
import math
import torch
from torch.utils.data import DistributedSampler, DataLoader


def _collate_fn(batch):
    longest = max(len(b) for b in batch)
    out = torch.zeros(len(batch), longest)
    for i, b in enumerate(batch):
        out[i, :len(b)] = torch.tensor(b)
    return out


class AudioDataLoader(DataLoader):
    def __init__(self, *args, **kwargs):
        super(AudioDataLoader, self).__init__(*args, **kwargs)
        self.collate_fn = _collate_fn


class BinSampler(DistributedSampler):
    """Batches of consecutive ids, dealt to the replicas in turn."""

    def __init__(self, dataset, num_replicas=None, rank=None, batch_size=1):
        super().__init__(dataset=dataset, num_replicas=num_replicas, rank=rank)
        ids = list(range(len(dataset)))
        self.bins = [ids[i:i + batch_size] for i in range(0, len(ids), batch_size)]
        self.num_samples = int(math.ceil(float(len(self.bins)) / self.num_replicas))
        self.total_size = self.num_samples * self.num_replicas

    def __iter__(self):
        indices = list(range(len(self.bins)))
        indices += indices[:(self.total_size - len(indices))]
        for x in indices[self.rank:self.total_size:self.num_replicas]:
            yield self.bins[x]

    def __len__(self):
        return self.num_samples


def batches(data, rank):
    sampler = BinSampler(data, num_replicas=2, rank=rank, batch_size=3)
    loader = AudioDataLoader(data, num_workers=0, batch_sampler=sampler)
    return len(loader), [b for b in loader]
'''


def test_loader_and_sampler_subclasses_give_torchs_batches():
    result = convert_source(PROGRAM, "data_loader.py")
    assert "import torch" not in result.code and "from torch" not in result.code, result.code
    assert "class AudioDataLoader(ds.dataloader.DataLoader)" in result.code
    assert "class BinSampler(ds.dataloader.DistributedSampler)" in result.code
    torch_ns, ms_ns = {}, {}
    exec(compile(PROGRAM, "<torch>", "exec"), torch_ns)
    exec(compile(result.code, "<mindspore>", "exec"), ms_ns)
    data = [[float(i)] * (1 + i % 4) for i in range(14)]
    for rank in (0, 1):
        t_len, t_batches = torch_ns["batches"](data, rank)
        m_len, m_batches = ms_ns["batches"](data, rank)
        assert m_len == t_len == 3
        assert len(m_batches) == len(t_batches)
        for m, t in zip(m_batches, t_batches):
            np.testing.assert_array_equal(np.asarray(m.asnumpy() if hasattr(m, "asnumpy") else m),
                                          t.numpy())
