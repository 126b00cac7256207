"""`hasattr(torch_module, "api")` probes: True where the API converts (the converted
branch runs, as in the torch the code was written for); left where it does not."""
import textwrap

import numpy as np
import pytest

from ms_migrate import convert_source

SOURCE = textwrap.dedent("""\
    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.flash = hasattr(torch.nn.functional, 'scaled_dot_product_attention')
            self.gelu = hasattr(F, "gelu")

        def forward(self, q, k, v):
            if self.flash:
                y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            else:
                y = v
            return F.gelu(y) if self.gelu else y
    """)


def test_probe_of_a_converted_api_is_true_and_runs_like_torch():
    torch = pytest.importorskip("torch")
    mindspore = pytest.importorskip("mindspore")
    result = convert_source(SOURCE, "prog.py")
    assert "self.flash = True" in result.code and "self.gelu = True" in result.code
    assert "torch" not in result.code
    assert convert_source(result.code, "prog.py").code == result.code
    t, m = {}, {}
    exec(compile(SOURCE, "<torch>", "exec"), t)
    exec(compile(result.code, "<ms>", "exec"), m)
    q, k, v = np.random.default_rng(0).standard_normal((3, 2, 2, 5, 4)).astype(np.float32)
    theirs = t["Attention"]()(*map(torch.tensor, (q, k, v))).numpy()
    ours = m["Attention"]()(*map(mindspore.tensor, (q, k, v))).asnumpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_probe_of_an_api_without_a_rule_stays():
    source = "import torch\nhas_it = hasattr(torch.nn.functional, 'no_such_function')\n"
    result = convert_source(source, "prog.py")
    assert "hasattr(torch.nn.functional, 'no_such_function')" in result.code
