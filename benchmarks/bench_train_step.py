"""How fast a converted model trains: one optimizer step, torch eager beside MindSpore.

    python benchmarks/bench_train_step.py [--steps 20] [--json] [--kernels] [--threads N]

For the bundled examples (examples/cnn_classifier, examples/gpt_mini) the model files
and a small torch training loop (TRAINING below) are converted with ms-migrate, and
what the conversion wrote is timed on CPU, in one run:

- torch eager: the loop as written (zero_grad, forward, loss, backward, Adam step);
- PyNative: the plain conversion (value_and_grad + optimizer(grads), nothing compiled);
- --jit, whole step: the `--jit` conversion of the loop: grad_fn and optimizer(grads)
  in one `@mindspore.jit` train_step, the model's construct compiled too;
- --jit, step per call: the `--jit` conversion of a step function called once per
  batch (as in examples/gpt_mini's Trainer): there --jit leaves the step in PyNative
  and compiles only the model's construct.

Each step ends with `loss.item()`, so every figure includes finishing the step's
work. Steady-state figures are medians over --steps steps after two warm-up steps;
the first call's extra time (compilation) is reported apart. Both frameworks use
the machine's threads as they choose, or --threads N each. --kernels adds where the time goes: per-kernel
timings of the dominant layers and the cost of launching one small operation.
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

# The torch training code that is converted; each step is timed around itself.
TRAINING = '''
import time

import torch
import torch.nn.functional as F


def loop(model, batches, gpt):
    """Whole loop: the step's definitions go before it (one compilation)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    times = []
    for x, y in batches:
        start = time.perf_counter()
        optimizer.zero_grad()
        if gpt:
            logits, loss = model(x, y)
        else:
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        loss.item()
        times.append(time.perf_counter() - start)
    return times


def make_optimizer(model):
    return torch.optim.Adam(model.parameters(), lr=1e-3)


def one_step(model, optimizer, x, y, gpt):
    """A step function called once per batch (a Trainer's train_step)."""
    model.train()
    optimizer.zero_grad()
    if gpt:
        logits, loss = model(x, y)
    else:
        loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()
'''


def convert_folder(folder: Path, out: Path, jit: bool) -> None:
    from ms_migrate import convert_source
    out.mkdir(parents=True)
    for path in folder.glob("*.py"):
        (out / path.name).write_text(convert_source(path.read_text(), path.name, jit=jit).code)


def load(path: Path, name: str):
    """A module from a file, registered by name (mindspore.jit finds functions so)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def cnn_batch(rng):
    return (rng.standard_normal((32, 3, 16, 16)).astype("float32"),
            rng.integers(0, 10, (32,)).astype("int32"))


def gpt_batch(rng):
    tokens = rng.integers(0, 64, (8, 17)).astype("int32")
    return tokens[:, :-1], tokens[:, 1:]


WORKLOADS = [("cnn", "cnn_classifier", "SmallResNet", cnn_batch),
             ("gpt", "gpt_mini", "GPT", gpt_batch)]


def _build(folder: Path, cls: str, workload: str, tag: str):
    """The example's model class, loaded from `folder` (torch or converted)."""
    sys.path.insert(0, str(folder))
    try:
        args = ()
        if workload == "gpt":
            args = (load(folder / "config.py", "config").GPTConfig(),)
        return getattr(load(folder / "model.py", f"{tag}_{workload}"), cls)(*args)
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("config", None)


def _summary(first: float, times) -> tuple:
    steady = statistics.median(times) * 1e3
    return steady, first * 1e3 - steady


def run(steps: int):
    import mindspore
    import torch
    rng = np.random.default_rng(0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "training_torch.py").write_text(TRAINING)
        training = {"torch": load(tmp / "training_torch.py", "bench_training_torch")}
        from ms_migrate import convert_source
        for tag, jit in (("pynative", False), ("jit", True)):
            path = tmp / f"training_{tag}.py"
            path.write_text(convert_source(TRAINING, path.name, jit=jit).code)
            training[tag] = load(path, f"bench_training_{tag}")
        for workload, folder, cls, make_batch in WORKLOADS:
            source = ROOT / "examples" / folder
            for tag, jit in (("pynative", False), ("jit", True)):
                convert_folder(source, tmp / f"{folder}_{tag}", jit)
            batch = make_batch(rng)
            gpt = workload == "gpt"
            n = steps + 3  # first call, one more warm-up, then the timed steps
            torch.manual_seed(0)
            x, y = (torch.from_numpy(a.astype("int64") if a.dtype.kind == "i" else a)
                    for a in batch)
            t = training["torch"].loop(_build(source, cls, workload, "torch"),
                                       [(x, y)] * n, gpt)
            row = {"model": workload, "torch_ms": statistics.median(t[2:]) * 1e3}
            mx, my = (mindspore.Tensor(a) for a in batch)
            for tag, folder_tag, key in (("pynative", "pynative", "pynative"),
                                         ("jit", "jit", "jit_step")):
                model = _build(tmp / f"{folder}_{folder_tag}", cls, workload, f"ms_{tag}")
                times = training[tag].loop(model, [(mx, my)] * n, gpt)
                row[f"{key}_ms"], row[f"{key}_compile_ms"] = _summary(times[0], times[2:])
            # --jit where the step is a function called once per batch
            model = _build(tmp / f"{folder}_jit", cls, workload, "ms_jit_call")
            optimizer = training["jit"].make_optimizer(model)
            times = []
            for _ in range(n):
                start = time.perf_counter()
                training["jit"].one_step(model, optimizer, mx, my, gpt)
                times.append(time.perf_counter() - start)
            row["jit_model_ms"], row["jit_model_compile_ms"] = _summary(times[0], times[2:])
            for key in ("pynative", "jit_step", "jit_model"):
                row[f"{key}_vs_torch"] = row[f"{key}_ms"] / row["torch_ms"]
            rows.append(row)
    return rows


# --- where the time goes ------------------------------------------------------------------
def _median_ms(fn, repeat: int = 20) -> float:
    fn()
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def kernels():
    """Forward + backward of single layers at the examples' shapes, torch eager beside
    MindSpore compiled, and the cost of one tiny operation (launch overhead)."""
    import mindspore
    import torch
    from mindspore import nn, ops
    rng = np.random.default_rng(0)
    rows = []

    def layer_pair(name, torch_layer, ms_layer, shape):
        data = rng.standard_normal(shape).astype("float32")
        tx = torch.from_numpy(data).requires_grad_()

        def torch_step():
            torch_layer(tx).sum().backward()
        mx = mindspore.Tensor(data)

        def forward(v):
            return ms_layer(v).sum()
        grad = mindspore.jit(mindspore.value_and_grad(forward, 0, ms_layer.trainable_params()))
        ms_layer.set_train(True)
        torch_ms = _median_ms(torch_step)
        ms_ms = _median_ms(lambda: grad(mx)[0].asnumpy())
        rows.append({"kernel": name, "torch_ms": torch_ms, "mindspore_jit_ms": ms_ms,
                     "ratio": ms_ms / torch_ms})

    layer_pair("Conv2d 16->16 3x3, 32x16x16x16 (fwd+bwd)",
               torch.nn.Conv2d(16, 16, 3, padding=1, bias=False),
               nn.Conv2d(16, 16, 3, pad_mode="pad", padding=1), (32, 16, 16, 16))
    layer_pair("Conv2d 16->32 3x3 stride 2 (fwd+bwd)",
               torch.nn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False),
               nn.Conv2d(16, 32, 3, stride=2, pad_mode="pad", padding=1), (32, 16, 16, 16))
    layer_pair("BatchNorm2d 16, 32x16x16x16 (fwd+bwd)", torch.nn.BatchNorm2d(16),
               nn.BatchNorm2d(16), (32, 16, 16, 16))
    layer_pair("Linear 32->96, 128 rows (fwd+bwd)", torch.nn.Linear(32, 96),
               nn.Dense(32, 96), (128, 32))
    layer_pair("LayerNorm 32, 128 rows (fwd+bwd)", torch.nn.LayerNorm(32),
               nn.LayerNorm((32,)), (128, 32))
    # the floor: what one compiled forward + backward call costs whatever its work
    layer_pair("Linear 2->2, 2 rows (fwd+bwd): the cost of a call", torch.nn.Linear(2, 2),
               nn.Dense(2, 2), (2, 2))

    # One small operation: what a step of many small layers pays per operation.
    small = np.ones((8, 8), "float32")
    tx, mx = torch.from_numpy(small), mindspore.Tensor(small)

    def torch_chain():
        v = tx
        for _ in range(100):
            v = v + 1.0
        return v

    def ms_chain(v):
        for _ in range(100):
            v = v + 1.0
        return v

    def ms_one(v):
        return v + 1.0

    compiled, compiled_one = mindspore.jit(ms_chain), mindspore.jit(ms_one)
    per_op = {"torch eager": _median_ms(torch_chain) / 100 * 1e3,
              "MindSpore PyNative": _median_ms(lambda: ms_chain(mx).asnumpy()) / 100 * 1e3,
              "MindSpore jit (100 in one function)":
                  _median_ms(lambda: compiled(mx).asnumpy()) / 100 * 1e3,
              "MindSpore jit (a function of one)":
                  _median_ms(lambda: compiled_one(mx).asnumpy()) * 1e3}
    del ops
    return rows, per_op


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--kernels", action="store_true",
                        help="also time single layers and one small operation")
    parser.add_argument("--threads", type=int,
                        help="threads each framework may use (default: their own choice)")
    args = parser.parse_args()
    if args.threads:
        import mindspore
        import torch
        torch.set_num_threads(args.threads)
        mindspore.set_context(runtime_num_threads=args.threads)
    rows = run(args.steps)
    extra = kernels() if args.kernels else None
    if args.json:
        out = {"steps": rows}
        if extra is not None:
            out["kernels"], out["per_op_us"] = extra
        print(json.dumps(out, indent=2))
        return 0
    print("| model | torch eager | PyNative | --jit, whole step | --jit, step per call "
          "(construct compiled) | PyNative / torch | whole step / torch | "
          "step per call / torch | compile (whole step) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['torch_ms']:.1f} ms | {r['pynative_ms']:.1f} ms | "
              f"{r['jit_step_ms']:.1f} ms | {r['jit_model_ms']:.1f} ms | "
              f"{r['pynative_vs_torch']:.2f}x | {r['jit_step_vs_torch']:.2f}x | "
              f"{r['jit_model_vs_torch']:.2f}x | {r['jit_step_compile_ms'] / 1e3:.1f} s |")
    if extra is not None:
        layers, per_op = extra
        print("\n| layer | torch eager | MindSpore jit | ratio |\n|---|---|---|---|")
        for r in layers:
            print(f"| {r['kernel']} | {r['torch_ms']:.2f} ms | {r['mindspore_jit_ms']:.2f} ms "
                  f"| {r['ratio']:.1f}x |")
        print("\n| one `v + 1.0` on 8x8 | per operation |\n|---|---|")
        for name, us in per_op.items():
            print(f"| {name} | {us:.1f} µs |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
