"""Property-based fuzzing: any valid module converts to valid Python (or a clean
ConversionError), and converting the result again changes nothing.

Three sources of programs: hypothesmith (arbitrary valid Python from the grammar,
with torch imports put in front so the converter does not skip them); a generator
of torch-flavoured programs built from the spellings real code uses; and a
generator built from the rule tables themselves (every API, Tensor method and layer
the tables know, with arguments from their signatures and their examples) inside
blocks, classes, decorators, f-strings, lambdas, match statements and deep nesting.
A sweep also converts every rule's API once with all of its parameters given.
The normal suite runs a few examples; MS_MIGRATE_FUZZ_EXAMPLES=5000 runs more, with
a random seed.
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
        result = convert_source(source, "fuzz.py")
    except ConversionError as exc:
        assert str(exc).startswith("fuzz.py"), exc
        return
    once = result.code
    compile(once, "<converted>", "exec")
    assert convert_source(once, "fuzz.py").code == once, "not idempotent"
    lines = len(source.splitlines()) or 1
    for finding in result.report.findings:
        assert 0 <= finding.line <= lines, (finding, lines)
    assert 0.0 <= result.report.conversion_rate <= 1.0


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


# --- programs built from the rule tables ---------------------------------------

import keyword  # noqa: E402

from ms_migrate.tables.load import load_rules  # noqa: E402

RULES = list(load_rules())
# How the generated files import torch, and so how each namespace is spelled.
RULE_HEADER = ("import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
               "from torch import optim\nimport torchvision\nimport functools\n")
_SPELLING = (("torch.nn.functional.", "F."), ("torch.nn.", "nn."), ("torch.optim.", "optim."))


def spell(qualified: str) -> str:
    for prefix, alias in _SPELLING:
        if qualified.startswith(prefix):
            return alias + qualified[len(prefix):]
    return qualified


def _params(rule) -> list:
    """The parameters a call can name (`from` of Tensor.uniform_ cannot be a keyword)."""
    return [a for a in rule.args if a.lstrip("*") != (rule.receiver or "self")
            and not keyword.iskeyword(a.lstrip("*"))]


CALLABLES = [(spell(r.torch_name), _params(r)) for r in RULES
             if r.kind in ("function", "class") and not r.torch_name.startswith(".")]
METHODS = [(r.torch_name.lstrip("."), _params(r)) for r in RULES if r.kind == "method"]
ATTRIBUTES = [spell(r.torch_name) for r in RULES if r.kind == "attribute"]
EXAMPLES_CODE = sorted({e["code"] for r in RULES for e in r.examples if e.get("code")})
EXAMPLES_CODE = [c for c in EXAMPLES_CODE if "\n" not in c]  # each one an expression

TRIPLE_SINGLE = "'''"
# Values that fit parameters by their name, as real code passes them.
_BY_NAME = {
    "input": "x", "other": "y", "dim": "1", "dtype": "torch.float32", "device": "'cpu'",
    "padding": "1", "reduction": "'mean'", "inplace": "True", "requires_grad": "False",
    "eps": "1e-05", "keepdim": "True", "stride": "2", "bias": "False", "size": "(2, 3)",
    "kernel_size": "3", "weight": "w", "p": "0.25", "generator": "None", "value": "0.0",
    "alpha": "2", "tensors": "[x, y]", "index": "idx", "dilation": "1", "target": "t",
    "tensor": "x", "ceil_mode": "True", "n": "4", "mode": "'bilinear'", "groups": "1",
    "momentum": "0.9", "lr": "0.01", "params": "model.parameters()", "optimizer": "opt",
    "in_channels": "3", "out_channels": "8", "num_features": "8", "out": "None",
    "in_features": "4", "out_features": "2", "affine": "False", "batch_first": "True",
}
_VALUES = ["x", "y", "0", "1", "-1", "2", "3", "0.5", "-1.0", "True", "False", "None",
           "(2, 3)", "[1, 2]", "'mean'", '"same"', "x.shape[0]", "2 * h", "self.w",
           "batch[0]", "1e-3", "(0, 1)", "'cpu'", "torch.float16", "*shape", "**kwargs"]


@st.composite
def rule_values(draw, depth=0):
    """An argument: a plain value, or (less often) an API call, a method call, an
    attribute, a lambda, an f-string or an operator around another one."""
    kind = draw(st.sampled_from(["plain"] * 4 + (["call", "method", "attr", "example",
                                                   "lambda", "op", "fstring", "walrus"]
                                                  if depth < 3 else [])))
    if kind == "plain":
        return draw(st.sampled_from(_VALUES[:-2]))  # no *shape / **kwargs inside others
    if kind == "call":
        return draw(rule_calls(depth + 1))
    if kind == "method":
        return draw(method_calls(depth + 1))
    if kind == "attr":
        return draw(st.sampled_from(ATTRIBUTES))
    if kind == "example":
        return draw(st.sampled_from(EXAMPLES_CODE))
    inner = draw(rule_values(depth + 1))
    if kind == "lambda":
        return f"(lambda x, *a: {inner})"
    if kind == "op":
        op = draw(st.sampled_from([" + ", " * ", " @ ", " if x else ", " or ", "[", " == "]))
        other = draw(rule_values(depth + 1))
        return f"x[{inner}]" if op == "[" else f"({inner}{op}{other})"
    if kind == "walrus":
        return f"(v := {inner})"
    spec = draw(st.sampled_from(["", "!r", ":>8", "=", "!s:^4"]))
    # before Python 3.12 an f-string's expressions hold no backslash and not its quote
    if "\\" in inner:
        inner = "x"
    quotes = [q for q in ('"', "'") if q not in inner] or (
        ['"""'] if '"""' not in inner and not inner.endswith('"') else [TRIPLE_SINGLE])
    quote = draw(st.sampled_from(quotes))
    return f"f{quote}a{{{inner}{spec}}}b{quote}"


@st.composite
def arguments(draw, params, depth):
    """Positionals for a prefix of the signature, keywords for some of the rest, and
    now and then what no signature takes (an unknown keyword, one too many)."""
    plain = [p.lstrip("*") for p in params]
    count = draw(st.integers(0, min(len(plain), 4)))
    args = []
    for name in plain[:count]:
        args.append(draw(st.sampled_from([_BY_NAME.get(name, "x")]) | rule_values(depth)))
    rest = plain[count:]
    if rest:
        for name in draw(st.lists(st.sampled_from(rest), max_size=3, unique=True)):
            value = draw(st.sampled_from([_BY_NAME.get(name, "x")]) | rule_values(depth))
            if not value.startswith("*"):
                args.append(f"{name}={value}")
    extra = draw(st.sampled_from([None] * 8 + ["unknown_arg=1", "x", "*args", "**kwargs"]))
    if extra is not None:
        args.append(extra)
    # Python wants positionals before keywords, *args before **kwargs
    order = sorted(args, key=lambda a: (a.startswith("**"), "=" in a.split("(")[0]
                                        and not a.startswith("*")))
    return ", ".join(order)


@st.composite
def rule_calls(draw, depth=0):
    name, params = draw(st.sampled_from(CALLABLES))
    return f"{name}({draw(arguments(params, depth))})"


@st.composite
def method_calls(draw, depth=0):
    name, params = draw(st.sampled_from(METHODS))
    receiver = draw(st.sampled_from(["x", "self.w", "out[0]", "h.detach()", "(x + 1)", "(3)",
                                     "batch['img']", "torch.zeros(2)", "model", "self"]))
    return f"{receiver}.{name}({draw(arguments(params, depth))})"


_DECORATORS = ["@torch.no_grad()", "@torch.no_grad", "@torch.jit.script", "@torch.compile",
               "@torch.compile(mode='max-autotune')", "@torch.inference_mode()",
               "@torch.enable_grad()", "@torch.jit.ignore", "@torch.jit.unused",
               "@torch.autocast('cuda')", "@torch.set_grad_enabled(False)", "@staticmethod",
               "@functools.lru_cache(maxsize=None)", "@property",
               "@torch.cuda.amp.autocast()", "@torch.amp.custom_fwd"]
_PATTERNS = ["1", "[a, b]", "{'k': v}", "(0, *rest)", "str() as s", "torch.float32",
             "nn.Linear()", "x if x", "_"]


@st.composite
def rule_statements(draw, depth=0, in_def=False):
    kinds = ["assign", "assign", "expr", "augassign", "semicolons", "shadow"]
    kinds += ["return"] if in_def else []
    if depth < 3:
        kinds += ["if", "for", "while", "with", "try", "def", "class", "match", "decorated",
                  "module", "loop"]
    kind = draw(st.sampled_from(kinds))
    value = draw(rule_values())
    if kind == "assign":
        target = draw(st.sampled_from(["x", "y", "self.w", "out", "x, y", "h[0]", "self.layer"]))
        return [f"{target} = {value}"]
    if kind == "expr":
        return [value if not value.startswith("(v :=") else f"print{value}"]
    if kind == "augassign":
        return [f"x {draw(st.sampled_from(['+=', '*=', '-=', '@=']))} {value.lstrip('*')}"]
    if kind == "return":
        return [f"return {value}"]
    if kind == "semicolons":
        return [f"x = {value}; y = {draw(rule_values())}; del y"]
    if kind == "shadow":  # a name that hides an import alias, or an import that rebinds it
        return [draw(st.sampled_from(["torch = None", "nn = {}", "import numpy as torch",
                                      "from numpy import linalg as F", "import torch",
                                      "for torch in range(2): pass"]))]
    body_in_def = in_def or kind in ("def", "decorated", "class")
    body = [line for stmt in draw(st.lists(rule_statements(depth + 1, body_in_def),
                                           min_size=1, max_size=3))
            for line in stmt]
    inner = ["    " + line for line in body]
    if kind == "if":
        return [f"if {value}:", *inner, "elif x:", "    pass", "else:", *inner]
    if kind == "for":
        return [f"for i, v in enumerate({value}):", *inner, "else:", "    pass"]
    if kind == "while":
        return [f"while {value}:", *inner, "    break"]
    if kind == "with":
        return [f"with torch.no_grad(), {value} as c:", *inner]
    if kind == "try":
        return ["try:", *inner, "except (RuntimeError, torch.cuda.OutOfMemoryError) as e:",
                "    pass", "finally:", f"    z = {value}"]
    if kind == "def":
        scope = draw(st.sampled_from([[], [], ["    global F"], ["    nonlocal_free = F"]]))
        return ["def f(self, x, *args, nn=None, **kwargs):", *scope, *inner,
                f"    return {value}"]
    if kind == "decorated":
        decorators = draw(st.lists(st.sampled_from(_DECORATORS), min_size=1, max_size=2))
        return [*decorators, "def g(x, y=None):", *inner]
    if kind == "class":
        layer = draw(rule_calls(1))
        return ["class Net(nn.Module):", "    def __init__(self):",
                "        super().__init__()", f"        self.layer = {layer}",
                "    def forward(self, x):", *["    " + line for line in inner],
                "        return self.layer(x)"]
    if kind == "match":
        patterns = draw(st.lists(st.sampled_from(_PATTERNS[:-1]), min_size=1, max_size=3))
        cases = [line for p in patterns for line in (f"    case {p}:",
                                                     *["    " + l for l in inner])]
        guard = f" if {draw(rule_values(2))}" if draw(st.booleans()) else ""
        return [f"match {value}:", *cases, f"    case _{guard}:", "        pass"]
    if kind == "module":  # an nn.Module set up and trained the way scripts do
        return [f"model = nn.Sequential({draw(rule_calls(2))}, nn.ReLU())",
                "opt = optim.SGD(model.parameters(), lr=0.1)",
                "for x, t in loader:", "    opt.zero_grad()", "    out = model(x)",
                f"    loss = F.cross_entropy(out, t) + {value}", "    loss.backward()",
                "    opt.step()", *inner]
    # a deep expression: nested calls, as generated code and long formulas have
    depth_value = draw(st.integers(2, 30))
    name = draw(st.sampled_from(["torch.abs", "F.relu", "torch.sigmoid", "x.add"]))
    return [f"deep = {name}(" * 1 + f"{name}(" * depth_value + "x" + ")" * (depth_value + 1),
            *body]


@st.composite
def rule_programs(draw):
    lines = RULE_HEADER.splitlines()
    for stmt in draw(st.lists(rule_statements(), min_size=1, max_size=6)):
        lines.extend(stmt)
    source = "\n".join(lines) + "\n"
    ending = draw(st.sampled_from(["\n"] * 8 + ["\r\n", "\r"]))
    return source.replace("\n", ending)


# The rule tables are the converter's widest surface: more examples by default.
RULE_FUZZ = settings(FUZZ, max_examples=int(os.environ.get("MS_MIGRATE_FUZZ_EXAMPLES", "60")))


@RULE_FUZZ
@given(rule_programs())
def test_programs_from_the_rule_tables(source):
    check_conversion(source)


def _sweep_value(name: str) -> str:
    return _BY_NAME.get(name.lstrip("*"), "x")


def test_every_rule_converts_with_all_its_parameters():
    """Each API of the tables called positionally, with every parameter named and with
    none, in a function, a lambda, an f-string and a match case: output compiles
    and is a fixed point."""
    calls = []
    for name, params in CALLABLES:
        positional = ", ".join(_sweep_value(p) for p in params if not p.startswith("*"))
        keywords = ", ".join(f"{p}={_sweep_value(p)}" for p in params if not p.startswith("*"))
        calls += [f"{name}({positional})", f"{name}({keywords})"]
        if name != "torch.device":  # see test_device_without_arguments_converts_once
            calls.append(f"{name}()")
    for name, params in METHODS:
        keywords = ", ".join(f"{p}={_sweep_value(p)}" for p in params if not p.startswith("*"))
        calls += [f"x.{name}()", f"x.{name}({keywords})"]
    calls += ATTRIBUTES
    forms = ["    v = {}", "    fn = lambda x: {}", '    print(f"{{{}}}")',
             "    match {}:\n        case 1:\n            pass"]
    for start in range(0, len(calls), 150):
        body = [form.format(call) for i, call in enumerate(calls[start:start + 150])
                for form in (forms[i % len(forms)],)]
        check_conversion(RULE_HEADER + "def f(x, y, w, t, idx, h, opt, model):\n"
                         + "\n".join(body) + "\n")


@pytest.mark.xfail(strict=True, reason="the devices pass adds mindspore.set_device(v) after "
                                        "`v = torch.device()` each time it runs")
def test_device_without_arguments_converts_once():
    check_conversion(RULE_HEADER + "v = torch.device()\n")
