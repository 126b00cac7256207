"""Alpha dropout converted to its formula: on a constant input every unit comes out as
one of two values (kept or dropped), and both frameworks give the same two, in about
the same proportion."""
import numpy as np
import pytest

from ms_migrate import convert_source

torch = pytest.importorskip("torch")
ms = pytest.importorskip("mindspore")

SOURCE = """import torch
import torch.nn.functional as F
x = torch.full((200, 50, 2), 0.3)
y = F.alpha_dropout(x, 0.4, True)
z = F.feature_alpha_dropout(x, p=0.25, training=True)
"""


def _run(code, module):
    scope = {}
    exec(compile(code, "<converted>", "exec"), scope)  # noqa: S102 - our own test program
    return [np.asarray(scope[n].numpy() if module == "torch" else scope[n].asnumpy())
            for n in ("y", "z")]


@pytest.mark.parametrize("index,p", [(0, 0.4), (1, 0.25)])
def test_the_two_values_and_their_share_are_torch_s(index, p):
    torch.manual_seed(0)
    expected = _run(SOURCE, "torch")[index]
    converted = convert_source(SOURCE, "a.py").code
    assert "torch" not in converted
    actual = _run(converted, "mindspore")[index]
    want, got = np.unique(expected.round(5)), np.unique(actual.round(5))
    assert len(want) == 2 and np.allclose(want, got, atol=1e-5)
    dropped = (actual.round(5) == got.min()).mean()
    assert abs(dropped - p) < 0.05
    if index == 1:  # whole channels: both positions of the last axis agree
        assert np.array_equal(actual[..., 0], actual[..., 1])
