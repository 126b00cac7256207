"""torch.nn.functional rules beyond their one-call examples: the uses they must
refuse, and a forward function built from several of them, run on both frameworks."""
import pytest

from ms_migrate import convert_source
from ms_migrate.runtime.equivalence import PRELUDE


def convert(body: str):
    return convert_source(PRELUDE + body, "<test>")


def unsupported(result):
    return {f.api.rsplit(".", 1)[-1]: f.message for f in result.report.findings
            if f.action == "unsupported"}


@pytest.mark.parametrize("call,api,reason", [
    ("F.interpolate(x, mode='bicubic')", "interpolate", "needs size= or scale_factor="),
    ("F.interpolate(f(x), scale_factor=2)", "interpolate", "bind it to a name"),
    ("F.normalize(f(x), p=1)", "normalize", "bind it to a name"),
    ("F.conv2d(x, w, stride=2, padding='same')", "conv2d", "stride 1"),
    ("F.soft_margin_loss(x, y, reduction=how)", "soft_margin_loss", "reduction"),
    ("F.triplet_margin_loss(a, p, n, swap=True)", "triplet_margin_loss", "swap"),
    ("F.poisson_nll_loss(x, y, log_input=False)", "poisson_nll_loss", "log_input"),
    ("F.scaled_dot_product_attention(q, k, v, attn_mask=f(m))", "scaled_dot_product_attention",
     "attn_mask"),
    ("F.scaled_dot_product_attention(q, k, v, enable_gqa=True)", "scaled_dot_product_attention",
     "enable_gqa"),
    ("F.max_pool1d(x, 2, return_indices=True)", "max_pool1d", "return_indices"),
    ("F.embedding(i, w, scale_grad_by_freq=True)", "embedding", "scale_grad_by_freq"),
    ("F.elu(f(x), alpha=0.5)", "elu", "twice"),
    ("F.binary_cross_entropy(f(p), y, weight=w)", "binary_cross_entropy", "assign the input"),
    ("F.softmax(f(x))", "softmax", "give dim"),
    ("F.log_softmax(x * 2, None)", "log_softmax", "give dim"),
    ("F.batch_norm(x, None, None, training=True)", "batch_norm", "running_mean"),
])
def test_uses_that_cannot_convert_are_left_and_marked(call, api, reason):
    result = convert(f"out = {call}\n")
    assert reason in unsupported(result)[api]
    assert f"out = {call}" in result.code
    assert f"# ms-migrate: torch.nn.functional.{api}" in result.code


FORWARD = """
def forward(x, w1, b1, w2, b2, t):
    h = F.conv2d(x, w1, b1, padding=1)
    h = F.max_pool2d(F.relu(h), 2)
    h = F.layer_norm(h, h.shape[-2:])
    h = F.interpolate(h, scale_factor=2, mode='bilinear', align_corners=False)
    h = F.adaptive_avg_pool2d(h, 1).flatten(1)
    h = F.dropout(h, 0.5, training=False)
    logits = F.linear(h, w2, b2)
    loss = F.cross_entropy(logits, t, label_smoothing=0.1)
    return F.log_softmax(logits, dim=-1), loss
"""


def test_a_functional_forward_computes_the_same_on_both_frameworks():
    pytest.importorskip("torch")
    pytest.importorskip("mindspore")
    from ms_migrate.runtime.equivalence import run_example
    example = {
        "setup": FORWARD,
        "code": "forward(x, w1, b1, w2, b2, t)",
        "inputs": {"x": "randn(2, 3, 8, 8)", "w1": "randn(4, 3, 3, 3)", "b1": "randn(4)",
                   "w2": "randn(5, 4)", "b2": "randn(5)", "t": "randint(0, 5, (2,))"},
        "tol": 1e-4,
    }
    result = run_example(example, "function")
    assert "import torch" not in result.mindspore_code
    assert result.max_diff < 1e-4


ATTENTION = """
def attention(x, w_qkv, w_out, heads):
    b, t, c = x.size()
    q, k, v = F.linear(x, w_qkv).chunk(3, dim=-1)
    q = q.view(b, t, heads, c // heads).transpose(1, 2)
    k = k.view(b, t, heads, c // heads).transpose(1, 2)
    v = v.view(b, t, heads, c // heads).transpose(1, 2)
    scores = q @ k.transpose(-2, -1) / (k.size(-1) ** 0.5)
    causal = torch.ones(t, t, dtype=torch.bool).triu(1)
    manual = F.softmax(scores.masked_fill(causal, float('-inf')), dim=-1) @ v
    fused = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    y = fused.transpose(1, 2).contiguous().view(b, t, c)
    y = F.layer_norm(F.gelu(F.linear(y, w_out)) + x, (c,))
    return y, (manual - fused).abs().max()
"""


def test_an_attention_block_computes_the_same_on_both_frameworks():
    pytest.importorskip("torch")
    pytest.importorskip("mindspore")
    from ms_migrate.runtime.equivalence import run_example
    example = {
        "setup": ATTENTION,
        "code": "attention(x, w_qkv, w_out, 2)",
        "inputs": {"x": "randn(2, 5, 8)", "w_qkv": "randn(24, 8)", "w_out": "randn(8, 8)"},
        "tol": 1e-4,
    }
    result = run_example(example, "function")
    assert "scaled_dot_product_attention" not in result.mindspore_code
