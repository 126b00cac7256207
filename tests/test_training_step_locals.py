"""Names a training step binds itself are locals of the forward function.

A loss summed over a Python loop inside the step (sequence models, seq2seq
decoders) binds the loop target and the per-step output before reading them:
they are not inputs of `forward_fn`, and those read after the step come back as
aux outputs. The converted script trains as the torch original does.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402
from ms_migrate.runtime.equivalence import copy_torch_weights  # noqa: E402

SOURCE = '''
import torch
import torch.nn as nn
import torch.optim as optim


class Decoder(nn.Module):
    def __init__(self, vocab=6, hidden=8):
        super().__init__()
        self.hidden_size = hidden
        self.embed = nn.Embedding(vocab, hidden)
        self.cell = nn.Linear(2 * hidden, hidden)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, token, hidden):
        h = torch.tanh(self.cell(torch.cat([self.embed(token), hidden], dim=1)))
        return self.out(h), h


def build_model():
    return Decoder()


def train(model, inputs, targets, steps):
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.5)
    losses = []
    for step in range(steps):
        hidden = torch.zeros(inputs.shape[1], model.hidden_size)
        optimizer.zero_grad()
        loss = 0
        for i in range(inputs.shape[0]):
            out, hidden = model(inputs[i], hidden)
            loss += criterion(out, targets[i])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, out.shape[1], i
'''


def _execute(code, name):
    namespace = {"__name__": name}
    exec(compile(code, f"<{name}>", "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def converted():
    result = convert_source(SOURCE, "decoder.py")
    problems = [f"{f.line}: {f.api}: {f.message}" for f in result.report.findings
                if f.action == "unsupported"]
    assert not problems, "\n".join(problems)
    return result.code


def test_loop_names_are_locals_and_read_after_ones_aux(converted):
    assert "def forward_fn(hidden, loss):" in converted
    assert "return loss, i, out, hidden\n" in converted
    assert "(loss, i, out, hidden), grads = grad_fn(hidden, loss)" in converted


def test_converting_again_changes_nothing(converted):
    assert convert_source(converted, "decoder.py").code == converted


def test_loop_summed_loss_trains_as_torch(converted):
    rng = np.random.default_rng(0)
    inputs = rng.integers(0, 6, size=(4, 3))
    targets = rng.integers(0, 6, size=(4, 3))
    torch_ns, ms_ns = _execute(SOURCE, "decoder"), _execute(converted, "decoder_ms")
    torch.manual_seed(0)
    torch_model, ms_model = torch_ns["build_model"](), ms_ns["build_model"]()
    copy_torch_weights(torch_model, ms_model)
    torch_losses, torch_vocab, torch_i = torch_ns["train"](
        torch_model, torch.from_numpy(inputs), torch.from_numpy(targets), 5)
    ms_losses, ms_vocab, ms_i = ms_ns["train"](
        ms_model, mindspore.Tensor(inputs.astype(np.int32)),
        mindspore.Tensor(targets.astype(np.int32)), 5)
    assert (ms_vocab, ms_i) == (torch_vocab, torch_i) == (6, 3)
    np.testing.assert_allclose(ms_losses, torch_losses, rtol=0, atol=1e-4)
    assert torch_losses[-1] < torch_losses[0]
