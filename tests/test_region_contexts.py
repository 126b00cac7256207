"""Profiler labels, kernel choices and profiles only measure: a converted program with
record_function/sdpa_kernel regions and a scheduled torch.profiler.profile computes what
torch computes, and MindSpore's profiler writes its trace."""
import os
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402
from ms_migrate.runtime.equivalence import copy_torch_weights  # noqa: E402

SOURCE = textwrap.dedent("""\
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from torch.autograd.profiler import record_function
    from torch.nn.attention import SDPBackend, sdpa_kernel


    class Attention(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.qkv = nn.Linear(dim, dim * 3)

        def forward(self, x):
            with record_function("qkv"):
                q, k, v = self.qkv(x).chunk(3, dim=-1)
            # pick the math kernel
            with sdpa_kernel([SDPBackend.MATH, SDPBackend.EFFICIENT_ATTENTION]):
                out = F.scaled_dot_product_attention(q, k, v)
            return out


    def bench(net, x, log_dir):
        sums = []
        with torch.profiler.profile(
            activities=[torch.profiler.ProfilerActivity.CPU],
            schedule=torch.profiler.schedule(wait=1, warmup=1, active=2, repeat=1),
            on_trace_ready=torch.profiler.tensorboard_trace_handler(log_dir),
            record_shapes=False,
            with_flops=True,
        ) as prof:
            for k in range(5):
                with torch.profiler.record_function("step"), torch.no_grad():
                    sums.append(float(net(x).sum()) * k)
                prof.step()
        return sums
    """)


def test_region_contexts_and_profile_compute_what_torch_computes(tmp_path):
    result = convert_source(SOURCE, "prog.py")
    code = result.code
    lines = [line for line in code.splitlines() if not line.lstrip().startswith("#")]
    assert "torch" not in "\n".join(lines), code
    assert "record_function" not in code and "sdpa_kernel" not in code
    assert "mindspore.profiler" in code or "profiler.profile" in code
    assert "# pick the math kernel" in code
    assert convert_source(code, "prog.py").code == code  # idempotent
    removed = [f for f in result.report.findings if f.check == "region-contexts"]
    assert len(removed) == 3 and {f.action for f in removed} == {"warning"}
    t, m = {"__name__": "prog"}, {"__name__": "prog_ms"}
    exec(compile(SOURCE, "<torch>", "exec"), t)
    exec(compile(code, "<ms>", "exec"), m)
    torch.manual_seed(0)
    tn, mn = t["Attention"](8), m["Attention"](8)
    copy_torch_weights(tn, mn)
    x = np.random.default_rng(0).standard_normal((2, 5, 8)).astype(np.float32)
    theirs = tn(torch.tensor(x)).detach().numpy()
    ours = mn(mindspore.tensor(x)).asnumpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)
    torch_sums = t["bench"](tn, torch.tensor(x), str(tmp_path / "torch"))
    ms_sums = m["bench"](mn, mindspore.tensor(x), str(tmp_path / "ms"))
    np.testing.assert_allclose(ms_sums, torch_sums, rtol=1e-5, atol=1e-4)
    assert os.listdir(tmp_path / "torch") and os.listdir(tmp_path / "ms")
