"""Collectives: a torch script's all_reduce (SUM, MAX), all_gather, broadcast and
barrier, converted to mindspore.mint.distributed, give under msrun with two CPU
workers what torch gives with two gloo processes."""
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ms_migrate import convert_source

pytest.importorskip("torch")
pytest.importorskip("mindspore")

SCRIPT = textwrap.dedent('''\
    import torch
    import torch.distributed as dist


    def main():
        dist.init_process_group(backend="gloo")
        rank = dist.get_rank()
        world = dist.get_world_size()
        total = torch.arange(4, dtype=torch.float32) * (rank + 1)
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
        largest = torch.tensor([3.0 - rank, float(rank)])
        dist.all_reduce(largest, dist.ReduceOp.MAX)
        legacy = torch.ones(2) * (rank + 2)
        dist.all_reduce(legacy, op=dist.reduce_op.SUM)
        parts = [torch.zeros(2) for _ in range(world)]
        dist.all_gather(parts, torch.ones(2) * (rank + 0.5))
        shared = torch.tensor([10.0 + rank])
        dist.broadcast(shared, 1)
        dist.barrier()
        with open(f"result_{rank}.txt", "w") as out:
            print("RESULT", rank, world, total.tolist(), largest.tolist(), legacy.tolist(),
                  [p.tolist() for p in parts], shared.tolist(), file=out)
        dist.destroy_process_group()


    main()
''')

MSRUN = Path(sys.executable).with_name("msrun")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _results(folder: Path) -> list:
    """Each rank's line, which it writes to its own file (their stdout interleaves)."""
    return [(folder / f"result_{rank}.txt").read_text().strip() for rank in range(2)]


def _torch_results(script: Path) -> list:
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
         f"--master_port={_free_port()}", str(script)],
        capture_output=True, text=True, timeout=300, cwd=script.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    return _results(script.parent)


def _mindspore_results(script: Path) -> list:
    env = {**os.environ, "PATH": f"{MSRUN.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    logs = script.parent / "logs"
    done = subprocess.run(
        [str(MSRUN), "--worker_num=2", "--local_worker_num=2", f"--master_port={_free_port()}",
         f"--log_dir={logs}", "--join=True", str(script)],
        capture_output=True, text=True, timeout=300, env=env, cwd=script.parent)
    output = "".join(p.read_text(errors="replace") for p in sorted(logs.glob("worker_*.log")))
    assert done.returncode == 0, output[-3000:]
    return _results(script.parent)


def test_collectives_convert_to_mint_distributed():
    code = convert_source(SCRIPT, "collectives.py").code
    assert "from mindspore.mint import distributed as dist" in code
    assert "torch" not in code
    assert "dist.all_reduce(total, op=ops.ReduceOp.SUM)" in code


@pytest.mark.skipif(not MSRUN.exists(), reason="msrun is not installed")
def test_two_workers_reduce_gather_and_broadcast_as_torch(tmp_path):
    torch_script = tmp_path / "torch_side" / "collectives.py"
    torch_script.parent.mkdir()
    torch_script.write_text(SCRIPT, encoding="utf-8")
    ms_script = tmp_path / "ms_side" / "collectives.py"
    ms_script.parent.mkdir()
    ms_script.write_text(convert_source(SCRIPT, "collectives.py").code, encoding="utf-8")
    expected = _torch_results(torch_script)
    assert expected[0].startswith("RESULT 0 2 [0.0, 3.0, 6.0, 9.0] [3.0, 1.0] [5.0, 5.0]")
    assert _mindspore_results(ms_script) == expected
