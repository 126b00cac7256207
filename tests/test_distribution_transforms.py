"""torch.distributions' transforms, TransformedDistribution and Independent: MindSpore
has none, so the converted file gets classes of torch's names (written once each, the
base class first). A small flow model is converted, run in torch and in MindSpore on
the same inputs, and the numbers compared."""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402


def convert(source: str):
    source = textwrap.dedent(source)
    result = convert_source(source, "prog.py")
    assert convert_source(result.code, "prog.py").code == result.code  # idempotent
    torch_ns, ms_ns = {"__name__": "prog"}, {"__name__": "prog_ms"}
    exec(compile(source, "<torch>", "exec"), torch_ns)
    exec(compile(result.code, "<ms>", "exec"), ms_ns)
    return result, torch_ns, ms_ns


FLOW = """\
    import torch
    import torch.distributions as D
    from torch.distributions.transforms import AffineTransform, ComposeTransform


    def flow(loc, scale, value):
        base = D.Independent(D.Normal(loc, scale), 1)
        chain = ComposeTransform([AffineTransform(0.5, 2.0),
                                  D.IndependentTransform(D.SigmoidTransform(), 1)])
        model = D.TransformedDistribution(base, [chain])
        inner = chain.inv(value)
        return model.log_prob(value), inner, chain.log_abs_det_jacobian(inner, value)
    """


def test_a_flow_of_transforms_gives_torchs_log_probabilities():
    result, t, m = convert(FLOW)
    assert "import torch" not in result.code and "# ms-migrate" not in result.code
    for name in ("Transform", "AffineTransform", "ComposeTransform", "IndependentTransform",
                 "SigmoidTransform", "TransformedDistribution", "Independent"):
        assert result.code.count(f"\nclass {name}(") + result.code.count(
            f"\nclass {name}:") == 1, name
    assert result.code.index("class Transform:") < result.code.index("class ComposeTransform(")
    rng = np.random.default_rng(3)
    loc = rng.standard_normal((2, 3)).astype(np.float32)
    scale = rng.uniform(0.5, 2.0, (2, 3)).astype(np.float32)
    value = rng.uniform(0.1, 0.9, (2, 3)).astype(np.float32)
    expected = t["flow"](*(torch.from_numpy(a) for a in (loc, scale, value)))
    got = m["flow"](*(mindspore.Tensor(a) for a in (loc, scale, value)))
    for e, g in zip(expected, got):
        assert tuple(g.shape) == tuple(e.shape)
        np.testing.assert_allclose(g.asnumpy(), e.numpy(), rtol=1e-4, atol=1e-5)


def test_a_class_the_file_defines_keeps_its_name_and_the_helpers_their_base():
    """The file's own `Transform` (a data-augmentation class): the helper base class is
    ms_Transform, and the transform written after it derives from that."""
    result, t, m = convert("""\
        import torch

        class Transform:
            def __call__(self, x):
                return x * 2

        def both(x):
            return Transform()(torch.distributions.ExpTransform()(x))
        """)
    assert "class ms_Transform:" in result.code
    assert "class ExpTransform(ms_Transform):" in result.code
    x = np.array([0.0, 1.0, -1.0], np.float32)
    np.testing.assert_allclose(m["both"](mindspore.Tensor(x)).asnumpy(),
                               t["both"](torch.from_numpy(x)).numpy(), rtol=1e-5)
