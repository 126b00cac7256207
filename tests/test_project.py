"""Folder conversion: structure, copies, parallel runs, excludes, reports, configuration."""
import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from ms_migrate.cli.main import main

MODEL = """import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(x)


torch.fancy_new_op(0)
"""
TRAIN = "import torch.nn as nn\n\nact = nn.ReLU()\nlayer = nn.Linear( 4,3 )\n"


def make_project(root: Path) -> Path:
    src = root / "proj"
    (src / "pkg" / "sub").mkdir(parents=True)
    (src / "data").mkdir()
    (src / "pkg" / "model.py").write_text(MODEL)
    (src / "pkg" / "sub" / "train.py").write_text(TRAIN)
    (src / "pkg" / "__init__.py").write_text("")
    (src / "util.py").write_text("import os\n\nHOME = os.environ.get('HOME')\n")
    (src / "data" / "labels.txt").write_text("cat\ndog\n")
    (src / "run.sh").write_text("#!/bin/sh\npython pkg/model.py\n")
    os.chmod(src / "run.sh", 0o755)
    return src


def tree(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def invoke(*args, cwd=None):
    runner = CliRunner()  # click >= 8.2 keeps stderr apart
    old = os.getcwd()
    if cwd:
        os.chdir(cwd)
    try:
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
    finally:
        os.chdir(old)


def test_folder_converts_python_and_copies_the_rest(tmp_path):
    src = make_project(tmp_path)
    before = tree(src)
    result = invoke("convert", src, "-o", tmp_path / "out", "-j", "1")
    assert result.exit_code == 0, result.stderr
    out = tree(tmp_path / "out")
    assert set(out) == set(before)
    assert b"nn.Dense(4, 3)" in out["pkg/model.py"]
    assert b"class Net(nn.Cell)" in out["pkg/model.py"]
    assert out["util.py"] == before["util.py"]
    assert out["data/labels.txt"] == before["data/labels.txt"]
    assert stat.S_IMODE(os.stat(tmp_path / "out" / "run.sh").st_mode) == 0o755
    assert tree(src) == before, "the input must not change"
    assert "4 Python files" in result.stderr and "torch API uses" in result.stderr


def test_parallel_run_writes_what_one_job_writes(tmp_path):
    src = make_project(tmp_path)
    for i in range(12):
        (src / "pkg" / f"copy{i}.py").write_text(MODEL)
    assert invoke("convert", src, "-o", tmp_path / "one", "-j", "1").exit_code == 0
    result = invoke("convert", src, "-o", tmp_path / "two", "-j", "2")
    assert result.exit_code == 0, result.stderr
    assert "2 jobs" in result.stderr
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


def test_a_folder_run_puts_libcsts_codegen_back(tmp_path):
    import libcst as cst

    from ms_migrate.core import quick_libcst
    src = make_project(tmp_path)  # one job: the run holds the quick codegen, then lets go
    assert CliRunner().invoke(main, ["convert", str(src), "-o", str(tmp_path / "out"),
                                     "-q", "-j", "1"]).exit_code == 0
    assert cst.CSTNode._codegen is quick_libcst._LIBCST_CODEGEN
    assert "_codegen" not in vars(cst.Call)


def test_converting_the_output_again_changes_nothing(tmp_path):
    src = make_project(tmp_path)
    invoke("convert", src, "-o", tmp_path / "out")
    result = invoke("convert", tmp_path / "out", "--check")
    assert result.exit_code == 0, result.stderr


def test_exclude_leaves_files_unconverted_but_copied(tmp_path):
    src = make_project(tmp_path)
    result = invoke("convert", src, "-o", tmp_path / "out", "--exclude", "pkg/sub",
                    "--exclude", "model.py")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "out/pkg/sub/train.py").read_text() == TRAIN
    assert (tmp_path / "out/pkg/model.py").read_text() == MODEL


def test_one_bad_file_is_reported_and_the_rest_converted(tmp_path):
    src = make_project(tmp_path)
    (src / "pkg" / "old.py").write_text("import torch\nprint 'hello'\n")
    result = invoke("convert", src, "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert "old.py:2: syntax error" in result.stderr
    assert b"nn.Dense" in (tmp_path / "out/pkg/model.py").read_bytes()
    assert (tmp_path / "out/pkg/old.py").read_text() == "import torch\nprint 'hello'\n"


def test_check_and_in_place_on_a_folder(tmp_path):
    src = make_project(tmp_path)
    before = tree(src)
    assert invoke("convert", src, "--check").exit_code == 1
    assert tree(src) == before
    result = invoke("convert", src, "--in-place")
    assert result.exit_code == 1
    after = tree(src)
    assert after["util.py"] == before["util.py"]
    assert b"nn.Dense" in after["pkg/model.py"]
    assert invoke("convert", src, "--in-place").exit_code == 0


def test_reports_name_files_and_lines(tmp_path):
    src = make_project(tmp_path)
    reports = tmp_path / "reports"
    result = invoke("convert", src, "-o", tmp_path / "out", "--report", reports / "r.json",
                    "--report-md", reports / "r.md", "--report-html", reports / "r.html")
    assert result.exit_code == 0, result.stderr
    data = json.loads((reports / "r.json").read_text())
    model = next(f for f in data["files"] if f["path"] == "pkg/model.py")
    seed = next(f for f in model["findings"] if f["api"] == "torch.fancy_new_op")
    assert seed["action"] == "unsupported" and seed["line"] == 14
    assert data["top_unsupported"][0] == {"api": "torch.fancy_new_op", "count": 1}
    assert data["api_uses"] == data["converted"] + data["unsupported"]
    assert data["lines"] == sum(f["lines"] for f in data["files"])
    md = (reports / "r.md").read_text()
    assert "(../proj/pkg/model.py#L14)" in md and "torch.fancy_new_op" in md
    html = (reports / "r.html").read_text()
    assert 'href="../proj/pkg/model.py#L14"' in html and "torch.fancy_new_op(0)" in html


def test_format_runs_on_changed_files_only(tmp_path):
    pytest.importorskip("ruff")
    src = make_project(tmp_path)
    (src / "untouched.py").write_text("x=1\n")
    result = invoke("convert", src, "-o", tmp_path / "out", "--format")
    assert result.exit_code == 0, result.stderr
    assert "layer = nn.Dense(4, 3)" in (tmp_path / "out/pkg/sub/train.py").read_text()
    assert (tmp_path / "out/untouched.py").read_text() == "x=1\n"


def test_format_without_a_formatter_is_a_clear_error(tmp_path, monkeypatch):
    from ms_migrate.cli import formatting
    src = make_project(tmp_path)
    formatting.formatter_command.cache_clear()
    monkeypatch.setattr(formatting, "_FORMATTERS", (("no-such-formatter-x", []),))
    try:
        result = invoke("convert", src, "-o", tmp_path / "out", "--format")
    finally:
        formatting.formatter_command.cache_clear()
    assert result.exit_code == 2
    assert "--format needs `ruff` or `black`" in result.stderr
    assert not (tmp_path / "out").exists()


USER_RULES = """namespace = "torch"

[fancy_new_op]
target = "mindspore.ops.fancy_new_op"
args = ["input"]
examples = [{ code = "torch.fancy_new_op(0)" }]
"""


def test_configuration_rules_and_excludes(tmp_path):
    src = make_project(tmp_path)
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "seed.toml").write_text(USER_RULES)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.ms-migrate]\nrules = ["rules/seed.toml"]\nexclude = ["sub"]\n')
    result = invoke("convert", src, "-o", tmp_path / "out", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    model = (tmp_path / "out/pkg/model.py").read_text()
    assert "ops.fancy_new_op(0)" in model
    assert (tmp_path / "out/pkg/sub/train.py").read_text() == TRAIN


@pytest.mark.parametrize("table, message", [
    ('rules = ["missing.toml"]', "'rules' names"),
    ("jobs = 0", "'jobs' must be at least 1"),
    ('target = "mint"', "'target' 'mint' is not a known profile"),
    ("colour = 1", "unknown key 'colour'"),
    ('exclude = "x"', "'exclude' must be a list"),
])
def test_bad_configuration_names_file_and_key(tmp_path, table, message):
    src = make_project(tmp_path)
    (tmp_path / "pyproject.toml").write_text(f"[tool.ms-migrate]\n{table}\n")
    result = invoke("convert", src, "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert str(tmp_path / "pyproject.toml") in result.stderr and message in result.stderr
    assert not (tmp_path / "out").exists()


def test_broken_user_rule_table_names_file_entry_and_field(tmp_path):
    src = make_project(tmp_path)
    (tmp_path / "seed.toml").write_text(USER_RULES.replace('args = ["input"]', "args = 3"))
    (tmp_path / "pyproject.toml").write_text('[tool.ms-migrate]\nrules = ["seed.toml"]\n')
    result = invoke("convert", src, "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert "seed.toml:fancy_new_op: field 'args' must be a list" in result.stderr
    assert not (tmp_path / "out").exists()


def test_analyze_lists_apis_and_writes_nothing(tmp_path):
    src = make_project(tmp_path)
    before = tree(src)
    result = invoke("analyze", src, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    apis = {a["api"]: a for a in data["apis"]}
    assert apis["torch.nn.Linear"]["uses"] == 2
    assert apis["torch.nn.Linear"]["status"] == "supported"
    assert sorted(apis["torch.nn.Linear"]["places"]) == ["pkg/model.py:8", "pkg/sub/train.py:4"]
    seed = apis["torch.fancy_new_op"]
    assert seed["status"] == "unsupported" and seed["reasons"] and seed["suggestion"]
    text = invoke("analyze", src)
    assert "torch.fancy_new_op" in text.stdout and "at pkg/model.py:14" in text.stdout
    md = invoke("analyze", src, "--markdown")
    assert "| `torch.nn.Linear` | 2 | supported |" in md.stdout
    assert tree(src) == before


def test_analyze_bad_input(tmp_path):
    missing = invoke("analyze", tmp_path / "nope")
    assert missing.exit_code == 2 and "no such file or folder" in missing.stderr
    (tmp_path / "empty").mkdir()
    empty = invoke("analyze", tmp_path / "empty")
    assert empty.exit_code == 2 and "no Python files" in empty.stderr
