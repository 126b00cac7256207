"""Parameter names and values between a torch module and its converted Cell.

The renames come from the layer rules' `params` / `drop_params` fields, so code
and weights share one source of truth.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np

from .rules import RuleSet, load_rules


class WeightError(Exception):
    """Weights do not fit the Cell; the message lists what is missing or mis-shaped."""


def layer_rule(module, rules: RuleSet):
    """The rule of a torch layer instance (`torch.nn.BatchNorm2d` for its class)."""
    return rules.get(f"torch.nn.{type(module).__name__}")


def torch_state_to_mindspore(torch_module, rules: Optional[RuleSet] = None
                             ) -> Dict[str, np.ndarray]:
    """MindSpore parameter name -> value, for a live torch module."""
    rules = rules or load_rules()
    out: Dict[str, np.ndarray] = {}
    for prefix, module in torch_module.named_modules():
        rule = layer_rule(module, rules)
        local = list(module.named_parameters(recurse=False)) + list(
            module.named_buffers(recurse=False))
        for name, tensor in local:
            if tensor is None or (rule and name in rule.drop_params):
                continue
            new = rule.params.get(name, name) if rule else name
            full = f"{prefix}.{new}" if prefix else new
            out[full] = tensor.detach().cpu().numpy()
    return out


def load_into_cell(cell, params: Dict[str, np.ndarray], strict: bool = True
                   ) -> Tuple[List[str], List[str]]:
    """Copy values into the Cell's parameters by name. Returns (missing, unexpected).

    A value whose shape differs only by size-1 axes (Conv1d keeps a 4-D weight in
    MindSpore) is reshaped; any other shape difference is an error.
    """
    import mindspore

    cell_params = dict(cell.parameters_and_names())
    missing = [n for n in cell_params if n not in params]
    unexpected = [n for n in params if n not in cell_params]
    problems = []
    for name, param in cell_params.items():
        if name not in params:
            continue
        value = params[name]
        shape = tuple(param.shape)
        if value.shape != shape:
            if value.size == int(np.prod(shape)) and _same_without_ones(value.shape, shape):
                value = value.reshape(shape)
            else:
                problems.append(f"{name}: shape {value.shape} does not fit {shape}")
                continue
        param.set_data(mindspore.Tensor(value.astype(mindspore.dtype_to_nptype(param.dtype))))
    if strict and (missing or unexpected or problems):
        lines = problems + [f"missing in weights: {n}" for n in missing] + [
            f"not in the Cell: {n}" for n in unexpected]
        raise WeightError("; ".join(lines))
    return missing, unexpected


def _same_without_ones(a, b) -> bool:
    return [d for d in a if d != 1] == [d for d in b if d != 1]
