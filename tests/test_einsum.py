"""torch.einsum with a literal equation becomes matmul/swapaxes/products/sums that run
on MindSpore's CPU backend (its einsum does not)."""
import numpy as np
import pytest

from ms_migrate import convert_source
from ms_migrate.core.callrewrite import Unsupported
from ms_migrate.transforms.einsum import compose

PROGRAM = '''
import torch
import torch.nn as nn
from torch import einsum


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.to_qkv = nn.Linear(dim, dim * 3, bias=False)
        self.mix = nn.Parameter(torch.eye(heads) + 0.1)

    def forward(self, x):
        b, n, d = x.shape
        q, k, v = self.to_qkv(x).chunk(3, dim=-1)
        q, k, v = (t.reshape(b, n, self.heads, -1).permute(0, 2, 1, 3) for t in (q, k, v))
        dots = einsum("b h i d, b h j d -> b h i j", q, k) * q.shape[-1] ** -0.5
        attn = dots.softmax(dim=-1)
        attn = einsum("b h i j, h g -> b g i j", attn, self.mix)
        out = torch.einsum("bhij,bhjd->bhid", attn, v)
        pooled = torch.einsum("...nd->...d", out) / n
        gram = torch.einsum("bhd,bge->bhgde", pooled, pooled)
        trace = torch.einsum("bhgdd->bhg", gram)
        return out.permute(0, 2, 1, 3).reshape(b, n, d), trace, torch.einsum("ij,jk,kl", x[0], x[1].T, x[0])
'''


def test_attention_module_computes_torchs_numbers():
    torch = pytest.importorskip("torch")
    mindspore = pytest.importorskip("mindspore")
    result = convert_source(PROGRAM, "attention.py")
    assert "einsum" not in result.code.replace("from torch import einsum", "")
    assert "ops.matmul(q, k.swapaxes(-2, -1))" in result.code
    assert not [f for f in result.report.findings if f.action == "unsupported"]
    tns, mns = {}, {}
    exec(compile(PROGRAM, "attention.py", "exec"), tns)
    exec(compile(result.code, "attention_ms.py", "exec"), mns)
    t, m = tns["Attention"](8, 2), mns["Attention"](8, 2)
    m.to_qkv.weight.set_data(mindspore.Tensor(t.to_qkv.weight.detach().numpy()))
    x = np.random.default_rng(0).standard_normal((2, 5, 8)).astype("float32")
    expected = t(torch.from_numpy(x))
    got = m(mindspore.Tensor(x))
    for e, g in zip(expected, got):
        assert tuple(e.shape) == tuple(g.shape)
        np.testing.assert_allclose(g.asnumpy(), e.detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("equation, operands, expected", [
    ("bij,bjk->bik", "ab", "ops.matmul(a, b)"),
    ("bhid,bhjd->bhij", "qk", "ops.matmul(q, k.swapaxes(-2, -1))"),
    ("b h d e, b h d n -> b h e n", "cq", "ops.matmul(c.swapaxes(-2, -1), q)"),
    ("i,j->ij", "ab", "a[:, None] * b"),
    ("bn,anm->bam", "xw", "ops.matmul(x, w).swapaxes(0, 1)"),
    ("ij->ji", "m", "m.swapaxes(0, 1)"),
    ("ii->i", "m", "m.diagonal()"),
    ("ii", "m", "m.diagonal().sum()"),
    ("ij->j", "m", "m.sum(0)"),
    ("bn,bnd->bd", "ab", "(a[:, :, None] * b).sum(1)"),
    ("...ij,...jk->...ik", "ab", "ops.matmul(a, b)"),
    ("... d, m d -> ... m", "xw", "(x[..., None, :] * w).sum(-1)"),
    ("ij,jk,kl->il", "abc", "ops.matmul(ops.matmul(a, b), c)"),
    ("ij,ij->ij", "ab", "a * b"),
    ("ij->ij", "m", "m"),
])
def test_common_equations_take_the_short_form(equation, operands, expected):
    assert compose(equation, list(operands), "ops") == expected


@pytest.mark.parametrize("equation, count", [
    ("i...j->ij", 1),      # `...` not leading
    ("...ij->ij", 1),      # broadcast dimensions summed
    ("ij,jk->ik", 1),      # operand count
    ("ij->ii", 1),         # repeated output index
    ("ij->k", 1),          # output index from nowhere
    ("i1->i", 1),
])
def test_equations_that_are_refused(equation, count):
    with pytest.raises(Unsupported):
        compose(equation, ["x"] * count, "ops")


@pytest.mark.parametrize("call", [
    "torch.einsum(eq, a, b)",
    "torch.einsum('ij,jk->ik', *ts)",
    "torch.einsum(a, [0, 1], b, [1, 2])",
])
def test_what_cannot_be_read_stays_torch_and_is_reported(call):
    source = f"import torch\neq = 'ij,jk->ik'\ny = {call}\n"
    result = convert_source(source, "t.py")
    assert call in result.code
    assert [f for f in result.report.findings
            if f.action == "unsupported" and "einsum" in f.api]


def test_converting_twice_changes_nothing():
    once = convert_source(PROGRAM, "attention.py").code
    assert convert_source(once, "attention.py").code == once
