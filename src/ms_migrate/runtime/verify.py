"""Run a torch module and its converted Cell on the same weights and inputs; compare.

    from ms_migrate.runtime.verify import verify_models
    result = verify_models(TorchNet(), MindSporeNet(), ["2x3x32x32/float32"])
    assert result.ok, "\\n".join(result.lines())

The torch weights are copied into the Cell through the layer rules' parameter
names (`weights`), both run in inference mode, and every output is compared. With
`per_cell=True` every submodule is hooked on both sides, and the first one (in
execution order) whose outputs differ is named: that is where a conversion went
wrong. Needs torch, mindspore and numpy (the `verify` extra).
"""
from __future__ import annotations

import ast
import importlib.util
import itertools
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..tables.load import RuleSet, load_rules

DEFAULT_ATOL = 1e-4
DEFAULT_RTOL = 1e-4
_DTYPES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")


class VerifyError(Exception):
    """The models or inputs cannot be set up; the message says which and why."""


# --- inputs -------------------------------------------------------------------
def make_input(spec: str, rng: np.random.Generator) -> np.ndarray:
    """An array from `2x3x32x32`, `2x3x32x32/float32` or `4x16/int64/0:100`.

    Floats are standard normal, or uniform in [low, high) when a range is given;
    integers are uniform in [low, high) (default [0, 10)); bools are fair coins.
    """
    parts = spec.strip().split("/")
    if not 1 <= len(parts) <= 3:
        raise VerifyError(f"input {spec!r}: expected SHAPE[/DTYPE[/LOW:HIGH]], "
                          f"e.g. 2x3x32x32/float32")
    try:
        shape = tuple(int(d) for d in parts[0].lower().split("x")) if parts[0] else ()
    except ValueError:
        raise VerifyError(f"input {spec!r}: shape must be sizes joined by 'x', "
                          f"e.g. 2x3x32x32") from None
    if any(d < 0 for d in shape):
        raise VerifyError(f"input {spec!r}: sizes must not be negative")
    dtype = parts[1] if len(parts) > 1 else "float32"
    if dtype not in _DTYPES:
        raise VerifyError(f"input {spec!r}: unknown dtype {dtype!r} "
                          f"(one of {', '.join(_DTYPES)})")
    bounds = None
    if len(parts) == 3:
        try:
            low, high = (float(v) for v in parts[2].split(":"))
        except ValueError:
            raise VerifyError(f"input {spec!r}: range must be LOW:HIGH, e.g. 0:100") from None
        if not low < high:
            raise VerifyError(f"input {spec!r}: range {parts[2]} is empty")
        bounds = (low, high)
    _check_size(spec, shape, np.dtype(dtype))
    _check_range(spec, bounds, np.dtype(dtype))
    try:
        if dtype == "bool":
            return rng.random(shape) > 0.5
        if dtype.startswith(("int", "uint")):
            low, high = bounds or (0, 10)
            return rng.integers(int(low), int(high), size=shape).astype(dtype)
        if bounds:
            return rng.uniform(bounds[0], bounds[1], size=shape).astype(dtype)
        return rng.standard_normal(shape).astype(dtype)
    except (ValueError, OverflowError, MemoryError) as exc:
        raise VerifyError(f"input {spec!r}: cannot be made: {exc}") from None


# Inputs for a comparison need not be big; a typo (an extra digit) must not eat memory.
MAX_INPUT_BYTES = 2 << 30


def _check_size(spec: str, shape: Tuple[int, ...], dtype: np.dtype) -> None:
    size = dtype.itemsize
    for d in shape:
        size *= d
    if size > MAX_INPUT_BYTES:
        raise VerifyError(f"input {spec!r}: {size / (1 << 30):.3g} GiB is more than "
                          f"{MAX_INPUT_BYTES >> 30} GiB; a small batch shows the same differences")


def _check_range(spec: str, bounds: Optional[Tuple[float, float]], dtype: np.dtype) -> None:
    """A range the dtype can hold: numbers outside it would wrap round silently."""
    if bounds is None or dtype.kind == "b":
        return
    low, high = bounds
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if low < info.min or high > info.max + 1:
            raise VerifyError(f"input {spec!r}: {dtype} holds {info.min}..{info.max}, "
                              f"not the range {low:g}:{high:g}")
        if int(low) >= int(high):
            raise VerifyError(f"input {spec!r}: no integer in the range {low:g}:{high:g}")
    elif not (np.isfinite(high - low)  # numpy's uniform needs the width finite too
              and max(abs(low), abs(high)) <= np.finfo(dtype).max):
        raise VerifyError(f"input {spec!r}: the range must be finite and fit {dtype}")


def parse_call_args(text: Optional[str]) -> Tuple[tuple, dict]:
    """`"3, num_classes=10"` -> ((3,), {"num_classes": 10}); literals only."""
    if not text or not text.strip():
        return (), {}
    try:
        call = ast.parse(f"f({text})", mode="eval").body
        args = tuple(ast.literal_eval(a) for a in call.args)
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    except (SyntaxError, ValueError, TypeError):
        raise VerifyError(f"--args {text!r}: write Python literals as in a call, "
                          f"e.g. \"3, num_classes=10\"") from None
    if any(k is None for k in kwargs):
        raise VerifyError(f"--args {text!r}: **unpacking is not supported")
    return args, kwargs


# --- user models --------------------------------------------------------------
_loaded = itertools.count()


def load_class(ref: str):
    """The class named by `path/to/file.py:ClassName`; imports (runs) that file."""
    path_text, sep, class_name = ref.rpartition(":")
    if not sep or not path_text or not class_name.isidentifier():
        raise VerifyError(f"{ref!r}: expected FILE.py:ClassName")
    path = Path(path_text)
    if not path.is_file():
        raise VerifyError(f"{path}: no such file")
    name = f"_ms_migrate_model_{next(_loaded)}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)  # the file's own sibling imports
    sys.modules[name] = module
    before = set(sys.modules)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise VerifyError(f"{path}:{exc.lineno}: cannot parse: {exc.msg}") from None
    except SystemExit as exc:  # a script: its exit code must not pass for a verdict
        raise VerifyError(f"{path}: importing it called sys.exit({exc.code!r}); put the "
                          f"script part under `if __name__ == \"__main__\":`") from None
    except Exception as exc:  # the user's module failed while importing
        raise VerifyError(f"{path}: importing failed: {type(exc).__name__}: {exc}") from None
    finally:
        if sys.path and sys.path[0] == folder:
            sys.path.pop(0)
        _forget_siblings(set(sys.modules) - before, folder)
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        raise VerifyError(f"{path}: no class {class_name!r}")
    return cls


def _forget_siblings(names, folder: str) -> None:
    """Unload modules imported from the file's folder: the torch project and its
    converted copy often both have a `layers.py`, and each file must get its own."""
    for name in names:
        origin = getattr(sys.modules.get(name), "__file__", None)
        if origin and Path(folder) in Path(origin).resolve().parents:
            del sys.modules[name]


def build(ref: str, args: tuple = (), kwargs: Optional[dict] = None):
    cls = load_class(ref)
    try:
        return cls(*args, **(kwargs or {}))
    except SystemExit as exc:
        raise VerifyError(f"{ref}: building {cls.__name__} called sys.exit({exc.code!r})"
                          ) from None
    except Exception as exc:  # the user's constructor failed
        raise VerifyError(f"{ref}: building {cls.__name__} failed: "
                          f"{type(exc).__name__}: {exc}") from None


# --- results ------------------------------------------------------------------
@dataclass
class OutputDiff:
    """One output tensor (or value) compared."""

    label: str
    shape: Tuple[int, ...]
    max_abs: float
    max_rel: float
    ok: bool
    problem: str = ""   # shape or dtype disagreement, when values cannot be compared

    def line(self) -> str:
        status = "ok" if self.ok else "DIFFERS"
        if self.problem:
            return f"{self.label}: {self.problem}  {status}"
        return (f"{self.label} {self.shape}: max abs diff {self.max_abs:.3g}, "
                f"max rel diff {self.max_rel:.3g}  {status}")


@dataclass
class CellDivergence:
    """The first submodule whose outputs differ."""

    torch_name: str
    mindspore_name: str
    torch_type: str
    mindspore_type: str
    call: int
    outputs: List[OutputDiff]

    def line(self) -> str:
        where = self.torch_name or "(the model itself)"
        renamed = (f" (Cell {self.mindspore_name!r})"
                   if self.mindspore_name != self.torch_name else "")
        worst = next((o for o in self.outputs if not o.ok), None)
        detail = f": {worst.line()}" if worst else ""
        nth = f", call {self.call + 1}" if self.call else ""
        return (f"first diverging submodule: {where}{renamed} "
                f"[{self.torch_type} -> {self.mindspore_type}{nth}]{detail}")


@dataclass
class VerifyResult:
    outputs: List[OutputDiff]
    atol: float
    rtol: float
    per_cell: bool = False
    divergence: Optional[CellDivergence] = None
    compared_cells: int = 0
    unmatched_cells: List[str] = field(default_factory=list)
    state: List[OutputDiff] = field(default_factory=list)  # after a training-mode run

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outputs) and all(s.ok for s in self.state)

    def lines(self) -> List[str]:
        out = [o.line() for o in self.outputs]
        if self.state:
            bad = [s for s in self.state if not s.ok]
            out.append(f"state after the training-mode run: {len(self.state)} tensors, "
                       + (f"{len(bad)} differ, first {bad[0].line()}" if bad else "all match"))
        if self.per_cell:
            out.append(f"compared {self.compared_cells} submodules"
                       + (f"; {len(self.unmatched_cells)} without a counterpart"
                          if self.unmatched_cells else ""))
            out.append(self.divergence.line() if self.divergence
                       else "no submodule diverges")
        verdict = "equivalent" if self.ok else "NOT equivalent"
        out.append(f"{verdict} (atol {self.atol:g}, rtol {self.rtol:g})")
        return out


# --- comparing ----------------------------------------------------------------
def compare_outputs(expected, actual, atol: float, rtol: float, label: str = "output"
                    ) -> List[OutputDiff]:
    """Torch result vs MindSpore result, leaf by leaf (tuples, lists, dicts flattened)."""
    from .equivalence import flatten
    # an absent optional output (attention weights not asked for) is None on one side
    left = [x for x in flatten(expected) if x is not None]
    right = [x for x in flatten(actual) if x is not None]
    if len(left) != len(right):
        return [OutputDiff(label, (), float("inf"), float("inf"), False,
                           f"torch gave {len(left)} values, MindSpore {len(right)}")]
    diffs = []
    for i, (a, b) in enumerate(zip(left, right)):
        name = f"{label}[{i}]" if len(left) > 1 else label
        diffs.append(_compare_leaf(name, a, b, atol, rtol))
    return diffs


def _compare_leaf(label: str, a, b, atol: float, rtol: float) -> OutputDiff:
    if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
        same = bool(np.all(a == b)) if not isinstance(a, tuple) else a == b
        return OutputDiff(label, (), 0.0 if same else float("inf"), 0.0, same,
                          "" if same else f"{a!r} (torch) vs {b!r} (MindSpore)")
    if a.shape != b.shape:
        return OutputDiff(label, a.shape, float("inf"), float("inf"), False,
                          f"shape {a.shape} (torch) vs {b.shape} (MindSpore)")
    if a.size == 0:
        return OutputDiff(label, a.shape, 0.0, 0.0, True)
    fa, fb = a.astype(np.float64), b.astype(np.float64)
    both_nan = np.isnan(fa) & np.isnan(fb)
    diff = np.where(both_nan, 0.0, np.abs(fa - fb))
    with np.errstate(invalid="ignore"):
        diff = np.where(fa == fb, 0.0, diff)  # equal infinities
    diff = np.nan_to_num(diff, nan=np.inf)
    rel = diff / np.maximum(np.abs(fa), np.finfo(np.float64).tiny)
    ok = bool(np.all(diff <= atol + rtol * np.abs(np.nan_to_num(fa))))
    return OutputDiff(label, a.shape, float(diff.max()), float(rel.max()), ok)


def verify_models(torch_module, cell, inputs: Sequence[Any], *, atol: float = DEFAULT_ATOL,
                  rtol: float = DEFAULT_RTOL, per_cell: bool = False,
                  rules: Optional[RuleSet] = None, seed: int = 0,
                  copy_weights: bool = True, train: bool = False) -> VerifyResult:
    """Compare a torch module and a MindSpore Cell on the same weights and inputs.

    `inputs`: numpy arrays, or specs for `make_input` ("2x3x32x32/float32"), one per
    positional argument of forward/construct. `train=True` runs in training mode
    (dropout kept off, so outputs stay comparable) and then also compares the state
    the run updated (BatchNorm running statistics, which `momentum` drives). Raises `weights.WeightError` when the
    torch weights do not fit the Cell, `VerifyError` when an input spec is bad.
    """
    import mindspore

    from .equivalence import to_mindspore, to_torch
    from .weights import LayerTypes, load_into_cell, torch_state_to_mindspore

    rules = rules or load_rules()
    rng = np.random.default_rng(seed)
    arrays = [make_input(x, rng) if isinstance(x, str) else np.asarray(x) for x in inputs]
    if copy_weights:
        load_into_cell(cell, torch_state_to_mindspore(torch_module, rules))
    _set_mode(torch_module, cell, train)
    if per_cell:
        mindspore.set_context(mode=mindspore.PYNATIVE_MODE)  # hooks run only here
    t_records, m_records = [], []
    handles = (_hook_all(torch_module.named_modules(), t_records)
               + _hook_all(cell.cells_and_names(), m_records)
               if per_cell else [])
    failure = None
    try:
        import torch
        with torch.no_grad():
            t_out = torch_module(*[to_torch(a) for a in arrays])
        try:
            m_out = cell(*[to_mindspore(a) for a in arrays])
        except Exception as exc:  # a wrong conversion often fails downstream of the cause
            if not per_cell:
                raise
            failure = f"MindSpore failed: {type(exc).__name__}: {first_line(exc)}"
    finally:
        for handle in handles:
            handle.remove()
    outputs = ([OutputDiff("output", (), float("inf"), float("inf"), False, failure)]
               if failure else compare_outputs(t_out, m_out, atol, rtol))
    result = VerifyResult(outputs, atol, rtol, per_cell)
    types = LayerTypes.from_module(torch_module)
    if per_cell:
        _first_divergence(result, t_records, m_records, types, rules)
    if train:
        _compare_state(result, torch_module, cell, types, rules)
    return result


def _set_mode(torch_module, cell, train: bool) -> None:
    torch_module.train(train)
    cell.set_train(train)
    if train:  # dropout masks are random on each side: keep dropout off
        for module in torch_module.modules():
            if "Dropout" in type(module).__name__:
                module.eval()
        for _, sub in cell.cells_and_names():
            if "Dropout" in type(sub).__name__:
                sub.set_train(False)


def _compare_state(result: VerifyResult, torch_module, cell, types, rules) -> None:
    """Compare every parameter and buffer after the run, in the torch module's order."""
    from .weights import convert_state, torch_module_state
    state = torch_module_state(torch_module)
    converted = convert_state(state, rules, types)
    actual = {name: p.asnumpy() for name, p in cell.parameters_and_names()}
    for torch_name in state:
        ms_name = converted.renamed.get(torch_name, torch_name)
        if ms_name not in converted.params or ms_name not in actual:
            continue
        expected, got = converted.params[ms_name], actual[ms_name]
        if got.shape != expected.shape and got.size == expected.size:
            got = got.reshape(expected.shape)  # Conv1d's extra size-1 axis
        diff = _compare_leaf(f"state {torch_name}", expected, got, result.atol, result.rtol)
        result.state.append(diff)
        if not diff.ok and result.divergence is None and result.per_cell:
            module = torch_name.rpartition(".")[0]
            ms_module = ms_name.rpartition(".")[0]
            names = dict(torch_module.named_modules())
            cells = dict(cell.cells_and_names())
            result.divergence = CellDivergence(
                module, ms_module, type(names.get(module)).__name__,
                type(cells.get(ms_module)).__name__, 0, [diff])


def first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else ""


def _hook_all(named_submodules, records: list) -> list:
    """A forward hook on every (name, submodule): torch and MindSpore share the API."""
    from .equivalence import flatten
    handles = []
    for name, sub in named_submodules:
        def hook(sub, args, output, name=name):
            records.append((name, type(sub).__name__, _copies(flatten(output))))
        handles.append(sub.register_forward_hook(hook))
    return handles


def _copies(leaves: list) -> list:
    return [np.array(x, copy=True) if isinstance(x, np.ndarray) else x for x in leaves]


def _first_divergence(result: VerifyResult, t_records, m_records, types, rules) -> None:
    """Pair the n-th call of each torch submodule with the n-th call of its Cell."""
    from .weights import mindspore_path
    by_name: Dict[str, list] = {}
    for name, type_name, leaves in m_records:
        by_name.setdefault(name, []).append((type_name, leaves))
    seen: Dict[str, int] = {}
    for name, type_name, leaves in t_records:
        call = seen[name] = seen.get(name, -1) + 1
        ms_name = mindspore_path(name, types, rules) if name else ""
        calls = by_name.get(ms_name, [])
        if call >= len(calls):
            result.unmatched_cells.append(name)
            continue
        ms_type, ms_leaves = calls[call]
        result.compared_cells += 1
        diffs = compare_outputs(leaves, ms_leaves, result.atol, result.rtol,
                                label="output")
        if not all(d.ok for d in diffs):
            result.divergence = CellDivergence(name, ms_name, type_name, ms_type, call, diffs)
            return
