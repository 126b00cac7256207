"""torch.multiprocessing.spawn -> a call of the worker function with msrun's local rank:
the torch script spawns two workers; the converted script, launched by msrun with two
workers, writes the same files from the same ranks."""
import os
import shutil
import socket
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("torch")
pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402

SOURCE = textwrap.dedent("""\
    import os
    import sys
    import torch
    import torch.multiprocessing as mp


    def worker(rank, world_size, out_dir):
        x = torch.arange(4.0) * (rank + 1) + world_size
        with open(os.path.join(out_dir, f"rank{rank}.txt"), "w") as f:
            f.write(",".join(str(v) for v in (x * 2 + 1).tolist()))


    if __name__ == "__main__":
        world_size, out_dir = int(sys.argv[1]), sys.argv[2]
        mp.spawn(worker, args=(world_size, out_dir), nprocs=world_size)
    """)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _written(out_dir):
    return {name: open(os.path.join(out_dir, name)).read() for name in os.listdir(out_dir)}


def test_spawned_workers_become_msrun_workers(tmp_path):
    bin_dir = os.path.dirname(sys.executable)
    msrun = shutil.which("msrun", path=bin_dir)
    if msrun is None:
        pytest.skip("msrun is not installed beside this Python")
    result = convert_source(SOURCE, "prog.py")
    code = result.code
    lines = [line for line in code.splitlines() if not line.lstrip().startswith("#")]
    assert "torch" not in "\n".join(lines), code
    assert 'worker(int(os.environ.get("DEVICE_ID", "0")), world_size, out_dir)' in code
    assert convert_source(code, "prog.py").code == code  # idempotent
    notes = [f.message for f in result.report.findings if f.api == "torch.multiprocessing.spawn"]
    assert notes and "msrun --worker_num=world_size" in notes[0]
    (tmp_path / "prog.py").write_text(SOURCE)
    (tmp_path / "prog_ms.py").write_text(code)
    for name in ("torch", "ms"):
        (tmp_path / name).mkdir()
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""), GLOG_v="3")
    subprocess.run([sys.executable, "prog.py", "2", str(tmp_path / "torch")], cwd=tmp_path,
                   env=env, check=True, timeout=300)
    subprocess.run([msrun, "--worker_num=2", "--local_worker_num=2",
                    f"--master_port={_free_port()}", "--join=True",
                    f"--log_dir={tmp_path / 'logs'}", "prog_ms.py", "2", str(tmp_path / "ms")],
                   cwd=tmp_path, env=env, check=True, timeout=300,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    theirs = _written(tmp_path / "torch")
    assert sorted(theirs) == ["rank0.txt", "rank1.txt"]
    assert _written(tmp_path / "ms") == theirs
