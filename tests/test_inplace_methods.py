"""In-place Tensor methods write into the receiver itself: another name for the same
tensor sees the change, and the receiver keeps its dtype (torch's `x.gt_(y)` leaves a
float x holding 0. and 1.). The rule examples compare `(x.op_(...), x)`; these also
hold an alias, which only a write into the object (ops.assign) updates."""
import pytest

from ms_migrate import convert_source
from ms_migrate.runtime.equivalence import PRELUDE, compare, make_inputs, to_mindspore, to_torch

pytest.importorskip("torch")
pytest.importorskip("mindspore")

X = "array([[-1.5, 0.25, 2.0], [0.5, -0.75, 3.0]])"
CASES = [
    ("x.gt_(0)", {"x": X}),
    ("x.eq_(y)", {"x": "randint(0, 3, (2, 3))", "y": "randint(0, 3, (2, 3))"}),
    ("x.less_equal_(y)", {"x": X, "y": "randn(2, 3)"}),
    ("x.logical_not_()", {"x": "bools(2, 3)"}),
    ("x.logical_and_(y)", {"x": X, "y": "bools(2, 3)"}),
    ("x.fmod_(2)", {"x": "randn(2, 3) * 5"}),
    ("x.floor_divide_(2)", {"x": "randn(2, 3) * 5"}),
    ("x.hypot_(y)", {"x": X, "y": "randn(2, 3)"}),
    ("x.absolute_()", {"x": X}),
    ("x.cumsum_(1)", {"x": X}),
]
BODY = "y_alias = x\nout = {code}\n"


def _run(code, namespace):
    exec(compile(code, "<inplace>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("code,inputs", CASES, ids=[c for c, _ in CASES])
def test_an_alias_of_the_receiver_sees_the_write(code, inputs):
    import mindspore  # noqa: F401
    import torch  # noqa: F401

    source = PRELUDE + BODY.format(code=code)
    converted = convert_source(source, "<test>")
    assert not [f for f in converted.report.findings if f.action == "unsupported"], converted.code
    assert "ops.assign(x, " in converted.code

    values = make_inputs(inputs)
    theirs = _run(source, {k: to_torch(v) for k, v in values.items()})
    ours = _run(converted.code, {k: to_mindspore(v) for k, v in values.items()})
    before = to_torch(values["x"])
    assert not bool((theirs["y_alias"] == before).all()), "the example must change x"
    # the alias, the receiver and the returned tensor all hold the result, in x's dtype
    # (compare checks dtypes: torch keeps the receiver's)
    for name in ("y_alias", "x", "out"):
        compare(theirs[name], ours[name])
