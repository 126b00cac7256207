"""nn.EmbeddingBag and F.embedding_bag, which MindSpore lacks, become helpers written
into the file. A small DLRM-like model (a bag layer of each mode, a functional bag with
per-sample weights and a quotient-remainder split) is converted; torch and MindSpore
get the same tables and inputs, and the outputs and the tables' gradients agree."""
import numpy as np
import pytest

from ms_migrate import convert_source

torch = pytest.importorskip("torch")
ms = pytest.importorskip("mindspore")

SOURCE = '''import torch
import torch.nn as nn
import torch.nn.functional as F


class Bags(nn.Module):
    def __init__(self, mode):
        super().__init__()
        self.emb = nn.EmbeddingBag(12, 4, mode=mode, sparse=(mode != "max"), padding_idx=0)
        self.weight_q = nn.Parameter(torch.randn(3, 4))
        self.mode = mode

    def forward(self, input, offsets, per_sample_weights=None):
        pooled = self.emb(input, offsets)
        quotient = F.embedding_bag((input / 4).long(), self.weight_q, offsets, None, 2,
                                   False, "sum", False, per_sample_weights)
        return torch.cat((pooled, quotient), dim=1)
'''

INPUT = np.array([0, 3, 5, 5, 11, 0, 7, 2, 9], dtype=np.int64)
OFFSETS = np.array([0, 2, 2, 6], dtype=np.int64)  # the third bag is empty
WEIGHTS = np.linspace(0.5, 1.5, 9).astype(np.float32)


def _torch(mode):
    scope = {}
    exec(compile(SOURCE, "<torch>", "exec"), scope)  # noqa: S102 - our own test program
    torch.manual_seed(0)
    model = scope["Bags"](mode)
    out = model(torch.tensor(INPUT), torch.tensor(OFFSETS), torch.tensor(WEIGHTS))
    (out * torch.arange(out.numel()).reshape(out.shape)).sum().backward()
    tables = [model.emb.weight, model.weight_q]
    return out.detach().numpy(), [t.detach().numpy() for t in tables], \
        [t.grad.to_dense().numpy() for t in tables]


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_bags_and_their_gradients_match_torch(mode):
    expected, tables, grads = _torch(mode)
    converted = convert_source(SOURCE, "bags.py").code
    assert "import torch" not in converted
    scope = {}
    exec(compile(converted, "<mindspore>", "exec"), scope)  # noqa: S102
    model = scope["Bags"](mode)
    model.emb.weight.set_data(ms.Tensor(tables[0]))
    model.weight_q.set_data(ms.Tensor(tables[1]))

    def loss(input, offsets, weights):
        out = model(input, offsets, weights)
        return (out * ms.ops.arange(out.size).reshape(out.shape).astype(out.dtype)).sum(), out

    grad_fn = ms.value_and_grad(loss, None, [model.emb.weight, model.weight_q], has_aux=True)
    (_, out), got = grad_fn(ms.Tensor(INPUT), ms.Tensor(OFFSETS), ms.Tensor(WEIGHTS))
    np.testing.assert_allclose(out.asnumpy(), expected, rtol=1e-5, atol=1e-6)
    for want, have in zip(grads, got):
        np.testing.assert_allclose(have.asnumpy(), want, rtol=1e-5, atol=1e-6)


def test_a_new_bag_layer_zeroes_its_padding_row_and_draws_the_rest_from_n01():
    converted = convert_source("import torch\nm = torch.nn.EmbeddingBag(4000, 8, "
                               "padding_idx=3)\n", "a.py").code
    scope = {}
    exec(compile(converted, "<mindspore>", "exec"), scope)  # noqa: S102
    table = scope["m"].weight.asnumpy()
    assert not table[3].any()
    assert abs(table.std() - 1) < 0.05 and abs(table.mean()) < 0.05


def test_literal_options_the_helper_does_not_compute_stay_marked():
    result = convert_source("import torch\nm = torch.nn.EmbeddingBag(10, 3, max_norm=1.0)\n"
                            "y = torch.nn.functional.embedding_bag(x, w, o, "
                            "scale_grad_by_freq=True)\n", "a.py")
    assert "torch.nn.EmbeddingBag(" in result.code and "embedding_bag(x, w, o" in result.code
    assert {f.api for f in result.report.findings if f.action == "unsupported"} == {
        "torch.nn.EmbeddingBag", "torch.nn.functional.embedding_bag"}


def test_conversion_is_idempotent():
    once = convert_source(SOURCE, "bags.py").code
    assert convert_source(once, "bags.py").code == once
