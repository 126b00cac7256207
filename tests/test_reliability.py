"""Bad input gets one clear line and a non-zero exit; user files are never damaged.

Each case checks the message, the exit code and that no file changed. CliRunner
runs with catch_exceptions=False, so a traceback fails the test.
"""
import codecs
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from ms_migrate import convert_source
from ms_migrate.cli.main import main
from ms_migrate.core.sourcefile import TEMP_SUFFIX

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from generated import generated_module  # noqa: E402  (the benchmark's large input)

LAYER = "import torch.nn as nn\n\nlayer = nn.Linear(4, 3)\n"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def snapshot(root: Path) -> dict:
    return {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def one_line_error(result, *parts):
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert any(line.startswith("ms-migrate: error: ") and all(p in line for p in parts)
               for line in lines), result.stderr
    assert "Traceback" not in result.stderr


# --- one bad file -----------------------------------------------------------

@pytest.mark.parametrize("data, parts", [
    (b"import torch\nx = torch.zeros(3\ny = 1\n", ["bad.py:2: syntax error", "never closed"]),
    (b"import torch\nprint 'hello'\n", ["bad.py:2: syntax error", "Python 2 code?"]),
    (b"import torch\nx = '\xe9t\xe9'\n", ["bad.py:2: not valid utf-8 text"]),
    (b"# -*- coding: ascii -*-\nimport torch\nx = '\xe9'\n", ["bad.py:3: not valid ascii"]),
    (b"# -*- coding: klingon -*-\nimport torch\n", ["bad.py", "unknown encoding"]),
    (b"import torch\x00\n", ["bad.py: contains null bytes"]),
], ids=["syntax", "python2", "not-utf8", "wrong-declared", "unknown-encoding", "null-bytes"])
@pytest.mark.parametrize("mode", [["--in-place"], ["-o", "OUT"], ["--check"], []])
def test_bad_file(tmp_path, data, parts, mode):
    bad = tmp_path / "bad.py"
    bad.write_bytes(data)
    args = [str(tmp_path / "out.py") if a == "OUT" else a for a in mode]
    result = invoke("convert", bad, *args)
    one_line_error(result, *parts)
    assert bad.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.py"]


def test_missing_path():
    one_line_error(invoke("convert", "/nonexistent/model.py"), "/nonexistent/model.py", "no such")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path):
    path = tmp_path / "secret.py"
    path.write_text(LAYER)
    path.chmod(0)
    one_line_error(invoke("convert", path), "secret.py", "permission denied")


def test_empty_file_and_no_torch_file_come_back_byte_for_byte(tmp_path):
    for name, data in [("empty.py", b""),
                       ("plain.py", codecs.BOM_UTF8 + b"x = 1  \r\n\tif x:\r\n\t\tpass\r\n")]:
        path = tmp_path / name
        path.write_bytes(data)
        out = tmp_path / ("out_" + name)
        assert invoke("convert", path, "-o", out).exit_code == 0
        assert out.read_bytes() == data
        assert invoke("convert", path, "--in-place").exit_code == 0
        assert path.read_bytes() == data


def test_crlf_bom_tabs_and_trailing_whitespace_survive(tmp_path):
    source = (codecs.BOM_UTF8 + b"import torch.nn as nn   \r\n\r\n"
              b"class Net(nn.Module):\r\n\tdef __init__(self):  \r\n"
              b"\t\tsuper().__init__()\r\n\t\tself.fc = nn.Linear(4, 3)\t\r\n")
    path = tmp_path / "net.py"
    path.write_bytes(source)
    assert invoke("convert", path, "--in-place").exit_code == 1
    data = path.read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    assert data.count(b"\r\n") == data.count(b"\n")
    assert b"\tdef __init__(self):  \r\n" in data
    assert b"\t\tself.fc = nn.Dense(4, 3)\t\r\n" in data
    assert invoke("convert", path, "--check").exit_code == 0


def test_declared_encoding_is_kept(tmp_path):
    source = ("# -*- coding: latin-1 -*-\nimport torch.nn as nn\nname = 'café'\n"
              "layer = nn.Linear(2, 2)\n").encode("latin-1")
    path = tmp_path / "legacy.py"
    path.write_bytes(source)
    assert invoke("convert", path, "-o", tmp_path / "out.py").exit_code == 0
    out = (tmp_path / "out.py").read_bytes()
    assert b"name = 'caf\xe9'" in out and b"nn.Dense(2, 2)" in out


def test_in_place_keeps_permissions_and_converts_a_named_links_target(tmp_path):
    # A link named on the command line is resolved once: its target is rewritten,
    # keeping mode, and the link stays. Links met in a folder are never followed
    # (tests/test_security_fs.py).
    real = tmp_path / "real.py"
    real.write_text(LAYER)
    real.chmod(0o640)
    link = tmp_path / "link.py"
    link.symlink_to(real)
    assert invoke("convert", link, "--in-place").exit_code == 1
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert "nn.Dense" in real.read_text()
    assert stat.S_IMODE(real.stat().st_mode) == 0o640


def test_converter_never_runs_the_code(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "evil.py"
    path.write_text(f"import torch\nopen({str(marker)!r}, 'w').close()\nraise SystemExit(3)\n")
    assert invoke("convert", path, "-o", tmp_path / "out.py").exit_code == 0
    assert not marker.exists()


# --- folders ----------------------------------------------------------------

def test_folder_without_python_files(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "notes.txt").write_text("hi")
    one_line_error(invoke("convert", tmp_path / "src", "-o", tmp_path / "out"),
                   "no Python files")
    assert not (tmp_path / "out").exists()


def test_output_folder_that_cannot_be_created(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "m.py").write_text(LAYER)
    (tmp_path / "file").write_text("x")
    one_line_error(invoke("convert", tmp_path / "src", "-o", tmp_path / "file" / "out"),
                   "cannot create")
    assert (tmp_path / "src" / "m.py").read_text() == LAYER


def test_output_inside_input(tmp_path):
    (tmp_path / "m.py").write_text(LAYER)
    before = snapshot(tmp_path)
    one_line_error(invoke("convert", tmp_path, "-o", tmp_path / "converted"), "inside the input")
    assert snapshot(tmp_path) == before and not (tmp_path / "converted").exists()


def test_output_is_a_file(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "m.py").write_text(LAYER)
    (tmp_path / "out").write_text("x")
    one_line_error(invoke("convert", tmp_path / "src", "-o", tmp_path / "out"), "not a folder")
    assert (tmp_path / "out").read_text() == "x"


def test_symlink_loops_are_kept_as_links_and_the_rest_converted(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "good.py").write_text(LAYER)
    (src / "a.py").symlink_to(src / "b.py")
    (src / "b.py").symlink_to(src / "a.py")
    (src / "parent").symlink_to(src)          # a folder loop: not entered
    result = invoke("convert", src, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    out = tmp_path / "out"
    assert "nn.Dense" in (out / "good.py").read_text()
    # links inside the tree are recreated, relative, never followed
    assert os.readlink(out / "a.py") == "b.py" and os.readlink(out / "b.py") == "a.py"
    assert os.readlink(out / "parent") == "."
    # named directly, a loop is a clear error
    one_line_error(invoke("convert", src / "a.py"), "a.py: cannot read: Too many levels of "
                                                    "symbolic links")


# --- rule tables ------------------------------------------------------------

@pytest.mark.parametrize("table, parts", [
    ('namespace = "torch"\n[zeros]\ntarget = "mindspore.ops.zeros"\ncolour = "red"\n',
     ["bad.toml:zeros", "unknown field 'colour'"]),
    ('namespace = "torch"\n[zeros]\ntarget = 3\n', ["bad.toml:zeros", "field 'target'"]),
    ('namespace = "torch"\n[zeros\n', ["bad.toml", "not valid TOML"]),
    ('[zeros]\ntarget = "x"\n', ["bad.toml", "'namespace'"]),
    ('namespace = "torch"\n[zeros]\ntarget = "mindspore.ops.zeros"\nargs = ["size", "dtype"]\n'
     'rename = { dtype = "type" }\ndrop = ["dtype"]\n',
     ["bad.toml:zeros", "field 'drop' names 'dtype'", "'rename' already handles"]),
    ('namespace = "torch"\n[zeros]\ntarget = "mindspore.ops.zeros"\nargs = ["size"]\n'
     'rename = { dtype = "type" }\n', ["bad.toml:zeros", "field 'rename' names 'dtype'"]),
], ids=["unknown-field", "wrong-type", "not-toml", "no-namespace", "contradiction", "not-in-args"])
def test_malformed_rule_table(tmp_path, table, parts):
    rules = tmp_path / "bad.toml"
    rules.write_text(table)
    model = tmp_path / "m.py"
    model.write_text(LAYER)
    result = invoke("convert", model, "--in-place", "--rules", rules)
    one_line_error(result, *parts)
    assert model.read_text() == LAYER


# --- idempotence and size ---------------------------------------------------

def test_converting_converted_code_changes_nothing():
    fixtures = sorted((Path(__file__).parent / "fixtures").glob("*/*.in.py"))
    examples = sorted((Path(__file__).parents[1] / "examples").rglob("*.py"))
    assert fixtures
    for path in fixtures + examples:
        once = convert_source(path.read_text(encoding="utf-8"), path.name).code
        assert convert_source(once, path.name).code == once, path


def test_idempotent_when_unsupported_calls_keep_the_torch_import():
    # `ops.relu(a)` in converted code is a MindSpore function, not a Tensor method call.
    once = convert_source("import torch\nimport torch.nn.functional as F\n"
                          "d = F.relu(a)\ne = torch.no_such_op(a)\n").code
    assert "ops.relu(a)" in once and "import torch\n" in once
    assert convert_source(once).code == once


def test_idempotent_when_an_unsupported_layer_keeps_the_torch_import():
    # The kept `import torch.nn as nn` must not be rebound by `from mindspore import nn`.
    once = convert_source("import torch.nn as nn\nloss = nn.NoSuchLoss()\nfc = nn.Linear(2, 2)\n").code
    assert "import torch.nn as nn\n" in once and "mindspore.nn.Dense(2, 2)" in once
    assert "from mindspore import nn" not in once
    assert convert_source(once).code == once


def test_torch_import_of_a_rebound_name_is_kept():
    # `F` is rebound at module level, so it is not tracked as torch's; its import must stay.
    source = ("from torch.nn import functional as F\nimport torch.nn as nn\n"
              "class Net(nn.Module):\n    act = F.relu\ntry:\n    pass\n"
              "except Exception:\n    F = None\n")
    once = convert_source(source).code
    assert "from torch.nn import functional as F\n" in once
    assert convert_source(once).code == once


def test_comments_on_removed_torch_import_lines_are_kept():
    source = ("import os\nimport torch  # tensors and autograd\n"
              "# layers below\nimport torch.nn as nn  # the layers\n\nimport numpy as np\n"
              "x = torch.zeros(2)\n")
    once = convert_source(source).code
    assert "import mindspore  # tensors and autograd\n" in once
    assert "# layers below\n# the layers\nimport numpy as np\n" in once
    assert "torch" not in once.replace("# tensors", "")
    assert convert_source(once).code == once


def test_large_file_converts(tmp_path):
    source = generated_module(1000)
    assert source.count("\n") > 12000
    path = tmp_path / "big.py"
    path.write_text(source)
    result = invoke("convert", path, "-o", tmp_path / "out.py", "-q")
    assert result.exit_code == 0
    compile((tmp_path / "out.py").read_text(), "out.py", "exec")


@pytest.mark.parametrize("source", [
    "import torch\nx = " + "(" * 180 + "torch.zeros(1)" + ")" * 180 + "\n",
    "import torch\nx = " + "[" * 80 + "torch.zeros(1)" + "]" * 80 + "\n",
    "import torch\n" + "".join(" " * i + "if x:\n" for i in range(90)) + " " * 90 + "pass\n",
    "import torch\nx = [" + "torch.zeros(1), " * 20000 + "]\n",
    "import torch\ns = '" + "a" * 500000 + "'\n",
], ids=["deep-parens", "deep-lists", "deep-blocks", "long-line", "long-string"])
def test_deep_and_long_input_never_crashes(tmp_path, source):
    path = tmp_path / "deep.py"
    path.write_text(source)
    result = invoke("convert", path, "-o", tmp_path / "out.py", "-q")
    if result.exit_code == 0:
        compile((tmp_path / "out.py").read_text(), "out.py", "exec")
    else:
        one_line_error(result, "deep.py")
    assert path.read_text() == source


# --- interrupted runs -------------------------------------------------------

def make_folder(root: Path, files: int = 120) -> dict:
    root.mkdir()
    source = generated_module(25)
    for i in range(files):
        (root / f"m{i:03}.py").write_text(source)
    return {p.name: p.read_bytes() for p in root.iterdir()}


@pytest.mark.parametrize("sig, delays", [(signal.SIGKILL, (0.8, 1.6)),
                                         (signal.SIGINT, (1.0,))])
def test_interrupted_run_leaves_every_file_old_or_new(tmp_path, sig, delays):
    old = make_folder(tmp_path / "src")
    sample = tmp_path / "sample.py"
    sample.write_bytes(next(iter(old.values())))
    subprocess.run([sys.executable, "-m", "ms_migrate", "convert", str(sample), "-o",
                    str(tmp_path / "new.py"), "-q"], check=True)
    new_code = (tmp_path / "new.py").read_bytes()
    for delay in delays:
        for name, data in old.items():
            (tmp_path / "src" / name).write_bytes(data)
        proc = subprocess.Popen([sys.executable, "-m", "ms_migrate", "convert",
                                 str(tmp_path / "src"), "--in-place", "-j", "2", "-q"],
                                stderr=subprocess.PIPE, start_new_session=True)
        if sig == signal.SIGKILL:
            time.sleep(delay)
            os.killpg(proc.pid, sig)     # the whole run, workers included
        else:                            # Ctrl-C, once the run has started writing
            deadline = time.monotonic() + 60
            while proc.poll() is None and time.monotonic() < deadline and not any(
                    (tmp_path / "src" / n).read_bytes() == new_code for n in old):
                time.sleep(0.02)
            proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        names = {p.name for p in (tmp_path / "src").iterdir()}
        states = {(tmp_path / "src" / n).read_bytes() in (old[n], new_code) for n in old}
        assert states == {True}, "a file is neither the old nor the new version"
        leftovers = {n for n in names if n.endswith(TEMP_SUFFIX)}
        assert names - leftovers == set(old)
        if sig == signal.SIGINT and proc.returncode != 1:  # 1: it finished first
            assert proc.returncode == 130
            assert b"interrupted" in err and b"Traceback" not in err
            assert not leftovers


def test_pruned_parenthesised_import_over_several_lines_still_parses():
    source = ("import torch\n"
              "from torch.distributed.fsdp import (\n"
              "    FullyShardedDataParallel as FSDP,\n"
              "    CPUOffload,\n"
              "    StateDictType,\n"
              ")\n"
              "wrapped = FSDP\n"
              "kind = StateDictType\n")
    code = convert_source(source, "fsdp.py").code
    compile(code, "fsdp.py", "exec")
    assert "CPUOffload" not in code and "StateDictType)" in code
