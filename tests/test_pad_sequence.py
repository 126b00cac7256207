"""nn.utils.rnn.pad_sequence as ops.pad + ops.stack: the comprehension's own names
do not capture the user's (`[s, t]`); the program runs like torch."""
import pytest

from ms_migrate import convert_source
from ms_migrate.runtime.equivalence import compare

pytest.importorskip("torch")
pytest.importorskip("mindspore")


def _run(code):
    namespace = {}
    exec(compile(code, "<pad>", "exec"), namespace)
    return namespace


def test_pad_sequence_with_user_names_s_and_t():
    source = ("import torch\nfrom torch.nn.utils.rnn import pad_sequence\n"
              "s = torch.tensor([[1.0, 2.0], [3.0, 4.0]])\nt = torch.tensor([[5.0, 6.0]])\n"
              "a = pad_sequence([s, t], batch_first=True, padding_value=-1.0)\n"
              "b = pad_sequence([t, s])\n")
    converted = convert_source(source, "<test>").code
    assert "torch" not in converted, converted
    theirs, ours = _run(source), _run(converted)
    for name in ("a", "b"):
        compare(theirs[name], ours[name])


def test_sequences_made_by_a_call_are_marked():
    source = ("import torch\nfrom torch.nn.utils.rnn import pad_sequence\n"
              "a = pad_sequence(make())\n")
    converted = convert_source(source, "<test>")
    assert "pad_sequence(make())" in converted.code
    assert any(f.action == "unsupported" for f in converted.report.findings)
