"""The pre-commit hooks, run by the real `pre-commit` tool in a scratch git repository.

The hooks are declared `repo: local` with `language: system` so nothing is fetched;
the shipped .pre-commit-hooks.yaml is checked by `pre-commit validate-manifest`.
Set MS_MIGRATE_PRECOMMIT_INSTALL=1 to also install this repository as a hook
repository (`pre-commit try-repo`: builds a virtualenv from the package index).
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRE_COMMIT = shutil.which("pre-commit") or str(Path(sys.executable).with_name("pre-commit"))
pytestmark = pytest.mark.skipif(not Path(PRE_COMMIT).exists() or shutil.which("git") is None,
                                reason="needs git and pre-commit (the test extra)")

TORCH_FILE = "import torch.nn as nn\n\nlayer = nn.Linear(4, 3)\n"
CONVERTED = "from mindspore import nn\n\nlayer = nn.Dense(4, 3)\n"


def run(cmd, cwd, **kw):
    env = {**os.environ, "PRE_COMMIT_HOME": str(Path(cwd).parent / "pc-home"),
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, **kw)


def make_repo(tmp_path: Path, check: bool) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    run(["git", "init", "-q"], repo)
    entry = f"{sys.executable} -m ms_migrate pre-commit" + (" --check" if check else "")
    (repo / ".pre-commit-config.yaml").write_text(f"""repos:
- repo: local
  hooks:
  - id: ms-migrate
    name: ms-migrate
    entry: {entry}
    language: system
    types: [python]
""")
    run(["git", "add", ".pre-commit-config.yaml"], repo)
    run(["git", "commit", "-q", "-m", "config", "--no-verify"], repo)
    run([PRE_COMMIT, "install"], repo)
    return repo


def test_shipped_manifest_is_valid():
    done = subprocess.run([PRE_COMMIT, "validate-manifest", str(ROOT / ".pre-commit-hooks.yaml")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_convert_hook_rewrites_and_stops_the_commit(tmp_path):
    repo = make_repo(tmp_path, check=False)
    (repo / "model.py").write_text(TORCH_FILE)
    (repo / "plain.py").write_text("x = 1\n")
    run(["git", "add", "model.py", "plain.py"], repo)
    first = run(["git", "commit", "-m", "add model"], repo)
    assert first.returncode != 0, "the commit must stop for review"
    assert "model.py: converted" in first.stdout + first.stderr
    assert (repo / "model.py").read_text() == CONVERTED
    assert (repo / "plain.py").read_text() == "x = 1\n"
    assert run(["git", "log", "--oneline"], repo).stdout.count("\n") == 1

    run(["git", "add", "model.py"], repo)
    second = run(["git", "commit", "-m", "add model"], repo)
    assert second.returncode == 0, second.stdout + second.stderr
    assert (repo / "model.py").read_text() == CONVERTED


def test_check_hook_fails_without_writing(tmp_path):
    repo = make_repo(tmp_path, check=True)
    (repo / "model.py").write_text(TORCH_FILE)
    run(["git", "add", "model.py"], repo)
    done = run(["git", "commit", "-m", "add model"], repo)
    assert done.returncode != 0
    assert "model.py: would convert" in done.stdout + done.stderr
    assert (repo / "model.py").read_text() == TORCH_FILE


def test_check_hook_fails_while_torch_is_left(tmp_path):
    repo = make_repo(tmp_path, check=True)
    # Converted before: converting again changes nothing, but torch is still used.
    (repo / "model.py").write_text("import torch\n\ny = torch.special_op(1)\n")
    subprocess.run([sys.executable, "-m", "ms_migrate", "convert", "model.py", "--in-place", "-q"],
                   cwd=repo)
    marked = (repo / "model.py").read_text()
    line = marked.splitlines().index("y = torch.special_op(1)") + 1
    run(["git", "add", "model.py"], repo)
    done = run(["git", "commit", "-m", "add model"], repo)
    assert done.returncode != 0
    assert f"model.py:{line}: torch still used: torch.special_op" in done.stdout + done.stderr
    assert "would convert" not in done.stdout + done.stderr
    assert (repo / "model.py").read_text() == marked


def test_check_hook_passes_clean_mindspore_code(tmp_path):
    repo = make_repo(tmp_path, check=True)
    (repo / "model.py").write_text(CONVERTED)
    run(["git", "add", "model.py"], repo)
    done = run(["git", "commit", "-m", "add model"], repo)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("args, code", [([], 0), (["--check"], 1)])
def test_exit_codes(tmp_path, args, code):
    (tmp_path / "clean.py").write_text(CONVERTED)
    (tmp_path / "model.py").write_text(TORCH_FILE)
    clean = run([sys.executable, "-m", "ms_migrate", "pre-commit", *args, "clean.py"], tmp_path)
    assert clean.returncode == 0, clean.stderr
    changed = run([sys.executable, "-m", "ms_migrate", "pre-commit", *args, "model.py"], tmp_path)
    assert changed.returncode == 1, changed.stderr
    (tmp_path / "bad.py").write_text("import torch\nprint 'x'\n")
    bad = run([sys.executable, "-m", "ms_migrate", "pre-commit", *args, "bad.py"], tmp_path)
    assert bad.returncode == 2
    assert "bad.py:2: syntax error" in bad.stderr
    assert (tmp_path / "bad.py").read_text() == "import torch\nprint 'x'\n"


@pytest.mark.skipif(not os.environ.get("MS_MIGRATE_PRECOMMIT_INSTALL"),
                    reason="installs from the package index; set MS_MIGRATE_PRECOMMIT_INSTALL=1")
def test_try_repo_installs_the_shipped_hook(tmp_path):
    repo = make_repo(tmp_path, check=False)
    (repo / "model.py").write_text(TORCH_FILE)
    run(["git", "add", "model.py"], repo)
    done = run([PRE_COMMIT, "try-repo", str(ROOT), "ms-migrate", "--files", "model.py"], repo,
               timeout=900)
    assert done.returncode == 1, done.stdout + done.stderr
    assert (repo / "model.py").read_text() == CONVERTED
