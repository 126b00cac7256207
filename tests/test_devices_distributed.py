"""Data parallel: a converted torchrun/DDP script runs as one process and under msrun
with two CPU workers, where each worker sees its rank and the group size."""
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ms_migrate import convert_source

pytest.importorskip("mindspore")

SCRIPT = textwrap.dedent('''\
    import sys

    import torch
    import torch.distributed as dist
    import torch.nn as nn
    from torch.nn.parallel import DistributedDataParallel as DDP

    distributed = sys.argv[1] == "ddp"
    if distributed:
        dist.init_process_group(backend="nccl")
    rank = dist.get_rank() if dist.is_initialized() else 0
    world_size = dist.get_world_size() if dist.is_initialized() else 1
    model = nn.Linear(4, 2)
    if distributed:
        model = DDP(model, device_ids=[rank])
    print("RESULT", rank, world_size, type(model.module if distributed else model).__name__,
          flush=True)
''')

MSRUN = Path(sys.executable).with_name("msrun")


def converted(tmp_path) -> Path:
    result = convert_source(SCRIPT, "train.py")
    assert "communication.init()" in result.code and "DDP(" not in result.code
    path = tmp_path / "train_ms.py"
    path.write_text(result.code, encoding="utf-8")
    return path


def test_single_process_path_runs(tmp_path):
    done = subprocess.run([sys.executable, str(converted(tmp_path)), "single"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "RESULT 0 1 Dense" in done.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_two_workers(script: Path, tmp_path) -> list:
    """The script's RESULT lines under msrun with two CPU workers, sorted by rank."""
    env = {**os.environ, "PATH": f"{MSRUN.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    logs = tmp_path / "logs"
    done = subprocess.run(
        [str(MSRUN), "--worker_num=2", "--local_worker_num=2", f"--master_port={_free_port()}",
         f"--log_dir={logs}", "--join=True", str(script), "ddp"],
        capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    output = "".join(p.read_text(errors="replace") for p in sorted(logs.glob("worker_*.log")))
    assert done.returncode == 0, output[-3000:]
    return sorted(line for line in output.splitlines() if line.startswith("RESULT"))


@pytest.mark.skipif(not MSRUN.exists(), reason="msrun is not installed")
def test_two_workers_under_msrun(tmp_path):
    assert run_two_workers(converted(tmp_path), tmp_path) == ["RESULT 0 2 Dense",
                                                              "RESULT 1 2 Dense"]


TRAIN = textwrap.dedent('''\
    import sys

    import numpy as np
    import torch
    import torch.distributed as dist
    import torch.nn as nn
    from torch.nn.parallel import DistributedDataParallel as DDP

    distributed = sys.argv[1] == "ddp"
    if distributed:
        dist.init_process_group(backend="nccl")
    rank = dist.get_rank() if dist.is_initialized() else 0
    world_size = dist.get_world_size() if dist.is_initialized() else 1
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    if distributed:
        model = DDP(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    criterion = nn.MSELoss()
    data = np.random.default_rng(0).standard_normal((8, 4)).astype("float32")
    target = data.sum(axis=1, keepdims=True)
    shard = slice(rank * 8 // world_size, (rank + 1) * 8 // world_size)  # each rank its half
    x, y = torch.from_numpy(data[shard]), torch.from_numpy(target[shard])
    for step in range(3):
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    net = model.module if distributed else model
    print("RESULT", rank, *[float(v) for p in net.parameters() for v in p.detach().flatten()],
          flush=True)
''')


def test_ddp_training_step_averages_gradients(tmp_path):
    result = convert_source(TRAIN, "train.py")
    assert "grads = grad_reducer(grads)" in result.code
    path = tmp_path / "train_ms.py"
    path.write_text(result.code, encoding="utf-8")
    single = subprocess.run([sys.executable, str(path), "single"], capture_output=True,
                            text=True, timeout=300)
    assert single.returncode == 0, single.stderr[-2000:]
    (line,) = [ln for ln in single.stdout.splitlines() if ln.startswith("RESULT")]
    expected = [float(v) for v in line.split()[2:]]
    if not MSRUN.exists():
        pytest.skip("msrun is not installed")
    ranks = [[float(v) for v in line.split()[2:]] for line in run_two_workers(path, tmp_path)]
    assert len(ranks) == 2
    # each rank trained on its half of the batch; with the gradients averaged, both hold
    # what one process training on the whole batch holds
    for params in ranks:
        assert params == pytest.approx(expected, rel=1e-5, abs=1e-6)


DATA_PARALLEL = textwrap.dedent("""\
    import torch
    import torch.nn as nn


    class Generator(nn.Module):
        def __init__(self, ngpu):
            super().__init__()
            self.ngpu = ngpu
            self.main = nn.Sequential(nn.Linear(4, 3), nn.Tanh())

        def forward(self, input):
            if input.is_cuda and self.ngpu > 1:
                output = nn.parallel.data_parallel(self.main, input, range(self.ngpu))
            else:
                output = self.main(input)
            return output


    def run(net, x):
        return (torch.nn.parallel.data_parallel(net, (x,), device_ids=None)
                + nn.parallel.data_parallel(net.main, x))
    """)


def test_functional_data_parallel_calls_the_module_like_torch_on_one_device():
    torch = pytest.importorskip("torch")
    mindspore = pytest.importorskip("mindspore")
    import numpy as np
    from ms_migrate.runtime.equivalence import copy_torch_weights
    result = convert_source(DATA_PARALLEL)
    code = result.code
    assert "data_parallel" not in code and "output = self.main(input)" in code
    assert convert_source(code).code == code
    warned = [f.line for f in result.report.findings if f.api == "torch.nn.parallel.data_parallel"]
    assert warned == [13, 20, 21]
    t_ns, m_ns = {}, {}
    exec(compile(DATA_PARALLEL, "<torch>", "exec"), t_ns)
    exec(compile(code, "<ms>", "exec"), m_ns)
    tnet, mnet = t_ns["Generator"](2), m_ns["Generator"](2)
    copy_torch_weights(tnet, mnet)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    # torch's data_parallel needs an accelerator (on CPU: "device type could not be
    # determined"); on one device it calls the module: the forward's else branch
    tx, mx = torch.from_numpy(x), mindspore.Tensor(x)
    np.testing.assert_allclose(mnet(mx).asnumpy(), tnet(tx).detach().numpy(), rtol=1e-5, atol=1e-6)
    expected = (tnet(tx) + tnet.main(tx)).detach().numpy()
    np.testing.assert_allclose(m_ns["run"](mnet, mx).asnumpy(), expected, rtol=1e-5, atol=1e-6)
