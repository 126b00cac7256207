"""pack_padded_sequence / pad_packed_sequence as the padded batch with seq_length:
converted programs run in torch and in MindSpore on the same weights and inputs, and
the outputs, final states and packed data are compared."""
import textwrap

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
    torch_ns, ms_ns = {"__name__": "prog"}, {"__name__": "prog_ms"}
    exec(compile(source, "<torch>", "exec"), torch_ns)
    exec(compile(result.code, "<ms>", "exec"), ms_ns)
    return result, torch_ns, ms_ns


def close(theirs, ours, atol=1e-5):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    ours = ours.asnumpy() if hasattr(ours, "asnumpy") else np.asarray(ours)
    assert theirs.shape == ours.shape, (theirs.shape, ours.shape)
    np.testing.assert_allclose(ours, theirs, atol=atol, rtol=1e-4)


ENCODER = """\
    import torch
    import torch.nn as nn
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


    class Encoder(nn.Module):
        def __init__(self, n, h, bidirectional=False, rnn_type=nn.LSTM):
            super().__init__()
            self.embedding = nn.Embedding(n, h)
            self.rnn = rnn_type(h, h, num_layers=2, bidirectional=bidirectional)
            self.lstm = nn.LSTM(h, h, 1, batch_first=True)
            self.fc = nn.Linear(h, 3)

        def forward(self, seqs, lengths, hidden=None):
            embedded = self.embedding(seqs)
            packed = pack_padded_sequence(embedded, lengths.cpu().numpy())
            self.rnn.flatten_parameters()
            output, hidden = self.rnn(packed, hidden)
            output, _ = pad_packed_sequence(output)  # back to padded
            return output, hidden

        def rerun(self, x, lengths, h=None):
            x = nn.utils.rnn.pack_padded_sequence(x, lengths)
            x, h = self.rnn(x, h)
            x, _ = nn.utils.rnn.pad_packed_sequence(x, batch_first=True)
            return x, h

        def decode(self, x, lengths):
            x = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True)
            hiddens, _ = self.lstm(x)
            return self.fc(hiddens[0])


    def targets(captions, lengths):
        a = pack_padded_sequence(captions, lengths, batch_first=True)[0]
        b = pack_padded_sequence(captions, lengths, batch_first=True).data
        return a, b
    """


@pytest.mark.parametrize("kind,bidirectional", [("LSTM", False), ("GRU", True), ("RNN", True)])
def test_packed_rnn_runs_like_torch(kind, bidirectional):
    result, t, m = convert(ENCODER.replace("rnn_type=nn.LSTM", f"rnn_type=nn.{kind}"))
    assert "import torch" not in result.code, result.code
    assert "seq_length=mindspore.tensor(lengths.asnumpy())" in result.code
    torch.manual_seed(0)
    tm, mm = t["Encoder"](12, 8, bidirectional), m["Encoder"](12, 8, bidirectional)
    copy_torch_weights(tm, mm)
    rng = np.random.default_rng(0)
    lengths = np.array([6, 4, 4, 1])
    seqs = rng.integers(1, 12, (7, 4))  # padded past the longest: torch's output stops there
    their_out, their_h = tm(torch.tensor(seqs), torch.tensor(lengths))
    our_out, our_h = mm(mindspore.tensor(seqs), mindspore.tensor(lengths))
    close(their_out, our_out)
    for theirs, ours in zip(*((h if kind == "LSTM" else (h,)) for h in (their_h, our_h))):
        close(theirs, ours)
    x = rng.standard_normal((7, 4, 8)).astype(np.float32)
    their_out, their_h = tm.rerun(torch.tensor(x), torch.tensor(lengths))
    our_out, our_h = mm.rerun(mindspore.tensor(x), mindspore.tensor(lengths))
    close(their_out, our_out)
    close(their_h[0] if kind == "LSTM" else their_h, our_h[0] if kind == "LSTM" else our_h)
    x = rng.standard_normal((4, 6, 8)).astype(np.float32)
    close(tm.decode(torch.tensor(x), [6, 4, 4, 1]), mm.decode(mindspore.tensor(x), [6, 4, 4, 1]))


def test_packed_data_is_torchs():
    result, t, m = convert(ENCODER)
    captions = np.random.default_rng(1).integers(0, 50, (3, 5))
    for theirs, ours in zip(t["targets"](torch.tensor(captions), [5, 3, 2]),
                            m["targets"](mindspore.tensor(captions), [5, 3, 2])):
        close(theirs, ours)


def test_two_field_unpacking_of_old_torch_is_the_data():
    # torch before 1.2 packed into (data, batch_sizes); image-captioning code still
    # unpacks it so to drop the padding before its loss
    result = convert_source(textwrap.dedent("""\
        from torch.nn.utils.rnn import pack_padded_sequence

        def loss_inputs(scores, targets, lengths):
            scores, _ = pack_padded_sequence(scores, lengths, batch_first=True)
            targets, _ = pack_padded_sequence(targets, lengths, batch_first=True)
            return scores, targets
        """), "prog.py")
    assert "import torch" not in result.code and "from torch" not in result.code
    assert "scores = packed_data(scores, lengths, batch_first=True)" in result.code
    ns = {}
    exec(compile(result.code, "<ms>", "exec"), ns)
    scores = np.arange(24, dtype=np.float32).reshape(2, 4, 3)
    ours, targets = ns["loss_inputs"](mindspore.tensor(scores), mindspore.tensor(scores[..., 0]),
                                      [3, 2])
    theirs = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(scores), [3, 2], batch_first=True)
    close(theirs.data, ours)
    close(theirs.data[:, 0], targets)


def test_other_uses_of_a_packed_sequence_stay_marked():
    result = convert_source(textwrap.dedent("""\
        import torch.nn as nn
        from torch.nn.utils.rnn import pack_padded_sequence

        rnn = nn.GRU(4, 4, batch_first=True)

        def run(x, lengths):
            packed = pack_padded_sequence(x, lengths)  # batch_first differs from the GRU's
            out, h = rnn(packed)
            return out
        """), "prog.py")
    assert "pack_padded_sequence(x, lengths)" in result.code
    assert any(f.api.endswith("pack_padded_sequence") and f.action == "unsupported"
               for f in result.report.findings)


def test_a_function_of_the_users_named_like_the_helper_keeps_the_data_calls():
    result = convert_source(textwrap.dedent("""\
        from torch.nn.utils.rnn import pack_padded_sequence

        def packed_data(x):
            return x

        def targets(captions, lengths):
            return pack_padded_sequence(captions, lengths, batch_first=True)[0]
        """), "prog.py")
    assert "pack_padded_sequence(captions, lengths, batch_first=True)[0]" in result.code


@pytest.mark.parametrize("call", ["pack_padded_sequence(lengths=lens)",
                                  "pack_padded_sequence(batch_first=True)"])
def test_a_call_without_its_data_does_not_stop_the_conversion(call):
    # torch refuses it when it runs; the converter reports it and goes on
    source = textwrap.dedent(f"""\
        import torch.nn as nn
        from torch.nn.utils.rnn import pack_padded_sequence
        rnn = nn.LSTM(4, 8)
        packed = {call}
        out, h = rnn(packed)
        scores, _ = {call}
        """)
    result = convert_source(source, "prog.py")
    compile(result.code, "<ms>", "exec")
    assert any(f.api.endswith("pack_padded_sequence") for f in result.report.findings)
