"""Cells a converted file gets for torchvision transforms applied to batched tensors
inside a model (`nn.Sequential(T.ColorJitter(...), T.GaussianBlur(...))` in a
self-supervised learner): mindspore.dataset.vision works on one numpy image in a data
pipeline, these on a float tensor (..., C, H, W) in [0, 1] as torchvision's tensor
path does, drawing the random parameters once per call for the whole batch."""
from __future__ import annotations

HELPERS = {
    "BatchNormalize": '''\
class BatchNormalize(mindspore.nn.Cell):
    """torchvision.transforms.Normalize on a tensor (..., C, H, W): (x - mean) / std per
    channel."""

    def __init__(self, mean, std, inplace=False):
        super().__init__()
        self.mean = mindspore.Tensor(numpy.asarray(mean, dtype=numpy.float32).reshape(-1, 1, 1))
        self.std = mindspore.Tensor(numpy.asarray(std, dtype=numpy.float32).reshape(-1, 1, 1))

    def construct(self, tensor):
        return (tensor - self.mean.astype(tensor.dtype)) / self.std.astype(tensor.dtype)
''',
    "BatchRandomHorizontalFlip": '''\
class BatchRandomHorizontalFlip(mindspore.nn.Cell):
    """torchvision.transforms.RandomHorizontalFlip on a tensor: the last axis reversed,
    with probability p, for the whole batch at once."""

    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def construct(self, img):
        if float(mindspore.ops.rand(1).asnumpy()[0]) < self.p:
            return img.flip((-1,))
        return img
''',
    "BatchRandomGrayscale": '''\
class BatchRandomGrayscale(mindspore.nn.Cell):
    """torchvision.transforms.RandomGrayscale on an RGB tensor (..., 3, H, W): with
    probability p the luma (0.2989 R + 0.587 G + 0.114 B) in every channel."""

    def __init__(self, p=0.1):
        super().__init__()
        self.p = p

    def construct(self, img):
        if float(mindspore.ops.rand(1).asnumpy()[0]) < self.p:
            r, g, b = img[..., 0:1, :, :], img[..., 1:2, :, :], img[..., 2:3, :, :]
            gray = 0.2989 * r + 0.587 * g + 0.114 * b
            return mindspore.ops.cat([gray] * img.shape[-3], axis=-3).astype(img.dtype)
        return img
''',
    "BatchGaussianBlur": '''\
class BatchGaussianBlur(mindspore.nn.Cell):
    """torchvision.transforms.GaussianBlur on a tensor (..., C, H, W): a Gaussian kernel
    of sigma drawn from [sigma[0], sigma[1]] once per call, edges reflected, applied
    along the width and then the height (torchvision's kernel is their outer product)."""

    def __init__(self, kernel_size, sigma=(0.1, 2.0)):
        super().__init__()
        size = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        self.kernel_size = size
        self.sigma = (float(sigma), float(sigma)) if isinstance(sigma, (int, float)) else (
            float(sigma[0]), float(sigma[1]))

    @staticmethod
    def kernel(size, sigma):
        x = numpy.linspace(-(size - 1) * 0.5, (size - 1) * 0.5, size)
        pdf = numpy.exp(-0.5 * (x / sigma) ** 2)
        return pdf / pdf.sum()

    def construct(self, img):
        low, high = self.sigma
        sigma = low + (high - low) * float(mindspore.ops.rand(1).asnumpy()[0])
        kx, ky = self.kernel_size
        shape = img.shape
        out = img.reshape((-1,) + tuple(shape[-3:]))
        out = mindspore.ops.pad(out, (kx // 2, kx // 2, ky // 2, ky // 2), mode="reflect")
        height, width = shape[-2], shape[-1]
        weights = self.kernel(kx, sigma)
        out = sum(float(w) * out[..., :, i:i + width] for i, w in enumerate(weights))
        weights = self.kernel(ky, sigma)
        out = sum(float(w) * out[..., i:i + height, :] for i, w in enumerate(weights))
        return out.reshape(shape).astype(img.dtype)
''',
    "BatchColorJitter": '''\
class BatchColorJitter(mindspore.nn.Cell):
    """torchvision.transforms.ColorJitter on an RGB tensor (..., 3, H, W) in [0, 1]:
    brightness, contrast, saturation and hue, each factor drawn from its range, applied
    in a random order, once per call for the whole batch."""

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        super().__init__()
        self.brightness = self.factors(brightness, 1.0, (0.0, float("inf")))
        self.contrast = self.factors(contrast, 1.0, (0.0, float("inf")))
        self.saturation = self.factors(saturation, 1.0, (0.0, float("inf")))
        self.hue = self.factors(hue, 0.0, (-0.5, 0.5))

    @staticmethod
    def factors(value, center, bound):
        if isinstance(value, (int, float)):
            value = [max(center - value, bound[0]) if center else -value, center + value]
        value = (float(value[0]), float(value[1]))
        return None if value[0] == value[1] == center else value

    @staticmethod
    def gray(img):
        r, g, b = img[..., 0:1, :, :], img[..., 1:2, :, :], img[..., 2:3, :, :]
        return 0.2989 * r + 0.587 * g + 0.114 * b

    @staticmethod
    def hue_shift(img, factor):
        r, g, b = img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]
        maxc, minc = img.max(axis=-3), img.min(axis=-3)
        eqc = maxc == minc
        cr = maxc - minc
        ones = mindspore.ops.ones_like(maxc)
        s = cr / mindspore.ops.where(eqc, ones, maxc)
        cr_divisor = mindspore.ops.where(eqc, ones, cr)
        rc, gc, bc = (maxc - r) / cr_divisor, (maxc - g) / cr_divisor, (maxc - b) / cr_divisor
        hr = (maxc == r).astype(img.dtype) * (bc - gc)
        hg = ((maxc == g) & (maxc != r)).astype(img.dtype) * (2.0 + rc - bc)
        hb = ((maxc != g) & (maxc != r)).astype(img.dtype) * (4.0 + gc - rc)
        h = ((hr + hg + hb) / 6.0 + 1.0) % 1.0
        h = (h + factor) % 1.0
        v = maxc
        i = mindspore.ops.floor(h * 6.0)
        f = h * 6.0 - i
        i = i.astype(mindspore.int32) % 6
        p = mindspore.ops.clamp(v * (1.0 - s), 0.0, 1.0)
        q = mindspore.ops.clamp(v * (1.0 - s * f), 0.0, 1.0)
        t = mindspore.ops.clamp(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
        masks = [(i == k).astype(img.dtype) for k in range(6)]
        channels = []
        for picks in ((v, q, p, p, t, v), (t, v, v, q, p, p), (p, p, t, v, v, q)):
            channels.append(sum(m * c for m, c in zip(masks, picks)))
        return mindspore.ops.stack(channels, axis=-3)

    def construct(self, img):
        order = numpy.argsort(mindspore.ops.rand(4).asnumpy())
        draw = lambda low, high: low + (high - low) * float(mindspore.ops.rand(1).asnumpy()[0])
        for index in order:
            if index == 0 and self.brightness is not None:
                img = mindspore.ops.clamp(img * draw(*self.brightness), 0.0, 1.0)
            elif index == 1 and self.contrast is not None:
                factor = draw(*self.contrast)
                mean = self.gray(img).mean(axis=(-3, -2, -1), keep_dims=True)
                img = mindspore.ops.clamp(factor * img + (1.0 - factor) * mean, 0.0, 1.0)
            elif index == 2 and self.saturation is not None:
                factor = draw(*self.saturation)
                img = mindspore.ops.clamp(factor * img + (1.0 - factor) * self.gray(img), 0.0, 1.0)
            elif index == 3 and self.hue is not None:
                img = self.hue_shift(img, draw(*self.hue))
        return img
''',
    "BatchRandomResizedCrop": '''\
class BatchRandomResizedCrop(mindspore.nn.Cell):
    """torchvision.transforms.RandomResizedCrop on a tensor (..., C, H, W): one crop of a
    random area and aspect ratio for the whole batch, resized (bilinear, antialiased as
    torchvision's tensor resize) to size."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=None, antialias=True):
        super().__init__()
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        self.scale, self.ratio, self.antialias = scale, ratio, antialias

    def params(self, height, width):
        area = height * width
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            u = mindspore.ops.rand(2).asnumpy()
            target = area * (self.scale[0] + (self.scale[1] - self.scale[0]) * float(u[0]))
            aspect = math.exp(log_ratio[0] + (log_ratio[1] - log_ratio[0]) * float(u[1]))
            w = int(round(math.sqrt(target * aspect)))
            h = int(round(math.sqrt(target / aspect)))
            if 0 < w <= width and 0 < h <= height:
                i = int(mindspore.ops.randint(0, height - h + 1, (1,)).asnumpy()[0])
                j = int(mindspore.ops.randint(0, width - w + 1, (1,)).asnumpy()[0])
                return i, j, h, w
        in_ratio = width / height
        if in_ratio < min(self.ratio):
            w, h = width, int(round(width / min(self.ratio)))
        elif in_ratio > max(self.ratio):
            h, w = height, int(round(height * max(self.ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def weights(self, n_in, n_out):
        """Rows of bilinear weights, widened to the scale when shrinking (antialias)."""
        scale = n_in / n_out
        support = max(scale, 1.0) if self.antialias else 1.0
        inverse = 1.0 / scale if self.antialias and scale > 1.0 else 1.0
        matrix = numpy.zeros((n_out, n_in))
        for i in range(n_out):
            center = scale * (i + 0.5)
            if self.antialias:
                low, high = max(int(center - support + 0.5), 0), min(int(center + support + 0.5), n_in)
                taps = numpy.arange(low, high)
                w = numpy.clip(1.0 - numpy.abs((taps - center + 0.5) * inverse), 0.0, None)
                matrix[i, low:high] = w / w.sum()
            else:
                src = max(center - 0.5, 0.0)
                left = min(int(src), n_in - 1)
                right = min(left + 1, n_in - 1)
                matrix[i, left] += 1.0 - (src - left)
                matrix[i, right] += src - left
        return matrix

    def construct(self, img):
        i, j, h, w = self.params(img.shape[-2], img.shape[-1])
        crop = img[..., i:i + h, j:j + w]
        rows = mindspore.Tensor(self.weights(h, self.size[0]), img.dtype)
        cols = mindspore.Tensor(self.weights(w, self.size[1]).T, img.dtype)
        return mindspore.ops.matmul(mindspore.ops.matmul(rows, crop), cols)
''',
}

IMPORTS = {"BatchRandomResizedCrop": ("import math",)}
