"""Classes a converted file gets for torch.distributions' base classes and for the
distributions MindSpore cannot draw from on CPU: its Laplace and StudentT have no
sample, and its Gamma, Beta and Poisson sample through kernels (Gamma, Poisson) that
have no CPU version; Dirichlet, Chi2 and MultivariateNormal it lacks.

Each class is torch's, written with MindSpore ops, with torch's constructor signature
(`validate_args` is accepted and changes nothing) and torch's interface: the
`batch_shape` / `event_shape`, `mean` / `variance` / `stddev` properties, and
`sample(sample_shape)`, `rsample`, `log_prob`, `entropy` (and `cdf` / `icdf` where torch
has them). Gamma draws come from ops.random_gamma and Poisson draws from
ops.random_poisson, which run on CPU; the Laplace draw is torch's inverse-CDF formula.
NEEDS names the classes each one builds on; they are written before it.
"""
from __future__ import annotations

HELPERS = {
    "Distribution": '''\
class Distribution:
    """torch.distributions.Distribution: batch_shape and event_shape; sample() is
    rsample() without gradients. Subclasses give rsample, log_prob, mean, variance."""
    has_rsample = False

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape = batch_shape
        self._event_shape = event_shape

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def _extended_shape(self, sample_shape=()):
        return tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape)

    @staticmethod
    def _broadcast_all(*values):
        """torch's broadcast_all: numbers become tensors of the tensors' float dtype."""
        dtype = next((v.dtype for v in values if isinstance(v, mindspore.Tensor)),
                     mindspore.float32)
        tensors = [v if isinstance(v, mindspore.Tensor) else mindspore.tensor(v, dtype)
                   for v in values]
        shape = numpy.broadcast_shapes(*(tuple(t.shape) for t in tensors))
        return [mindspore.ops.broadcast_to(t, shape) for t in tensors]

    @staticmethod
    def _xlogy(x, y):
        """x * log(y), 0 where x is 0 (torch.xlogy)."""
        product = x * mindspore.ops.log(y)
        return mindspore.ops.where(x == 0, mindspore.ops.zeros_like(product), product)

    @staticmethod
    def _shape_tensor(shape):
        return mindspore.tensor(list(shape), mindspore.int64)

    @property
    def mean(self):
        raise NotImplementedError

    @property
    def variance(self):
        raise NotImplementedError

    @property
    def stddev(self):
        return mindspore.ops.sqrt(self.variance)

    def sample(self, sample_shape=()):
        return mindspore.ops.stop_gradient(self.rsample(sample_shape))

    def rsample(self, sample_shape=()):
        raise NotImplementedError

    def log_prob(self, value):
        raise NotImplementedError

    def entropy(self):
        raise NotImplementedError
''',
    "ExponentialFamily": '''\
class ExponentialFamily(Distribution):
    """torch.distributions.ExponentialFamily: subclasses give _natural_params,
    _log_normalizer and _mean_carrier_measure; entropy follows from them (the
    Bregman divergence of the log normalizer, its gradient from mindspore.grad)."""

    @property
    def _natural_params(self):
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError

    def entropy(self):
        params = tuple(self._natural_params)
        normalizer = self._log_normalizer(*params)
        gradients = mindspore.grad(lambda *p: self._log_normalizer(*p).sum(),
                                   grad_position=tuple(range(len(params))))(*params)
        if len(params) == 1:
            gradients = (gradients,)
        result = normalizer - self._mean_carrier_measure
        for param, gradient in zip(params, gradients):
            product = param * gradient
            event_dims = len(product.shape) - len(normalizer.shape)
            result = result - (product.sum(tuple(range(-event_dims, 0)))
                               if event_dims else product)
        return result
''',
    "Gamma": '''\
class Gamma(Distribution):
    """torch.distributions.Gamma(concentration, rate): draws from ops.random_gamma."""
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = self._broadcast_all(concentration, rate)
        super().__init__(tuple(self.concentration.shape))

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return mindspore.ops.clamp((self.concentration - 1) / self.rate, min=0)

    @property
    def variance(self):
        return self.concentration / self.rate ** 2

    def rsample(self, sample_shape=()):
        draw = mindspore.ops.random_gamma(self._shape_tensor(sample_shape), self.concentration)
        tiny = float(numpy.finfo(mindspore.dtype_to_nptype(draw.dtype)).tiny)
        return mindspore.ops.clamp(draw / self.rate, min=tiny)

    def log_prob(self, value):
        a, b = self.concentration, self.rate
        return (self._xlogy(a, b) + self._xlogy(a - 1, value) - b * value
                - mindspore.ops.lgamma(a))

    def cdf(self, value):
        return mindspore.ops.igamma(self.concentration, self.rate * value)

    def entropy(self):
        a = self.concentration
        return (a - mindspore.ops.log(self.rate) + mindspore.ops.lgamma(a)
                + (1.0 - a) * mindspore.ops.digamma(a))
''',
    "Chi2": '''\
class Chi2(Gamma):
    """torch.distributions.Chi2(df): Gamma(df / 2, 1 / 2)."""

    def __init__(self, df, validate_args=None):
        df, = self._broadcast_all(df)
        super().__init__(0.5 * df, mindspore.ops.full_like(df, 0.5))

    @property
    def df(self):
        return self.concentration * 2
''',
    "Beta": '''\
class Beta(Distribution):
    """torch.distributions.Beta(concentration1, concentration0): x / (x + y) of two
    Gamma draws."""
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = self._broadcast_all(concentration1,
                                                                       concentration0)
        super().__init__(tuple(self.concentration1.shape))

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total ** 2 * (total + 1))

    def rsample(self, sample_shape=()):
        shape = self._shape_tensor(sample_shape)
        x = mindspore.ops.random_gamma(shape, self.concentration1)
        y = mindspore.ops.random_gamma(shape, self.concentration0)
        return x / (x + y)

    def log_prob(self, value):
        a, b = self.concentration1, self.concentration0
        return (self._xlogy(a - 1, value) + self._xlogy(b - 1, 1 - value)
                + mindspore.ops.lgamma(a + b) - mindspore.ops.lgamma(a) - mindspore.ops.lgamma(b))

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        digamma, lgamma = mindspore.ops.digamma, mindspore.ops.lgamma
        return (lgamma(a) + lgamma(b) - lgamma(a + b) - (a - 1) * digamma(a)
                - (b - 1) * digamma(b) + (a + b - 2) * digamma(a + b))
''',
    "Dirichlet": '''\
class Dirichlet(Distribution):
    """torch.distributions.Dirichlet(concentration): Gamma draws normalised over the
    last axis (the event)."""
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        self.concentration = concentration
        super().__init__(tuple(concentration.shape[:-1]), tuple(concentration.shape[-1:]))

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdims=True)

    @property
    def variance(self):
        total = self.concentration.sum(-1, keepdims=True)
        return self.concentration * (total - self.concentration) / (total ** 2 * (total + 1))

    def rsample(self, sample_shape=()):
        draw = mindspore.ops.random_gamma(self._shape_tensor(sample_shape), self.concentration)
        tiny = float(numpy.finfo(mindspore.dtype_to_nptype(draw.dtype)).tiny)
        return mindspore.ops.clamp(draw / draw.sum(-1, keepdims=True), min=tiny)

    def log_prob(self, value):
        c = self.concentration
        return (self._xlogy(c - 1.0, value).sum(-1) + mindspore.ops.lgamma(c.sum(-1))
                - mindspore.ops.lgamma(c).sum(-1))

    def entropy(self):
        c = self.concentration
        k, total = c.shape[-1], c.sum(-1)
        return (mindspore.ops.lgamma(c).sum(-1) - mindspore.ops.lgamma(total)
                - (k - total) * mindspore.ops.digamma(total)
                - ((c - 1.0) * mindspore.ops.digamma(c)).sum(-1))
''',
    "Poisson": '''\
class Poisson(Distribution):
    """torch.distributions.Poisson(rate): draws from ops.random_poisson (float counts,
    as torch's)."""

    def __init__(self, rate, validate_args=None):
        self.rate, = self._broadcast_all(rate)
        super().__init__(tuple(self.rate.shape))

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return mindspore.ops.floor(self.rate)

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=()):
        return mindspore.ops.random_poisson(self._shape_tensor(sample_shape), self.rate,
                                            dtype=self.rate.dtype)

    def log_prob(self, value):
        return self._xlogy(value, self.rate) - self.rate - mindspore.ops.lgamma(value + 1)
''',
    "Laplace": '''\
class Laplace(Distribution):
    """torch.distributions.Laplace(loc, scale): drawn by torch's inverse-CDF formula
    from a uniform draw in (-1, 1)."""
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = self._broadcast_all(loc, scale)
        super().__init__(tuple(self.loc.shape))

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return 2 * self.scale ** 2

    @property
    def stddev(self):
        return (2 ** 0.5) * self.scale

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = float(numpy.finfo(mindspore.dtype_to_nptype(self.loc.dtype)).eps)
        u = mindspore.ops.clamp(mindspore.ops.rand(shape, dtype=self.loc.dtype) * 2 - 1,
                                min=eps - 1)
        return self.loc - self.scale * u.sign() * mindspore.ops.log1p(-u.abs())

    def log_prob(self, value):
        return -mindspore.ops.log(2 * self.scale) - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        return 0.5 - 0.5 * (value - self.loc).sign() * mindspore.ops.expm1(
            -(value - self.loc).abs() / self.scale)

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * term.sign() * mindspore.ops.log1p(-2 * term.abs())

    def entropy(self):
        return 1 + mindspore.ops.log(2 * self.scale)
''',
    "StudentT": '''\
class StudentT(Distribution):
    """torch.distributions.StudentT(df, loc=0, scale=1): a normal draw over the square
    root of a Chi2(df) draw divided by df."""
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = self._broadcast_all(df, loc, scale)
        super().__init__(tuple(self.df.shape))

    @property
    def mean(self):
        return mindspore.ops.where(self.df > 1, self.loc, mindspore.ops.full_like(self.loc, float("nan")))

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        df = self.df
        finite = self.scale ** 2 * df / (df - 2)
        return mindspore.ops.where(df > 2, finite, mindspore.ops.where(
            df > 1, mindspore.ops.full_like(df, float("inf")), mindspore.ops.full_like(df, float("nan"))))

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        normal = mindspore.ops.standard_normal(shape).astype(self.df.dtype)
        chi2 = 2 * mindspore.ops.random_gamma(self._shape_tensor(sample_shape), 0.5 * self.df)
        return self.loc + self.scale * normal * mindspore.ops.rsqrt(chi2 / self.df)

    def log_prob(self, value):
        df = self.df
        y = (value - self.loc) / self.scale
        z = (mindspore.ops.log(self.scale) + 0.5 * mindspore.ops.log(df) + 0.5 * math.log(math.pi)
             + mindspore.ops.lgamma(0.5 * df) - mindspore.ops.lgamma(0.5 * (df + 1.0)))
        return -0.5 * (df + 1.0) * mindspore.ops.log1p(y ** 2.0 / df) - z

    def entropy(self):
        df = self.df
        lbeta = (mindspore.ops.lgamma(0.5 * df) + math.lgamma(0.5)
                 - mindspore.ops.lgamma(0.5 * (df + 1)))
        return (mindspore.ops.log(self.scale) + 0.5 * (df + 1) * (
            mindspore.ops.digamma(0.5 * (df + 1)) - mindspore.ops.digamma(0.5 * df))
            + 0.5 * mindspore.ops.log(df) + lbeta)
''',
    "MultivariateNormal": '''\
class MultivariateNormal(Distribution):
    """torch.distributions.MultivariateNormal(loc, covariance_matrix | precision_matrix
    | scale_tril): everything through the lower Cholesky factor L of the covariance;
    draws are loc + L @ noise, log_prob solves L z = value - loc."""
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        if scale_tril is None:
            if covariance_matrix is None:
                covariance_matrix = mindspore.ops.inverse(precision_matrix)
            scale_tril = mindspore.ops.cholesky(covariance_matrix)
        k = loc.shape[-1]
        batch = numpy.broadcast_shapes(tuple(loc.shape[:-1]), tuple(scale_tril.shape[:-2]))
        self.loc = mindspore.ops.broadcast_to(loc, batch + (k,))
        self._unbroadcasted_scale_tril = scale_tril
        super().__init__(batch, (k,))

    @property
    def scale_tril(self):
        return mindspore.ops.broadcast_to(self._unbroadcasted_scale_tril,
                                          tuple(self._batch_shape) + self._event_shape * 2)

    @property
    def covariance_matrix(self):
        lower = self.scale_tril
        return mindspore.ops.matmul(lower, lower.swapaxes(-1, -2))

    @property
    def precision_matrix(self):
        return mindspore.ops.inverse(self.covariance_matrix)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return (self.scale_tril ** 2).sum(-1)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        noise = mindspore.ops.standard_normal(shape).astype(self.loc.dtype)
        return self.loc + mindspore.ops.matmul(self.scale_tril, noise[..., None])[..., 0]

    def _half_log_det(self):
        return mindspore.ops.log(self.scale_tril.diagonal(0, -2, -1)).sum(-1)

    def log_prob(self, value):
        diff = value - self.loc
        lower = mindspore.ops.broadcast_to(self.scale_tril, diff.shape + diff.shape[-1:])
        z = mindspore.scipy.linalg.solve_triangular(lower, diff[..., None], lower=True)[..., 0]
        k = self._event_shape[0]
        return -0.5 * (k * math.log(2 * math.pi) + (z ** 2).sum(-1)) - self._half_log_det()

    def entropy(self):
        k = self._event_shape[0]
        return 0.5 * k * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
''',
}

NEEDS = {name: ("Distribution",) for name in HELPERS if name != "Distribution"}
NEEDS["Chi2"] = ("Distribution", "Gamma")
IMPORTS = {"StudentT": ("import math",), "MultivariateNormal": ("import math",)}
