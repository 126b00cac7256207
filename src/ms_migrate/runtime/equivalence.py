"""Run a torch snippet and its conversion on the same inputs; compare the results.

This is how every rule in `mappings/` proves itself (each entry's `examples`), and
what `verify` builds on. Needs torch, mindspore and numpy (the `verify` extra).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List

import numpy as np

PRELUDE = ("import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
           "import torch.optim as optim\n")
DEFAULT_TOL = 1e-5


class Mismatch(AssertionError):
    """Torch and MindSpore disagree; the message says where and by how much."""


# --- inputs -----------------------------------------------------------------
def input_namespace(rng: np.random.Generator) -> Dict[str, Any]:
    """Helpers an example's `inputs` may call; all return numpy arrays."""
    def randn(*shape, dtype="float32"):
        return rng.standard_normal(shape).astype(dtype)

    def rand(*shape, dtype="float32"):
        return rng.random(shape).astype(dtype)

    def pos(*shape, dtype="float32"):  # strictly positive, for log/sqrt/...
        return (rng.random(shape) + 0.5).astype(dtype)

    def unit(*shape, dtype="float32"):  # inside (-1, 1), for asin/atanh/...
        return (rng.random(shape) * 1.8 - 0.9).astype(dtype)

    def randint(low, high, shape, dtype="int64"):
        return rng.integers(low, high, size=shape).astype(dtype)

    def bools(*shape):
        return rng.random(shape) > 0.5

    def array(values, dtype="float32"):
        return np.array(values, dtype=dtype)

    return {"randn": randn, "rand": rand, "pos": pos, "unit": unit, "randint": randint,
            "bools": bools, "array": array, "np": np}


def make_inputs(spec: Dict[str, str], seed: int = 0) -> Dict[str, Any]:
    rng = np.random.default_rng(seed)
    helpers = input_namespace(rng)
    return {name: eval(text, helpers) for name, text in spec.items()}  # test data only


def to_torch(value):
    import torch
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value.copy())
    return value


def to_mindspore(value):
    import mindspore
    if isinstance(value, np.ndarray):
        return mindspore.Tensor(value.copy())
    return value


# --- outputs ----------------------------------------------------------------
def flatten(value) -> List[Any]:
    """Tensors, tuples, lists, dicts and scalars as a flat list of comparable leaves."""
    if isinstance(value, dict):
        return [leaf for key in sorted(value) for leaf in flatten(value[key])]
    if isinstance(value, (list, tuple)):  # torch.Size is a tuple too
        return [leaf for item in value for leaf in flatten(item)]
    return [_leaf(value)]


def _leaf(value):
    module = type(value).__module__ or ""
    if hasattr(value, "detach") and module.startswith("torch"):
        return value.detach().resolve_conj().numpy()
    if hasattr(value, "asnumpy"):  # MindSpore Tensor and Parameter (whose class is in `abc`)
        return value.asnumpy()
    if module.startswith("torch") and type(value).__name__ == "dtype":
        return ("dtype", str(value).replace("torch.", ""))
    if module.startswith("mindspore") and "typing" in module:
        return ("dtype", str(value).lower())
    if isinstance(value, (bool, int, float, np.generic)):
        return np.asarray(value)
    return value


# int64 results that MindSpore gives as int32 (and alike) are accepted where a rule
# says so (`dtype = "loose"` in its example).
_LOOSE = {("int64", "int32"), ("float64", "float32"), ("int32", "int64"),
          ("float32", "float64")}


def compare(expected, actual, tol: float = DEFAULT_TOL, compare_values: bool = True,
            loose_dtype: bool = False, where: str = "output") -> float:
    """Raise Mismatch unless shapes, dtypes and values agree; return the max abs diff."""
    left, right = flatten(expected), flatten(actual)
    if len(left) != len(right):
        raise Mismatch(f"{where}: torch gave {len(left)} values, MindSpore {len(right)}")
    worst = 0.0
    for i, (a, b) in enumerate(zip(left, right)):
        label = f"{where}[{i}]" if len(left) > 1 else where
        if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
            if a.shape != b.shape:
                raise Mismatch(f"{label}: shape {a.shape} (torch) vs {b.shape} (MindSpore)")
            da, db = str(a.dtype), str(b.dtype)
            if da != db and not (loose_dtype and (da, db) in _LOOSE):
                raise Mismatch(f"{label}: dtype {da} (torch) vs {db} (MindSpore)")
            if not compare_values or a.size == 0:
                continue
            if a.dtype == bool or b.dtype == bool:
                if not np.array_equal(a, b):
                    raise Mismatch(f"{label}: boolean values differ")
                continue
            if np.iscomplexobj(a) or np.iscomplexobj(b):  # compare real and imaginary parts
                a, b = np.stack([a.real, a.imag]), np.stack([b.real, b.imag])
            fa, fb = a.astype(np.float64), b.astype(np.float64)
            if not np.array_equal(np.isnan(fa), np.isnan(fb)):
                raise Mismatch(f"{label}: NaNs differ")
            mask = ~np.isnan(fa)
            diff = np.abs(fa[mask] - fb[mask])
            scale = np.maximum(1.0, np.abs(fa[mask]))
            if diff.size and not np.all(np.isinf(fa[mask]) == np.isinf(fb[mask])):
                raise Mismatch(f"{label}: infinities differ")
            finite = np.isfinite(fa[mask])
            rel = (diff[finite] / scale[finite]) if diff.size else diff
            err = float(rel.max()) if rel.size else 0.0
            worst = max(worst, err)
            if err > tol:
                raise Mismatch(f"{label}: max difference {err:.3g} > tolerance {tol:g}")
        elif a != b:
            raise Mismatch(f"{label}: {a!r} (torch) vs {b!r} (MindSpore)")
    return worst


# --- weights ----------------------------------------------------------------
def copy_torch_weights(torch_module, cell) -> None:
    """Load a torch module's parameters and buffers into the converted Cell."""
    from .weights import load_into_cell, torch_state_to_mindspore
    params = torch_state_to_mindspore(torch_module)
    load_into_cell(cell, params)


# --- one example ------------------------------------------------------------
@dataclass
class ExampleResult:
    torch_code: str
    mindspore_code: str
    max_diff: float


def example_program(example: Dict[str, Any], kind: str) -> str:
    """The torch program of a rule example: the prelude's imports, its setup, and its
    code bound to `m` (a layer called on inputs) or `out`."""
    setup, code = example.get("setup", ""), example["code"]
    target = "m" if kind == "class" and "inputs" in example else "out"
    prelude = PRELUDE + ("import torchvision\n" if "torchvision" in setup + code else "")
    return f"{prelude}{setup}\n{target} = {code}\n"


def run_example(example: Dict[str, Any], kind: str, rules=None, seed: int = 0) -> ExampleResult:
    """Run one rule example on both frameworks; raise Mismatch on disagreement."""
    import torch

    from ..engine import convert_source

    layer = kind == "class" and "inputs" in example
    torch_code = example_program(example, kind)
    result = convert_source(torch_code, "<example>", rules)
    problems = [f for f in result.report.findings if f.action == "unsupported"]
    if problems:
        raise Mismatch("not converted: " + "; ".join(f"{f.api}: {f.message}" for f in problems))
    ms_code = result.code
    inputs = make_inputs(example.get("inputs", {}), seed)

    torch.manual_seed(seed)
    t_ns = {name: to_torch(v) for name, v in inputs.items()}
    exec(compile(torch_code, "<torch example>", "exec"), t_ns)
    # a module's namespace: MindSpore's PyNative grad reads a function's __module__
    m_ns = {"__name__": "__ms_example__", **{name: to_mindspore(v) for name, v in inputs.items()}}
    exec(compile(ms_code, "<mindspore example>", "exec"), m_ns)

    if layer:
        t_mod, cell = t_ns["m"], m_ns["m"]
        train = bool(example.get("train", False))
        t_mod.train(train)
        if hasattr(cell, "set_train"):  # a loss may become a plain function
            cell.set_train(train)
        if hasattr(cell, "parameters_and_names"):
            copy_torch_weights(t_mod, cell)
        call = example.get("call", "m(" + ", ".join(example["inputs"]) + ")")
        t_out = eval(call, t_ns)
        m_out = eval(call, m_ns)
    elif "steps" in example:  # an optimizer or a scheduler, compared over its steps
        from .equivalence_steps import run_steps
        t_out, m_out = run_steps(example, t_ns, m_ns, seed)
    else:
        t_out, m_out = t_ns["out"], m_ns["out"]
    how = example.get("compare", "values")
    diff = compare(t_out, m_out, tol=float(example.get("tol", DEFAULT_TOL)),
                   compare_values=how == "values", loose_dtype=example.get("dtype") == "loose")
    return ExampleResult(torch_code, ms_code, diff)
