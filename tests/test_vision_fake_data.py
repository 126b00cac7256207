"""torchvision.datasets.FakeData becomes a GeneratorDataset over a class written into the
file: random images (other values than torchvision's, which draws with torch's
generator) through the transform, batched as torch batches them. Compared on what both
document: shapes, dtypes, label range, value range, the same sample for an index."""
import numpy as np
import pytest

from ms_migrate import convert_source

torch = pytest.importorskip("torch")
pytest.importorskip("mindspore")

PROGRAM = '''\
import torch
import torchvision.datasets as datasets
import torchvision.transforms as transforms


def loaders(sampler=None):
    train = datasets.FakeData(7, (3, 8, 10), 4, transforms.ToTensor())
    gray = datasets.FakeData(size=5, image_size=(1, 6, 6), num_classes=3,
                             transform=transforms.Compose([transforms.ToTensor(),
                                                           transforms.Normalize((0.5,), (0.5,))]))
    return (torch.utils.data.DataLoader(train, batch_size=3, shuffle=(sampler is None),
                                        sampler=sampler),
            torch.utils.data.DataLoader(gray, batch_size=2, shuffle=False))
'''


def batches(loader):
    return [tuple(np.asarray(v.asnumpy() if hasattr(v, "asnumpy") else v) for v in batch)
            for batch in loader]


@pytest.fixture(scope="module")
def converted():
    result = convert_source(PROGRAM, "main.py")
    assert "import torch" not in result.code and "from torch" not in result.code, result.code
    namespace = {}
    exec(compile(result.code, "<mindspore>", "exec"), namespace)
    return namespace


def test_fake_batches_have_torchvisions_shapes_types_and_ranges(converted):
    train, gray = converted["loaders"]()
    got = batches(train)
    assert [b[0].shape for b in got] == [(3, 3, 8, 10), (3, 3, 8, 10), (1, 3, 8, 10)]
    assert all(b[0].dtype == np.float32 and b[1].dtype == np.int64 for b in got)
    labels = np.concatenate([b[1] for b in got])
    assert sorted(labels.shape) == [7] and labels.min() >= 0 and labels.max() < 4
    images = np.concatenate([b[0] for b in got])
    assert images.min() >= 0 and images.max() <= 1 and images.std() > 0.1
    got = batches(gray)
    assert [b[0].shape for b in got] == [(2, 1, 6, 6), (2, 1, 6, 6), (1, 1, 6, 6)]
    assert np.concatenate([b[0] for b in got]).min() >= -1


def test_an_index_gives_the_same_sample_every_epoch(converted):
    _, gray = converted["loaders"]()
    first, second = batches(gray), batches(gray)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


def test_a_sampler_reads_its_rows(converted):
    import mindspore.dataset as ds
    train, _ = converted["loaders"](ds.SequentialSampler(start_index=2, num_samples=4))
    assert [b[0].shape[0] for b in batches(train)] == [3, 1]


def test_with_torchvision_the_batches_match_in_shape_and_type():
    pytest.importorskip("torchvision")
    namespace = {}
    exec(compile(PROGRAM, "<torch>", "exec"), namespace)
    result = convert_source(PROGRAM, "main.py")
    ms_namespace = {}
    exec(compile(result.code, "<mindspore>", "exec"), ms_namespace)
    for t_loader, m_loader in zip(namespace["loaders"](), ms_namespace["loaders"]()):
        for t, m in zip(batches(t_loader), batches(m_loader)):
            assert [(v.shape, v.dtype) for v in t] == [(v.shape, v.dtype) for v in m]
