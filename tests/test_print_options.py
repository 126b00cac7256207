"""torch.set_printoptions -> numpy.set_printoptions: MindSpore prints tensors through
numpy. A converted program sets print options and prints tensors; the numbers it
shows and where it elides are compared with what torch prints."""
import re
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402

PROGRAM = """\
    import torch


    def show_precision(values, precision):
        torch.set_printoptions(precision=precision)
        return str(torch.tensor(values))


    def show_fixed(values, precision, sci_mode):
        torch.set_printoptions(precision=precision, sci_mode=sci_mode)
        return str(torch.tensor(values))


    def show_short(values):
        torch.set_printoptions(profile="short")
        return str(torch.tensor(values))


    def show_summarized(values, threshold, edgeitems):
        torch.set_printoptions(precision=1, threshold=threshold, edgeitems=edgeitems)
        return str(torch.tensor(values))


    def show_positional(values):
        torch.set_printoptions(2, 6, 2, 80, None, False)
        return str(torch.tensor(values))
    """


@pytest.fixture(scope="module")
def programs():
    source = textwrap.dedent(PROGRAM)
    result = convert_source(source, "prog.py")
    assert "torch" not in result.code and "np.set_printoptions(" in result.code
    t, m = {"__name__": "prog_torch"}, {"__name__": "prog_ms"}
    exec(compile(source, "<torch>", "exec"), t)
    exec(compile(result.code, "<ms>", "exec"), m)
    return t, m


def _numbers(text):
    return [float(n) for n in re.findall(r"-?\d+\.\d*(?:e[-+]?\d+)?", text)]


@pytest.fixture(autouse=True)
def _restore():
    before = np.get_printoptions()
    yield
    np.set_printoptions(**before)
    torch.set_printoptions(profile="default")


@pytest.mark.parametrize("name, args", [
    ("show_precision", (2,)),
    ("show_fixed", (3, False)),
    ("show_short", ()),
    ("show_summarized", (5, 2)),
])
def test_printed_numbers_match_torch(programs, name, args):
    t, m = programs
    values = [1.123456, -2.5, 0.0123, 31.4159, 7.0, 8.25, 9.5]
    want = t[name](values, *args)
    got = m[name](values, *args)
    assert _numbers(got) == pytest.approx(_numbers(want), abs=1e-12)
    assert ("..." in got) == ("..." in want)


def test_positional_options_match_torch(programs):
    t, m = programs
    values = [0.5 + i / 3 for i in range(9)]
    want, got = t["show_positional"](values), m["show_positional"](values)
    assert _numbers(got) == pytest.approx(_numbers(want), abs=1e-12)
    assert "..." in got and "..." in want


def test_full_profile_prints_every_element():
    result = convert_source("import torch\ntorch.set_printoptions(profile='full')\n", "p.py")
    assert "threshold=sys.maxsize" in result.code and "import sys" in result.code
    ns = {}
    before = np.get_printoptions()
    try:
        exec(compile(result.code, "<ms>", "exec"), ns)
        text = str(mindspore.Tensor(np.arange(5000, dtype=np.float32)))
    finally:
        np.set_printoptions(**before)
    assert "..." not in text and len(_numbers(text)) == 5000
