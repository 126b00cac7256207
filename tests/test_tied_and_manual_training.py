"""Language-model and tutorial patterns: weight tying between an Embedding and a
Linear, parameter attributes of declared layers, `next(model.parameters())`, and
training loops that update the parameters by hand from `p.grad`. Each program is
converted, run in torch and in MindSpore from the same weights and inputs, and the
numbers compared."""
import sys
import textwrap
import types

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402
from ms_migrate.runtime.equivalence import copy_torch_weights  # noqa: E402


def convert(source: str):
    source = textwrap.dedent(source)
    result = convert_source(source, "prog.py")
    assert convert_source(result.code, "prog.py").code == result.code  # idempotent
    # the torch program is an importable module: torch.save pickles its classes by name
    program = types.ModuleType("tied_manual_prog")
    sys.modules[program.__name__] = program
    exec(compile(source, "<torch>", "exec"), program.__dict__)
    ms_ns = {"__name__": "prog_ms"}
    exec(compile(result.code, "<ms>", "exec"), ms_ns)
    return result, program.__dict__, ms_ns


TIED = """\
    import torch
    import torch.nn as nn

    class TinyLM(nn.Module):
        def __init__(self, vocab, dim):
            super().__init__()
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(vocab, dim),
                wpe=nn.Embedding(8, dim),
            ))
            self.lm_head = nn.Linear(dim, vocab, bias=False)
            self.transformer.wte.weight = self.lm_head.weight  # weight tying
            self.apply(self._init_weights)

        def _init_weights(self, module):
            if isinstance(module, nn.Embedding):
                torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

        def num_params(self):
            n = sum(p.numel() for p in self.parameters())
            return n - self.transformer.wpe.weight.numel()

        def crop(self, size):
            self.transformer.wpe.weight = nn.Parameter(self.transformer.wpe.weight[:size])

        def forward(self, idx):
            pos = torch.arange(idx.shape[1])
            x = self.transformer.wte(idx) + self.transformer.wpe(pos)
            return self.lm_head(x)

        def first_dtype(self):
            return next(self.parameters()).dtype
    """


def test_weight_tying_shares_the_parameter():
    result, t, m = convert(TIED)
    assert "self.transformer.wte.embedding_table = self.lm_head.weight" in result.code
    assert "self.transformer.wpe.embedding_table.numel()" in result.code
    assert ".weight" not in result.code.replace("self.lm_head.weight", "")
    torch.manual_seed(0)
    tm, mm = t["TinyLM"](11, 6), m["TinyLM"](11, 6)
    assert tm.num_params() == mm.num_params() == 11 * 6
    assert len(list(tm.parameters())) == len(mm.trainable_params()) == 2
    assert mm.transformer.wte.embedding_table is mm.lm_head.weight
    copy_torch_weights(tm, mm)
    idx = np.array([[1, 5, 3], [0, 10, 2]])
    expected = tm(torch.from_numpy(idx)).detach().numpy()
    got = mm(mindspore.Tensor(idx.astype(np.int32))).asnumpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    mm.crop(4)
    tm.crop(4)
    assert tuple(mm.transformer.wpe.embedding_table.shape) == tuple(tm.transformer.wpe.weight.shape)
    assert str(mm.first_dtype()) == "Float32" and tm.first_dtype() == torch.float32


def test_tied_decoder_trains_both_uses():
    """`self.decoder.weight = self.encoder.weight`: one gradient, from both uses."""
    result, t, m = convert("""\
        import torch
        import torch.nn as nn

        class Tied(nn.Module):
            def __init__(self, n, d):
                super().__init__()
                self.encoder = nn.Embedding(n, d)
                self.decoder = nn.Linear(d, n)
                self.decoder.weight = self.encoder.weight
                self.encoder.weight.data.uniform_(-0.1, 0.1)

            def forward(self, x):
                return self.decoder(self.encoder(x))

        def train(model, batches, lr=0.5):
            criterion = nn.CrossEntropyLoss()
            opt = torch.optim.SGD(model.parameters(), lr=lr)
            losses = []
            for x, y in batches:
                opt.zero_grad()
                loss = criterion(model(x), y)
                loss.backward()
                opt.step()
                losses.append(loss.item())
            return losses
        """)
    assert "self.decoder.weight = self.encoder.embedding_table" in result.code
    torch.manual_seed(0)
    tm, mm = t["Tied"](7, 4), m["Tied"](7, 4)
    copy_torch_weights(tm, mm)
    rng = np.random.default_rng(0)
    xs = rng.integers(0, 7, size=(6, 5))
    data = [(xs[i], (xs[i] + 1) % 7) for i in range(6)]
    t_losses = t["train"](tm, [(torch.from_numpy(a), torch.from_numpy(b)) for a, b in data])
    m_losses = m["train"](mm, [(mindspore.Tensor(a.astype(np.int32)),
                                mindspore.Tensor(b.astype(np.int32))) for a, b in data])
    np.testing.assert_allclose(m_losses, t_losses, rtol=1e-4)


MANUAL = """\
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    def train(fc, batches, lr=0.1):
        losses = []
        for x, y in batches:
            fc.zero_grad()
            output = F.smooth_l1_loss(fc(x), y)
            loss = output.item()
            losses.append(loss)
            output.backward()
            {update}
        return losses
    """

UPDATES = {
    "data_add": "for param in fc.parameters():\n"
                "                param.data.add_(-lr * param.grad)",
    "no_grad_isub": "with torch.no_grad():\n"
                    "                for p in fc.parameters():\n"
                    "                    p -= lr * p.grad",
    "alpha": "for p in fc.parameters():\n"
             "                p.data.add_(p.grad, alpha=-lr)",
}


def _regression_batches(rng, n=8):
    w = rng.standard_normal((4, 1)).astype(np.float32)
    batches = []
    for _ in range(n):
        x = rng.standard_normal((16, 4)).astype(np.float32)
        batches.append((x, x @ w + 0.5))
    return batches


@pytest.mark.parametrize("update", sorted(UPDATES))
def test_manual_parameter_update_trains_like_torch(update):
    result, t, m = convert(MANUAL.format(update=UPDATES[update]))
    assert not [f for f in result.report.findings if f.action == "unsupported"], result.code
    assert "value_and_grad(forward_fn, None, fc.trainable_params())" in result.code
    assert "zero_grad" not in result.code and ".grad" not in result.code
    torch.manual_seed(0)
    tm, mm = torch.nn.Linear(4, 1), mindspore.nn.Dense(4, 1)
    copy_torch_weights(tm, mm)
    batches = _regression_batches(np.random.default_rng(1))
    t_losses = t["train"](tm, [(torch.from_numpy(a), torch.from_numpy(b)) for a, b in batches])
    m_losses = m["train"](mm, [(mindspore.Tensor(a), mindspore.Tensor(b)) for a, b in batches])
    np.testing.assert_allclose(m_losses, t_losses, rtol=1e-4, atol=1e-6)
    assert m_losses[-1] < m_losses[0]


def test_optimizer_or_manual_update_in_branches():
    """`if use_optimizer: optimizer.step()` / `else:` a loop over model.parameters()."""
    result, t, m = convert("""\
        import torch
        import torch.nn as nn

        def train(model, batches, use_optimizer, lr=0.1):
            criterion = nn.MSELoss()
            if use_optimizer:
                optimizer = torch.optim.SGD(model.parameters(), lr=lr)
            losses = []
            for x, y in batches:
                if use_optimizer:
                    optimizer.zero_grad()
                else:
                    model.zero_grad()
                loss = criterion(model(x), y)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                if use_optimizer:
                    optimizer.step()
                else:
                    for p in model.parameters():
                        p.data.add_(p.grad, alpha=-lr)
                losses.append(loss.item())
            return losses
        """)
    assert not [f for f in result.report.findings if f.action == "unsupported"], result.code
    assert "value_and_grad(forward_fn, None, model.trainable_params())" in result.code
    assert "accum" not in result.code  # one update per step either way: no gradient sum
    batches = _regression_batches(np.random.default_rng(2))
    for use_optimizer in (False, True):
        torch.manual_seed(0)
        tm, mm = torch.nn.Linear(4, 1), mindspore.nn.Dense(4, 1)
        copy_torch_weights(tm, mm)
        t_losses = t["train"](tm, [(torch.from_numpy(a), torch.from_numpy(b))
                                   for a, b in batches], use_optimizer)
        m_losses = m["train"](mm, [(mindspore.Tensor(a), mindspore.Tensor(b))
                                   for a, b in batches], use_optimizer)
        np.testing.assert_allclose(m_losses, t_losses, rtol=1e-4, atol=1e-6)


def test_loop_that_only_edits_gradients_is_not_an_update():
    result, _, _ = convert("""\
        import torch

        def step(model, x, optimizer):
            optimizer.zero_grad()
            loss = model(x).sum()
            loss.backward()
            for p in model.parameters():
                p.grad.data.clamp_(-1, 1)
            optimizer.step()
        """)
    assert "only complete" not in result.code
    assert ".grad is read or changed between backward() and step()" in result.code


RNN_LM = """\
    import torch
    import torch.nn as nn

    class RNNModel(nn.Module):
        def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers):
            super().__init__()
            self.encoder = nn.Embedding(ntoken, ninp)
            if rnn_type in ['LSTM', 'GRU']:
                self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, bias=True)
            else:
                self.rnn = nn.RNN(ninp, nhid, nlayers)
            self.decoder = nn.Linear(nhid, ntoken)

        def forward(self, x):
            output, _ = self.rnn(self.encoder(x))
            return self.decoder(output)

    def save_and_reload(model, path, x):
        with open(path, 'wb') as f:
            torch.save(model, f)
        with open(path, 'rb') as f:
            with torch.serialization.safe_globals([RNNModel, nn.LSTM, nn.GRU, nn.Embedding,
                                                   nn.Linear, nn.RNN]):
                model = torch.load(f)
            model.rnn.flatten_parameters()
        return model(x)
    """


@pytest.mark.parametrize("rnn_type", ["LSTM", "GRU"])
def test_layer_picked_by_name_and_model_saved_whole(rnn_type, tmp_path):
    result, t, m = convert(RNN_LM)
    assert "import torch" not in result.code and "getattr" not in result.code
    assert "has_bias=True" in result.code  # each listed layer converted with its own rule
    assert "mindspore.save_checkpoint(model, path)" in result.code
    assert "mindspore.load_param_into_net(model, mindspore.load_checkpoint(path))" in result.code
    torch.manual_seed(0)
    tm, mm = t["RNNModel"](rnn_type, 9, 4, 5, 2), m["RNNModel"](rnn_type, 9, 4, 5, 2)
    assert type(mm.rnn).__name__ == rnn_type
    copy_torch_weights(tm, mm)
    x = np.array([[1, 2], [3, 4], [5, 6]])  # (seq, batch)
    expected = t["save_and_reload"](tm, str(tmp_path / "t.pt"), torch.from_numpy(x))
    got = m["save_and_reload"](mm, str(tmp_path / "m.ckpt"), mindspore.Tensor(x.astype(np.int32)))
    np.testing.assert_allclose(got.asnumpy(), expected.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_getattr_without_a_listing_test_is_left_alone():
    result, _, _ = convert("""\
        import torch.nn as nn

        def make(kind, n):
            return getattr(nn, kind)(n, n)
        """)
    assert "getattr(nn, kind)(n, n)" in result.code
