"""torchvision.transforms.functional (and torchvision.ops.nms, download_url) as helpers written into
the converted file, by torchvision's names.

MindSpore's dataset.vision ops return numpy arrays, and resize numpy arrays with
OpenCV, which differs from PIL's filters; torchvision computes its functional
transforms on a PIL image with PIL itself. These helpers do what torchvision does, with
PIL on a PIL image (the same pixels) and with MindSpore ops on a tensor where torchvision
takes one (flips, crop, normalize). A helper that torchvision runs with PIL only here
raises TypeError for anything else rather than compute other values. They keep
torchvision's names, so `d.__name__ == "adjust_hue"` still holds; a name the file binds
itself makes the helper `ms_<name>` (passes/helpers.py).
"""
from __future__ import annotations

HELPERS = {
    "to_tensor": '''\
def to_tensor(pic):
    """torchvision.transforms.functional.to_tensor: a PIL image or HWC array as a CHW
    tensor; 8-bit values become float32 / 255, others keep their type."""
    array = numpy.asarray(pic)
    if array.dtype == bool:
        array = array.astype(numpy.uint8) * 255
    if array.ndim == 2:
        array = array[:, :, None]
    tensor = mindspore.Tensor(numpy.ascontiguousarray(numpy.transpose(array, (2, 0, 1))))
    return tensor.astype(mindspore.float32) / 255 if array.dtype == numpy.uint8 else tensor
''',
    "to_pil_image": '''\
def to_pil_image(pic, mode=None):
    """torchvision.transforms.functional.to_pil_image: a CHW tensor or HWC array as a PIL
    image; float values are scaled by 255 and truncated to 8 bits."""
    if isinstance(pic, mindspore.Tensor):
        array = pic.asnumpy()
        array = numpy.transpose(array[None] if array.ndim == 2 else array, (1, 2, 0))
    else:
        array = numpy.asarray(pic)
        array = array[:, :, None] if array.ndim == 2 else array
    if array.dtype.kind == "f" and mode != "F":
        array = (array * 255).astype(numpy.uint8)
    image = Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array)
    return image if mode is None or image.mode == mode else image.convert(mode)
''',
    "normalize": '''\
def normalize(tensor, mean, std, inplace=False):
    """torchvision.transforms.functional.normalize: (tensor - mean) / std per channel of
    a (..., C, H, W) tensor, in its dtype."""
    mean = mindspore.Tensor(mean, tensor.dtype).reshape(-1, 1, 1)
    std = mindspore.Tensor(std, tensor.dtype).reshape(-1, 1, 1)
    return (tensor - mean) / std
''',
    "hflip": '''\
def hflip(img):
    """torchvision.transforms.functional.hflip: a PIL image mirrored left to right
    (ImageOps.mirror: PIL's transpose), a tensor reversed along its last axis."""
    if isinstance(img, Image.Image):
        return ImageOps.mirror(img)
    return mindspore.ops.flip(img, (-1,))
''',
    "vflip": '''\
def vflip(img):
    """torchvision.transforms.functional.vflip: a PIL image upside down (ImageOps.flip:
    PIL's transpose), a tensor reversed along its second-to-last axis."""
    if isinstance(img, Image.Image):
        return ImageOps.flip(img)
    return mindspore.ops.flip(img, (-2,))
''',
    "crop": '''\
def crop(img, top, left, height, width):
    """torchvision.transforms.functional.crop: the height x width window at (top, left);
    outside the image, zeros (PIL's crop of a PIL image)."""
    if isinstance(img, Image.Image):
        return img.crop((left, top, left + width, top + height))
    rows, columns = img.shape[-2:]
    part = img[..., max(top, 0):max(top + height, 0), max(left, 0):max(left + width, 0)]
    pads = (max(-left, 0), max(left + width - max(columns, left), 0),
            max(-top, 0), max(top + height - max(rows, top), 0))
    return mindspore.ops.pad(part, pads) if any(pads) else part
''',
    "get_image_size": '''\
def get_image_size(img):
    """torchvision.transforms.functional.get_image_size: [width, height] of a PIL image or
    of a (..., H, W) tensor."""
    if isinstance(img, Image.Image):
        return list(img.size)
    return [img.shape[-1], img.shape[-2]]
''',
    "resize": '''\
def resize(img, size, interpolation=2, max_size=None, antialias=True):
    """torchvision.transforms.functional.resize of a PIL image, with PIL's filter as
    torchvision: an int (or a one-element size) sets the shorter side and scales the
    longer one, truncated and capped at max_size; (h, w) sets both. The filter is PIL's
    number or a vision.Inter member (BILINEAR, BICUBIC, NEAREST: the same numbers)."""
    if not isinstance(img, Image.Image):
        raise TypeError(f"resize: a PIL image is expected, got {type(img).__name__}")
    width, height = img.size
    if isinstance(size, int) or len(size) == 1:
        short, long = (width, height) if width <= height else (height, width)
        new_short = size if isinstance(size, int) else size[0]
        new_long = int(new_short * long / short)
        if max_size is not None and new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
        new_w, new_h = (new_short, new_long) if width <= height else (new_long, new_short)
    else:
        new_h, new_w = size[0], size[1]
    if (new_w, new_h) == (width, height):
        return img
    return img.resize((new_w, new_h), int(getattr(interpolation, "value", interpolation)))
''',
    "resized_crop": '''\
def resized_crop(img, top, left, height, width, size, interpolation=2, antialias=True):
    """torchvision.transforms.functional.resized_crop: crop, then resize."""
    return resize(crop(img, top, left, height, width), size, interpolation)
''',
    "pad": '''\
def pad(img, padding, fill=0, padding_mode="constant"):
    """torchvision.transforms.functional.pad of a PIL image: padding is one int, (left/right,
    top/bottom) or (left, top, right, bottom); a constant border of `fill`, or numpy.pad's
    edge, reflect or symmetric mode (a negative padding crops)."""
    if not isinstance(img, Image.Image):
        raise TypeError(f"pad: a PIL image is expected, got {type(img).__name__}")
    if isinstance(padding, (list, tuple)) and len(padding) == 1:
        padding = padding[0]
    if padding_mode == "constant":
        channels = len(img.getbands())
        if isinstance(fill, (list, tuple)):
            fill = tuple(fill) * channels if len(fill) == 1 else tuple(fill)
        elif channels > 1:
            fill = (fill,) * channels
        if img.mode != "F":
            fill = tuple(int(v) for v in fill) if isinstance(fill, tuple) else int(fill)
        return ImageOps.expand(img, border=tuple(padding) if isinstance(padding, list) else padding,
                               fill=fill)
    if isinstance(padding, int):
        padding = (padding,) * 4
    elif len(padding) == 2:
        padding = (padding[0], padding[1]) * 2
    left, top, right, bottom = padding
    if min(padding) < 0:
        img = img.crop((max(-left, 0), max(-top, 0), img.width - max(-right, 0),
                        img.height - max(-bottom, 0)))
    left, top, right, bottom = (max(v, 0) for v in padding)
    array = numpy.asarray(img)
    widths = ((top, bottom), (left, right)) + (((0, 0),) if array.ndim == 3 else ())
    return Image.fromarray(numpy.pad(array, widths, padding_mode))
''',
    "adjust_brightness": '''\
def adjust_brightness(img, brightness_factor):
    """torchvision.transforms.functional.adjust_brightness of a PIL image: PIL's
    ImageEnhance.Brightness, as torchvision."""
    if not isinstance(img, Image.Image):
        raise TypeError(f"adjust_brightness: a PIL image is expected, got {type(img).__name__}")
    return ImageEnhance.Brightness(img).enhance(brightness_factor)
''',
    "adjust_contrast": '''\
def adjust_contrast(img, contrast_factor):
    """torchvision.transforms.functional.adjust_contrast of a PIL image: PIL's
    ImageEnhance.Contrast, as torchvision."""
    if not isinstance(img, Image.Image):
        raise TypeError(f"adjust_contrast: a PIL image is expected, got {type(img).__name__}")
    return ImageEnhance.Contrast(img).enhance(contrast_factor)
''',
    "adjust_saturation": '''\
def adjust_saturation(img, saturation_factor):
    """torchvision.transforms.functional.adjust_saturation of a PIL image: PIL's
    ImageEnhance.Color, as torchvision."""
    if not isinstance(img, Image.Image):
        raise TypeError(f"adjust_saturation: a PIL image is expected, got {type(img).__name__}")
    return ImageEnhance.Color(img).enhance(saturation_factor)
''',
    "adjust_hue": '''\
def adjust_hue(img, hue_factor):
    """torchvision.transforms.functional.adjust_hue of a PIL image, as torchvision: the
    8-bit hue of PIL's HSV shifted by int(hue_factor * 255), wrapping around."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if not isinstance(img, Image.Image):
        raise TypeError(f"adjust_hue: a PIL image is expected, got {type(img).__name__}")
    if img.mode in {"L", "1", "I", "F"}:
        return img
    h, s, v = img.convert("HSV").split()
    hue = (numpy.asarray(h, dtype=numpy.int64) + int(hue_factor * 255)) % 256
    h = Image.fromarray(hue.astype(numpy.uint8), "L")
    return Image.merge("HSV", (h, s, v)).convert(img.mode)
''',
    "random_crop_params": '''\
def random_crop_params(img, output_size):
    """torchvision.transforms.RandomCrop.get_params: (top, left, height, width) of a
    random output_size window of the image (drawn with Python's random)."""
    width, height = img.size if isinstance(img, Image.Image) else img.shape[-1:-3:-1]
    th, tw = output_size
    if height < th or width < tw:
        raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(height, width)}")
    if width == tw and height == th:
        return 0, 0, height, width
    return random.randint(0, height - th), random.randint(0, width - tw), th, tw
''',
    "nms": '''\
def nms(boxes, scores, iou_threshold):
    """torchvision.ops.nms: the indices (int64) of the boxes (x1, y1, x2, y2) kept by
    greedy non-maximum suppression, by decreasing score: a box goes when its IoU with a
    kept higher-scoring box is above iou_threshold (computed in the boxes' dtype)."""
    x1, y1, x2, y2 = boxes.asnumpy().T
    areas = (x2 - x1) * (y2 - y1)
    order = numpy.argsort(-scores.asnumpy(), kind="stable")
    keep = []
    while order.size:
        best, order = order[0], order[1:]
        keep.append(best)
        width = numpy.clip(numpy.minimum(x2[best], x2[order]) - numpy.maximum(x1[best], x1[order]), 0, None)
        height = numpy.clip(numpy.minimum(y2[best], y2[order]) - numpy.maximum(y1[best], y1[order]), 0, None)
        inter = width * height
        order = order[inter / (areas[best] + areas[order] - inter) <= iou_threshold]
    return mindspore.Tensor(numpy.array(keep, dtype=numpy.int64))
''',
    "download_url": '''\
def download_url(url, root, filename=None, md5=None, max_redirect_hops=3):
    """torchvision.datasets.utils.download_url: the file at url saved as root/filename
    (the url's last part by default), unless it is there already (with the md5 given)."""
    root = os.path.expanduser(root)
    path = os.path.join(root, filename or os.path.basename(url))
    os.makedirs(root, exist_ok=True)

    def intact():
        if not os.path.isfile(path):
            return False
        with open(path, "rb") as f:
            return md5 is None or hashlib.md5(f.read()).hexdigest() == md5
    if intact():
        return
    urllib.request.urlretrieve(url, path)
    if not intact():
        raise RuntimeError("File not found or corrupted.")
''',
}

# torchvision.transforms classes that the file subclasses (passes/vision_subclasses.py):
# plain classes with torchvision's attributes and calls, on the helpers above
VISION_CLASSES = {
    "Compose": '''\
class Compose:
    """torchvision.transforms.Compose: the transforms applied in turn."""

    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img
''',
    "ToTensor": '''\
class ToTensor:
    """torchvision.transforms.ToTensor: to_tensor of the image."""

    def __call__(self, pic):
        return to_tensor(pic)
''',
    "Normalize": '''\
class Normalize:
    """torchvision.transforms.Normalize: normalize of a CHW tensor by mean and std."""

    def __init__(self, mean, std, inplace=False):
        self.mean, self.std, self.inplace = mean, std, inplace

    def __call__(self, tensor):
        return normalize(tensor, self.mean, self.std, self.inplace)
''',
    "Resize": '''\
class Resize:
    """torchvision.transforms.Resize: resize of a PIL image (an int sets the shorter side)."""

    def __init__(self, size, interpolation=2, max_size=None, antialias=True):
        self.size, self.interpolation = size, interpolation
        self.max_size, self.antialias = max_size, antialias

    def __call__(self, img):
        return resize(img, self.size, self.interpolation, self.max_size, self.antialias)
''',
    "CenterCrop": '''\
class CenterCrop:
    """torchvision.transforms.CenterCrop: the size window at the image's centre, offsets
    rounded as torchvision; zeros where the window is larger than the image."""

    def __init__(self, size):
        self.size = (size, size) if isinstance(size, int) else (tuple(size) * 2)[-2:]

    def __call__(self, img):
        width, height = get_image_size(img)
        th, tw = self.size
        return crop(img, int(round((height - th) / 2.0)), int(round((width - tw) / 2.0)), th, tw)
''',
    "RandomHorizontalFlip": '''\
class RandomHorizontalFlip:
    """torchvision.transforms.RandomHorizontalFlip: hflip with probability p (drawn with
    Python's random)."""

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, img):
        return hflip(img) if random.random() < self.p else img
''',
    "RandomResizedCrop": '''\
class RandomResizedCrop:
    """torchvision.transforms.RandomResizedCrop: a random window of scale x the area and
    an aspect ratio in ratio (log-uniform; 10 tries, then the central crop), resized to
    size; drawn with Python's random."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation=2,
                 antialias=True):
        self.size = (size, size) if isinstance(size, int) else (tuple(size) * 2)[-2:]
        self.scale, self.ratio = scale, ratio
        self.interpolation, self.antialias = interpolation, antialias

    @staticmethod
    def get_params(img, scale, ratio):
        width, height = get_image_size(img)
        area = height * width
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(10):
            target_area = area * random.uniform(scale[0], scale[1])
            aspect_ratio = math.exp(random.uniform(log_ratio[0], log_ratio[1]))
            w = int(round(math.sqrt(target_area * aspect_ratio)))
            h = int(round(math.sqrt(target_area / aspect_ratio)))
            if 0 < w <= width and 0 < h <= height:
                return random.randint(0, height - h), random.randint(0, width - w), h, w
        in_ratio = float(width) / float(height)
        if in_ratio < min(ratio):
            w, h = width, int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            w, h = int(round(height * max(ratio))), height
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def __call__(self, img):
        i, j, h, w = self.get_params(img, self.scale, self.ratio)
        return resized_crop(img, i, j, h, w, self.size, self.interpolation)
''',
}
HELPERS.update(VISION_CLASSES)

HELPERS["default_loader"] = '''\
def default_loader(path):
    """torchvision.datasets.folder.default_loader (its PIL backend): the image file as an
    RGB PIL image."""
    with open(path, "rb") as f:
        return Image.open(f).convert("RGB")
'''

HELPERS["FakeData"] = '''\
class FakeData:
    """torchvision.datasets.FakeData: `size` random images of image_size (C, H, W) as PIL
    images (normal values times 255, wrapped to 8 bits as torch's byte()) and labels below
    num_classes, the same for an index every time (seeded by index + random_offset). Drawn
    with numpy: other images than torchvision's."""

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None,
                 target_transform=None, random_offset=0):
        self.size, self.image_size, self.num_classes = size, tuple(image_size), num_classes
        self.transform, self.target_transform = transform, target_transform
        self.random_offset = random_offset

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        if index >= self.size:
            raise IndexError(f"FakeData index {index} out of range")
        rng = numpy.random.default_rng(int(index) + self.random_offset)
        values = rng.standard_normal(self.image_size, dtype=numpy.float32) * 255
        pixels = numpy.transpose(values.astype(numpy.int64) % 256, (1, 2, 0)).astype(numpy.uint8)
        image = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
        target = int(rng.integers(0, self.num_classes))
        if self.transform is not None:
            image = self.transform(image)
            if isinstance(image, tuple) and len(image) == 1:  # a Compose called directly
                image = image[0]
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, numpy.asarray(target)
'''

# the helpers each builds on, written before it
NEEDS = {"resized_crop": ("crop", "resize"), "ToTensor": ("to_tensor",),
                "Normalize": ("normalize",), "Resize": ("resize",),
                "CenterCrop": ("get_image_size", "crop"), "RandomHorizontalFlip": ("hflip",),
                "RandomResizedCrop": ("get_image_size", "resized_crop")}

_PIL = ("from PIL import Image",)
IMPORTS = {
    **{name: _PIL for name in HELPERS
       if name not in ("normalize", "nms", "download_url", *VISION_CLASSES)},
    "FakeData": _PIL,
    "default_loader": _PIL,
    **{name: _PIL + ("from PIL import ImageOps",) for name in ("pad", "hflip", "vflip")},
    "adjust_brightness": _PIL + ("from PIL import ImageEnhance",),
    "adjust_contrast": _PIL + ("from PIL import ImageEnhance",),
    "adjust_saturation": _PIL + ("from PIL import ImageEnhance",),
    "random_crop_params": _PIL + ("import random",),
    "download_url": ("import hashlib", "import os", "import urllib.request"),
    "RandomHorizontalFlip": ("import random",),
    "RandomResizedCrop": ("import math", "import random"),
}
