"""Property-based fuzzing: any valid module converts to valid Python (or a clean
ConversionError), and converting the result again changes nothing.

Two sources of programs: hypothesmith (arbitrary valid Python from the grammar,
with torch imports put in front so the converter does not skip them) and a
generator of torch-flavoured programs built from the spellings real code uses.
The normal suite runs a few examples; MS_MIGRATE_FUZZ_EXAMPLES=2000 runs more.
"""
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ms_migrate import ConversionError, convert_source

EXAMPLES = int(os.environ.get("MS_MIGRATE_FUZZ_EXAMPLES", "20"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get(
    "MS_MIGRATE_FUZZ_EXAMPLES"), suppress_health_check=list(HealthCheck))

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


def check_conversion(source: str) -> None:
    try:
        compile(source, "<fuzz>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return  # only valid modules are promised anything
    try:
        once = convert_source(source, "fuzz.py").code
    except ConversionError as exc:
        assert str(exc).startswith("fuzz.py"), exc
        return
    compile(once, "<converted>", "exec")
    assert convert_source(once, "fuzz.py").code == once, "not idempotent"


# --- arbitrary Python ---------------------------------------------------------

hypothesmith = pytest.importorskip("hypothesmith")


@FUZZ
@given(hypothesmith.from_grammar())
def test_any_valid_module(source):
    check_conversion(HEADER + source)


# --- torch-flavoured programs -------------------------------------------------

names = st.sampled_from(["x", "y", "h", "out", "nn", "F", "torch", "self.fc", "batch"])
numbers = st.integers(0, 64).map(str) | st.sampled_from(["0.5", "-1", "True", "None"])
layers = st.sampled_from([
    "nn.Linear({a}, {b})", "nn.Conv2d({a}, {b}, 3, padding=1, bias=False)",
    "nn.BatchNorm2d({a}, momentum={c})", "nn.Dropout({c})", "nn.Dropout(p={c})",
    "nn.ReLU(inplace=True)", "nn.MaxPool2d({a})", "nn.LayerNorm({a})", "nn.GELU()",
    "nn.Embedding({a}, {b})", "nn.Sequential(nn.Linear({a}, {b}), nn.ReLU())",
    "nn.LSTM({a}, {b}, batch_first=True)", "nn.NoSuchLayer({a})", "nn.Linear(*{n})",
    "nn.Linear(in_features={a}, out_features={b}, unknown={c})",
])
exprs = st.sampled_from([
    "torch.zeros({a}, {b})", "torch.randn({a}, {b}, dtype=torch.float32)",
    "torch.cat([{n}, {n}], dim={a})", "F.relu({n})", "F.softmax({n}, dim=-1)",
    "{n}.view({a}, -1)", "{n}.size()", "{n}.size({a})", "{n}.detach().cpu().numpy()",
    "{n}.sum(dim={a}, keepdim=True)", "{n}.mean({a})", "{n}.permute(0, 2, 1)",
    "{n}.to(device)", "{n}.cuda()", "{n}.repeat({a}, 1)", "torch.no_such_fn({n})",
    "{n}.max(1)[1]", "torch.tensor([{a}, {b}])", "lambda {n}: F.relu({n})",
    "[F.relu(v) for v in {n}]", "torch.float32", "nn", "F.relu", "{n}.shape[0]",
    "{n}(*args, **kwargs)", "torch.nn.functional.relu({n})", "{n} @ {n}.T",
])


@st.composite
def expressions(draw):
    template = draw(layers | exprs)
    return template.format(a=draw(numbers), b=draw(numbers), c=draw(numbers), n=draw(names))


@st.composite
def statements(draw, depth=0):
    kind = draw(st.sampled_from(["assign", "assign", "expr", "return", "shadow", "block",
                                 "def", "class", "with", "try"] if depth < 3
                                else ["assign", "expr", "shadow"]))
    target = draw(st.sampled_from(["x", "y", "self.layer", "out", "x, y"]))
    if kind == "assign":
        return [f"{target} = {draw(expressions())}"]
    if kind == "expr":
        return [draw(expressions())]
    if kind == "return":
        return [f"return {draw(expressions())}"]
    if kind == "shadow":  # a local name that hides an import alias
        return [f"{draw(st.sampled_from(['nn', 'F', 'torch']))} = {draw(expressions())}"]
    body = draw(st.lists(statements(depth + 1), min_size=1, max_size=4))
    inner = ["    " + line for stmt in body for line in stmt]
    header = {
        "block": f"if {draw(expressions())}:",
        "def": f"def f{draw(st.integers(0, 9))}(self, x, nn=None, *args, **kwargs):",
        "class": f"class Net{draw(st.integers(0, 9))}(nn.Module):",
        "with": "with torch.no_grad():",
        "try": "try:",
    }[kind]
    tail = ["except Exception as torch:", "    pass"] if kind == "try" else []
    return [header, *inner, *tail]


imports = st.lists(st.sampled_from([
    "import torch", "import torch as th", "import torch.nn as nn", "from torch import nn",
    "import torch.nn.functional as F", "from torch.nn import functional as F",
    "from torch.nn import Linear, ReLU", "from torch import optim", "import numpy as np",
    "from mindspore import nn", "import torch.nn",
]), min_size=1, max_size=5, unique=True)


@st.composite
def torch_programs(draw):
    lines = list(draw(imports))
    for stmt in draw(st.lists(statements(), min_size=1, max_size=8)):
        lines.extend(line.replace("return ", "x = ") if not line.startswith(" ") else line
                     for line in stmt)
    return "\n".join(lines) + "\n"


@FUZZ
@given(torch_programs())
def test_torch_flavoured_programs(source):
    check_conversion(source)
