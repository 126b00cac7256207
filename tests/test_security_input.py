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
    from ms_migrate import engine
    monkeypatch.setattr(engine, "_DEEP_LIMIT", 200)
    source = "import torch\ny = " + "torch.abs(" * 260 + "x" + ")" * 260 + "\n"
    with pytest.raises(ConversionError, match=r"^deep\.py: too deeply nested to convert"):
        convert_source(source, "deep.py")
