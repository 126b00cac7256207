"""Distributions MindSpore cannot draw from on CPU (Gamma, Beta, Poisson, Laplace,
StudentT, Chi2, Dirichlet, MultivariateNormal) are written into the converted file as torch's classes.
Draws cannot match torch's numbers; what they must match is the distribution: the
converted program's sample moments agree with torch's mean and variance, the draws
lie in the support, and log_prob of the draws agrees with torch's log_prob of the
same values. An ExponentialFamily subclass gets torch's entropy from its log
normalizer."""
import runpy
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402

N = 40000
SOURCE = textwrap.dedent(f"""\
    import torch

    def build():
        return {{
            "gamma": torch.distributions.Gamma(torch.tensor([0.5, 2.0, 7.0]), torch.tensor([1.0, 3.0, 0.5])),
            "beta": torch.distributions.beta.Beta(torch.tensor([0.5, 2.0]), concentration0=torch.tensor([1.5, 5.0])),
            "poisson": torch.distributions.poisson.Poisson(torch.tensor([0.7, 4.0])),
            "laplace": torch.distributions.Laplace(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 2.5])),
            "studentt": torch.distributions.studentT.StudentT(torch.tensor([5.0, 9.0]), loc=0.5, scale=2.0),
            "chi2": torch.distributions.chi2.Chi2(torch.tensor([1.0, 4.0])),
            "dirichlet": torch.distributions.dirichlet.Dirichlet(torch.tensor([0.5, 1.0, 3.0])),
            "mvn": torch.distributions.MultivariateNormal(torch.tensor([1.0, -2.0]),
                                                          torch.tensor([[2.0, 0.6], [0.6, 1.0]])),
        }}

    def draw(name):
        d = build()[name]
        x = d.sample([{N}])
        return x, d.log_prob(x), d.mean, d.variance
""")
NAMES = ["gamma", "beta", "poisson", "laplace", "studentt", "chi2", "dirichlet", "mvn"]


@pytest.fixture(scope="module")
def converted():
    code = convert_source(SOURCE, "dists.py").code
    assert "import torch" not in code and "torch.distributions" not in code.split("def build")[-1]
    assert convert_source(code, "dists.py").code == code
    t_ns, m_ns = {}, {}
    exec(compile(SOURCE, "<torch>", "exec"), t_ns)
    exec(compile(code, "<ms>", "exec"), m_ns)
    return t_ns, m_ns


@pytest.mark.parametrize("name", NAMES)
def test_draws_follow_the_distribution(converted, name):
    t_ns, m_ns = converted
    mindspore.set_seed(0)
    x, log_prob, mean, variance = (v.asnumpy() for v in m_ns["draw"](name))
    t_x, _, t_mean, t_var = (v.numpy() for v in t_ns["draw"](name))
    assert x.shape == t_x.shape and x.dtype == t_x.dtype
    np.testing.assert_allclose(mean, t_mean, rtol=1e-5)
    np.testing.assert_allclose(variance, t_var, rtol=1e-5)
    # sample moments within 5 standard errors of torch's mean and variance
    stderr = np.sqrt(t_var / N)
    assert np.all(np.abs(x.mean(0) - t_mean) < 5 * stderr + 1e-6), (x.mean(0), t_mean)
    assert np.all(np.abs(x.var(0) / t_var - 1) < 0.1), (x.var(0), t_var)
    # the same values get torch's log-density
    d = t_ns["build"]()[name]
    expected = d.log_prob(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(log_prob, expected, rtol=1e-4, atol=1e-4)
    if name in ("gamma", "chi2", "poisson"):
        assert (x >= 0).all()
    if name == "poisson":
        assert (x == np.round(x)).all()
    if name == "beta":
        assert ((x > 0) & (x < 1)).all()
    if name == "dirichlet":
        np.testing.assert_allclose(x.sum(-1), 1.0, rtol=1e-5)
    if name == "mvn":  # the draws' covariance is the matrix given
        np.testing.assert_allclose(np.cov(x.T), [[2.0, 0.6], [0.6, 1.0]], atol=0.06)


FAMILY = textwrap.dedent("""\
    import torch

    class Rate(torch.distributions.ExponentialFamily):
        def __init__(self, rate):
            self.rate = rate
            super().__init__(batch_shape=rate.shape)

        @property
        def _natural_params(self):
            return (-self.rate,)

        def _log_normalizer(self, x):
            return -torch.log(-x)

        @property
        def _mean_carrier_measure(self):
            return 0

    def entropy(rate):
        return Rate(rate).entropy()
""")


def test_exponential_family_entropy_from_the_log_normalizer(tmp_path):
    code = convert_source(FAMILY, "family.py").code
    assert "import torch" not in code and "class Rate(ExponentialFamily)" in code
    t_ns = {}
    exec(compile(FAMILY, "<torch>", "exec"), t_ns)
    (tmp_path / "family.py").write_text(code)  # mindspore.grad reads its function's file
    m_ns = runpy.run_path(str(tmp_path / "family.py"))
    rate = np.array([0.5, 1.0, 4.0], dtype=np.float32)
    expected = t_ns["entropy"](torch.from_numpy(rate)).detach().numpy()
    got = m_ns["entropy"](mindspore.Tensor(rate)).asnumpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    np.testing.assert_allclose(got, 1 - np.log(rate), rtol=1e-5)
