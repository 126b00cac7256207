"""The file-system side under attack: links, special files, nesting, names, signals.

Each test builds the hostile input, checks the message and exit code, and that
nothing outside the tree or the output changed (a sentinel folder is snapshot
before and after: kinds, bytes, link texts, modes and owners).
"""
import ctypes
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from ms_migrate.cli.main import main
from ms_migrate.core.sourcefile import MAX_SOURCE_BYTES, TEMP_SUFFIX

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from generated import generated_module  # noqa: E402

LAYER = "import torch.nn as nn\n\nlayer = nn.Linear(4, 3)\n"
SECRET = "-----BEGIN OPENSSH PRIVATE KEY----- not-a-real-key\n"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def run_cli(*args, timeout=120, preexec_fn=None, **kw):
    """The real command in its own process (a hang fails on the timeout)."""
    env = {**os.environ, "GLOG_v": "3", "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "ms_migrate", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env,
                          preexec_fn=preexec_fn, **kw)


def snapshot(root: Path) -> dict:
    """Everything under root, links not followed."""
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(folder) / name
            st = os.lstat(p)
            data = (os.readlink(p) if stat.S_ISLNK(st.st_mode)
                    else p.read_bytes() if stat.S_ISREG(st.st_mode) else None)
            out[p] = (stat.S_IFMT(st.st_mode), data, st.st_mode, st.st_uid, st.st_gid)
    return out


def error_line(stderr: str, *parts) -> None:
    assert "Traceback" not in stderr, stderr
    assert any(line.startswith("ms-migrate: error: ") and all(p in line for p in parts)
               for line in stderr.splitlines()), stderr


@pytest.fixture
def sentinel(tmp_path):
    """A folder outside every tree: a victim source, a private key."""
    root = tmp_path / "sentinel"
    root.mkdir()
    (root / "victim.py").write_text(LAYER)
    (root / "id_rsa").write_text(SECRET)
    before = snapshot(root)
    yield root
    assert snapshot(root) == before, "something outside the tree changed"


def project(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "good.py").write_text(LAYER)
    (root / "pkg" / "m.py").write_text(LAYER)
    return root


def no_temp_files(root: Path) -> bool:
    return not [p for p in root.rglob("*") if p.name.endswith(TEMP_SUFFIX)]


# --- 1. never write through a link --------------------------------------------

def test_in_place_folder_does_not_write_through_links(tmp_path, sentinel):
    tree = project(tmp_path / "tree")
    (tree / "evil.py").symlink_to(sentinel / "victim.py")
    result = invoke("convert", tree, "--in-place")
    assert result.exit_code == 2
    error_line(result.stderr, "evil.py: symbolic link to a path outside the folder",
               "not followed")
    assert "nn.Dense" in (tree / "good.py").read_text()        # the rest converted
    assert os.readlink(tree / "evil.py") == str(sentinel / "victim.py")


def test_output_folder_links_already_there_are_not_written_through(tmp_path, sentinel):
    tree = project(tmp_path / "tree")
    (tree / "notes.txt").write_text("hello")
    out = tmp_path / "out"
    out.mkdir()
    (out / "good.py").symlink_to(sentinel / "victim.py")     # a file link
    (out / "notes.txt").symlink_to(sentinel / "id_rsa")      # a copy target
    (out / "pkg").symlink_to(sentinel)                       # a folder link
    result = invoke("convert", tree, "-o", out)
    assert result.exit_code == 2
    error_line(result.stderr, "good.py: is a symbolic link; not written through")
    error_line(result.stderr, "notes.txt: is a symbolic link; not written through")
    error_line(result.stderr, "pkg: is a symbolic link", "not written through it")
    assert not (sentinel / "m.py").exists()
    assert no_temp_files(out) and no_temp_files(sentinel)


def test_single_file_output_that_is_not_a_regular_file(tmp_path, sentinel):
    (tmp_path / "m.py").write_text(LAYER)
    fifo = tmp_path / "out.py"
    os.mkfifo(fifo)
    result = run_cli("convert", tmp_path / "m.py", "-o", fifo, timeout=60)
    assert result.returncode == 2
    error_line(result.stderr, "out.py: a FIFO, not a regular file; not written")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


# --- 2. input and output folders never nest -----------------------------------

@pytest.mark.parametrize("case", ["output-is-parent", "output-is-input", "output-inside"])
def test_nested_input_and_output_are_refused(tmp_path, sentinel, case):
    anc = tmp_path / "anc"
    proj = project(anc / "proj")
    (proj / "proj").mkdir()                     # anc/proj/proj/x.py: would be overwritten
    (proj / "proj" / "x.py").write_text(LAYER)
    before = snapshot(anc)
    output, message = {"output-is-parent": (anc, "inside the output folder"),
                       "output-is-input": (proj, "is the input folder; use --in-place"),
                       "output-inside": (proj / "out", "inside the input folder")}[case]
    result = invoke("convert", proj, "-o", output)
    assert result.exit_code == 2
    error_line(result.stderr, message)
    assert snapshot(anc) == before


# --- 3. only regular files are read -------------------------------------------

def test_links_in_the_tree_are_not_followed_out_of_it(tmp_path, sentinel):
    tree = project(tmp_path / "tree")
    (tree / "key").symlink_to(sentinel / "id_rsa")
    (tree / "key.py").symlink_to(sentinel / "victim.py")
    (tree / "zero.py").symlink_to("/dev/zero")
    (tree / "zero.bin").symlink_to("/dev/zero")
    (tree / "outside").symlink_to(sentinel)                  # a folder link leaving the tree
    (tree / "alias.py").symlink_to("pkg/m.py")               # stays inside: recreated
    (tree / "pkg" / "up").symlink_to("..")
    out = tmp_path / "out"
    result = run_cli("convert", tree, "-o", out, "-j", "1", timeout=120)
    assert result.returncode == 2
    for name in ("key", "key.py", "zero.py", "zero.bin", "outside"):
        error_line(result.stderr, f"{name}: symbolic link to a path outside the folder")
    written = snapshot(out)
    assert not any(SECRET.encode() in (v[1] or b"") for v in written.values()
                   if isinstance(v[1], bytes))
    assert not (out / "key").exists() and not (out / "outside").exists()
    assert os.readlink(out / "alias.py") == "pkg/m.py"
    assert os.readlink(out / "pkg" / "up") == ".."
    assert "nn.Dense" in (out / "pkg" / "m.py").read_text()


@pytest.mark.parametrize("command", [["convert", "TREE", "-o", "OUT"], ["convert", "TREE", "--check"],
                                     ["analyze", "TREE"]], ids=["convert", "check", "analyze"])
def test_a_fifo_in_the_tree_does_not_hang(tmp_path, sentinel, command):
    tree = project(tmp_path / "tree")
    os.mkfifo(tree / "x.py")
    args = [tree if a == "TREE" else tmp_path / "out" if a == "OUT" else a for a in command]
    result = run_cli(*args, "-j", "1", timeout=60)
    assert result.returncode == 2
    error_line(result.stderr, "x.py: a FIFO, not a regular file; skipped")
    if "OUT" in command:
        assert "nn.Dense" in (tmp_path / "out" / "good.py").read_text()
        assert not (tmp_path / "out" / "x.py").exists()


@pytest.mark.parametrize("command", [["convert"], ["convert", "--in-place"], ["analyze"]])
@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_a_special_file_named_directly_is_a_clear_error(tmp_path, sentinel, command, special):
    path = tmp_path / "x.py"
    if special == "fifo":
        os.mkfifo(path)
    else:
        path = Path(special)
    result = run_cli(command[0], path, *command[1:], timeout=60)
    assert result.returncode == 2
    kind = "a FIFO" if special == "fifo" else "a character device"
    error_line(result.stderr, f"{path}: {kind}, not a regular file; not read")


def test_a_link_named_directly_to_a_device_is_refused(tmp_path, sentinel):
    link = tmp_path / "zero.py"
    link.symlink_to("/dev/zero")
    result = run_cli("convert", link, "--in-place", timeout=60)
    assert result.returncode == 2
    error_line(result.stderr, "zero.py: a character device, not a regular file")
    assert link.is_symlink()


def test_a_huge_file_is_not_read_whole(tmp_path, sentinel):
    big = tmp_path / "big.py"
    with open(big, "wb") as handle:         # sparse: no disk used
        handle.truncate(MAX_SOURCE_BYTES + 1)
    result = invoke("convert", big, "-o", tmp_path / "out.py")
    assert result.exit_code == 2
    error_line(result.stderr, "big.py: larger than 32 MiB; not converted")
    assert not (tmp_path / "out.py").exists()


# --- 4. an unreadable folder is an error --------------------------------------

def _without_root_powers():
    """In the child: drop CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH, so root meets mode 0 too."""
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for cap in (1, 2):
            if libc.prctl(24, cap, 0, 0, 0) != 0:   # PR_CAPBSET_DROP
                raise OSError(ctypes.get_errno(), "prctl")


def _can_drop_root_powers(tmp_path) -> bool:
    probe = tmp_path / "probe"
    probe.mkdir()
    probe.chmod(0)
    try:
        return subprocess.run(["ls", str(probe)], capture_output=True,
                              preexec_fn=_without_root_powers).returncode != 0
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        probe.chmod(0o755)


@pytest.mark.parametrize("command", [["convert", "TREE", "-o", "OUT"], ["analyze", "TREE"]])
def test_an_unreadable_subfolder_is_an_error(tmp_path, sentinel, command):
    if not _can_drop_root_powers(tmp_path):
        pytest.skip("cannot make a folder unreadable for this user")
    tree = project(tmp_path / "tree")
    (tree / "private").mkdir()
    (tree / "private" / "hidden.py").write_text(LAYER)
    (tree / "private").chmod(0)
    try:
        args = [tree if a == "TREE" else tmp_path / "out" if a == "OUT" else a for a in command]
        result = run_cli(*args, "-j", "1", preexec_fn=_without_root_powers)
    finally:
        (tree / "private").chmod(0o755)
    assert result.returncode == 2
    error_line(result.stderr, "private: cannot read folder: Permission denied",
               "its files are left out")
    if "OUT" in command:
        assert "1 with errors" in result.stderr
        assert "nn.Dense" in (tmp_path / "out" / "good.py").read_text()


# --- 5. one file's crash never stops the others -------------------------------

def test_an_internal_error_on_one_file_spares_the_others(tmp_path, sentinel, monkeypatch):
    import ms_migrate.engine as engine
    real = engine.convert_source

    def crashing(source, filename="<string>", rules=None, *args, **options):
        if filename.endswith("boom.py"):
            raise AttributeError("'NoneType' object has no attribute 'line'")
        return real(source, filename, rules, *args, **options)

    monkeypatch.setattr(engine, "convert_source", crashing)   # in-process with -j 1
    tree = project(tmp_path / "tree")
    (tree / "boom.py").write_text(LAYER)
    out = tmp_path / "out"
    result = invoke("convert", tree, "-o", out, "-j", "1", "--report", tmp_path / "r.json")
    assert result.exit_code == 2
    error_line(result.stderr, "boom.py: internal error (AttributeError:", "please report it")
    assert "nn.Dense" in (out / "good.py").read_text() and "nn.Dense" in (out / "pkg/m.py").read_text()
    assert (out / "boom.py").read_text() == LAYER            # the output stays complete
    report = json.loads((tmp_path / "r.json").read_text())
    assert any("boom.py: internal error" in e for e in report["errors"])


# --- 6. reports escape every name ---------------------------------------------

HOSTILE = ["javascript:alert(document.cookie)", '<img src=x onerror=alert(1)>', 'q"onmouseover="x']


def hostile_tree(root: Path) -> Path:
    root.mkdir()
    for name in HOSTILE:
        (root / name).mkdir()
        (root / name / "m.py").write_text(LAYER + "torch_like = nn.NoSuchLayer()\n")
    (root / "<svg onload=alert(1)>.py").write_text(LAYER + "x = nn.NoSuchLayer()\n")
    fd = os.open(os.path.join(os.fsencode(root), b"caf\xff.py"), os.O_WRONLY | os.O_CREAT)
    os.write(fd, (LAYER + "y = nn.NoSuchLayer()\n").encode())
    os.close(fd)
    return root


def test_reports_escape_hostile_and_non_utf8_names(tmp_path, sentinel):
    tree = hostile_tree(tmp_path / "tree")
    # reports inside the tree: relative links would start with the folder's name
    md, page = tree / "r.md", tree / "r.html"
    result = run_cli("convert", tree, "-o", tmp_path / "out", "--report", tmp_path / "r.json",
                     "--report-md", md, "--report-html", page)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    text = page.read_text(encoding="utf-8")
    hrefs = re.findall(r'href="([^"]*)"', text)
    assert hrefs and all(h.startswith(("#", "./", "../")) for h in hrefs), hrefs
    assert "<img" not in text and "<svg" not in text and 'q"onmouseover' not in text
    assert "./caf%FF.py#L" in text and "caf\\xff.py" in text
    markdown = md.read_text(encoding="utf-8")
    assert "<img" not in markdown and "<svg" not in markdown
    links = re.findall(r"\]\(([^)]*)\)", markdown)
    assert links and all(h.startswith(("#", "./", "../")) for h in links), links
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert "caf\\xff.py" in {f["path"] for f in data["files"]}
    assert (tmp_path / "out" / os.fsdecode(b"caf\xff.py")).exists()


def test_non_utf8_names_print_without_crashing(tmp_path, sentinel):
    tree = hostile_tree(tmp_path / "tree")
    for args in (["analyze", tree], ["analyze", tree, "--markdown"], ["analyze", tree, "--json"],
                 ["convert", tree, "--diff"]):
        result = run_cli(*args)
        assert result.returncode in (0, 1), (args, result.stderr)
        assert "Traceback" not in result.stderr
        shown = json.dumps("caf\\xff.py")[1:-1] if "--json" in args else "caf\\xff.py"
        assert shown in result.stdout, args


def test_terminal_escapes_in_names_are_shown_escaped(tmp_path, sentinel):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a\x1b]0;pwned\x07.py").write_text("import torch\nx = torch(\n")
    result = run_cli("convert", tree, "--check")
    assert result.returncode == 2
    assert "\x1b" not in result.stderr and "a\\x1b]0;pwned\\x07.py" in result.stderr


# --- 7. signals, owners -------------------------------------------------------

def big_folder(root: Path, files: int = 40) -> Path:
    root.mkdir()
    source = generated_module(60)
    for i in range(files):
        (root / f"m{i:03}.py").write_text(source)
    return root


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143),
                                       (signal.SIGHUP, 129)])
def test_a_signal_ends_a_folder_run_cleanly(tmp_path, sentinel, sig, code):
    src = big_folder(tmp_path / "src")
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "ms_migrate", "convert", str(src), "-o",
                             str(out), "-j", "2", "-q"], stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline and not (
            out.exists() and any(out.iterdir())):
        time.sleep(0.01)
    proc.send_signal(sig)              # the main process only, as `kill PID` does
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the run finished before the signal")
    assert proc.returncode == code, err
    assert b"interrupted" in err and b"Traceback" not in err
    assert no_temp_files(out)


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_ends_a_one_file_conversion_cleanly(tmp_path, sentinel, sig, code):
    path = tmp_path / "big.py"
    path.write_text(generated_module(1500))
    before = path.read_bytes()
    proc = subprocess.Popen([sys.executable, "-m", "ms_migrate", "convert", str(path),
                             "--in-place", "-q"], stderr=subprocess.PIPE)
    time.sleep(1.5)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 1 and path.read_bytes() != before:
        pytest.skip("the conversion finished before the signal")
    assert proc.returncode == code, err      # never 1, which pre-commit reads as "changed"
    assert b"interrupted" in err and b"Traceback" not in err
    assert path.read_bytes() == before and no_temp_files(tmp_path)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file another owner")
@pytest.mark.parametrize("folder", [False, True])
def test_in_place_as_root_keeps_owner_group_and_mode(tmp_path, sentinel, folder):
    tree = project(tmp_path / "tree")
    path = tree / "good.py"
    os.chown(path, 65534, 65534)
    path.chmod(0o640)
    result = invoke("convert", tree if folder else path, "--in-place")
    assert result.exit_code == 1, result.stderr
    st = os.stat(path)
    assert "nn.Dense" in path.read_text()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (65534, 65534, 0o640)


def test_a_copy_never_keeps_set_user_id(tmp_path, sentinel):
    tree = project(tmp_path / "tree")
    tool = tree / "tool.sh"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o4755)
    assert invoke("convert", tree, "-o", tmp_path / "out").exit_code == 0
    assert stat.S_IMODE(os.stat(tmp_path / "out" / "tool.sh").st_mode) == 0o755


@pytest.fixture(scope="module")
def torch_weights(tmp_path_factory):
    torch = pytest.importorskip("torch")
    pytest.importorskip("mindspore")
    path = tmp_path_factory.mktemp("weights") / "big.pth"
    torch.save({f"fc{i}.weight": torch.randn(1024, 2048) for i in range(8)}, path)
    return path


@pytest.mark.parametrize("sig, code, when", [
    (signal.SIGINT, 130, "importing"),      # used to abort the interpreter (exit -6)
    (signal.SIGINT, 130, "writing"),
    (signal.SIGTERM, 143, "writing"),       # used to leave the staged checkpoint behind
])
def test_a_signal_ends_convert_weights_cleanly(tmp_path, sentinel, torch_weights, sig, code,
                                               when):
    staging = tmp_path / "staging"            # TMPDIR: where the checkpoint is staged
    staging.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "GLOG_v": "3", "TMPDIR": str(staging)}
    proc = subprocess.Popen([sys.executable, "-m", "ms_migrate", "convert-weights",
                             str(torch_weights), "-o", str(out / "big.ckpt")],
                            stderr=subprocess.PIPE, env=env)
    if when == "importing":
        time.sleep(1.2)
    else:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline and not any(
                staging.iterdir()):
            time.sleep(0.005)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip("the conversion finished before the signal")
    assert proc.returncode == code, err
    assert b"interrupted" in err and b"Traceback" not in err and b"Fatal" not in err
    assert list(staging.iterdir()) == [] and list(out.iterdir()) == []


def test_a_signal_inside_a_deferred_block_acts_when_the_block_ends():
    from ms_migrate.runtime.signals import deferred
    steps = []
    with pytest.raises(KeyboardInterrupt):
        with deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)                  # a handler would have run by now
            steps.append("block finished")
    assert steps == ["block finished"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
