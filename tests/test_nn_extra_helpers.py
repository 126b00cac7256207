"""torch.nn pieces MindSpore 2.10 lacks, written into the converted file: one small
program using them together (a loss derived from `_Loss`, a ParameterDict in a model,
triplet and multi-label margin losses, packed sequences) runs on both frameworks with
the same numbers; in a file with recurrent layers a packed batch stays marked."""
import textwrap

import numpy as np
import pytest

from ms_migrate import convert_source

torch = pytest.importorskip("torch")
ms = pytest.importorskip("mindspore")

SOURCE = textwrap.dedent("""\
    import numpy as np
    import torch
    import torch.nn as nn
    from torch.nn.modules.loss import _Loss
    from torch.nn.utils.rnn import pack_sequence, pad_packed_sequence, unpack_sequence


    class Scaled(_Loss):
        def __init__(self, scale, size_average=None, reduce=None):
            super().__init__(size_average, reduce)
            self.scale = scale

        def forward(self, x, y):
            loss = (x - y).abs() * self.scale
            return loss.sum() if self.reduction == "sum" else loss.mean()


    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.scales = nn.ParameterDict({"a": nn.Parameter(torch.ones(4) * 2),
                                            "b": nn.Parameter(torch.ones(4) * 3)})

        def forward(self, x):
            for name in self.scales:
                x = x * self.scales[name]
            return x


    rng = np.random.default_rng(0)
    a, p, n = (torch.tensor(rng.standard_normal((5, 4)).astype("float32")) for _ in range(3))
    out = Model()(a)
    scaled = Scaled(0.5, size_average=False)(out, p)
    triplet = nn.TripletMarginLoss(margin=0.7, p=3, swap=True, reduction="none")(a, p, n)
    target = torch.tensor([[3, 0, -1, 1]] * 5)
    multilabel = nn.MultiLabelMarginLoss()(a, target)
    seqs = [a[:2], p, n[:4]]
    packed = pack_sequence(seqs, enforce_sorted=False)
    padded, lengths = pad_packed_sequence(packed, batch_first=True, padding_value=-1.0)
    pieces = unpack_sequence(packed)
    """)

NAMES = ("out", "scaled", "triplet", "multilabel", "padded", "lengths")


def _run(code):
    scope = {}
    exec(compile(code, "<program>", "exec"), scope)  # noqa: S102 - our own test program
    values = {name: scope[name] for name in NAMES}
    values["data"] = scope["packed"].data
    values["batch_sizes"] = scope["packed"].batch_sizes
    values["pieces"] = list(scope["pieces"])
    return values


def _array(value):
    return np.asarray(value.asnumpy() if hasattr(value, "asnumpy") else value.detach().numpy())


def test_the_program_computes_what_torch_computes():
    expected = _run(SOURCE)
    result = convert_source(SOURCE, "prog.py")
    assert "import torch" not in result.code and "from torch" not in result.code
    actual = _run(result.code)
    for name in (*NAMES, "data", "batch_sizes"):
        want, got = _array(expected[name]), _array(actual[name])
        assert want.shape == got.shape, name
        assert str(want.dtype) == str(got.dtype), name
        assert np.allclose(want, got, rtol=1e-5, atol=1e-5), name
    assert len(actual["pieces"]) == 3
    for want, got in zip(expected["pieces"], actual["pieces"]):
        assert np.allclose(_array(want), _array(got))


def test_a_packed_batch_in_a_file_with_recurrent_layers_stays_marked():
    result = convert_source(textwrap.dedent("""\
        import torch.nn as nn
        from torch.nn.utils.rnn import pack_sequence

        rnn = nn.GRU(4, 4)

        def run(seqs):
            out, h = rnn(pack_sequence(seqs))
            return h
        """), "prog.py")
    assert "pack_sequence(seqs)" in result.code
    assert any(f.api.endswith("pack_sequence") and f.action == "unsupported"
               for f in result.report.findings)
