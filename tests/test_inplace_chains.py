"""In-place calls on more than a name: a chain (`mu.mul_(m).add_(g)`) writes the whole
chain into `mu`; a dict's entry (`state["sum"].addcmul_(g, g)`) is the tensor stored
there, written with ops.assign; an in-place call on a result just computed
(`s.sqrt().add_(eps)`) is its out-of-place value. An optimizer's state, kept in dicts,
is updated this way; torch and the converted code must hold the same numbers after."""
import textwrap

import numpy as np
import pytest

from ms_migrate import convert_source

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

PROGRAM = textwrap.dedent("""\
    import torch


    def update(state, key, p, grad):
        mu = state[key]["mu"]
        alias = mu
        mu.mul_(0.9).add_(grad, alpha=2.0)
        state[key]["sum"].addcmul_(grad, grad, value=1.0)
        std = state[key]["sum"].sqrt().add_(1e-3)
        state[key]["clipped"].mul_(0.5).add_(grad).clamp_(min=-0.1, max=0.1)
        return alias, std
    """)


def test_chains_and_dict_entries_write_the_stored_tensors():
    result = convert_source(PROGRAM, "update.py")
    assert not [f for f in result.report.findings if f.action == "unsupported"], result.code
    assert "torch" not in result.code
    assert convert_source(result.code, "update.py").code == result.code
    t, m = {}, {}
    exec(compile(PROGRAM, "<torch>", "exec"), t)
    exec(compile(result.code, "<ms>", "exec"), m)
    rng = np.random.default_rng(0)
    start = {name: rng.standard_normal((2, 3)).astype(np.float32) for name in ("mu", "sum", "clipped")}
    start["sum"] = np.abs(start["sum"])
    grads = [rng.standard_normal((2, 3)).astype(np.float32) for _ in range(3)]
    tstate = {"w": {k: torch.tensor(v) for k, v in start.items()}}
    mstate = {"w": {k: mindspore.Tensor(v) for k, v in start.items()}}
    for g in grads:
        talias, tstd = t["update"](tstate, "w", None, torch.tensor(g))
        malias, mstd = m["update"](mstate, "w", None, mindspore.Tensor(g))
        np.testing.assert_allclose(malias.asnumpy(), talias.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(mstd.asnumpy(), tstd.numpy(), rtol=1e-5, atol=1e-6)
        for k in start:
            np.testing.assert_allclose(mstate["w"][k].asnumpy(), tstate["w"][k].numpy(),
                                       rtol=1e-5, atol=1e-6)
    assert not np.allclose(tstate["w"]["mu"].numpy(), start["mu"]), "the steps must change mu"


def test_an_element_of_a_tensor_is_still_refused():
    source = "import torch\n\ndef f(x, g):\n    x[0].add_(g)\n    x.view(-1).add_(1)\n"
    result = convert_source(source, "f.py")
    refused = [f for f in result.report.findings if f.action == "unsupported"]
    assert len(refused) == 2, result.code
