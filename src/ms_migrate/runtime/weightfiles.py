"""Reading and writing weight files: torch (.pth/.pt/.bin), .safetensors, MindSpore .ckpt.

Weights travel as `name -> numpy array`. Reading a torch file never runs pickled
code unless the caller allows it (`allow_pickle`); writing is atomic, so a failure
leaves no half-written file behind.
"""
from __future__ import annotations

import io
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..core.sourcefile import SourceError, atomic_write
from .signals import deferred

TORCH_SUFFIXES = (".pth", ".pt", ".bin", ".tar")
SAFETENSORS_SUFFIX = ".safetensors"
MINDSPORE_SUFFIX = ".ckpt"


class CheckpointError(Exception):
    """A weight file cannot be read or written; the message names it and says why."""


def file_format(path: Path) -> str:
    """'torch', 'safetensors' or 'mindspore', from the file name."""
    suffix = Path(path).suffix.lower()
    if suffix in TORCH_SUFFIXES:
        return "torch"
    if suffix == SAFETENSORS_SUFFIX:
        return "safetensors"
    if suffix == MINDSPORE_SUFFIX:
        return "mindspore"
    raise CheckpointError(f"{path}: unknown weight file type {suffix or '(no suffix)'!r}; "
                          f"use .pth/.pt/.bin (torch), .safetensors or .ckpt (MindSpore)")


def read_weights(path: Path, key: Optional[str] = None, allow_pickle: bool = False
                 ) -> Tuple[Dict[str, np.ndarray], List[str]]:
    """(name -> array, notes) from any supported file."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: no such file")
    if path.is_dir():
        raise CheckpointError(f"{path}: is a directory")
    kind = file_format(path)
    if kind == "mindspore":
        if key:
            raise CheckpointError("--key applies to torch checkpoint dicts, not .ckpt files")
        return read_mindspore(path), []
    if kind == "safetensors":
        return read_safetensors(path), []
    return read_torch(path, key, allow_pickle)


def read_torch(path: Path, key: Optional[str] = None, allow_pickle: bool = False
               ) -> Tuple[Dict[str, np.ndarray], List[str]]:
    import torch
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            obj = torch.load(str(path), map_location="cpu", weights_only=not allow_pickle)
    except Exception as exc:  # any malformed file; torch raises many kinds
        if "Weights only load failed" in str(exc):
            raise CheckpointError(
                f"{path}: holds pickled Python objects besides tensors, which a safe load "
                f"refuses; if you trust this file, pass --allow-pickle") from None
        raise CheckpointError(f"{path}: not a readable torch checkpoint, or truncated "
                              f"({_first_line(exc)})") from None
    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    if key:
        for part in key.split("."):
            if not isinstance(obj, dict) or part not in obj:
                keys = ", ".join(map(str, obj)) if isinstance(obj, dict) else type(obj).__name__
                raise CheckpointError(f"{path}: no key {part!r} (found: {keys})")
            obj = obj[part]
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path}: holds a {type(obj).__name__}, not a state_dict")
    tensors = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        holders = [str(k) for k, v in obj.items()
                   if isinstance(v, dict) and any(isinstance(t, torch.Tensor) for t in v.values())]
        hint = (f"; name the one holding the weights with --key ({', '.join(holders)})"
                if holders else "")
        raise CheckpointError(f"{path}: no tensors at the top level "
                              f"(keys: {', '.join(map(str, obj)) or 'none'}){hint}")
    notes = []
    others = [str(k) for k in obj if k not in tensors]
    if others:
        notes.append(f"skipped entries that are not tensors: {', '.join(others[:5])}")
    from .weights import WeightError, tensor_array
    try:  # sparse, bfloat16, float8: exact as arrays; quantized, meta: refused by name
        out = {str(name): tensor_array(str(name), tensor, notes)
               for name, tensor in tensors.items()}
    except WeightError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    return out, notes


def read_safetensors(path: Path) -> Dict[str, np.ndarray]:
    try:
        from safetensors.numpy import load
    except ImportError:
        raise CheckpointError("reading .safetensors needs the 'safetensors' package "
                              "(pip install 'ms-migrate[verify]')") from None
    try:
        return dict(load(Path(path).read_bytes()))
    except Exception as exc:  # the library raises its own error types
        raise CheckpointError(f"{path}: not a readable .safetensors file, or truncated "
                              f"({_first_line(exc)})") from None


def read_mindspore(path: Path) -> Dict[str, np.ndarray]:
    import mindspore
    try:
        params = mindspore.load_checkpoint(str(path))
    except (ValueError, RuntimeError, TypeError, OSError) as exc:
        raise CheckpointError(f"{path}: not a readable MindSpore checkpoint, or truncated "
                              f"({_first_line(exc)})") from None
    out = {}
    for name, param in params.items():
        if param.dtype == mindspore.bfloat16:
            param = param.astype(mindspore.float32)
        out[name] = param.asnumpy()
    if not out:
        raise CheckpointError(f"{path}: holds no parameters")
    return out


def write_weights(path: Path, params: Dict[str, np.ndarray]) -> None:
    kind = file_format(path)
    if kind == "mindspore":
        write_mindspore(path, params)
    elif kind == "safetensors":
        write_safetensors(path, params)
    else:
        write_torch(path, params)


def write_mindspore(path: Path, params: Dict[str, np.ndarray]) -> None:
    import mindspore
    entries = [{"name": name, "data": mindspore.Tensor(np.ascontiguousarray(value))}
               for name, value in params.items()]
    # save_checkpoint writes a path of its own choosing; write aside, then move in whole.
    # The folder is made with signals held, so a Ctrl-C cannot land between its making
    # (or tempfile's first probe of TMPDIR) and the `try` that removes it.
    tmp = None
    try:
        with deferred():
            tmp = tempfile.mkdtemp(prefix="ms-migrate-")
        staged = os.path.join(tmp, "weights.ckpt")
        mindspore.save_checkpoint(entries, staged)
        _atomic(path, Path(staged).read_bytes())
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def write_torch(path: Path, params: Dict[str, np.ndarray]) -> None:
    import torch
    buffer = io.BytesIO()
    torch.save({name: torch.from_numpy(np.ascontiguousarray(v)) for name, v in params.items()},
               buffer)
    _atomic(path, buffer.getvalue())


def write_safetensors(path: Path, params: Dict[str, np.ndarray]) -> None:
    try:
        from safetensors.numpy import save
    except ImportError:
        raise CheckpointError("writing .safetensors needs the 'safetensors' package "
                              "(pip install 'ms-migrate[verify]')") from None
    _atomic(path, save({n: np.ascontiguousarray(v) for n, v in params.items()}))


def _atomic(path: Path, data: bytes) -> None:
    try:
        atomic_write(Path(path), data)
    except SourceError as exc:
        raise CheckpointError(str(exc)) from None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    first = lines[0].split(". ")[0] if lines else type(exc).__name__
    return first[:160]
