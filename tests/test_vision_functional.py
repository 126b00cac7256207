"""torchvision.transforms.functional and torchvision.ops.nms become helpers written into
the file (transforms/vision_helper_code.py) that give torchvision's values.

Each torch program is converted by ms-migrate and both run on the same PIL images and
tensors. Where torchvision is installed beside torch, its own functions are the torch
side; where it is not (it cannot be installed beside torch 2.13 here), the torch side is
what torchvision documents and does for a PIL image, written with PIL (torchvision calls
PIL itself) and torch.
"""
import random

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageOps

from ms_migrate import convert_source

torch = pytest.importorskip("torch")
pytest.importorskip("mindspore")

HEADER = ("import torch\nimport torchvision\nimport torchvision.transforms as T\n"
          "import torchvision.transforms.functional as F\n")


@pytest.fixture(scope="module")
def image():
    rng = np.random.default_rng(3)
    return Image.fromarray(rng.integers(0, 256, (29, 41, 3), dtype=np.uint8))


def converted(expression: str, **values):
    """Convert `out = expression` and run it with `values` in scope."""
    result = convert_source(HEADER + f"out = {expression}\n", "case.py")
    left = [f.message for f in result.report.findings if f.action == "unsupported"]
    assert not left, left
    assert "import torch" not in result.code and "from torch" not in result.code, result.code
    namespace = dict(values)
    exec(compile(result.code, "<mindspore>", "exec"), namespace)
    return namespace["out"]


def array(value) -> np.ndarray:
    """PIL image, MindSpore or torch tensor -> numpy."""
    if hasattr(value, "asnumpy"):
        return value.asnumpy()
    if isinstance(value, torch.Tensor):
        return value.numpy()
    return np.asarray(value)


PIL_CASES = [  # (torchvision expression, its documented PIL computation)
    ("F.hflip(img)", lambda img: img.transpose(Image.FLIP_LEFT_RIGHT)),
    ("F.vflip(img)", lambda img: img.transpose(Image.FLIP_TOP_BOTTOM)),
    ("F.crop(img, 3, 5, 10, 12)", lambda img: img.crop((5, 3, 17, 13))),
    ("F.crop(img, -2, 30, 10, 20)", lambda img: img.crop((30, -2, 50, 8))),
    ("F.resize(img, 17)", lambda img: img.resize((24, 17), Image.BILINEAR)),  # int(17 * 41 / 29)
    ("F.resize(img, (300, 300))", lambda img: img.resize((300, 300), Image.BILINEAR)),
    ("F.resize(img, [13, 8], interpolation=T.InterpolationMode.BICUBIC)",
     lambda img: img.resize((8, 13), Image.BICUBIC)),
    ("F.resize(img, 20, Image.NEAREST)", lambda img: img.resize((28, 20), Image.NEAREST)),
    ("F.resize(img, 29)", lambda img: img),
    ("F.resize(img, 20, max_size=25)", lambda img: img.resize((25, 17), Image.BILINEAR)),
    ("F.resized_crop(img, 2, 3, 20, 30, (16, 16))",
     lambda img: img.crop((3, 2, 33, 22)).resize((16, 16), Image.BILINEAR)),
    ("F.pad(img, (0, 0, 5, 3))", lambda img: ImageOps.expand(img, (0, 0, 5, 3), (0, 0, 0))),
    ("F.pad(img, 2, fill=(10, 20, 30))", lambda img: ImageOps.expand(img, 2, (10, 20, 30))),
    ("F.pad(img, [3, 1], padding_mode='reflect')", lambda img: Image.fromarray(
        np.pad(np.asarray(img), ((1, 1), (3, 3), (0, 0)), "reflect"))),
    ("F.adjust_brightness(img, 1.4)", lambda img: ImageEnhance.Brightness(img).enhance(1.4)),
    ("F.adjust_contrast(img, 0.6)", lambda img: ImageEnhance.Contrast(img).enhance(0.6)),
    ("F.adjust_saturation(img, 1.7)", lambda img: ImageEnhance.Color(img).enhance(1.7)),
    ("F.to_pil_image(F.to_tensor(img))", lambda img: img),
]


@pytest.mark.parametrize("expression,pil", PIL_CASES, ids=[c[0] for c in PIL_CASES])
def test_pil_transforms_give_torchvisions_pixels(image, expression, pil):
    out = converted(expression, img=image, Image=Image)
    assert isinstance(out, Image.Image) and out.mode == image.mode
    np.testing.assert_array_equal(np.asarray(out), np.asarray(pil(image)))


@pytest.mark.parametrize("expression", [c[0] for c in PIL_CASES] + [
    "F.adjust_hue(img, -0.07)", "F.adjust_hue(img, 0.5)"])
def test_pil_transforms_equal_torchvision(image, expression):
    pytest.importorskip("torchvision")
    namespace = {"img": image, "Image": Image}
    exec(compile(HEADER + f"out = {expression}\n", "<torch>", "exec"), namespace)
    out = converted(expression, img=image, Image=Image)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(namespace["out"]))


def test_adjust_hue_shifts_pils_hsv_hue_with_wraparound(image):
    for factor in (-18 / 255, 0.3, -0.5):
        out = converted(f"F.adjust_hue(img, {factor})", img=image)
        h, s, v = (np.asarray(band) for band in image.convert("HSV").split())
        shifted = np.uint8((h.astype(int) + int(factor * 255)) % 256)
        expected = Image.merge("HSV", [Image.fromarray(b, "L") for b in (shifted, s, v)])
        np.testing.assert_array_equal(np.asarray(out), np.asarray(expected.convert("RGB")))


def test_to_tensor_and_normalize_on_chw_values(image):
    out = converted("F.normalize(F.to_tensor(img), mean=[0.485, 0.456, 0.406], "
                    "std=[0.229, 0.224, 0.225])", img=image)
    chw = torch.from_numpy(np.asarray(image).transpose(2, 0, 1).copy()).float().div(255)
    expected = (chw - torch.tensor([0.485, 0.456, 0.406])[:, None, None]) / torch.tensor(
        [0.229, 0.224, 0.225])[:, None, None]
    assert str(out.dtype) == "Float32" and out.shape == (3, 29, 41)
    np.testing.assert_allclose(array(out), expected.numpy(), rtol=1e-6, atol=1e-6)


def test_to_pil_image_truncates_float_values_as_torch_byte(image):
    values = torch.rand(3, 7, 9, generator=torch.Generator().manual_seed(0))
    import mindspore
    out = converted("F.to_pil_image(x)", x=mindspore.Tensor(values.numpy()))
    expected = values.mul(255).byte().permute(1, 2, 0).numpy()
    np.testing.assert_array_equal(np.asarray(out), expected)
    gray = converted("F.to_pil_image(x)", x=mindspore.Tensor(values[:1].numpy()))
    assert gray.mode == "L"
    np.testing.assert_array_equal(np.asarray(gray), expected[:, :, 0])


def test_tensor_flips_and_crop_follow_torch_indexing():
    import mindspore
    x = torch.arange(2 * 3 * 5 * 6, dtype=torch.float32).reshape(2, 3, 5, 6)
    m = mindspore.Tensor(x.numpy())
    np.testing.assert_array_equal(array(converted("F.hflip(x)", x=m)), x.flip(-1).numpy())
    np.testing.assert_array_equal(array(converted("F.vflip(x)", x=m)), x.flip(-2).numpy())
    np.testing.assert_array_equal(array(converted("F.crop(x, 1, 2, 3, 3)", x=m)),
                                  x[..., 1:4, 2:5].numpy())
    padded = torch.nn.functional.pad(x[..., 3:, 0:4], (1, 0, 0, 1))  # torchvision pads zeros
    np.testing.assert_array_equal(array(converted("F.crop(x, 3, -1, 3, 5)", x=m)),
                                  padded.numpy())
    assert converted("F.get_image_size(x)", x=m) == [6, 5]


def test_random_crop_params_is_a_window_inside_the_image(image):
    random.seed(0)
    for _ in range(20):
        i, j, h, w = converted("T.RandomCrop.get_params(img, (10, 7))", img=image)
        assert (h, w) == (10, 7) and 0 <= i <= 29 - 10 and 0 <= j <= 41 - 7
    assert converted("T.RandomCrop.get_params(img, (29, 41))", img=image) == (0, 0, 29, 41)


def test_pil_only_helpers_refuse_tensors():
    import mindspore
    with pytest.raises(TypeError):
        converted("F.resize(x, 4)", x=mindspore.ops.zeros((3, 8, 8)))


def torch_nms(boxes, scores, threshold):
    """torchvision.ops.nms as documented: by decreasing score, keep a box and drop the
    later ones whose IoU with it is above the threshold."""
    order = torch.argsort(scores, descending=True, stable=True)
    x1, y1, x2, y2 = boxes.unbind(1)
    areas = (x2 - x1) * (y2 - y1)
    suppressed = torch.zeros(len(boxes), dtype=torch.bool)
    keep = []
    for n, i in enumerate(order.tolist()):
        if suppressed[i]:
            continue
        keep.append(i)
        rest = order[n + 1:]
        inter = ((torch.minimum(x2[i], x2[rest]) - torch.maximum(x1[i], x1[rest])).clamp(min=0)
                 * (torch.minimum(y2[i], y2[rest]) - torch.maximum(y1[i], y1[rest])).clamp(min=0))
        suppressed[rest[inter / (areas[i] + areas[rest] - inter) > threshold]] = True
    return torch.tensor(keep, dtype=torch.int64)


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
def test_nms_keeps_torchvisions_boxes(threshold):
    import mindspore
    generator = torch.Generator().manual_seed(int(threshold * 10))
    corners = torch.rand(60, 2, generator=generator) * 50
    boxes = torch.cat([corners, corners + 5 + torch.rand(60, 2, generator=generator) * 20], 1)
    scores = torch.rand(60, generator=generator)
    out = converted("torchvision.ops.nms(b, s, t)", b=mindspore.Tensor(boxes.numpy()),
                    s=mindspore.Tensor(scores.numpy()), t=threshold)
    assert str(out.dtype) == "Int64"
    expected = torch_nms(boxes, scores, threshold)
    assert 5 < len(expected) < 60
    np.testing.assert_array_equal(array(out), expected.numpy())
    try:
        from torchvision.ops import nms
        np.testing.assert_array_equal(array(out), nms(boxes, scores, threshold).numpy())
    except (ImportError, RuntimeError):  # torchvision absent, or without its C ops
        pass


SSD_LIKE = '''\
import random
import torch
import torchvision.transforms.functional as FT


def flip(image, boxes):
    new_image = FT.hflip(image)
    new_boxes = boxes
    new_boxes[:, 0] = image.width - boxes[:, 0] - 1
    new_boxes[:, 2] = image.width - boxes[:, 2] - 1
    return new_image, new_boxes[:, [2, 1, 0, 3]]


def resize(image, boxes, dims=(30, 30)):
    new_image = FT.resize(image, dims)
    old_dims = torch.FloatTensor([image.width, image.height, image.width, image.height]).unsqueeze(0)
    return new_image, boxes / old_dims


def photometric_distort(image):
    distortions = [FT.adjust_brightness, FT.adjust_contrast, FT.adjust_saturation, FT.adjust_hue]
    random.shuffle(distortions)
    for d in distortions:
        if d.__name__ == 'adjust_hue':
            factor = random.uniform(-18 / 255., 18 / 255.)
        else:
            factor = random.uniform(0.5, 1.5)
        image = d(image, factor)
    return image


def transform(image, boxes):
    image = photometric_distort(image)
    image = FT.to_pil_image(FT.to_tensor(image))
    image, boxes = flip(image, boxes)
    image, boxes = resize(image, boxes)
    image = FT.normalize(FT.to_tensor(image), mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
    return image, boxes
'''


def test_an_ssd_style_augmentation_gives_torchvisions_values(image):
    """Functions used as values (their __name__ read), a user `resize` beside FT.resize,
    PIL <-> tensor round trips: the torch program and its conversion on one image."""
    pytest.importorskip("torchvision")
    result = convert_source(SSD_LIKE, "ssd_utils.py")
    assert "import torch" not in result.code and "from torch" not in result.code
    torch_ns, ms_ns = {}, {}
    exec(compile(SSD_LIKE, "<torch>", "exec"), torch_ns)
    exec(compile(result.code, "<mindspore>", "exec"), ms_ns)
    import mindspore
    boxes = np.array([[2.0, 3.0, 20.0, 25.0], [10.0, 1.0, 30.0, 9.0]], np.float32)
    random.seed(5)
    expected = torch_ns["transform"](image, torch.from_numpy(boxes.copy()))
    random.seed(5)
    out = ms_ns["transform"](image, mindspore.Tensor(boxes.copy()))
    np.testing.assert_allclose(array(out[0]), array(expected[0]), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(array(out[1]), array(expected[1]), rtol=1e-6)


def test_download_url_fetches_once_and_checks_the_md5(tmp_path):
    import hashlib
    source = tmp_path / "weights.pt"
    source.write_bytes(b"weights")
    url = source.as_uri()
    program = ("from torchvision.datasets.utils import download_url\n"
               "def fetch(url, root, name=None, md5=None):\n"
               "    download_url(url, root, name, md5)\n")
    result = convert_source(program, "download.py")
    assert "torchvision" not in result.code.split('"""')[0], result.code
    namespace = {}
    exec(compile(result.code, "<mindspore>", "exec"), namespace)
    namespace["fetch"](url, str(tmp_path / "out"))  # the url's last part, as torchvision
    assert (tmp_path / "out" / "weights.pt").read_bytes() == b"weights"
    good = hashlib.md5(b"weights").hexdigest()
    namespace["fetch"](url, str(tmp_path / "out"), "copy.pt", good)
    assert (tmp_path / "out" / "copy.pt").read_bytes() == b"weights"
    with pytest.raises(RuntimeError):
        namespace["fetch"](url, str(tmp_path / "out"), "bad.pt", "0" * 32)


def test_unpacked_arguments_go_to_the_helper_as_written(image):
    """detr: `region = T.RandomCrop.get_params(img, size)`, then `F.crop(img, *region)`."""
    random.seed(1)
    region = converted("T.RandomCrop.get_params(img, (9, 11))", img=image)
    out = converted("F.crop(img, *region)", img=image, region=region)
    top, left, height, width = region
    np.testing.assert_array_equal(np.asarray(out), np.asarray(
        image.crop((left, top, left + width, top + height))))


def test_the_old_private_image_size_is_width_then_height(image):
    """mae calls torchvision's older `F._get_image_size`, since renamed get_image_size."""
    assert converted("F._get_image_size(img)", img=image) == [41, 29]


def test_default_loader_reads_an_rgb_pil_image(tmp_path, image):
    """PyTorch-VAE's dataset reads files with torchvision's default_loader (PIL backend)."""
    path = tmp_path / "gray.png"
    image.convert("L").save(path)
    result = convert_source("from torchvision.datasets.folder import default_loader\n"
                            "def read(p):\n    return default_loader(p)\n", "dataset.py")
    assert "import torch" not in result.code and "from torch" not in result.code, result.code
    namespace = {}
    exec(compile(result.code, "<mindspore>", "exec"), namespace)
    out = namespace["read"](str(path))
    assert out.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(out), np.asarray(Image.open(path).convert("RGB")))
    try:
        from torchvision.datasets.folder import default_loader
    except (ImportError, RuntimeError):  # torchvision absent, or without its C ops
        return
    np.testing.assert_array_equal(np.asarray(out), np.asarray(default_loader(str(path))))
