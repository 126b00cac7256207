"""Binomial and ContinuousBernoulli written into a converted file: MindSpore 2.10 has
neither (its Binomial kernel is not on CPU). Both build on the Distribution base of
distribution_family_code.py; draws come from math_ops.rand, as torch's come from its
uniform generator (so the values differ, the distribution does not)."""
from __future__ import annotations

HELPERS = {
    "Binomial": '''\
class Binomial(Distribution):
    """torch.distributions.Binomial(total_count, probs or logits): a draw counts the
    uniform numbers below probs among total_count trials (float counts, as torch's)."""

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            self.total_count, self.probs = self._broadcast_all(total_count, probs)
            eps = float(numpy.finfo(mindspore.dtype_to_nptype(self.probs.dtype)).eps)
            clamped = mindspore.ops.clamp(self.probs, eps, 1 - eps)
            self.logits = mindspore.ops.log(clamped) - mindspore.ops.log1p(-clamped)
        else:
            self.total_count, self.logits = self._broadcast_all(total_count, logits)
            self.probs = mindspore.ops.sigmoid(self.logits)
        self.total_count = self.total_count.astype(self.probs.dtype)
        super().__init__(tuple(self.probs.shape))

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return mindspore.ops.minimum(mindspore.ops.floor((self.total_count + 1) * self.probs),
                                     self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        trials = max(int(self.total_count.max()), 1)
        draws = mindspore.ops.rand(shape + (trials,), dtype=self.probs.dtype)
        success = mindspore.ops.logical_and(
            draws < self.probs.expand_dims(-1),
            mindspore.ops.arange(trials) < self.total_count.expand_dims(-1))
        return success.astype(self.probs.dtype).sum(-1)

    def log_prob(self, value):
        n, logits = self.total_count, self.logits
        math_ops = mindspore.ops
        clamped = (math_ops.clamp(logits, min=0) + logits - math_ops.clamp(logits, max=0)) / 2
        normalize = (n * clamped + n * math_ops.log1p(math_ops.exp(-math_ops.abs(logits)))
                     - math_ops.lgamma(n + 1))
        return (value * logits - mindspore.ops.lgamma(value + 1)
                - mindspore.ops.lgamma(n - value + 1) - normalize)
''',
    "ContinuousBernoulli": '''\
class ContinuousBernoulli(Distribution):
    """torch.distributions.ContinuousBernoulli(probs or logits, lims): draws are the
    inverse CDF of uniform numbers; near probs 0.5 (inside lims) torch's Taylor forms."""
    has_rsample = True

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            self.probs, = self._broadcast_all(probs)
            eps = float(numpy.finfo(mindspore.dtype_to_nptype(self.probs.dtype)).eps)
            clamped = mindspore.ops.clamp(self.probs, eps, 1 - eps)
            self.logits = mindspore.ops.log(clamped) - mindspore.ops.log1p(-clamped)
        else:
            self.logits, = self._broadcast_all(logits)
            self.probs = mindspore.ops.sigmoid(self.logits)
        self._lims = lims
        super().__init__(tuple(self.probs.shape))

    def _outside_unstable_region(self):
        return mindspore.ops.logical_or(self.probs <= self._lims[0], self.probs >= self._lims[1])

    def _cut_probs(self):
        return mindspore.ops.where(self._outside_unstable_region(), self.probs,
                                   mindspore.ops.full_like(self.probs, self._lims[0]))

    def _log_normalizer(self):
        cut = self._cut_probs()
        below = mindspore.ops.where(cut <= 0.5, cut, mindspore.ops.zeros_like(cut))
        above = mindspore.ops.where(cut >= 0.5, cut, mindspore.ops.ones_like(cut))
        math_ops = mindspore.ops
        log_norm = (math_ops.log(math_ops.abs(math_ops.log1p(-cut) - math_ops.log(cut)))
                    - mindspore.ops.where(cut <= 0.5, mindspore.ops.log1p(-2.0 * below),
                                          mindspore.ops.log(2.0 * above - 1.0)))
        x = (self.probs - 0.5) ** 2
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return mindspore.ops.where(self._outside_unstable_region(), log_norm, taylor)

    @property
    def mean(self):
        cut = self._cut_probs()
        mus = cut / (2.0 * cut - 1.0) + 1.0 / (mindspore.ops.log1p(-cut) - mindspore.ops.log(cut))
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x ** 2) * x
        return mindspore.ops.where(self._outside_unstable_region(), mus, taylor)

    def icdf(self, value):
        cut = self._cut_probs()
        math_ops = mindspore.ops
        inverse = ((math_ops.log1p(-cut + value * (2.0 * cut - 1.0)) - math_ops.log1p(-cut))
                   / (math_ops.log(cut) - math_ops.log1p(-cut)))
        return mindspore.ops.where(self._outside_unstable_region(), inverse, value)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        return self.icdf(mindspore.ops.rand(shape, dtype=self.probs.dtype))

    def log_prob(self, value):
        logits = self.logits
        bce = (mindspore.ops.clamp(logits, min=0) - logits * value
               + mindspore.ops.log1p(mindspore.ops.exp(-mindspore.ops.abs(logits))))
        return -bce + self._log_normalizer()
''',
}

NEEDS = {"Binomial": ("Distribution",), "ContinuousBernoulli": ("Distribution",)}
IMPORTS = {"ContinuousBernoulli": ("import math",)}
