"""torchvision dataset readers and their mindspore.dataset conversions read the same
files the same way.

Files are written in each format as documented (MNIST idx, CIFAR-10 binary, an image
folder); what torchvision gives for them (PIL image -> transform, int label batched as
int64) is computed from the same arrays with numpy and PIL, since torchvision cannot
be installed here. The converted program runs on MindSpore and every batch is compared.
"""
import os
import struct

import numpy as np
import pytest
from PIL import Image

from ms_migrate import convert_source

pytest.importorskip("mindspore")

HEADER = """\
import torch
from torch.utils.data import DataLoader
from torchvision import datasets, transforms
"""


def run_converted(body: str, **values):
    result = convert_source(HEADER + body, "case.py")
    unsupported = [f.message for f in result.report.findings if f.action == "unsupported"]
    assert not unsupported, unsupported
    namespace = dict(values)
    exec(compile(result.code, "<mindspore>", "exec"), namespace)
    return namespace, result.code


def batches_of(loader):
    return [[t.asnumpy() for t in batch] for batch in loader]


def check(batches, images: np.ndarray, labels: np.ndarray, batch_size: int):
    """Batches equal torchvision's: float32 CHW images, int64 labels, in file order."""
    assert len(batches) == -(-len(images) // batch_size)
    for i, (x, y) in enumerate(batches):
        part = slice(i * batch_size, (i + 1) * batch_size)
        assert x.dtype == np.float32 and y.dtype == np.int64
        np.testing.assert_allclose(x, images[part], rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(y, labels[part])


def write_idx(folder, prefix, images, labels):
    os.makedirs(folder, exist_ok=True)
    n, h, w = images.shape
    with open(os.path.join(folder, f"{prefix}-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 2051, n, h, w) + images.tobytes())
    with open(os.path.join(folder, f"{prefix}-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 2049, n) + labels.astype(np.uint8).tobytes())


@pytest.mark.parametrize("reader,folder", [("MNIST", "MNIST"), ("FashionMNIST", "FashionMNIST")])
def test_mnist_idx_files_with_to_tensor_and_normalize(tmp_path, reader, folder):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (7, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 7)
    write_idx(tmp_path / folder / "raw", "t10k", images, labels)
    write_idx(tmp_path / folder / "raw", "train", images[:3], labels[:3])
    ns, code = run_converted(f"""
tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
test_set = datasets.{reader}(root, train=False, download=True, transform=tf)
train_set = datasets.{reader}(root, transform=tf)
test_loader = DataLoader(test_set, batch_size=3)
train_loader = DataLoader(train_set, batch_size=2, shuffle=True)
sizes = (len(test_set), len(test_loader), len(train_loader))
""", root=str(tmp_path))
    expected = ((images[:, None] / np.float32(255)).astype(np.float32) - 0.1307) / 0.3081
    for epoch in range(2):
        check(batches_of(ns["test_loader"]), expected, labels, 3)
    assert ns["sizes"] == (7, 3, 2)
    shuffled = np.concatenate([y for _, y in batches_of(ns["train_loader"])])
    assert sorted(shuffled) == sorted(labels[:3])
    statements = [line for line in code.splitlines() if not line.startswith("#")]
    assert not any("download" in line for line in statements)


def test_cifar10_binary_version(tmp_path):
    """MindSpore reads CIFAR-10's binary files (10000 records of label + CHW bytes)."""
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 10, 10000)
    images = rng.integers(0, 256, (10000, 3, 32, 32), dtype=np.uint8)
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    records = np.concatenate([labels[:, None].astype(np.uint8), images.reshape(10000, -1)], 1)
    (folder / "test_batch.bin").write_bytes(records.tobytes())
    ns, code = run_converted("""
test_set = datasets.CIFAR10(root=root, train=False, transform=transforms.ToTensor(),
                            target_transform=lambda y: y + 1)
loader = DataLoader(test_set, batch_size=4)
first = next(iter(loader))
""", root=str(tmp_path))
    x, y = (t.asnumpy() for t in ns["first"])
    np.testing.assert_allclose(x, images[:4] / np.float32(255), rtol=1e-6)
    np.testing.assert_array_equal(y, labels[:4] + 1)
    assert y.dtype == np.int64
    assert "cifar-10-batches-bin" in code


def test_image_folder_classes_files_and_pil_transforms(tmp_path):
    rng = np.random.default_rng(3)
    pictures, labels = [], []
    for label, name in enumerate(["cat", "dog"]):  # torchvision: sorted classes and files
        (tmp_path / name).mkdir()
        for stem in ["b", "a", "c"]:
            Image.fromarray(rng.integers(0, 256, (10, 14, 3), dtype=np.uint8)).save(
                tmp_path / name / f"{stem}.png")
        for stem in ["a", "b", "c"]:
            pictures.append(Image.open(tmp_path / name / f"{stem}.png").convert("RGB"))
            labels.append(label)
    ns, _ = run_converted("""
tf = transforms.Compose([transforms.Resize(6), transforms.CenterCrop(6), transforms.ToTensor()])
folder = datasets.ImageFolder(root, transform=tf)
loader = DataLoader(folder, batch_size=4, drop_last=False)
""", root=str(tmp_path))

    def torchvision_like(img):  # Resize(6): shorter side 6, PIL bilinear; CenterCrop(6)
        w, h = img.size
        resized = img.resize((int(6 * w / h), 6), Image.BILINEAR)
        left = int(round((resized.size[0] - 6) / 2))
        crop = np.asarray(resized)[:, left:left + 6]
        return (crop / np.float32(255)).transpose(2, 0, 1).astype(np.float32)

    expected = np.stack([torchvision_like(p) for p in pictures])
    check(batches_of(ns["loader"]), expected, np.array(labels), 4)
