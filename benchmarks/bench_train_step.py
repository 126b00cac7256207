"""How fast a converted model trains: one optimizer step, torch eager beside MindSpore.

    python benchmarks/bench_train_step.py [--steps 30] [--json]

For the bundled examples (examples/cnn_classifier, examples/gpt_mini) the model files
are converted with ms-migrate and one training step is timed on CPU, in one run:

- torch eager: zero_grad, forward, loss, backward, Adam step;
- MindSpore PyNative: the step ms-migrate writes (value_and_grad + optimizer(grads));
- MindSpore compiled: the same step under `@mindspore.jit` with `nn.Adam` (what a
  MindSpore user writes for speed); its first call (compilation) is reported apart.

Steady-state figures are medians over --steps steps after two warm-up steps; both
frameworks use the machine's threads as they choose.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def convert_example(folder: Path, out: Path) -> None:
    from ms_migrate import convert_source
    for path in folder.glob("*.py"):
        (out / path.name).write_text(convert_source(path.read_text(), path.name).code)


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def timed(step, steps: int):
    """(first call, median of the steady steps) in milliseconds."""
    start = time.perf_counter()
    step()
    first = time.perf_counter() - start
    step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return first * 1e3, statistics.median(times) * 1e3


# --- the two workloads: (build torch model, build MindSpore cell, batch, loss) ------
def cnn_batch(rng):
    return (rng.standard_normal((32, 3, 16, 16)).astype("float32"),
            rng.integers(0, 10, (32,)).astype("int32"))


def gpt_batch(rng):
    tokens = rng.integers(0, 64, (8, 17)).astype("int32")
    return tokens[:, :-1], tokens[:, 1:]


def torch_step(model, batch, workload):
    import torch
    import torch.nn.functional as F
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = (torch.from_numpy(a.astype("int64") if a.dtype.kind == "i" else a) for a in batch)
    model.train()

    def step():
        optimizer.zero_grad()
        if workload == "gpt":
            _, loss = model(x, y)
        else:
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
    return step


def mindspore_steps(cell, batch, workload):
    import mindspore
    from mindspore import nn, ops
    from mindspore.experimental import optim
    optimizer = optim.Adam(cell.trainable_params(), lr=1e-3)
    x, y = (mindspore.Tensor(a) for a in batch)
    cell.set_train(True)

    def forward_fn(x, y):
        if workload == "gpt":
            return cell(x, y)[1]
        return ops.cross_entropy(cell(x), y)

    grad_fn = mindspore.value_and_grad(forward_fn, None, optimizer.parameters)

    def train_step(x, y):
        loss, grads = grad_fn(x, y)
        optimizer(grads)
        return loss

    # mindspore.experimental.optim's step is itself a jit function that cannot be
    # called from another one (measured: "The parameters number of the function is 9,
    # but the number of provided arguments is 1"): the compiled step uses nn.Adam.
    graph_optimizer = nn.Adam(cell.trainable_params(), learning_rate=1e-3)
    graph_grad_fn = mindspore.value_and_grad(forward_fn, None, graph_optimizer.parameters)

    @mindspore.jit
    def compiled(x, y):
        loss, grads = graph_grad_fn(x, y)
        graph_optimizer(grads)
        return loss

    return (lambda: train_step(x, y).asnumpy()), (lambda: compiled(x, y).asnumpy())


def run(steps: int):
    import torch
    rng = np.random.default_rng(0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        sys.path.insert(0, tmp)
        for workload, folder, cls, batch in [
                ("cnn", "cnn_classifier", "SmallResNet", cnn_batch(rng)),
                ("gpt", "gpt_mini", "GPT", gpt_batch(rng))]:
            source = ROOT / "examples" / folder
            out = Path(tmp) / folder
            out.mkdir()
            convert_example(source, out)
            args = ()
            sys.path.insert(0, str(source))
            if workload == "gpt":
                args = (load(source / "config.py", "config").GPTConfig(),)
            torch_model = getattr(load(source / "model.py", f"torch_{workload}"), cls)(*args)
            sys.path.remove(str(source))
            sys.path.insert(0, str(out))
            if workload == "gpt":
                args = (load(out / "config.py", "config").GPTConfig(),)
            cell = getattr(load(out / "model.py", f"ms_{workload}"), cls)(*args)
            sys.path.remove(str(out))
            torch.manual_seed(0)
            t_first, t_step = timed(torch_step(torch_model, batch, workload), steps)
            eager, compiled = mindspore_steps(cell, batch, workload)
            p_first, p_step = timed(eager, steps)
            j_first, j_step = timed(compiled, steps)
            rows.append({"model": workload, "torch_ms": t_step, "pynative_ms": p_step,
                         "jit_ms": j_step, "jit_compile_ms": j_first - j_step,
                         "pynative_vs_torch": p_step / t_step, "jit_vs_torch": j_step / t_step})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = run(args.steps)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print("| model | torch eager | MindSpore PyNative | MindSpore jit | jit compile | "
          "PyNative / torch | jit / torch |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['torch_ms']:.1f} ms | {r['pynative_ms']:.1f} ms | "
              f"{r['jit_ms']:.1f} ms | {r['jit_compile_ms'] / 1e3:.1f} s | "
              f"{r['pynative_vs_torch']:.2f}x | {r['jit_vs_torch']:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
