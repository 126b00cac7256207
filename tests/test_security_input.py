"""Valid but unusual input: the conversion is right, its output compiles and
converting it again changes nothing; what cannot be converted fails cleanly."""
import textwrap

import pytest

from ms_migrate import ConversionError, convert_source


def converted(source: str, name: str = "case.py"):
    """Convert, check the output compiles and is a fixed point; return the result."""
    result = convert_source(source, name)
    compile(result.code, name, "exec")
    assert convert_source(result.code, name).code == result.code, "not idempotent"
    return result


def actions(result):
    return [(f.api, f.action) for f in result.report.findings]


# --- line endings -------------------------------------------------------------

def test_cr_only_line_endings_convert_and_stay_cr():
    source = "import torch\rx = torch.zeros(2)\ry = x.size(0)\r"
    result = converted(source)
    assert "\n" not in result.code
    lines = result.code.split("\r")
    assert "import torch" not in lines
    assert "x = ops.zeros(2, dtype=mindspore.float32)" in lines
    assert "y = x.shape[0]" in lines
    assert ("torch.zeros", "converted") in actions(result)
    assert result.report.conversion_rate == 1.0


def test_lone_cr_among_lf_lines_is_a_line_break():
    result = converted("import torch\nx = torch.zeros(2)\ry = torch.ones(2)\n")
    assert "torch" not in result.code
    assert result.code.count("ops.") == 2


def test_crlf_is_kept():
    result = converted("import torch\r\nx = torch.zeros(2)\r\n")
    assert result.code.endswith("x = ops.zeros(2, dtype=mindspore.float32)\r\n")
    assert "\n" not in result.code.replace("\r\n", "")


# --- where the MindSpore imports go -------------------------------------------

def test_imports_before_uses_on_the_import_line():
    result = converted("import torch; x = torch.zeros(2)\n")
    assert result.code.splitlines() == ["import mindspore", "from mindspore import ops",
                                        "x = ops.zeros(2, dtype=mindspore.float32)"]


def test_import_line_split_keeps_comment_and_notes():
    source = "import torch; x = torch.no_such(2); y = torch.zeros(1)  # keep\n"
    result = converted(source)
    lines = result.code.splitlines()
    note = next(i for i, l in enumerate(lines) if l.startswith("# ms-migrate: torch.no_such"))
    assert lines[note + 1].startswith("x = torch.no_such(2); y = ops.zeros(")
    assert lines[note + 1].endswith("# keep")
    assert lines.index("from mindspore import ops") < note


def test_torch_imported_in_a_block_gets_imports_before_the_block():
    source = "if True:\n    import torch\n    x = torch.zeros(2)\nimport torch.nn as nn\n"
    result = converted(source)
    assert result.code.index("from mindspore import ops") < result.code.index("if True:")


@pytest.mark.parametrize("source", [
    "import os, torch\nx = torch.zeros(2)\n",
    "import numpy as np, torch\nx = torch.zeros(2)\n",
    "import os, \\\n    torch\nx = torch.zeros(2)\n",
])
def test_torch_later_in_an_import_line_is_seen(source):
    result = converted(source)
    assert "ops.zeros(2" in result.code and "torch" not in result.code


# --- match statements ---------------------------------------------------------

def test_match_statement():
    source = textwrap.dedent("""\
        import torch
        match x.size(0):
            case 1:
                y = torch.zeros(2)
            case [a, b] if flag:
                z = torch.no_such(3)
            case _:
                pass
        w = torch.ones(2)
        """)
    result = converted(source)
    assert "match x.shape[0]:" in result.code
    assert "y = ops.zeros(2" in result.code and "w = ops.ones(2)" in result.code
    lines = {f.api: f.line for f in result.report.findings}
    assert lines == {"Tensor.size": 2, "torch.zeros": 4, "torch.no_such": 6, "torch.ones": 9}


# --- deep nesting -------------------------------------------------------------

def test_200_nested_torch_calls():
    source = "import torch\ny = " + "torch.abs(" * 200 + "x" + ")" * 200 + "\n"
    result = converted(source)
    assert result.code.count("ops.abs(") == 200 and "torch" not in result.code
    assert len(result.report.findings) == 200


def test_long_sum_converts():
    source = "import torch\ny = " + " + ".join(["torch.abs(x)"] * 300 + ["x"] * 1200) + "\n"
    result = convert_source(source, "sum.py")  # too deep for compile(); parsing is fine
    assert result.code.count("ops.abs(x)") == 300 and "torch" not in result.code


def test_300_deep_list_converts():
    source = "import torch\ny = " + "[" * 300 + "torch.zeros(1)" + "]" * 300 + "\n"
    result = convert_source(source, "deep.py")  # CPython itself stops at 200 brackets
    assert "[ops.zeros(1" in result.code


def test_too_deep_is_a_clean_error(monkeypatch):
    import sys

    from ms_migrate import engine
    source = "import torch\ny = " + "torch.abs(" * 260 + "x" + ")" * 260 + "\n"
    monkeypatch.setattr(engine, "_DEEP_LIMIT", 300)  # the retry gets no deeper
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(300)
    try:
        with pytest.raises(ConversionError, match=r"^deep\.py: too deeply nested to convert"):
            convert_source(source, "deep.py")
    finally:
        sys.setrecursionlimit(limit)


# --- f-strings, literals, missing arguments, rebound names ------------------------

def test_strings_added_inside_an_fstring_take_the_other_quote():
    result = converted('import torch.nn as nn\nprint(f"{nn.Conv2d(3, 8, 3)}")\n')
    assert "print(f\"{nn.Conv2d(3, 8, 3, pad_mode='valid', has_bias=True)}\")" in result.code
    result = converted("import torch.nn as nn\nprint(f'{nn.Conv2d(3, 8, 3)}')\n")
    assert "print(f'{nn.Conv2d(3, 8, 3, pad_mode=\"valid\", has_bias=True)}')" in result.code


def test_no_quote_left_in_nested_fstrings_keeps_the_call_and_marks_it():
    source = "import torch.nn as nn\nprint(f\"{f'{nn.Conv2d(3, 8, 3)}'}\")\n"
    result = converted(source)
    assert "import torch.nn as nn" in result.code and "nn.Conv2d(3, 8, 3)}" in result.code
    assert ("torch.nn.Conv2d", "unsupported") in actions(result)
    assert "# ms-migrate: torch.nn.Conv2d: in an f-string" in result.code


@pytest.mark.parametrize("call, expected", [
    ("torch.take(3, i)", "ops.gather((3).reshape(-1), i, 0)"),
    ("torch.index_fill(x, 1, 2, -1.0)", "ops.index_fill(x, 1, (2).astype(mindspore.int32), (-1.0))"),
    ("F.max_pool1d(3, 2)", "ops.max_pool2d((3).unsqueeze(2), (1, 2), (1, 2)).squeeze(2)"),
])
def test_number_receivers_are_bracketed(call, expected):
    result = converted(f"import torch\nimport torch.nn.functional as F\ny = {call}\n")
    assert f"y = {expected}" in result.code


@pytest.mark.parametrize("call, api", [
    ("nn.AvgPool2d(ceil_mode=True)", "torch.nn.AvgPool2d"),
    ("nn.MaxPool1d()", "torch.nn.MaxPool1d"),
    ("nn.MaxPool2d(stride=None)", "torch.nn.MaxPool2d"),
    ("F.max_pool1d(x)", "torch.nn.functional.max_pool1d"),
    ("F.avg_pool2d(x)", "torch.nn.functional.avg_pool2d"),
])
def test_pools_without_kernel_size_are_marked_not_crashed(call, api):
    source = f"import torch.nn as nn\nimport torch.nn.functional as F\ny = {call}\n"
    result = converted(source)
    assert f"y = {call}" in result.code
    finding = next(f for f in result.report.findings if f.api == api)
    assert finding.action == "unsupported" and "kernel_size" in finding.message


@pytest.mark.parametrize("call, expected", [
    ("nn.AvgPool2d(2, ceil_mode=True)", 'nn.AvgPool2d(2, ceil_mode=True, stride=2, pad_mode="pad")'),
    ("nn.MaxPool1d(2)", "nn.MaxPool1d(2, stride=2)"),
    ("F.max_pool1d(x, 2)", "ops.max_pool2d(x.unsqueeze(2), (1, 2), (1, 2)).squeeze(2)"),
])
def test_pools_convert(call, expected):
    result = converted(f"import torch.nn as nn\nimport torch.nn.functional as F\ny = {call}\n")
    assert f"y = {expected}" in result.code


def test_numpy_imported_as_torch_is_left_alone_from_there_on():
    source = textwrap.dedent("""\
        import torch
        x = torch.zeros(2)
        import numpy as torch
        y = torch.zeros(2)
        def f():
            return torch.ones(2)
        """)
    result = converted(source)
    assert "x = ops.zeros(2, dtype=mindspore.float32)" in result.code
    assert "y = torch.zeros(2)" in result.code and "return torch.ones(2)" in result.code
    assert "import numpy as torch" in result.code
    assert [api for api, _ in actions(result)] == ["torch.zeros"]


def test_import_of_torch_again_brings_it_back():
    source = "import torch\nimport numpy as torch\ny = torch.zeros(2)\nimport torch\nz = torch.zeros(2)\n"
    result = converted(source)
    assert "y = torch.zeros(2)" in result.code and "z = ops.zeros(2" in result.code


def test_a_function_importing_numpy_as_torch_keeps_its_calls():
    source = "import torch\ndef f():\n    import numpy as torch\n    return torch.ones(2)\ny = torch.zeros(2)\n"
    result = converted(source)
    assert "    return torch.ones(2)" in result.code and "y = ops.zeros(2" in result.code


def test_a_marked_first_statement_is_marked_once():
    result = converted("if True: import torch; y = torch.no_such()\n")
    assert result.code.count("# ms-migrate: torch.no_such") == 1


@pytest.mark.parametrize("decorator", [
    "@torch.no_grad()", "@torch.jit.script", "@torch.compile", "@torch.inference_mode()",
    "@torch.compile(mode='max-autotune')", "@torch.jit.ignore", "@torch.enable_grad()",
    "@torch.autocast('cuda')", "@torch.no_grad", "@torch.set_grad_enabled(False)",
])
def test_decorators_convert_once(decorator):
    for body in ("return x", "return torch.zeros(2)", "return torch.no_such(x)"):
        converted(f"import torch\n{decorator}\ndef f(x):\n    {body}\n")
        converted(f"import torch\nimport torch.nn as nn\nclass M(nn.Module):\n"
                  f"    {decorator}\n    def forward(self, x):\n        {body}\n")


# --- commands ----------------------------------------------------------------------

def cli(*args):
    from click.testing import CliRunner

    from ms_migrate.cli.main import main
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit), result.exception  # no traceback
    return result.exit_code, result.output


LINEAR = textwrap.dedent("""\
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            return self.fc(x)
    """)


@pytest.fixture
def linear_pair(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("mindspore")
    (tmp_path / "net.py").write_text(LINEAR)
    (tmp_path / "net_ms.py").write_text(convert_source(LINEAR, "net.py").code)
    return tmp_path


def test_verify_model_file_calling_sys_exit_at_import_fails(linear_pair):
    d = linear_pair
    (d / "script.py").write_text(LINEAR + "\nimport sys\nsys.exit(0)\n")
    code, out = cli("verify", f"{d / 'script.py'}:Net", f"{d / 'net_ms.py'}:Net",
                    "--input", "3x4")
    assert code == 2
    assert "script.py: importing it called sys.exit(0)" in out
    assert "equivalent" not in out


def test_verify_forward_calling_sys_exit_is_not_equivalent(linear_pair):
    d = linear_pair
    (d / "quits.py").write_text(LINEAR.replace("return self.fc(x)",
                                               "import sys\n        sys.exit(0)"))
    code, out = cli("verify", f"{d / 'quits.py'}:Net", f"{d / 'net_ms.py'}:Net",
                    "--input", "3x4")
    assert code == 1
    assert "running the models failed: sys.exit(0)" in out and "NOT equivalent" in out


@pytest.mark.parametrize("spec, message", [
    ("99999999999x99999999999x4", "GiB is more than 2 GiB"),
    ("99999999999999999999999x4", "GiB is more than 2 GiB"),
    ("3x4/float32/1:inf", "the range must be finite"),
    ("3x4/float16/0:1e10", "the range must be finite and fit float16"),
    ("3x4/int8/0:1000", "int8 holds -128..127"),
    ("3x4/int64/1e30:1e31", "int64 holds"),
    ("3x4/int32/0.2:0.7", "no integer in the range"),
])
def test_verify_impossible_inputs_are_clean_errors(linear_pair, spec, message):
    d = linear_pair
    code, out = cli("verify", f"{d / 'net.py'}:Net", f"{d / 'net_ms.py'}:Net", "--input", spec)
    assert code == 2 and message in out, out
    assert f"input {spec!r}" in out


def test_verify_still_equivalent(linear_pair):
    d = linear_pair
    code, out = cli("verify", f"{d / 'net.py'}:Net", f"{d / 'net_ms.py'}:Net",
                    "--input", "3x4/float32/-2:2")
    assert code == 0 and "equivalent" in out


@pytest.mark.parametrize("name, text", [
    ("a.py", "import numpy as np, torch\nx = np.zeros(2)\n"),
    ("b.py", "if True: import torch\nx = 1\n"),
    ("script", "#!/usr/bin/env python\nimport torch\nx = torch.zeros(2)\n"),
    ("tool", "#!/usr/bin/python3.11\nimport torch.nn as nn\n"),
])
def test_precommit_check_fails_files_with_torch(tmp_path, monkeypatch, name, text):
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).write_text(text)
    code, out = cli("pre-commit", "--check", name)
    assert code == 1 and name in out, out
    assert (tmp_path / name).read_text() == text  # --check writes nothing


@pytest.mark.parametrize("name, text", [
    ("clean", "#!/usr/bin/env python3\nx = 1\n"),
    ("notes.txt", "import torch\n"),          # not Python: not the hook's business
    ("run.sh", "#!/bin/sh\nimport torch\n"),
])
def test_precommit_check_passes_what_is_not_python_with_torch(tmp_path, monkeypatch,
                                                             name, text):
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).write_text(text)
    assert cli("pre-commit", "--check", name)[0] == 0


def test_precommit_converts_an_extensionless_script(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train").write_text("#!/usr/bin/env python\nimport torch\nx = torch.zeros(2)\n")
    code, _ = cli("pre-commit", "train")
    assert code == 1
    text = (tmp_path / "train").read_text()
    assert text.startswith("#!/usr/bin/env python\n") and "ops.zeros(2" in text


def test_torch_import_lines_finds_nested_and_listed_imports():
    from ms_migrate.cli.commands.precommit import torch_import_lines
    text = "import os, torch\nif x:\n    from torch import nn\ndef f():\n    import torchvision\n"
    assert torch_import_lines(text) == [1, 3, 5]
    # torchaudio's APIs convert (a torch root); a relative `.torch` module is the user's
    assert torch_import_lines("import torchaudio\nfrom .torch import x\n") == [1]
    assert torch_import_lines("import torchaudio\nfrom .torch import x\nif :\n") == [1]


def _save(path, **tensors):
    import torch
    torch.save({"fc.weight": torch.randn(2, 3), "fc.bias": torch.randn(2), **tensors}, path)


@pytest.fixture
def torch_mod():
    pytest.importorskip("mindspore")
    return pytest.importorskip("torch")


@pytest.mark.parametrize("make, message", [
    (lambda t: t.quantize_per_tensor(t.randn(3, 3), 0.1, 0, t.qint8),
     "q.weight: a quantized tensor (torch.qint8)"),
    (lambda t: t.empty(3, 3, device="meta"), "q.weight: a meta tensor holds no values"),
])
def test_weights_refused_tensors_are_named(tmp_path, torch_mod, make, message):
    _save(tmp_path / "w.pth", **{"q.weight": make(torch_mod)})
    code, out = cli("convert-weights", tmp_path / "w.pth", "-o", tmp_path / "w.ckpt")
    assert code == 2 and message in out, out
    assert not (tmp_path / "w.ckpt").exists()


@pytest.mark.parametrize("make, note, dtype", [
    (lambda t: t.randn(3, 3).relu().to_sparse(), "sparse (sparse_coo) written dense", None),
    (lambda t: t.randn(3, 3).relu().to_sparse_csr(), "sparse (sparse_csr) written dense", None),
    (lambda t: t.randn(3, 3).to(t.float8_e4m3fn), "float8_e4m3fn stored as float32", "float32"),
    (lambda t: t.randn(3, 3).to(t.float8_e5m2), "float8_e5m2 stored as float32", "float32"),
])
def test_weights_exact_as_dense_or_wider(tmp_path, torch_mod, make, note, dtype):
    import mindspore
    import numpy as np
    tensor = make(torch_mod)
    _save(tmp_path / "w.pth", **{"s.weight": tensor})
    code, out = cli("convert-weights", tmp_path / "w.pth", "-o", tmp_path / "w.ckpt")
    assert code == 0 and f"s.weight: {note}" in out, out
    written = mindspore.load_checkpoint(str(tmp_path / "w.ckpt"))["s.weight"].asnumpy()
    expected = (tensor.to_dense() if tensor.layout != torch_mod.strided else tensor.float())
    assert np.array_equal(written, expected.numpy())
    if dtype:
        assert written.dtype == np.dtype(dtype)


def test_weights_without_model_name_the_unclear_layers(tmp_path, torch_mod):
    t = torch_mod
    t.save({"emb.weight": t.randn(10, 4), "head.weight": t.randn(3, 4),
            "conv.weight": t.randn(4, 4, 3), "conv.bias": t.randn(4),
            "out.weight": t.randn(3, 4), "out.bias": t.randn(3),
            "c2.weight": t.randn(4, 4, 3, 3)}, tmp_path / "w.pth")
    code, out = cli("convert-weights", tmp_path / "w.pth", "-o", tmp_path / "w.ckpt", "-q")
    assert code == 0
    assert "warning: 3 weights kept under torch's names" in out
    assert "emb.weight (2-D, Embedding: named embedding_table)" in out
    assert "head.weight (2-D, Embedding: named embedding_table)" in out
    assert "conv.weight (3-D, Conv1d or ConvTranspose1d: a size-1 axis at 2)" in out
    assert "out.weight" not in out and "c2.weight" not in out  # nothing else they could be
    assert "pass --model FILE.py:CLASS" in out


def test_weights_with_model_have_nothing_unclear(tmp_path, torch_mod):
    source = textwrap.dedent("""\
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.emb = nn.Embedding(10, 4)
                self.head = nn.Linear(4, 3, bias=False)
        """)
    (tmp_path / "net.py").write_text(source)
    t = torch_mod
    t.save({"emb.weight": t.randn(10, 4), "head.weight": t.randn(3, 4)}, tmp_path / "w.pth")
    code, out = cli("convert-weights", tmp_path / "w.pth", "-o", tmp_path / "w.ckpt",
                    "--model", f"{tmp_path / 'net.py'}:Net")
    assert code == 0 and "warning" not in out
    import mindspore
    assert set(mindspore.load_checkpoint(str(tmp_path / "w.ckpt"))) == {
        "emb.embedding_table", "head.weight"}


# --- found by the rule-table fuzzer ------------------------------------------------

def test_an_unconverted_call_in_a_match_subject_is_marked_on_the_match():
    result = converted("import torch\ndef f(x):\n    match torch.no_such(x):\n"
                       "        case 1:\n            pass\n")
    lines = result.code.splitlines()
    assert lines[lines.index("    match torch.no_such(x):") - 1].startswith(
        "    # ms-migrate: torch.no_such")


@pytest.mark.parametrize("source", [
    # the torch import stays (an unconverted call), so the output is converted again
    "import torch\ny = torch.no_such(x)\nz = torch.roll(x, 1, 0)\n",     # mindspore.numpy.roll
    "import torch\ny = torch.no_such(x)\nz = x.chunk(2, dim=1)\n",        # x.chunk(2, axis=1)
])
def test_output_that_keeps_torch_converts_again_to_itself(source):
    result = converted(source)
    assert result.code.count("# ms-migrate:") == 1


def test_two_spellings_of_one_parameter_are_refused_not_doubled():
    result = converted("import torch\ny = x.scatter_(dim=1, index=i, src=x, value=0.0)\n")
    assert "y = x.scatter_(dim=1, index=i, src=x, value=0.0)" in result.code
    assert "'src' would be given twice" in result.report.findings[0].message


def test_a_parameter_given_by_place_and_by_name_is_refused():
    result = converted("import torch\ny = x.softmax(1, dim=-1)\n")
    assert "y = x.softmax(1, dim=-1)" in result.code
    assert "'dim' is given twice" in result.report.findings[0].message


def test_an_import_alias_assigned_in_a_function_is_a_variable_there():
    source = ("import torch.nn.functional as F\ndef f(x):\n    F = make()\n"
              "    return F.softmax(dim=-1)\ny = F.softmax(x, dim=-1)\n")
    result = converted(source)
    assert "    return F.softmax(axis=-1)" in result.code  # a Tensor's method there
    assert "y = ops.softmax(x, axis=-1)" in result.code


def test_a_half_migrated_file_rebinding_nn_to_mindspore_converts_once():
    source = textwrap.dedent("""\
        import torch.nn as nn
        from mindspore import nn
        import torch.nn
        class Net1(nn.Module):
            with torch.no_grad():
                out = nn.Conv2d(0, 1, 3, padding=1, bias=False)
        """)
    result = converted(source)
    assert "out = nn.Conv2d(0, 1, 3, padding=1, bias=False)" in result.code  # MindSpore's


@pytest.mark.parametrize("decorator", ["@torch.no_grad()", "@torch.no_grad",
                                       "@torch.inference_mode()", "@torch.enable_grad()"])
def test_grad_mode_decorator_on_a_layer_subclass_stays_through_a_second_conversion(decorator):
    source = textwrap.dedent(f"""\
        import torch
        import torch.nn as nn
        class M(nn.Linear):
            {decorator}
            def forward(self, x):
                return x
        """)
    result = converted(source)
    if "enable_grad" in decorator:
        assert decorator in result.code and "import torch\n" in result.code
    else:  # no_grad on a Cell's forward is MindSpore's own decorator
        assert "@mindspore._no_grad()" in result.code and "torch" not in result.code


def test_a_module_class_in_a_function_whose_parameter_is_named_nn():
    source = textwrap.dedent("""\
        import torch
        import torch.nn as nn
        def f(x, nn=None):
            class Net(nn.Module):
                def forward(self, x):
                    with torch.no_grad():
                        pass
        """)
    converted(source)


def test_a_transform_missing_its_arguments_is_marked():
    result = converted("import torch\ny = torch.where()\n")
    assert "y = torch.where()" in result.code
    assert result.report.findings[0].action == "unsupported"


def test_device_moves_follow_function_scopes():
    source = ("import torch\nimport torch.nn as nn\ndef f(x, nn=None):\n    nn.cuda()\n"
              "    return x\n")
    result = converted(source)
    assert "nn.cuda()" not in result.code  # a variable's device move, as any other


def test_a_transform_failing_on_a_missing_argument_is_marked():
    result = converted("import torch\ny = torch.median()\nz = torch.median(x)\n")
    assert "y = torch.median()" in result.code and "z = ops.median(x.flatten())[0]" in result.code
