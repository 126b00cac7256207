"""torchvision datasets MindSpore reads otherwise (LSUN's LMDB databases, CelebA with all
its target types, CocoDetection) become classes written into the converted file with
torchvision's signature; a subclass (PyTorch-VAE's MyCelebA, detr's CocoDetection)
extends them. torchvision cannot be installed beside this torch: the files are written
here in each documented layout and the items compared with what torchvision documents
(PIL image through the transform, targets as described), computed with numpy and PIL."""
import io
import json

import numpy as np
import pytest
from PIL import Image

from ms_migrate import convert_source

pytest.importorskip("mindspore")

HEADER = """\
import torch
import torchvision
from torch.utils.data import DataLoader
from torchvision import datasets, transforms
"""


def run_converted(body: str, **values):
    result = convert_source(HEADER + body, "case.py")
    unsupported = [f"{f.api}: {f.message}" for f in result.report.findings
                   if f.action == "unsupported"]
    assert not unsupported, unsupported
    imports = [line for line in result.code.splitlines() if line.startswith(("import", "from"))]
    assert not [line for line in imports if "torch" in line], result.code
    namespace = dict(values)
    exec(compile(result.code, "<mindspore>", "exec"), namespace)
    return namespace, result.code


def batches_of(loader):
    return [[t.asnumpy() for t in batch] for batch in loader]


def chw(img):
    return (np.asarray(img.convert("RGB")) / np.float32(255)).transpose(2, 0, 1).astype(np.float32)


def pictures(seed, count, size=(10, 14)):
    rng = np.random.default_rng(seed)
    return [Image.fromarray(rng.integers(0, 256, size + (3,), dtype=np.uint8)) for _ in range(count)]


# --- LSUN -------------------------------------------------------------------------
def write_lsun(root, name, images):
    """An LSUN database: <root>/<name>_lmdb, image bytes under their keys."""
    lmdb = pytest.importorskip("lmdb")
    env = lmdb.open(str(root / f"{name}_lmdb"), map_size=1 << 24)
    with env.begin(write=True) as txn:
        for k, img in enumerate(images):
            buf = io.BytesIO()
            img.save(buf, format="PNG")
            txn.put(f"{k:04d}".encode(), buf.getvalue())
    env.close()


def test_lsun_reads_the_lmdb_databases_in_key_order_with_class_labels(tmp_path):
    bedrooms, towers = pictures(1, 3), pictures(2, 2)
    write_lsun(tmp_path, "bedroom_train", bedrooms)
    write_lsun(tmp_path, "tower_val", towers)
    ns, code = run_converted("""
classes = [c + s for c, s in [('bedroom', '_train'), ('tower', '_val')]]
dataset = datasets.LSUN(root=root, classes=classes, transform=transforms.ToTensor(),
                        target_transform=lambda y: y + 10)
loader = torch.utils.data.DataLoader(dataset, batch_size=2, shuffle=False)
size = len(dataset)
""", root=str(tmp_path))
    assert "GeneratorDataset(LSUN(" in code
    got = batches_of(ns["loader"])
    np.testing.assert_allclose(np.concatenate([x for x, _ in got]),
                               np.stack([chw(p) for p in bedrooms + towers]), atol=1e-6)
    labels = np.concatenate([y for _, y in got])
    assert labels.dtype == np.int64 and list(labels) == [10, 10, 10, 11, 11]
    assert ns["size"] == 5


def test_lsun_as_dcgan_reads_it_resized_and_normalized(tmp_path):
    write_lsun(tmp_path, "bedroom_train", pictures(3, 3, (12, 16)))
    ns, _ = run_converted("""
dataset = datasets.LSUN(root=root, classes=['bedroom_train'],
                        transform=transforms.Compose([
                            transforms.Resize(8),
                            transforms.CenterCrop(8),
                            transforms.ToTensor(),
                            transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
                        ]))
dataloader = torch.utils.data.DataLoader(dataset, batch_size=2, shuffle=True)
""", root=str(tmp_path))
    got = batches_of(ns["dataloader"])
    assert [x.shape for x, _ in got] == [(2, 3, 8, 8), (1, 3, 8, 8)]
    images = np.concatenate([x for x, _ in got])
    assert images.min() >= -1 and images.max() <= 1


# --- CelebA -----------------------------------------------------------------------
ATTRS = ["Smiling", "Young", "Male"]


def write_celeba(root, count=5):
    folder = root / "celeba"
    (folder / "img_align_celeba").mkdir(parents=True)
    rng = np.random.default_rng(4)
    names = [f"{k + 1:06d}.jpg" for k in range(count)]
    images = pictures(5, count)
    for name, img in zip(names, images):
        img.save(folder / "img_align_celeba" / name, quality=95)
    split = [0, 1, 0, 2, 1][:count]
    identity = rng.integers(1, 100, count)
    attr = rng.choice([-1, 1], (count, len(ATTRS)))
    bbox = rng.integers(0, 50, (count, 4))
    marks = rng.integers(0, 50, (count, 10))

    def table(filename, rows, header=None):
        lines = ([str(count), "  ".join(header)] if header is not None else [])
        lines += [f"{n} " + " ".join(f"{v:>2d}" for v in row) for n, row in zip(names, rows)]
        (folder / filename).write_text("\n".join(lines) + "\n")
    table("list_eval_partition.txt", [[s] for s in split])
    table("identity_CelebA.txt", [[i] for i in identity])
    table("list_attr_celeba.txt", attr, ATTRS)
    table("list_bbox_celeba.txt", bbox, ["x_1", "y_1", "width", "height"])
    table("list_landmarks_align_celeba.txt", marks, [f"p{k}" for k in range(10)])
    return dict(names=names, split=np.array(split), identity=identity, attr=(attr + 1) // 2,
                bbox=bbox, marks=marks, folder=folder)


def test_celeba_splits_and_target_types(tmp_path):
    facts = write_celeba(tmp_path)
    ns, _ = run_converted("""
valid = datasets.CelebA(root, split='valid', transform=transforms.ToTensor())
loader = DataLoader(valid, batch_size=2)
everything = datasets.CelebA(root, 'all', ['identity', 'bbox', 'landmarks'])
identities = datasets.CelebA(root=root, split='test', target_type='identity')
""", root=str(tmp_path))
    keep = facts["split"] == 1
    (x, y), = batches_of(ns["loader"])
    want = np.stack([chw(Image.open(facts["folder"] / "img_align_celeba" / n))
                     for n, k in zip(facts["names"], keep) if k])
    np.testing.assert_allclose(x, want, atol=1e-6)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, facts["attr"][keep])
    everything = ns["everything"]
    assert len(everything) == 5 and everything.attr_names == ATTRS
    image, (identity, bbox, marks) = everything[3]
    assert image.size == (14, 10)
    assert int(identity) == facts["identity"][3]
    np.testing.assert_array_equal(bbox, facts["bbox"][3])
    np.testing.assert_array_equal(marks, facts["marks"][3])
    _, identity = ns["identities"][0]
    assert int(identity) == facts["identity"][facts["split"] == 2][0]


VAE = """
class MyCelebA(torchvision.datasets.CelebA):
    def _check_integrity(self) -> bool:
        return True


def loaders(root):
    tf = transforms.Compose([transforms.CenterCrop(8), transforms.ToTensor()])
    train = MyCelebA(root, split='train', transform=tf, download=False)
    return DataLoader(train, batch_size=2, shuffle=False)
"""


def test_a_subclass_overrides_the_integrity_check_as_pytorch_vae_does(tmp_path):
    facts = write_celeba(tmp_path)
    (facts["folder"] / "list_eval_partition.txt").rename(facts["folder"] / "partition.txt")
    ns, code = run_converted(VAE)
    assert "class MyCelebA(CelebA):" in code
    with pytest.raises(FileNotFoundError):  # the override lets it read on, as in torchvision
        ns["loaders"](str(tmp_path))
    (facts["folder"] / "partition.txt").rename(facts["folder"] / "list_eval_partition.txt")
    (x, y), = batches_of(ns["loaders"](str(tmp_path)))
    assert x.shape == (2, 3, 8, 8)
    np.testing.assert_array_equal(y, facts["attr"][facts["split"] == 0])


# --- CocoDetection ------------------------------------------------------------------
def write_coco(root):
    images = pictures(6, 3)
    for k, img in enumerate(images):
        img.save(root / f"{k}.png")
    ann = {"images": [{"id": i, "file_name": f"{k}.png", "height": 10, "width": 14}
                      for k, i in enumerate([30, 10, 20])],
           "annotations": [{"id": 1, "image_id": 10, "category_id": 1, "bbox": [1, 2, 3, 4],
                            "area": 12, "iscrowd": 0, "segmentation": [[1, 2, 4, 2, 4, 6]]},
                           {"id": 2, "image_id": 30, "category_id": 2, "bbox": [0, 0, 5, 5],
                            "area": 25, "iscrowd": 0, "segmentation": []},
                           {"id": 3, "image_id": 10, "category_id": 2, "bbox": [5, 5, 2, 2],
                            "area": 4, "iscrowd": 0, "segmentation": []}],
           "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]}
    (root / "ann.json").write_text(json.dumps(ann))
    return images


DETR = """
class CocoDetection(torchvision.datasets.CocoDetection):
    def __init__(self, img_folder, ann_file, transforms, return_masks):
        super(CocoDetection, self).__init__(img_folder, ann_file)
        self._transforms = transforms

    def __getitem__(self, idx):
        img, target = super(CocoDetection, self).__getitem__(idx)
        image_id = self.ids[idx]
        target = {'image_id': image_id, 'annotations': target}
        if self._transforms is not None:
            img, target = self._transforms(img, target)
        return img, target


def plain(root):
    return torchvision.datasets.CocoDetection(root, root + '/ann.json',
                                              transform=transforms.ToTensor(),
                                              target_transform=len)
"""


def test_coco_detection_subclassed_as_detr_does(tmp_path):
    pytest.importorskip("pycocotools")
    images = write_coco(tmp_path)
    ns, code = run_converted(DETR)
    assert "class CocoDetection(ms_CocoDetection):" in code
    data = ns["CocoDetection"](str(tmp_path), str(tmp_path / "ann.json"), None, False)
    assert len(data) == 3 and data.ids == [10, 20, 30]  # torchvision: sorted image ids
    img, target = data[0]
    assert img.mode == "RGB" and np.array_equal(np.asarray(img), np.asarray(images[1]))
    assert target["image_id"] == 10
    assert [a["id"] for a in target["annotations"]] == [1, 3]
    assert data[1][1]["annotations"] == []
    assert data.coco.loadImgs(30)[0]["file_name"] == "0.png"
    img, count = ns["plain"](str(tmp_path))[2]
    np.testing.assert_allclose(img.asnumpy() if hasattr(img, "asnumpy") else img,
                               chw(images[0]), atol=1e-6)
    assert count == 1


# --- RandomErasing ------------------------------------------------------------------
ERASING = """
class RandomErasing(object):

    def __init__(self, *args, **kwargs):
        self.eraser = transforms.RandomErasing(*args, **kwargs)

    def __call__(self, img, target):
        return self.eraser(img), target


def erase(img, value):
    return transforms.RandomErasing(p=1.0, scale=(0.25, 0.25), ratio=(1.0, 1.0), value=value)(img)


def keep(img):
    return transforms.RandomErasing(0.0)(img)
"""


def test_random_erasing_erases_torchvisions_rectangle_with_the_value():
    import mindspore
    ns, _ = run_converted(ERASING)
    img = np.random.default_rng(7).random((3, 8, 12)).astype(np.float32) + 5
    for value, want in [(0, [0, 0, 0]), ((1.0, 2.0, 3.0), [1, 2, 3]), (4.5, [4.5] * 3)]:
        out = ns["erase"](mindspore.Tensor(img), value).asnumpy()
        erased = out < 5
        rows, cols = np.nonzero(erased.any(axis=0))
        # torchvision: h = w = round(sqrt(0.25 * 8 * 12)) = 5, the same on every channel
        assert erased.sum() == 3 * 5 * 5 and np.ptp(rows) == 4 and np.ptp(cols) == 4
        for c in range(3):
            np.testing.assert_array_equal(out[c][erased[c]], np.full(25, want[c], np.float32))
        np.testing.assert_array_equal(out[~erased], img[~erased])
    out = ns["erase"](mindspore.Tensor(img), "random").asnumpy()
    assert (out != img).sum() == 75 and abs(out[out != img].mean()) < 1
    np.testing.assert_array_equal(ns["keep"](mindspore.Tensor(img)).asnumpy(), img)
    pair = ns["RandomErasing"](1.0, (0.25, 0.25), (1.0, 1.0), value=2.0)(img, "target")
    assert pair[1] == "target" and (pair[0] == 2.0).sum() == 75


def test_an_isinstance_test_against_a_written_class_stays_marked_with_the_reason():
    result = convert_source("import torchvision\n\n\ndef api(dataset):\n"
                            "    if isinstance(dataset, torchvision.datasets.CocoDetection):\n"
                            "        return dataset.coco\n", "case.py")
    found = [f for f in result.report.findings if f.api == "torchvision.datasets.CocoDetection"]
    assert [f.action for f in found] == ["unsupported"]
    assert "that file's own" in found[0].message
