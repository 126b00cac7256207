"""torch.set_default_dtype(torch.float32) / set_default_tensor_type(torch.FloatTensor)
name MindSpore's own default: the statements go, and the tensors made after them get
torch's dtypes. Another default stays marked (MindSpore has no global default dtype)."""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402

SOURCE = textwrap.dedent("""\
    import torch
    torch.set_default_dtype(torch.float32)
    torch.set_default_tensor_type("torch.FloatTensor")
    if True:
        torch.set_default_tensor_type(torch.FloatTensor)
    result = (torch.tensor([1.2, 3]), torch.zeros(2), torch.tensor([1.5, 2j]))
""")


def test_float32_defaults_go():
    result = convert_source(SOURCE, "defaults.py")
    code = result.code
    assert "torch" not in code and "ms-migrate:" not in code
    assert convert_source(code, "defaults.py").code == code
    t_ns, m_ns = {}, {}
    exec(compile(SOURCE, "<torch>", "exec"), t_ns)
    exec(compile(code, "<ms>", "exec"), m_ns)
    for t, m in zip(t_ns["result"], m_ns["result"]):
        assert str(m.dtype).lower() == str(t.dtype).replace("torch.", "")
        np.testing.assert_allclose(m.asnumpy(), t.numpy())


def test_another_default_stays_marked():
    code = convert_source("import torch\ntorch.set_default_dtype(torch.float64)\n", "d.py").code
    assert "torch.set_default_dtype(torch.float64)" in code and "ms-migrate:" in code
