"""How fast ms-migrate converts real PyTorch code, beside bare libcst (the floor).

    python benchmarks/bench_convert.py [--repeat 3] [--no-torch-sources] [--copies 1]
                                       [--large-lines 50000] [--json] [--tree DIR]

The corpus is benchmarks/corpus/ plus, unless --no-torch-sources, a copy of the
installed torch package's own torch/nn/modules sources (found without
importing torch); `--tree DIR` measures a folder's .py files instead, such as the
real-world corpus that benchmarks/realworld/run.py extracts (/tmp/realworld/src).
Each number is the best of --repeat runs: on a shared machine
the best is the least disturbed. Ratios are also given as the median over rounds
that run both sides back to back (floor then conversion, --jobs 1 then 2), which
holds up better when the machine's speed drifts. Measured:

- floor: libcst parse + codegen of every file, in this process and as a whole
  process (which includes `import libcst`), with garbage collection paused as
  ms-migrate pauses it;
- convert: `convert_source` of every file in this process, and the CLI on the
  folder with --jobs 1 and --jobs 2 (wall time, CPU time and peak memory);
- the two targets, as medians of paired rounds: --jobs 1 within 1.5x the CPU time
  of the floor process, and --jobs 2 at least 1.7x faster (wall) than --jobs 1;
- start-up: `ms-migrate --help` and a one-file conversion, and whether that
  path imports torch or mindspore (it must not);
- large input: one generated 50,000-line file through the CLI, beside its floor.

Processes run as an installed package runs: with Python's bytecode cache (an
environment that sets PYTHONDONTWRITEBYTECODE would make every start-up compile
ms-migrate and libcst again, which no installed copy does).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, List, Optional, Tuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generated import generated_module  # noqa: E402  (shared with the tests)
CLI = [sys.executable, "-m", "ms_migrate"]


def torch_sources() -> List[Path]:
    spec = importlib.util.find_spec("torch")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return []
    root = Path(list(spec.submodule_search_locations)[0])
    files = sorted((root / "nn" / "modules").glob("*.py"))
    return [p for p in files if p.stat().st_size > 0]


def build_corpus(folder: Path, with_torch: bool, copies: int = 1,
                 tree: Optional[Path] = None) -> Tuple[List[Path], int]:
    if tree is not None:  # a real project tree (the real-world corpus): its .py files
        import libcst
        sources = []
        for path in sorted(tree.rglob("*.py")):
            if path.is_file() and not path.is_symlink():
                try:  # Python 2 files convert to an error on both sides: left out
                    libcst.parse_module(path.read_text("utf-8", errors="surrogateescape"))
                except libcst.ParserSyntaxError:
                    continue
                sources.append(path)
    else:
        sources = sorted((HERE / "corpus").glob("*.py")) + (torch_sources() if with_torch else [])
    for i, src in enumerate(sources * copies):  # copies: a bigger project of the same code
        shutil.copyfile(src, folder / f"{i:03}_{src.parent.name}_{src.name}")
    files = sorted(folder.glob("*.py"))
    return files, sum(p.read_text(encoding="utf-8", errors="surrogateescape").count("\n")
                      for p in files)


def best_of(repeat: int, fn: Callable[[], object]) -> Tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def run_measured(cmd: List[str]) -> Tuple[float, int, float]:
    """Wall seconds, peak resident memory (MiB) and CPU seconds (user + system) of a
    command, its workers included. CPU time holds up on a loaded machine; wall time
    does not."""
    start = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode()
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({code}): {err}")
    return wall, usage.ru_maxrss // 1024, usage.ru_utime + usage.ru_stime


def best_measured(repeat: int, cmd: List[str]) -> Tuple[float, int]:
    run_measured(cmd)  # warm: the bytecode cache and the rule tables' pickle
    runs = [run_measured(cmd) for _ in range(repeat)]
    return min(r[0] for r in runs), max(r[1] for r in runs)


def best_cpu(repeat: int, cmd: List[str]) -> float:
    return min(run_measured(cmd)[2] for _ in range(repeat))


START_CHECK = """
import sys
from ms_migrate import convert_file
convert_file(sys.argv[1])
heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'mindspore', 'numpy'))
print(','.join(heavy))
"""

FLOOR = """
import gc, sys, libcst
gc.disable()  # as ms-migrate converts (project.paused_gc): a fair floor
for path in sys.argv[1:]:
    libcst.parse_module(open(path, encoding='utf-8').read()).code
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-torch-sources", action="store_true")
    parser.add_argument("--large-lines", type=int, default=50_000)
    parser.add_argument("--copies", type=int, default=1,
                        help="the corpus this many times over (a bigger project)")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    parser.add_argument("--tree", type=Path,
                        help="measure on this folder's .py files instead of the corpus (e.g. "
                             "the real-world corpus: /tmp/realworld/src after "
                             "benchmarks/realworld/run.py)")
    args = parser.parse_args()

    import libcst

    from ms_migrate import convert_source, load_rules
    from ms_migrate.cli.project import paused_gc

    results = {}
    with tempfile.TemporaryDirectory(prefix="ms-migrate-bench-") as tmp:
        tmp = Path(tmp)
        corpus = tmp / "corpus"
        corpus.mkdir()
        files, lines = build_corpus(corpus, not args.no_torch_sources, args.copies, args.tree)
        texts = [p.read_text(encoding="utf-8", errors="surrogateescape") for p in files]
        results.update(files=len(files), lines=lines)

        # Floor and conversion alternate, round by round: on a shared machine each
        # round's ratio compares two runs that met the same load.
        load_rules()
        rounds = []
        for _ in range(args.repeat):
            with paused_gc():
                floor, _ = best_of(1, lambda: [libcst.parse_module(t).code for t in texts])
                convert, reports = best_of(1, lambda: [
                    convert_source(t, str(p)) for t, p in zip(texts, files)])
            rounds.append((floor, convert))
        floor, convert = min(r[0] for r in rounds), min(r[1] for r in rounds)
        results["ratio_median"] = statistics.median(f / c for f, c in rounds)
        floor_cmd = [sys.executable, "-c", FLOOR, *map(str, files)]
        floor_proc, _ = best_measured(args.repeat, floor_cmd)
        results["floor_process_cpu_s"] = best_cpu(args.repeat, floor_cmd)
        uses = sum(r.report.api_uses for r in reports)
        converted = sum(r.report.converted for r in reports)
        results.update(floor_s=floor, convert_s=convert, floor_process_s=floor_proc,
                       api_uses=uses, converted=converted)

        cli = {jobs: [*CLI, "convert", str(corpus), "-o", str(tmp / f"out{jobs}"), "-q",
                      "-j", str(jobs)] for jobs in (1, 2)}
        run_measured(cli[1])  # warm: the bytecode cache and the rule tables' pickle
        runs = {1: [], 2: []}
        floor_cpu = []
        for _ in range(args.repeat):  # alternating, as above
            floor_cpu.append(run_measured(floor_cmd)[2])
            for jobs in (1, 2):
                runs[jobs].append(run_measured(cli[jobs]))
        results["cpu_ratio_median"] = statistics.median(
            r[2] / f for r, f in zip(runs[1], floor_cpu))
        for jobs in (1, 2):
            results[f"cli_j{jobs}_s"] = min(r[0] for r in runs[jobs])
            results[f"cli_j{jobs}_peak_mib"] = max(r[1] for r in runs[jobs])
            results[f"cli_j{jobs}_cpu_s"] = min(r[2] for r in runs[jobs])
        results["speedup_median"] = statistics.median(
            a[0] / b[0] for a, b in zip(runs[1], runs[2]))

        one = tmp / "one.py"
        shutil.copyfile(HERE / "corpus" / "resnet.py", one)
        results["help_s"], _ = best_measured(args.repeat, [*CLI, "--help"])
        results["one_file_s"], results["one_file_peak_mib"] = best_measured(
            args.repeat, [*CLI, "convert", str(one), "-o", str(tmp / "one_out.py"), "-q"])
        heavy = subprocess.run([sys.executable, "-c", START_CHECK, str(one)],
                               capture_output=True, text=True, check=True).stdout.strip()
        results["heavy_imports"] = heavy or "none"

        big = tmp / "big.py"
        source = generated_module(args.large_lines // 13 + 1)
        big.write_text(source)
        results["large_lines"] = source.count("\n")
        with paused_gc():
            results["large_floor_s"], _ = best_of(1, lambda: libcst.parse_module(source).code)
        results["large_s"], results["large_peak_mib"], _ = run_measured(
            [*CLI, "convert", str(big), "-o", str(tmp / "big_out.py"), "-q"])

    if args.json:
        print(json.dumps(results, indent=2))
        return
    r = results
    rate = lambda s: f"{r['lines'] / s:,.0f} lines/s"  # noqa: E731
    print(f"corpus: {r['files']} files, {r['lines']:,} lines, {r['api_uses']:,} torch API uses "
          f"({r['converted'] / max(1, r['api_uses']):.1%} converted); best of {args.repeat}")
    print(f"floor, libcst parse+codegen, in process  {r['floor_s']:6.2f} s  {rate(r['floor_s'])}")
    print(f"floor, as a whole process                {r['floor_process_s']:6.2f} s  "
          f"{rate(r['floor_process_s'])}")
    print(f"convert_source, in process               {r['convert_s']:6.2f} s  {rate(r['convert_s'])}"
          f"  ({r['floor_s'] / r['convert_s']:.2f} of the floor; median of paired rounds "
          f"{r['ratio_median']:.2f})")
    for jobs in (1, 2):
        s = r[f"cli_j{jobs}_s"]
        print(f"ms-migrate convert DIR --jobs {jobs}          {s:6.2f} s  {rate(s)}"
              f"  peak {r[f'cli_j{jobs}_peak_mib']} MiB")
    print(f"CPU time: --jobs 1 {r['cli_j1_cpu_s']:.2f} s, floor process "
          f"{r['floor_process_cpu_s']:.2f} s: {r['cli_j1_cpu_s'] / r['floor_process_cpu_s']:.2f}x "
          f"the floor (--jobs 2: {r['cli_j2_cpu_s']:.2f} s)")
    print(f"--jobs 2 speed-up over --jobs 1          {r['cli_j1_s'] / r['cli_j2_s']:.2f}x"
          f"  (median of paired runs {r['speedup_median']:.2f}x)")
    met = lambda ok: "met" if ok else "not met"  # noqa: E731
    print(f"target: --jobs 1 within 1.5x the floor's CPU time: {r['cpu_ratio_median']:.2f}x "
          f"(median of paired rounds): {met(r['cpu_ratio_median'] <= 1.5)}")
    print(f"target: --jobs 2 at least 1.7x faster than --jobs 1: {r['speedup_median']:.2f}x "
          f"(median of paired rounds): {met(r['speedup_median'] >= 1.7)}")
    print(f"ms-migrate --help                        {r['help_s']:6.2f} s")
    print(f"one-file conversion ({HERE.name}/corpus/resnet.py)  {r['one_file_s']:6.2f} s  "
          f"peak {r['one_file_peak_mib']} MiB; torch/mindspore/numpy imported: {r['heavy_imports']}")
    print(f"large file ({r['large_lines']:,} lines)               {r['large_s']:6.2f} s  "
          f"{r['large_lines'] / r['large_s']:,.0f} lines/s  peak {r['large_peak_mib']} MiB; "
          f"its floor {r['large_floor_s']:.2f} s")


if __name__ == "__main__":
    main()
