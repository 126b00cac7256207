"""torchvision data classes written into a converted file where MindSpore has no reader of
the same files or no op of the same call: LSUN's LMDB databases (mindspore.dataset's
LSUNDataset reads image folders), CelebA with all of torchvision's target types,
CocoDetection (read with pycocotools, as torchvision does) and RandomErasing on tensors.
Each keeps torchvision's signature and attributes, so a subclass's overrides and
`super().__init__(...)` run as written (passes/vision_subclasses.py)."""
from __future__ import annotations

# the transform's result: a Compose of mindspore.dataset ops called on one image gives a 1-tuple
_TRANSFORMED = '''\
        if self.transform is not None:
            image = self.transform(image)
            if isinstance(image, tuple) and len(image) == 1:  # a Compose called directly
                image = image[0]
'''

HELPERS = {
    "LSUN": '''\
class LSUN:
    """torchvision.datasets.LSUN: the images of LSUN's LMDB databases (<root>/<class>_lmdb,
    read with the lmdb package) as RGB PIL images, labelled by the index of their class in
    `classes` ("train" or "val": every category of that split; "test"). The keys are
    listed anew each time (torchvision caches them in a file)."""

    categories = ["bedroom", "bridge", "church_outdoor", "classroom", "conference_room",
                  "dining_room", "kitchen", "living_room", "restaurant", "tower"]

    def __init__(self, root, classes="train", transform=None, target_transform=None):
        if isinstance(classes, str):
            classes = ["test"] if classes == "test" else [f"{c}_{classes}" for c in self.categories]
        self.root, self.classes = root, list(classes)
        self.transform, self.target_transform = transform, target_transform
        self.dbs, self.keys = [], []
        for name in self.classes:
            env = lmdb.open(os.path.join(root, f"{name}_lmdb"), max_readers=1, readonly=True,
                            lock=False, readahead=False, meminit=False)
            with env.begin(write=False) as txn:
                self.keys.append(list(txn.cursor().iternext(keys=True, values=False)))
            self.dbs.append(env)
        self.length = sum(len(keys) for keys in self.keys)

    def __len__(self):
        return self.length

    def __getitem__(self, index):
        index, target = int(index), 0
        while index >= len(self.keys[target]):
            index, target = index - len(self.keys[target]), target + 1
        with self.dbs[target].begin(write=False) as txn:
            image = Image.open(io.BytesIO(txn.get(self.keys[target][index]))).convert("RGB")
''' + _TRANSFORMED + '''\
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, numpy.asarray(target)
''',
    "CelebA": '''\
class CelebA:
    """torchvision.datasets.CelebA: the images of <root>/celeba/img_align_celeba in a split
    ("train", "valid", "test" or "all", as list_eval_partition.txt says) as PIL images, with
    targets of target_type as int64 arrays: "attr" (the 40 attributes as 0/1), "identity",
    "bbox", "landmarks"; a list of types gives a tuple, an empty one None. The files are
    neither downloaded nor checked against their md5 sums."""

    base_folder = "celeba"

    def __init__(self, root, split="train", target_type="attr", transform=None,
                 target_transform=None, download=False):
        self.root, self.split = root, split
        self.target_type = target_type if isinstance(target_type, list) else [target_type]
        self.transform, self.target_transform = transform, target_transform
        if not self.target_type and target_transform is not None:
            raise RuntimeError("target_transform is specified but target_type is empty")
        if not self._check_integrity():
            raise RuntimeError(f"CelebA not found in {os.path.join(root, self.base_folder)}")
        part = {"train": 0, "valid": 1, "test": 2, "all": None}[split.lower()]
        _, names, splits = self._load_csv("list_eval_partition.txt")
        mask = slice(None) if part is None else splits[:, 0] == part
        self.filename = [name for name, keep in zip(names, splits[:, 0] == part) if keep or part is None]
        self.identity = self._load_csv("identity_CelebA.txt")[2][mask]
        self.bbox = self._load_csv("list_bbox_celeba.txt", header=1)[2][mask]
        self.landmarks_align = self._load_csv("list_landmarks_align_celeba.txt", header=1)[2][mask]
        self.attr_names, _, attr = self._load_csv("list_attr_celeba.txt", header=1)
        self.attr = (attr[mask] + 1) // 2

    def _load_csv(self, filename, header=None):
        with open(os.path.join(self.root, self.base_folder, filename)) as f:
            rows = [line.split() for line in f if line.strip()]
        headers = rows[header] if header is not None else []
        rows = rows[header + 1:] if header is not None else rows
        values = numpy.array([[int(v) for v in row[1:]] for row in rows], dtype=numpy.int64)
        return headers, [row[0] for row in rows], values

    def _check_integrity(self):
        folder = os.path.join(self.root, self.base_folder)
        files = ["list_attr_celeba.txt", "identity_CelebA.txt", "list_bbox_celeba.txt",
                 "list_landmarks_align_celeba.txt", "list_eval_partition.txt"]
        return (all(os.path.isfile(os.path.join(folder, name)) for name in files)
                and os.path.isdir(os.path.join(folder, "img_align_celeba")))

    def __len__(self):
        return len(self.attr)

    def __getitem__(self, index):
        index = int(index)
        image = Image.open(os.path.join(self.root, self.base_folder, "img_align_celeba",
                                        self.filename[index]))
        kinds = {"attr": self.attr[index, :], "identity": self.identity[index, 0],
                 "bbox": self.bbox[index, :], "landmarks": self.landmarks_align[index, :]}
        for kind in self.target_type:
            if kind not in kinds:
                raise ValueError(f'Target type "{kind}" is not recognized.')
        target = [kinds[kind] for kind in self.target_type]
''' + _TRANSFORMED + '''\
        if not target:
            return image, None
        target = tuple(target) if len(target) > 1 else target[0]
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target
''',
    "CocoDetection": '''\
class CocoDetection:
    """torchvision.datasets.CocoDetection: the images of a COCO annotation file (read with
    pycocotools) in the order of their ids, as RGB PIL images with their annotations (a
    list of dicts); `transforms` takes both, or transform and target_transform each."""

    def __init__(self, root, annFile, transform=None, target_transform=None, transforms=None):
        self.root, self.transform, self.target_transform = root, transform, target_transform
        self.transforms = transforms
        self.coco = COCO(annFile)
        self.ids = list(sorted(self.coco.imgs.keys()))

    def _load_image(self, id):
        path = self.coco.loadImgs(id)[0]["file_name"]
        return Image.open(os.path.join(self.root, path)).convert("RGB")

    def _load_target(self, id):
        return self.coco.loadAnns(self.coco.getAnnIds(id))

    def __getitem__(self, index):
        id = self.ids[int(index)]
        image, target = self._load_image(id), self._load_target(id)
        if self.transforms is not None:
            return self.transforms(image, target)
''' + _TRANSFORMED + '''\
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __len__(self):
        return len(self.ids)
''',
    "RandomErasing": '''\
class RandomErasing:
    """torchvision.transforms.RandomErasing: with probability p, a rectangle of a CHW tensor
    (scale x its area, aspect ratio log-uniform in ratio; 10 tries, else the tensor as it
    is) set to value (a number, one per channel, or "random": standard normal values).
    Drawn with Python's random and numpy, so other rectangles than torchvision's; the
    result is a new tensor (inplace is not kept)."""

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False):
        if isinstance(value, str) and value != "random":
            raise ValueError("If value is str, it should be 'random'")
        self.p, self.scale, self.ratio, self.value, self.inplace = p, scale, ratio, value, inplace

    def __call__(self, img):
        if random.random() >= self.p:
            return img
        height, width = img.shape[-2], img.shape[-1]
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            area = height * width * random.uniform(self.scale[0], self.scale[1])
            aspect_ratio = math.exp(random.uniform(log_ratio[0], log_ratio[1]))
            h = int(round(math.sqrt(area * aspect_ratio)))
            w = int(round(math.sqrt(area / aspect_ratio)))
            if h < height and w < width:
                break
        else:
            return img
        is_tensor = isinstance(img, mindspore.Tensor)
        array = img.asnumpy().copy() if is_tensor else numpy.array(img)
        if self.value == "random":
            patch = numpy.random.standard_normal((array.shape[-3], h, w))
        else:
            patch = numpy.reshape(numpy.asarray(self.value, dtype=numpy.float32), (-1, 1, 1))
        i, j = random.randint(0, height - h), random.randint(0, width - w)
        array[..., i:i + h, j:j + w] = patch
        return mindspore.Tensor(array) if is_tensor else array
''',
}

IMPORTS = {
    "LSUN": ("import io", "import os", "import lmdb", "from PIL import Image"),
    "CelebA": ("import os", "from PIL import Image"),
    "CocoDetection": ("import os", "from PIL import Image", "from pycocotools.coco import COCO"),
    "RandomErasing": ("import math", "import random"),
}

# torchvision.datasets classes a file may subclass (passes/vision_subclasses.py)
DATASET_CLASSES = ("LSUN", "CelebA", "CocoDetection")
