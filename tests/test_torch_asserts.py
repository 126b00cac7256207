"""torch._assert statements (shape checks of vision models) become assert statements:
converted, a function raises AssertionError with torch's message where torch's does,
and runs on where torch's does, for Python and tensor conditions."""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402

SOURCE = textwrap.dedent("""\
    import torch

    def patchify(x, img_size=(4, 6), limit=None):
        _, _, H, W = x.shape
        torch._assert(
            H == img_size[0],
            f"Input image height ({H}) doesn't match model ({img_size[0]}).",
        )
        torch._assert(message="width", condition=(W == img_size[1]))
        if limit is not None:
            torch._assert(x.abs().max() < limit, "values out of range")
        torch._assert(True, "")
        return x.flatten(2)
""")


def _run(code, module, x, **kw):
    ns = {}
    exec(compile(code, "<src>", "exec"), ns)
    try:
        return ns["patchify"](module.tensor(x), **kw), None
    except AssertionError as e:
        return None, str(e)


@pytest.mark.parametrize("shape,limit", [((1, 2, 4, 6), None), ((1, 2, 5, 6), None),
                                         ((1, 2, 4, 5), None), ((1, 2, 4, 6), 100.0),
                                         ((1, 2, 4, 6), 0.01)])
def test_torch_assert_statements(shape, limit):
    result = convert_source(SOURCE, "patch.py")
    code = result.code
    assert "torch" not in code and code.count("assert ") == 4
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    t_out, t_err = _run(SOURCE, torch, x, limit=limit)
    m_out, m_err = _run(code, mindspore, x, limit=limit)
    assert m_err == t_err
    if t_out is not None:
        np.testing.assert_allclose(m_out.asnumpy(), t_out.numpy())
    assert convert_source(code, "patch.py").code == code


def test_torch_assert_in_an_expression_stays_marked():
    result = convert_source("import torch\nok = torch._assert(True, 'x')\n", "e.py")
    assert "torch._assert(True, 'x')" in result.code
    assert any(f.api == "torch._assert" and f.action == "unsupported" for f in result.report.findings)
