"""Random initialisers: the converted ones draw from the same distribution as torch's.

Rule examples compare random initialisers by shape only; here large tensors are
initialised on both sides and their mean, standard deviation and range compared.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402

CASES = [
    "nn.init.xavier_uniform_(w)",
    "nn.init.xavier_uniform_(w, gain=2.0)",
    "nn.init.xavier_normal_(w, 0.5)",
    "nn.init.kaiming_uniform_(w)",
    "nn.init.kaiming_uniform_(w, a=0.2, mode='fan_out')",
    "nn.init.kaiming_normal_(w, mode='fan_out', nonlinearity='relu')",
    "nn.init.normal_(w)",
    "nn.init.normal_(w, 0.5, 0.02)",
    "nn.init.trunc_normal_(w, std=0.5)",
    "nn.init.uniform_(w)",
    "nn.init.uniform_(w, -0.1, 0.3)",
    "nn.init.orthogonal_(w)",
    "nn.init.normal_(w.data, 1.0, 0.02)",  # through .data (a Tensor in MindSpore)
    "nn.init.uniform_(w.data, -0.1, 0.3)",
]


def _stats(values):
    values = np.asarray(values, dtype=np.float64)
    return np.array([values.mean(), values.std(), values.min(), values.max()])


@pytest.mark.parametrize("call", CASES)
def test_initializer_distribution(call):
    source = ("import torch\nimport torch.nn as nn\n"
              "w = nn.Parameter(torch.empty(256, 384))\n" + call + "\n")
    ns = {}
    exec(source, ns)
    expected = _stats(ns["w"].detach().numpy())

    converted = convert_source(source).code
    assert "torch" not in converted, converted
    ms_ns = {}
    exec(converted, ms_ns)
    actual = _stats(ms_ns["w"].asnumpy())
    scale = max(expected[1], 1e-3)
    # mean and std within 5% of the spread
    np.testing.assert_allclose(actual[:2], expected[:2], atol=0.05 * scale, rtol=0.05)
    if "uniform" in call or "trunc_normal" in call:
        # bounded distributions: the same range (a normal's extremes are too noisy)
        np.testing.assert_allclose(actual[2:], expected[2:], atol=0.15 * scale + 1e-6,
                                   rtol=0.15)


def test_orthogonal_is_orthogonal():
    source = "import torch\nimport torch.nn as nn\nw = nn.Parameter(torch.empty(64, 96))\n" \
             "nn.init.orthogonal_(w)\n"
    ms_ns = {}
    exec(convert_source(source).code, ms_ns)
    w = ms_ns["w"].asnumpy()
    np.testing.assert_allclose(w @ w.T, np.eye(64), atol=1e-4)


@pytest.mark.parametrize("layer", ["nn.Embedding(300, 256)", "nn.Embedding(300, 256, padding_idx=0)"])
def test_embedding_default_table_is_standard_normal(layer):
    """torch draws an Embedding's table from N(0, 1); MindSpore's default is N(0, 0.01)."""
    source = f"import torch\nimport torch.nn as nn\nm = {layer}\n"
    ns = {}
    exec(source, ns)
    expected = ns["m"].weight.detach().numpy()
    ms_ns = {}
    exec(convert_source(source).code, ms_ns)
    actual = ms_ns["m"].embedding_table.asnumpy()
    np.testing.assert_allclose(_stats(actual[1:])[:2], _stats(expected[1:])[:2], atol=0.02)
    np.testing.assert_array_equal(actual[0] == 0, expected[0] == 0)  # the padding row
