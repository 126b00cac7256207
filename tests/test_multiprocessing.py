"""torch.multiprocessing -> Python's multiprocessing: worker processes fed through
pipes (minimalRL's a2c layout) compute what torch's do. Each side runs in a fresh
interpreter: forking a process whose MindSpore pipelines have started threads (as
other tests of the session do) can hang the child."""
import subprocess
import sys

import numpy as np
import pytest

from ms_migrate import convert_source

pytest.importorskip("torch")
pytest.importorskip("mindspore")

SOURCE = '''
import torch
import torch.multiprocessing as mp


def worker(worker_id, conn):
    while True:
        cmd, data = conn.recv()
        if cmd == "step":
            conn.send(torch.tensor(data, dtype=torch.float32).sum().item() * (worker_id + 1))
        elif cmd == "close":
            conn.close()
            break


def run(n):
    master_ends, worker_ends = zip(*[mp.Pipe() for _ in range(n)])
    processes = []
    for worker_id, (master_end, worker_end) in enumerate(zip(master_ends, worker_ends)):
        p = mp.Process(target=worker, args=(worker_id, worker_end))
        p.daemon = True
        p.start()
        processes.append(p)
    for i, end in enumerate(master_ends):
        end.send(("step", [1.5, float(i), 2.0]))
    results = [end.recv() for end in master_ends]
    for end in master_ends:
        end.send(("close", None))
    for p in processes:
        p.join()
    return results, [p.exitcode for p in processes], mp.cpu_count() > 0


if __name__ == "__main__":
    print("RESULT", run(3))
'''


def _run(code: str, tmp_path, name: str):
    script = tmp_path / name
    script.write_text(code, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    line = next(l for l in done.stdout.splitlines() if l.startswith("RESULT"))
    return eval(line[len("RESULT "):])  # noqa: S307 - the test's own printed tuple


def test_pipe_workers_give_torchs_results(tmp_path):
    result = convert_source(SOURCE, "workers.py")
    assert "import torch" not in result.code
    assert "import multiprocessing as mp" in result.code
    assert "mp.Process(target=worker, args=(worker_id, worker_end))" in result.code
    assert any("are copies" in f.message for f in result.report.findings)
    expected = _run(SOURCE, tmp_path, "workers_torch.py")
    actual = _run(result.code, tmp_path, "workers_ms.py")
    assert expected == ([3.5, 9.0, 16.5], [0, 0, 0], True)
    np.testing.assert_allclose(actual[0], expected[0])
    assert actual[1:] == expected[1:]
