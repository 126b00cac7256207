"""`torch.autograd.grad(<expression>, x)` where the outputs come from x through several
statements (classifier guidance: logits, log-softmax, the chosen classes, their sum):
the statements become a function of x, differentiated by `mindspore.vjp` with what they
bound returned as aux. Converted, run in torch and in MindSpore on the same classifier
weights and inputs, the gradients and the names the statements bound are compared."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from tests.test_input_grads import convert, ms  # noqa: E402

GUIDANCE = """\
    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(6, 4)

        def forward(self, x, t):
            return self.fc(torch.tanh(x)) * t


    def classifier_cond_fn(x, t, classifier, y, classifier_scale=1):
        with torch.enable_grad():
            x_in = x.detach().requires_grad_(True)
            # the classifier's log-probabilities of the wanted classes
            logits = classifier(x_in, t)
            log_probs = F.log_softmax(logits, dim=-1)
            selected = log_probs[torch.arange(len(logits)), y.view(-1)]
            grad = torch.autograd.grad(selected.sum(), x_in)[0] * classifier_scale
            return grad, log_probs
"""


def test_gradients_through_several_statements_match_torch():
    result, t, m = convert(GUIDANCE)
    assert "import torch" not in result.code
    assert "mindspore.vjp(objective, x_in, has_aux=True)" in result.code
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 6)).astype(np.float32)
    y = np.array([2, 0, 3], dtype=np.int64)
    tc, mc = t["Classifier"](), m["Classifier"]()
    mc.fc.weight.set_data(ms(tc.fc.weight.detach().numpy()))
    mc.fc.bias.set_data(ms(tc.fc.bias.detach().numpy()))
    tg, tl = t["classifier_cond_fn"](torch.tensor(x), 0.5, tc, torch.tensor(y), 3.0)
    mg, ml = m["classifier_cond_fn"](ms(x), 0.5, mc, mindspore.Tensor(y), 3.0)
    np.testing.assert_allclose(mg.asnumpy(), tg.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ml.asnumpy(), tl.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert np.abs(tg.numpy()).sum() > 0


TWO_INPUTS = """\
    import torch


    def gradients(a, b, scale):
        x = torch.tensor(a, requires_grad=True)
        z = torch.tensor(b, requires_grad=True)
        weight = torch.tensor(scale)  # depends on no input: stays outside the function
        h = x * x + z
        y = (h * weight).tanh()
        grads = torch.autograd.grad(outputs=[y.sum()], inputs=[x, z], grad_outputs=weight)
        return grads, h
"""


def test_several_inputs_and_a_statement_that_depends_on_none_match_torch():
    result, t, m = convert(TWO_INPUTS)
    assert "import torch" not in result.code and "torch.autograd" not in result.code.split("#")[0]
    a, b = [0.3, -1.2, 0.7], [0.5, 0.1, -0.4]
    (tx, tz), th = t["gradients"](a, b, 0.8)
    (mx, mz), mh = m["gradients"](a, b, 0.8)
    np.testing.assert_allclose(mx.asnumpy(), tx.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mz.asnumpy(), tz.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mh.asnumpy(), th.detach().numpy(), rtol=1e-6)
