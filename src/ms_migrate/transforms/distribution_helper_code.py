"""Classes a converted file gets for torch.distributions' transforms and the
distributions built on them (TransformedDistribution, Independent), which MindSpore
has no counterpart of (its bijectors have other names, methods and semantics).

Each class is torch's, written with MindSpore ops, with torch's constructor signature
(`cache_size` and `validate_args` are accepted and change nothing: torch's cache only
saves recomputing x from y). Transforms give t(x), t.inv(y), t.log_abs_det_jacobian(x, y),
forward_shape / inverse_shape and `_event_dims()`, the number of rightmost axes an event
has in x and in y (torch's domain.event_dim and codomain.event_dim).
NEEDS names the classes each one builds on; they are written before it.
"""
from __future__ import annotations

HELPERS = {
    "Transform": '''\
class Transform:
    """torch.distributions.transforms.Transform: y = t(x), x = t.inv(y) and
    t.log_abs_det_jacobian(x, y); subclasses define _call and _inverse."""
    sign = 1

    def __init__(self, cache_size=0):
        pass

    def __call__(self, x):
        return self._call(x)

    @property
    def inv(self):
        inverse = copy.copy(self)
        inverse._call, inverse._inverse = self._inverse, self._call
        inverse.forward_shape, inverse.inverse_shape = self.inverse_shape, self.forward_shape
        inverse._event_dims = lambda: self._event_dims()[::-1]
        inverse.log_abs_det_jacobian = lambda x, y: -self.log_abs_det_jacobian(y, x)
        return inverse

    def _event_dims(self):
        return 0, 0

    def forward_shape(self, shape):
        return shape

    def inverse_shape(self, shape):
        return shape

    @staticmethod
    def _sum_rightmost(value, dims):
        return mindspore.ops.sum(value, tuple(range(-dims, 0))) if dims > 0 else value
''',
    "ExpTransform": '''\
class ExpTransform(Transform):
    """torch.distributions.ExpTransform: y = exp(x)."""

    def _call(self, x):
        return mindspore.ops.exp(x)

    def _inverse(self, y):
        return mindspore.ops.log(y)

    def log_abs_det_jacobian(self, x, y):
        return x
''',
    "AbsTransform": '''\
class AbsTransform(Transform):
    """torch.distributions.AbsTransform: y = |x|; its inverse gives y back."""

    def _call(self, x):
        return mindspore.ops.abs(x)

    def _inverse(self, y):
        return y
''',
    "SigmoidTransform": '''\
class SigmoidTransform(Transform):
    """torch.distributions.SigmoidTransform: y = sigmoid(x), kept within
    [tiny, 1 - eps] of the dtype as torch keeps it."""

    @staticmethod
    def _clip(y):
        info = numpy.finfo(mindspore.dtype_to_nptype(y.dtype))
        return mindspore.ops.clamp(y, float(info.tiny), float(1 - info.eps))

    def _call(self, x):
        return self._clip(mindspore.ops.sigmoid(x))

    def _inverse(self, y):
        y = self._clip(y)
        return mindspore.ops.log(y) - mindspore.ops.log1p(-y)

    def log_abs_det_jacobian(self, x, y):
        return -mindspore.ops.softplus(-x) - mindspore.ops.softplus(x)
''',
    "TanhTransform": '''\
class TanhTransform(Transform):
    """torch.distributions.TanhTransform: y = tanh(x)."""

    def _call(self, x):
        return mindspore.ops.tanh(x)

    def _inverse(self, y):
        return mindspore.ops.atanh(y)

    def log_abs_det_jacobian(self, x, y):
        return 2.0 * (math.log(2.0) - x - mindspore.ops.softplus(-2.0 * x))
''',
    "SoftplusTransform": '''\
class SoftplusTransform(Transform):
    """torch.distributions.SoftplusTransform: y = log(1 + exp(x))."""

    def _call(self, x):
        return mindspore.ops.softplus(x)

    def _inverse(self, y):
        return mindspore.ops.log(-mindspore.ops.expm1(-y)) + y

    def log_abs_det_jacobian(self, x, y):
        return -mindspore.ops.softplus(-x)
''',
    "AffineTransform": '''\
class AffineTransform(Transform):
    """torch.distributions.AffineTransform: y = loc + scale * x, on events of
    event_dim axes."""

    def __init__(self, loc, scale, event_dim=0, cache_size=0):
        self.loc, self.scale, self.event_dim = loc, scale, event_dim

    @property
    def sign(self):
        if isinstance(self.scale, mindspore.Tensor):
            return self.scale.sign()
        return (self.scale > 0) - (self.scale < 0)

    def _event_dims(self):
        return self.event_dim, self.event_dim

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        if isinstance(self.scale, mindspore.Tensor):
            result = mindspore.ops.broadcast_to(
                mindspore.ops.log(mindspore.ops.abs(self.scale)), x.shape)
        else:
            result = mindspore.ops.full_like(x, math.log(abs(self.scale)))
        return self._sum_rightmost(result, self.event_dim)

    def forward_shape(self, shape):
        return tuple(numpy.broadcast_shapes(tuple(shape), getattr(self.loc, "shape", ()),
                                            getattr(self.scale, "shape", ())))

    inverse_shape = forward_shape
''',
    "PowerTransform": '''\
class PowerTransform(Transform):
    """torch.distributions.PowerTransform: y = x ** exponent."""

    def __init__(self, exponent, cache_size=0):
        self.exponent = exponent

    @property
    def sign(self):
        return self.exponent.sign() if isinstance(self.exponent, mindspore.Tensor) else 1

    def _call(self, x):
        return mindspore.ops.pow(x, self.exponent)

    def _inverse(self, y):
        return mindspore.ops.pow(y, 1 / self.exponent)

    def log_abs_det_jacobian(self, x, y):
        return mindspore.ops.log(mindspore.ops.abs(self.exponent * y / x))

    def forward_shape(self, shape):
        return tuple(numpy.broadcast_shapes(tuple(shape), getattr(self.exponent, "shape", ())))

    inverse_shape = forward_shape
''',
    "SoftmaxTransform": '''\
class SoftmaxTransform(Transform):
    """torch.distributions.SoftmaxTransform: y = softmax(x) over the last axis; its
    inverse is log(y), up to a constant."""

    def _event_dims(self):
        return 1, 1

    def _call(self, x):
        return mindspore.ops.softmax(x, -1)

    def _inverse(self, y):
        return mindspore.ops.log(y)
''',
    "StickBreakingTransform": '''\
class StickBreakingTransform(Transform):
    """torch.distributions.StickBreakingTransform: a vector of n reals to a point of
    the simplex of n + 1 probabilities, by stick breaking."""

    def _event_dims(self):
        return 1, 1

    def _call(self, x):
        offset = mindspore.ops.arange(x.shape[-1], 0, -1, dtype=x.dtype)
        z = SigmoidTransform._clip(mindspore.ops.sigmoid(x - mindspore.ops.log(offset)))
        z_cumprod = mindspore.ops.cumprod(1 - z, -1)
        return (mindspore.ops.pad(z, (0, 1), value=1.0)
                * mindspore.ops.pad(z_cumprod, (1, 0), value=1.0))

    def _inverse(self, y):
        y_crop = y[..., :-1]
        offset = mindspore.ops.arange(y.shape[-1] - 1, 0, -1, dtype=y.dtype)
        tiny = float(numpy.finfo(mindspore.dtype_to_nptype(y.dtype)).tiny)
        sf = mindspore.ops.clamp(1 - mindspore.ops.cumsum(y_crop, -1), min=tiny)
        return mindspore.ops.log(y_crop) - mindspore.ops.log(sf) + mindspore.ops.log(offset)

    def log_abs_det_jacobian(self, x, y):
        x = x - mindspore.ops.log(mindspore.ops.arange(x.shape[-1], 0, -1, dtype=x.dtype))
        return mindspore.ops.sum(
            -x - mindspore.ops.softplus(-x) + mindspore.ops.log(y[..., :-1]), -1)

    def forward_shape(self, shape):
        return shape[:-1] + (shape[-1] + 1,)

    def inverse_shape(self, shape):
        return shape[:-1] + (shape[-1] - 1,)
''',
    "ReshapeTransform": '''\
class ReshapeTransform(Transform):
    """torch.distributions.ReshapeTransform: the rightmost in_shape axes of x
    reshaped to out_shape."""

    def __init__(self, in_shape, out_shape, cache_size=0):
        self.in_shape, self.out_shape = tuple(in_shape), tuple(out_shape)

    def _event_dims(self):
        return len(self.in_shape), len(self.out_shape)

    def _call(self, x):
        return x.reshape(x.shape[:x.ndim - len(self.in_shape)] + self.out_shape)

    def _inverse(self, y):
        return y.reshape(y.shape[:y.ndim - len(self.out_shape)] + self.in_shape)

    def log_abs_det_jacobian(self, x, y):
        return mindspore.ops.zeros(x.shape[:x.ndim - len(self.in_shape)], x.dtype)

    def forward_shape(self, shape):
        return tuple(shape[:len(shape) - len(self.in_shape)]) + self.out_shape

    def inverse_shape(self, shape):
        return tuple(shape[:len(shape) - len(self.out_shape)]) + self.in_shape
''',
    "IndependentTransform": '''\
class IndependentTransform(Transform):
    """torch.distributions.IndependentTransform: base_transform with its rightmost
    reinterpreted_batch_ndims batch axes counted in the event (summed in the Jacobian)."""

    def __init__(self, base_transform, reinterpreted_batch_ndims, cache_size=0):
        self.base_transform = base_transform
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    def _event_dims(self):
        domain, codomain = self.base_transform._event_dims()
        return (domain + self.reinterpreted_batch_ndims,
                codomain + self.reinterpreted_batch_ndims)

    def _call(self, x):
        return self.base_transform(x)

    def _inverse(self, y):
        return self.base_transform.inv(y)

    def log_abs_det_jacobian(self, x, y):
        return self._sum_rightmost(self.base_transform.log_abs_det_jacobian(x, y),
                                   self.reinterpreted_batch_ndims)

    def forward_shape(self, shape):
        return self.base_transform.forward_shape(shape)

    def inverse_shape(self, shape):
        return self.base_transform.inverse_shape(shape)
''',
    "ComposeTransform": '''\
class ComposeTransform(Transform):
    """torch.distributions.ComposeTransform: the transforms of parts, first to last."""

    def __init__(self, parts, cache_size=0):
        self.parts = parts

    def _event_dims(self):
        if not self.parts:
            return 0, 0
        domain = self.parts[-1]._event_dims()[1]
        for part in reversed(self.parts):
            part_domain, part_codomain = part._event_dims()
            domain = max(domain - part_codomain + part_domain, part_domain)
        codomain = self.parts[0]._event_dims()[0]
        for part in self.parts:
            part_domain, part_codomain = part._event_dims()
            codomain = max(codomain - part_domain + part_codomain, part_codomain)
        return domain, codomain

    def _call(self, x):
        for part in self.parts:
            x = part(x)
        return x

    def _inverse(self, y):
        for part in reversed(self.parts):
            y = part.inv(y)
        return y

    def log_abs_det_jacobian(self, x, y):
        if not self.parts:
            return mindspore.ops.zeros_like(x)
        total, event_dim = 0, self._event_dims()[0]
        for part in self.parts:
            following = part(x)
            part_domain, part_codomain = part._event_dims()
            total = total + self._sum_rightmost(part.log_abs_det_jacobian(x, following),
                                                event_dim - part_domain)
            event_dim += part_codomain - part_domain
            x = following
        return total

    def forward_shape(self, shape):
        for part in self.parts:
            shape = part.forward_shape(shape)
        return shape

    def inverse_shape(self, shape):
        for part in reversed(self.parts):
            shape = part.inverse_shape(shape)
        return shape
''',
    "StackTransform": '''\
class StackTransform(Transform):
    """torch.distributions.StackTransform: the i-th transform of tseq on the i-th
    slice of x along dim."""

    def __init__(self, tseq, dim=0, cache_size=0):
        self.transforms, self.dim = list(tseq), dim

    def _map(self, functions, *tensors):
        slices = zip(*(mindspore.ops.unbind(t, self.dim) for t in tensors))
        return mindspore.ops.stack([f(*s) for f, s in zip(functions, slices)], self.dim)

    def _call(self, x):
        return self._map(self.transforms, x)

    def _inverse(self, y):
        return self._map([t.inv for t in self.transforms], y)

    def log_abs_det_jacobian(self, x, y):
        return self._map([t.log_abs_det_jacobian for t in self.transforms], x, y)
''',
    "CatTransform": '''\
class CatTransform(Transform):
    """torch.distributions.CatTransform: the i-th transform of tseq on the i-th
    piece of x along dim (lengths[i] long, 1 by default)."""

    def __init__(self, tseq, dim=0, lengths=None, cache_size=0):
        self.transforms, self.dim = list(tseq), dim
        self.lengths = [1] * len(self.transforms) if lengths is None else list(lengths)

    def _map(self, functions, *tensors):
        pieces = zip(*(mindspore.ops.split(t, self.lengths, self.dim) for t in tensors))
        return mindspore.ops.cat([f(*p) for f, p in zip(functions, pieces)], self.dim)

    def _call(self, x):
        return self._map(self.transforms, x)

    def _inverse(self, y):
        return self._map([t.inv for t in self.transforms], y)

    def log_abs_det_jacobian(self, x, y):
        return self._map([t.log_abs_det_jacobian for t in self.transforms], x, y)
''',
    "CumulativeDistributionTransform": '''\
class CumulativeDistributionTransform(Transform):
    """torch.distributions.CumulativeDistributionTransform: y = distribution.cdf(x)."""

    def __init__(self, distribution, cache_size=0):
        self.distribution = distribution

    def _call(self, x):
        return self.distribution.cdf(x)

    def _inverse(self, y):
        return self.distribution.icdf(y)

    def log_abs_det_jacobian(self, x, y):
        return self.distribution.log_prob(x)
''',
    "LowerCholeskyTransform": '''\
class LowerCholeskyTransform(Transform):
    """torch.distributions.LowerCholeskyTransform: a square matrix to a lower
    triangular one with a positive diagonal (its strict lower part, exp of its diagonal)."""

    def _event_dims(self):
        return 2, 2

    def _call(self, x):
        return mindspore.ops.tril(x, -1) + mindspore.ops.diag_embed(
            mindspore.ops.exp(mindspore.ops.diagonal(x, 0, -2, -1)))

    def _inverse(self, y):
        return mindspore.ops.tril(y, -1) + mindspore.ops.diag_embed(
            mindspore.ops.log(mindspore.ops.diagonal(y, 0, -2, -1)))
''',
    "PositiveDefiniteTransform": '''\
class PositiveDefiniteTransform(Transform):
    """torch.distributions.PositiveDefiniteTransform: a square matrix to L @ L.T,
    L its LowerCholeskyTransform; the inverse goes through the Cholesky factor."""

    def _event_dims(self):
        return 2, 2

    def _call(self, x):
        lower = LowerCholeskyTransform()(x)
        return mindspore.ops.matmul(lower, lower.swapaxes(-2, -1))

    def _inverse(self, y):
        return LowerCholeskyTransform().inv(mindspore.ops.cholesky(y))
''',
    "TransformedDistribution": '''\
class TransformedDistribution:
    """torch.distributions.TransformedDistribution: samples of base_distribution
    passed through transforms (one or a list); log_prob by the change of variables."""

    def __init__(self, base_distribution, transforms, validate_args=None):
        self.base_dist = base_distribution
        self.transforms = [transforms] if isinstance(transforms, Transform) else list(transforms)

    def sample(self, shape=()):
        x = self.base_dist.sample(shape)
        for transform in self.transforms:
            x = transform(x)
        return x

    def log_prob(self, value):
        base_dim = getattr(self.base_dist, "event_dim", 0)
        domain, codomain = ComposeTransform(self.transforms)._event_dims()
        event_dim = codomain + max(base_dim - domain, 0)
        log_prob, y = 0.0, value
        for transform in reversed(self.transforms):
            x = transform.inv(y)
            part_domain, part_codomain = transform._event_dims()
            event_dim += part_domain - part_codomain
            log_prob = log_prob - Transform._sum_rightmost(
                transform.log_abs_det_jacobian(x, y), event_dim - part_domain)
            y = x
        return log_prob + Transform._sum_rightmost(self.base_dist.log_prob(y),
                                                   event_dim - base_dim)
''',
    "Independent": '''\
class Independent:
    """torch.distributions.Independent: the rightmost reinterpreted_batch_ndims batch
    axes of base_distribution counted in the event (log_prob and entropy summed)."""

    def __init__(self, base_distribution, reinterpreted_batch_ndims, validate_args=None):
        self.base_dist = base_distribution
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims
        self.event_dim = getattr(base_distribution, "event_dim", 0) + reinterpreted_batch_ndims

    def _sum(self, value):
        dims = self.reinterpreted_batch_ndims
        return mindspore.ops.sum(value, tuple(range(-dims, 0))) if dims > 0 else value

    def sample(self, shape=()):
        return self.base_dist.sample(shape)

    def log_prob(self, value):
        return self._sum(self.base_dist.log_prob(value))

    def entropy(self):
        return self._sum(self.base_dist.entropy())
''',
    "OneHotCategorical": '''\
class OneHotCategorical:
    """torch.distributions.OneHotCategorical: one-hot vectors over the last axis,
    category i drawn with probability probs[..., i] (or softmax(logits)[..., i])."""

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            self.probs = probs / mindspore.ops.sum(probs, -1, keepdim=True)
            eps = {mindspore.float16: 2 ** -10, mindspore.bfloat16: 2 ** -7,
                   mindspore.float64: 2 ** -52}.get(self.probs.dtype, 2 ** -23)
            self.logits = mindspore.ops.log(self.probs.clamp(eps, 1 - eps))
        else:
            self.logits = logits - mindspore.ops.logsumexp(logits, -1, True)
            self.probs = mindspore.ops.softmax(logits, -1)
        self.batch_shape, self.event_shape = self.probs.shape[:-1], self.probs.shape[-1:]

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        return self._one_hot(self.probs.argmax(-1))

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def _one_hot(self, index):
        categories = mindspore.ops.arange(self.probs.shape[-1])
        return (index.expand_dims(-1) == categories).astype(self.probs.dtype)

    def sample(self, sample_shape=()):
        shape = tuple(sample_shape) + tuple(self.probs.shape)
        uniform = mindspore.ops.rand(shape, dtype=self.logits.dtype).clamp(1e-20, 1.0)
        return self._one_hot((self.logits - mindspore.ops.log(-mindspore.ops.log(uniform))).argmax(-1))

    def log_prob(self, value):
        logits = self.logits + mindspore.ops.zeros_like(value)
        index = (value + mindspore.ops.zeros_like(logits)).argmax(-1).expand_dims(-1)
        return mindspore.ops.gather_elements(logits, -1, index).squeeze(-1)

    def entropy(self):
        p_log_p = mindspore.ops.where(self.probs > 0, self.logits * self.probs,
                                      mindspore.ops.zeros_like(self.probs))
        return -mindspore.ops.sum(p_log_p, -1)
''',
    "Categorical": '''\
class Categorical:
    """torch.distributions.Categorical: category indices over the last axis, drawn with
    probabilities probs (or softmax(logits)); a base for the file's own classes."""

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            self.probs = probs / mindspore.ops.sum(probs, -1, keepdim=True)
            eps = {mindspore.float16: 2 ** -10, mindspore.bfloat16: 2 ** -7,
                   mindspore.float64: 2 ** -52}.get(self.probs.dtype, 2 ** -23)
            self.logits = mindspore.ops.log(self.probs.clamp(eps, 1 - eps))
        else:
            self.logits = logits - mindspore.ops.logsumexp(logits, -1, True)
            self.probs = mindspore.ops.softmax(logits, -1)
        self.batch_shape, self.event_shape = self.probs.shape[:-1], ()

    @property
    def mode(self):
        return self.probs.argmax(-1)

    def sample(self, sample_shape=()):
        shape = tuple(sample_shape) + tuple(self.probs.shape)
        uniform = mindspore.ops.rand(shape, dtype=self.logits.dtype).clamp(1e-20, 1.0)
        return (self.logits - mindspore.ops.log(-mindspore.ops.log(uniform))).argmax(-1)

    def log_prob(self, value):
        index = value.astype(mindspore.int64).expand_dims(-1)
        log_pmf = self.logits + mindspore.ops.zeros_like(index, dtype=self.logits.dtype)
        index = (index + mindspore.ops.zeros_like(log_pmf, dtype=mindspore.int64))[..., :1]
        return mindspore.ops.gather_elements(log_pmf, -1, index).squeeze(-1)

    def entropy(self):
        p_log_p = mindspore.ops.where(self.probs > 0, self.logits * self.probs,
                                      mindspore.ops.zeros_like(self.probs))
        return -mindspore.ops.sum(p_log_p, -1)
''',
    "Normal": '''\
class Normal:
    """torch.distributions.Normal(loc, scale); a base for the file's own classes."""

    def __init__(self, loc, scale, validate_args=None):
        loc, scale = (x if isinstance(x, mindspore.Tensor) else mindspore.tensor(x, mindspore.float32)
                      for x in (loc, scale))
        self.loc = loc + mindspore.ops.zeros_like(scale)
        self.scale = scale + mindspore.ops.zeros_like(loc)
        self.batch_shape, self.event_shape = self.loc.shape, ()

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale ** 2

    def rsample(self, sample_shape=()):
        shape = tuple(sample_shape) + tuple(self.loc.shape)
        return self.loc + mindspore.ops.randn(shape, dtype=self.loc.dtype) * self.scale

    def sample(self, sample_shape=()):
        return mindspore.ops.stop_gradient(self.rsample(sample_shape))

    def log_prob(self, value):
        return (-((value - self.loc) ** 2) / (2 * self.variance) - mindspore.ops.log(self.scale)
                - math.log(math.sqrt(2 * math.pi)))

    def cdf(self, value):
        return 0.5 * (1 + mindspore.ops.erf((value - self.loc) / (self.scale * math.sqrt(2))))

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + mindspore.ops.log(self.scale)
''',
    "Bernoulli": '''\
class Bernoulli:
    """torch.distributions.Bernoulli: 1 with probability probs (or sigmoid(logits)),
    else 0; a base for the file's own classes."""

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            self.probs = probs
            eps = {mindspore.float16: 2 ** -10, mindspore.bfloat16: 2 ** -7,
                   mindspore.float64: 2 ** -52}.get(probs.dtype, 2 ** -23)
            clamped = probs.clamp(eps, 1 - eps)
            self.logits = mindspore.ops.log(clamped) - mindspore.ops.log1p(-clamped)
        else:
            self.logits, self.probs = logits, mindspore.ops.sigmoid(logits)
        self.batch_shape, self.event_shape = self.probs.shape, ()

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        mode = (self.probs >= 0.5).astype(self.probs.dtype)
        return mindspore.ops.where(self.probs == 0.5, mindspore.ops.full_like(mode, math.nan), mode)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = tuple(sample_shape) + tuple(self.probs.shape)
        return (mindspore.ops.rand(shape, dtype=self.probs.dtype) < self.probs).astype(self.probs.dtype)

    @staticmethod
    def _softplus(x):
        return mindspore.ops.relu(x) + mindspore.ops.log1p(mindspore.ops.exp(-mindspore.ops.abs(x)))

    def log_prob(self, value):
        return value * self.logits - self._softplus(self.logits)

    def entropy(self):
        return self._softplus(self.logits) - self.logits * self.probs
''',
}

# torch distributions a file subclasses: the base becomes the class written into the file
BASES = {"torch.distributions.Categorical": "Categorical",
         "torch.distributions.Normal": "Normal",
         "torch.distributions.Bernoulli": "Bernoulli"}

_TRANSFORM = ("Transform",)
NEEDS = {
    **{name: _TRANSFORM for name in HELPERS
       if name.endswith("Transform") and name != "Transform"},
    "StickBreakingTransform": ("Transform", "SigmoidTransform"),
    "TransformedDistribution": ("Transform", "ComposeTransform"),
    "PositiveDefiniteTransform": ("Transform", "LowerCholeskyTransform"),
}
IMPORTS = {
    "Transform": ("import copy",),
    "Normal": ("import math",),
    "Bernoulli": ("import math",),
    "TanhTransform": ("import math",),
    "AffineTransform": ("import math",),
}
