"""torch.distributions.kl_divergence for the distributions written into a converted file
(distribution_family_code.py, distribution_helper_code.py): torch's closed forms, for a
pair of the same family. Other pairs raise NotImplementedError, as torch does for a
pair it has no registered form of."""
from __future__ import annotations

HELPERS = {
    "kl_divergence": '''\
def kl_divergence(p, q):
    """torch.distributions.kl_divergence(p, q) of two distributions of one family:
    Beta, Gamma, Poisson, Normal, Laplace, Categorical or OneHotCategorical."""
    family = type(p).__name__.rpartition("_")[2]
    if family != type(q).__name__.rpartition("_")[2]:
        raise NotImplementedError(f"no KL form for {type(p).__name__} and {type(q).__name__}")
    math_ops = mindspore.ops
    if family == "Beta":
        sum_p = p.concentration1 + p.concentration0
        sum_q = q.concentration1 + q.concentration0
        return (math_ops.lgamma(q.concentration1) + math_ops.lgamma(q.concentration0) + math_ops.lgamma(sum_p)
                - math_ops.lgamma(p.concentration1) - math_ops.lgamma(p.concentration0) - math_ops.lgamma(sum_q)
                + (p.concentration1 - q.concentration1) * math_ops.digamma(p.concentration1)
                + (p.concentration0 - q.concentration0) * math_ops.digamma(p.concentration0)
                + (sum_q - sum_p) * math_ops.digamma(sum_p))
    if family == "Gamma":
        return (q.concentration * math_ops.log(p.rate / q.rate)
                + math_ops.lgamma(q.concentration) - math_ops.lgamma(p.concentration)
                + (p.concentration - q.concentration) * math_ops.digamma(p.concentration)
                + (q.rate - p.rate) * (p.concentration / p.rate))
    if family == "Poisson":
        return p.rate * (math_ops.log(p.rate) - math_ops.log(q.rate)) - (p.rate - q.rate)
    if family == "Normal":
        var_ratio = (p.scale / q.scale) ** 2
        t1 = ((p.loc - q.loc) / q.scale) ** 2
        return 0.5 * (var_ratio + t1 - 1 - math_ops.log(var_ratio))
    if family == "Laplace":
        scale_ratio = p.scale / q.scale
        loc_abs_diff = math_ops.abs(p.loc - q.loc)
        return (-math_ops.log(scale_ratio) + loc_abs_diff / q.scale
                + scale_ratio * math_ops.exp(-loc_abs_diff / p.scale) - 1)
    if family in ("Categorical", "OneHotCategorical"):
        t = p.probs * (p.logits - q.logits)
        t = math_ops.where(q.probs == 0, mindspore.tensor(float("inf"), t.dtype), t)
        t = math_ops.where(p.probs == 0, math_ops.zeros_like(t), t)
        return t.sum(-1)
    raise NotImplementedError(f"no KL form for {type(p).__name__} and {type(q).__name__}")
''',
}
