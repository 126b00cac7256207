"""Checks of the torch version against a literal take the newer path, as a current
torch does: converted, run in torch and MindSpore on the same inputs, and compared."""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")
pytest.importorskip("packaging")

from ms_migrate import convert_source  # noqa: E402

SOURCE = textwrap.dedent("""\
    import torch
    import torch.nn.functional as F
    from packaging import version
    from packaging import version as pkg_version


    def scale(x, use_new=True):
        assert not (use_new and version.parse(torch.__version__) < version.parse('2.0.0')), 'needs torch 2.0'
        if pkg_version.parse(torch.__version__) < pkg_version.parse('1.5'):
            y = x * 0  # old torch
        elif x.shape[0] == 0:
            y = x
        else:
            y = F.softmax(x, dim=-1) * 2
        factor = 3.0 if version.parse(torch.__version__) >= version.parse('1.8') else 4.0
        if torch.__version__ < '1.0':
            factor = 0.0
        return y * factor
    """)


def test_version_gates_take_the_newer_path_like_current_torch():
    result = convert_source(SOURCE, "prog.py")
    code = result.code
    assert "torch" not in code, code
    assert "assert" not in code and "old torch" not in code and "factor = 0.0" not in code
    assert "factor = 3.0\n" in code
    assert convert_source(code, "prog.py").code == code  # idempotent
    gates = [f for f in result.report.findings if f.check == "version-gates"]
    assert len(gates) == 4 and {f.action for f in gates} == {"warning"}
    t, m = {"__name__": "prog"}, {"__name__": "prog_ms"}
    exec(compile(SOURCE, "<torch>", "exec"), t)
    exec(compile(code, "<ms>", "exec"), m)
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    theirs = t["scale"](torch.tensor(x)).numpy()
    ours = m["scale"](mindspore.tensor(x)).asnumpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)
