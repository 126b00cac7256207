"""torchvision.transforms conversions give what torchvision documents, on the same image.

torchvision cannot be installed beside torch 2.13 here, so each expected result is
computed from torchvision's documented semantics with numpy and PIL (which is what
torchvision itself uses for PIL images): ToTensor is HWC uint8 -> CHW float32 / 255,
Resize(int) scales the shorter side with PIL's filter, CenterCrop rounds the offsets,
ColorJitter's factors are PIL ImageEnhance factors, and so on. Each torch expression is
converted by ms-migrate and the MindSpore code runs on the same generated PIL image.
"""
import numpy as np
import pytest
from PIL import Image, ImageEnhance

from ms_migrate import convert_source

pytest.importorskip("mindspore")

HEADER = "import torch\nimport torchvision.transforms as T\nfrom torchvision import transforms\n"
MEAN, STD = [0.5, 0.4, 0.3], [0.2, 0.3, 0.4]


@pytest.fixture(scope="module")
def image():
    rng = np.random.default_rng(7)
    return Image.fromarray(rng.integers(0, 256, (37, 53, 3), dtype=np.uint8))


def converted(expression: str, **values):
    """Convert `out = expression` and run it with `values` in scope."""
    result = convert_source(HEADER + f"out = {expression}\n", "case.py")
    unsupported = [f.message for f in result.report.findings if f.action == "unsupported"]
    assert not unsupported, unsupported
    assert "torchvision" not in result.code, result.code
    namespace = dict(values)
    exec(compile(result.code, "<mindspore>", "exec"), namespace)
    return namespace["out"]


def to_tensor(img) -> np.ndarray:
    array = np.asarray(img, dtype=np.float32) / 255
    return (array[:, :, None] if array.ndim == 2 else array).transpose(2, 0, 1)


def shorter_side(img, size):
    w, h = img.size
    return (size, int(size * h / w)) if w <= h else (int(size * w / h), size)


def pixels(value) -> np.ndarray:
    return np.asarray(value).astype(np.int64)


def test_to_tensor_is_chw_float_over_255(image):
    out = converted("T.ToTensor()(img)", img=image)
    assert out.dtype == np.float32 and out.shape == (3, 37, 53)
    np.testing.assert_array_equal(out, to_tensor(image))


def test_to_tensor_of_a_grayscale_image_has_one_channel(image):
    gray = image.convert("L")
    np.testing.assert_array_equal(converted("T.ToTensor()(img)", img=gray), to_tensor(gray))


def test_normalize_after_to_tensor_is_per_channel_on_chw(image):
    chw = to_tensor(image)
    out = converted(f"transforms.Normalize({MEAN}, {STD})(x)", x=chw)
    expected = (chw - np.array(MEAN, np.float32)[:, None, None]) / np.array(
        STD, np.float32)[:, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)


def test_compose_in_a_pipeline_map(image):
    """How converted readers apply transforms: .map() over PIL images."""
    import mindspore.dataset as ds
    import mindspore.dataset.vision as vision
    compose = converted(f"T.Compose([T.Resize(20), T.ToTensor(), T.Normalize({MEAN}, {STD})])")
    pipeline = ds.GeneratorDataset([(np.asarray(image),)], column_names=["image"],
                                   shuffle=False).map([vision.ToPIL(), compose], "image")
    (out,) = next(pipeline.create_tuple_iterator(output_numpy=True))
    resized = image.resize(shorter_side(image, 20), Image.BILINEAR)
    expected = (to_tensor(resized) - np.array(MEAN, np.float32)[:, None, None]) / np.array(
        STD, np.float32)[:, None, None]
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)


def test_compose_called_on_one_pil_image_returns_a_one_tuple(image):
    """MindSpore 2.10 quirk the rule notes: an eager Compose over PIL wraps its result."""
    out = converted(f"T.Compose([T.ToTensor(), T.Normalize({MEAN}, {STD})])(img)", img=image)
    assert isinstance(out, tuple) and len(out) == 1
    expected = (to_tensor(image) - np.array(MEAN, np.float32)[:, None, None]) / np.array(
        STD, np.float32)[:, None, None]
    np.testing.assert_allclose(out[0], expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("expression,size", [("T.Resize(20)", 20), ("T.Resize(64)", 64)])
def test_resize_int_scales_the_shorter_side_bilinear(image, expression, size):
    out = converted(f"{expression}(img)", img=image)
    expected = image.resize(shorter_side(image, size), Image.BILINEAR)
    assert out.size == expected.size
    np.testing.assert_array_equal(pixels(out), pixels(expected))


@pytest.mark.parametrize("mode,pil", [("NEAREST", Image.NEAREST), ("BILINEAR", Image.BILINEAR),
                                      ("BICUBIC", Image.BICUBIC)])
def test_resize_to_a_size_with_each_interpolation(image, mode, pil):
    out = converted(f"T.Resize((16, 24), interpolation=T.InterpolationMode.{mode})(img)",
                    img=image)
    np.testing.assert_array_equal(pixels(out), pixels(image.resize((24, 16), pil)))


def test_center_crop_rounds_the_offsets(image):
    out = converted("T.CenterCrop((20, 30))(img)", img=image)
    top, left = int(round((37 - 20) / 2)), int(round((53 - 30) / 2))
    np.testing.assert_array_equal(pixels(out), pixels(image)[top:top + 20, left:left + 30])


def test_random_crop_is_a_window_of_the_zero_padded_image(image):
    padded = np.pad(pixels(image), ((4, 4), (4, 4), (0, 0)))
    for _ in range(5):
        out = pixels(converted("T.RandomCrop(32, padding=4)(img)", img=image))
        assert out.shape == (32, 32, 3)
        windows = [(t, l) for t in range(padded.shape[0] - 31) for l in range(padded.shape[1] - 31)
                   if np.array_equal(padded[t:t + 32, l:l + 32], out)]
        assert windows


@pytest.mark.parametrize("expression,widths,fill", [
    ("T.Pad(4)", ((4, 4), (4, 4)), 0),
    ("T.Pad((1, 2))", ((2, 2), (1, 1)), 0),
    ("T.Pad((1, 2, 3, 4), fill=7)", ((2, 4), (1, 3)), 7),
    ("T.Pad(2, 9, 'constant')", ((2, 2), (2, 2)), 9),
])
def test_pad_widths_and_fill_follow_torchvision(image, expression, widths, fill):
    out = converted(f"{expression}(img)", img=image)
    expected = np.pad(pixels(image), widths + ((0, 0),), constant_values=fill)
    np.testing.assert_array_equal(pixels(out), expected)


@pytest.mark.parametrize("mode", ["edge", "reflect", "symmetric"])
def test_pad_modes_are_numpy_pad_modes(image, mode):
    # torchvision pads PIL images with numpy.pad in these modes
    out = converted(f"T.Pad((3, 1), padding_mode='{mode}')(img)", img=image)
    np.testing.assert_array_equal(pixels(out), np.pad(pixels(image), ((1, 1), (3, 3), (0, 0)), mode=mode))


def test_random_crop_with_reflect_padding_is_a_window_of_the_reflected_image(image):
    padded = np.pad(pixels(image), ((4, 4), (4, 4), (0, 0)), mode="reflect")
    out = pixels(converted("T.RandomCrop(40, padding=4, padding_mode='reflect')(img)", img=image))
    assert any(np.array_equal(padded[t:t + 40, l:l + 40], out)
               for t in range(padded.shape[0] - 39) for l in range(padded.shape[1] - 39))


@pytest.mark.parametrize("expression,flip", [
    ("T.RandomHorizontalFlip(p=1.0)", lambda a: a[:, ::-1]),
    ("T.RandomHorizontalFlip(0.0)", lambda a: a),
    ("T.RandomVerticalFlip(p=1.0)", lambda a: a[::-1]),
])
def test_flips(image, expression, flip):
    out = converted(f"{expression}(img)", img=image)
    np.testing.assert_array_equal(pixels(out), flip(pixels(image)))


def test_random_resized_crop_of_the_whole_image_is_a_resize(image):
    ratio = 53 / 37
    out = converted(f"T.RandomResizedCrop((20, 30), scale=(1.0, 1.0), ratio=({ratio}, {ratio}))"
                    "(img)", img=image)
    expected = image.resize((30, 20), Image.BILINEAR)
    assert out.size == (30, 20)
    np.testing.assert_array_equal(pixels(out), pixels(expected))


def test_random_resized_crop_output_size(image):
    for _ in range(5):
        assert converted("T.RandomResizedCrop(24)(img)", img=image).size == (24, 24)


@pytest.mark.parametrize("argument,enhance", [
    ("brightness=(1.5, 1.5)", lambda img: ImageEnhance.Brightness(img).enhance(1.5)),
    ("contrast=(0.5, 0.5)", lambda img: ImageEnhance.Contrast(img).enhance(0.5)),
    ("saturation=(0.5, 0.5)", lambda img: ImageEnhance.Color(img).enhance(0.5)),
    ("0, 0, 0, 0", lambda img: img),
])
def test_color_jitter_factors(image, argument, enhance):
    out = pixels(converted(f"T.ColorJitter({argument})(img)", img=image))
    # MindSpore always passes the image through every adjustment (hue too, by HSV and
    # back), so levels round differently: at most 9 of 255 here, under 1 on average.
    diff = np.abs(out - pixels(enhance(image)))
    assert diff.max() <= 10 and diff.mean() < 1


def test_color_jitter_hue_keeps_shape_and_range(image):
    out = pixels(converted("T.ColorJitter(hue=0.2)(img)", img=image))
    assert out.shape == (37, 53, 3) and out.min() >= 0 and out.max() <= 255


def test_grayscale_is_pil_luma(image):
    out = converted("T.Grayscale()(img)", img=image)
    np.testing.assert_array_equal(pixels(out), pixels(image.convert("L")))


def test_random_grayscale_is_pil_luma_in_three_channels_or_the_image(image):
    luma = pixels(image.convert("L"))
    out = converted("T.RandomGrayscale(p=1.0)(img)", img=image)
    np.testing.assert_array_equal(pixels(out), np.stack([luma] * 3, axis=-1))
    np.testing.assert_array_equal(pixels(converted("T.RandomGrayscale(0.0)(img)", img=image)),
                                  pixels(image))


def test_lambda_becomes_the_function_itself():
    assert converted("T.Lambda(lambda v: v * 2)")(21) == 42
    chw = np.ones((3, 2, 2), np.float32)
    np.testing.assert_array_equal(converted("T.Lambda(lambda v: v * 2)(x)", x=chw), chw * 2)
