"""Subclasses of torchvision transform classes (mae's RandomResizedCrop with its own
get_params, 3D-ResNets' transforms with a randomize_parameters method) extend classes
written into the converted file with torchvision's behaviour: the torch program (with
torchvision where it is installed, else torchvision's documented PIL computation) and
its conversion give the same pixels on one image."""
import numpy as np
import pytest
from PIL import Image

from ms_migrate import convert_source

torch = pytest.importorskip("torch")
pytest.importorskip("mindspore")

PROGRAM = '''\
import torch
from torchvision.transforms import transforms
from torchvision.transforms import functional as F


class Compose(transforms.Compose):
    def randomize_parameters(self):
        for t in self.transforms:
            t.randomize_parameters()


class ToTensor(transforms.ToTensor):
    def randomize_parameters(self):
        pass


class Normalize(transforms.Normalize):
    def randomize_parameters(self):
        pass


class Resize(transforms.Resize):
    def randomize_parameters(self):
        pass


class CenterCrop(transforms.CenterCrop):
    def randomize_parameters(self):
        pass


class RandomHorizontalFlip(transforms.RandomHorizontalFlip):
    def __init__(self, p=0.5):
        super().__init__(p)
        self.randomize_parameters()

    def __call__(self, img):
        if self.random_p < self.p:
            return F.hflip(img)
        return img

    def randomize_parameters(self):
        self.random_p = 0.0


class FixedCrop(transforms.RandomResizedCrop):
    @staticmethod
    def get_params(img, scale, ratio):
        width, height = F.get_image_size(img)
        return 2, 3, height - 6, width - 5


def pipeline():
    return Compose([Resize(24), CenterCrop(20), RandomHorizontalFlip(),
                    ToTensor(), Normalize([0.5, 0.4, 0.3], [0.2, 0.3, 0.4])])


def whole(size):
    return transforms.RandomResizedCrop(size, scale=(1.0, 1.0), ratio=(41 / 29, 41 / 29))
'''


@pytest.fixture(scope="module")
def image():
    rng = np.random.default_rng(11)
    return Image.fromarray(rng.integers(0, 256, (29, 41, 3), dtype=np.uint8))


@pytest.fixture(scope="module")
def converted():
    result = convert_source(PROGRAM, "spatial_transforms.py")
    assert "import torch" not in result.code and "from torch" not in result.code, result.code
    namespace = {}
    exec(compile(result.code, "<mindspore>", "exec"), namespace)
    return namespace


def array(value):
    return value.asnumpy() if hasattr(value, "asnumpy") else np.asarray(value)


def documented_pipeline(img):
    """Resize(24): shorter side 24 (PIL bilinear); CenterCrop(20): round((h - 20) / 2);
    flip; ToTensor; Normalize."""
    img = img.resize((33, 24), Image.BILINEAR)  # int(24 * 41 / 29)
    img = img.crop((6, 2, 26, 22)).transpose(Image.FLIP_LEFT_RIGHT)
    chw = np.asarray(img, np.float32).transpose(2, 0, 1) / 255
    mean = np.array([0.5, 0.4, 0.3], np.float32)[:, None, None]
    return (chw - mean) / np.array([0.2, 0.3, 0.4], np.float32)[:, None, None]


def test_subclassed_pipeline_gives_torchvisions_values(image, converted):
    compose = converted["pipeline"]()
    compose.randomize_parameters()  # the subclasses' own methods are there
    out = array(compose(image))
    assert out.shape == (3, 20, 20) and out.dtype == np.float32
    np.testing.assert_allclose(out, documented_pipeline(image), rtol=1e-6, atol=1e-6)


def test_overridden_get_params_is_what_the_call_uses(image, converted):
    out = converted["FixedCrop"](16, interpolation=3)(image)  # 3: PIL's bicubic
    expected = image.crop((3, 2, 39, 25)).resize((16, 16), Image.BICUBIC)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(expected))


def test_random_resized_crop_of_the_whole_image_is_a_resize(image, converted):
    out = converted["whole"]((12, 17))(image)
    np.testing.assert_array_equal(np.asarray(out),
                                  np.asarray(image.resize((17, 12), Image.BILINEAR)))
    window = converted.get("RandomResizedCrop")  # torchvision's get_params, written
    assert window is not None
    for _ in range(20):
        i, j, h, w = window.get_params(image, (0.08, 1.0), (3 / 4, 4 / 3))
        assert 0 <= i <= 29 - h and 0 <= j <= 41 - w and h > 0 and w > 0


def test_with_torchvision_the_values_are_the_same(image, converted):
    pytest.importorskip("torchvision")
    namespace = {}
    exec(compile(PROGRAM, "<torch>", "exec"), namespace)
    expected = namespace["pipeline"]()(image).numpy()
    np.testing.assert_allclose(array(converted["pipeline"]()(image)), expected,
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(
        np.asarray(converted["FixedCrop"](16, interpolation=3)(image)),
        np.asarray(namespace["FixedCrop"](16, interpolation=3)(image)))
    np.testing.assert_array_equal(np.asarray(converted["whole"]((12, 17))(image)),
                                  np.asarray(namespace["whole"]((12, 17))(image)))
