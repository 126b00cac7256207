"""torch._foreach_<op> over a list of tensors: a comprehension for the out-of-place
form, a loop writing into each tensor for the in-place one (passes/foreach.py). The
programs run on both frameworks; the list, another name for one of its tensors and
the call's result are compared."""
import pytest

from ms_migrate import convert_source
from ms_migrate.runtime.equivalence import compare

pytest.importorskip("torch")
pytest.importorskip("mindspore")

PROGRAM = """import torch
xs = [torch.tensor([-1.5, 0.25, 2.0]), torch.tensor([[0.5, -0.75], [3.0, 1.25]])]
first = xs[0]
{line}
"""
CASES = [
    ("result = torch._foreach_abs(xs)", "[ops.abs(t) for t in xs]"),
    ("result = torch._foreach_exp(self=xs)", "[ops.exp(t) for t in xs]"),
    ("result = torch._foreach_neg_(xs)", "result = [ops.assign(t, t.neg()) for t in xs]"),
    ("torch._foreach_zero_(xs)\nresult = xs", "for t in xs:\n    ops.assign(t, ops.zeros_like(t))"),
    ("result = torch._foreach_sigmoid_(self=xs)", "[ops.assign(t, t.sigmoid()) for t in xs]"),
]


def _run(code):
    namespace = {}
    exec(compile(code, "<foreach>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("line,expected", CASES, ids=[c for c, _ in CASES])
def test_foreach_runs_like_torch(line, expected):
    source = PROGRAM.format(line=line)
    converted = convert_source(source, "<test>")
    assert "torch" not in converted.code, converted.code
    assert expected in converted.code, converted.code
    assert convert_source(converted.code, "<again>").code == converted.code

    theirs, ours = _run(source), _run(converted.code)
    for name in ("result", "xs", "first"):
        a, b = theirs[name], ours[name]
        if isinstance(a, (list, tuple)):  # a tuple or list in torch, a list here
            assert isinstance(b, (list, tuple))
            assert len(a) == len(b)
            for u, v in zip(a, b):
                compare(u, v)
        else:
            compare(a, b)
    if "_(" in line:  # the in-place form wrote into the tensors themselves
        import torch
        assert not torch.equal(theirs["first"], torch.tensor([-1.5, 0.25, 2.0]))


def test_a_user_name_t_is_not_rebound():
    source = ("import torch\nt = 3\nxs = [torch.tensor([1.0, -2.0])]\n"
              "torch._foreach_abs_(xs)\n")
    converted = convert_source(source, "<test>").code
    assert "for t in xs:" not in converted and "for t_ in xs:" in converted, converted
    ns = _run(converted)
    assert ns["t"] == 3


def test_other_forms_are_left_marked():
    source = "import torch\nxs = [torch.tensor([1.0])]\ny = torch._foreach_add(xs, 1.0)\n"
    converted = convert_source(source, "<test>")
    assert "torch._foreach_add(xs, 1.0)" in converted.code
    assert any(f.action == "unsupported" for f in converted.report.findings)
