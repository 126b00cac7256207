"""Equivalence over time: optimizers and learning-rate schedulers.

An example with `steps = N` builds an optimizer or a scheduler as `out`. An
optimizer gets the same N gradients on both sides (the torch module `m` of the
setup is first copied into the converted Cell); the parameters after the last
step are compared. A scheduler is stepped N times (`call`, default
`out.step()`, with the step index as `i`); the learning rate of every parameter
group and `get_last_lr()` are compared at every step.
"""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

import numpy as np


def run_steps(example: Dict[str, Any], t_ns: Dict[str, Any], m_ns: Dict[str, Any],
              seed: int = 0) -> Tuple[List[np.ndarray], List[np.ndarray]]:
    import torch

    steps = int(example["steps"])
    if isinstance(t_ns["out"], torch.optim.Optimizer):
        return _optimizer_steps(t_ns, m_ns, steps, seed)
    return _scheduler_steps(example, t_ns, m_ns, steps)


def _optimizer_steps(t_ns, m_ns, steps: int, seed: int):
    import mindspore
    import torch

    from .weights import load_into_cell, torch_state_to_mindspore

    load_into_cell(m_ns["m"], torch_state_to_mindspore(t_ns["m"]))  # the torch module's weights
    t_opt, m_opt = t_ns["out"], m_ns["out"]
    t_params = [p for group in t_opt.param_groups for p in group["params"]]
    m_params = list(m_opt.parameters)
    if [tuple(p.shape) for p in t_params] != [tuple(p.shape) for p in m_params]:
        raise AssertionError("the optimizers hold different parameters: "
                             f"{[tuple(p.shape) for p in t_params]} (torch) vs "
                             f"{[tuple(p.shape) for p in m_params]} (MindSpore)")
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        grads = [rng.standard_normal(tuple(p.shape)).astype("float32") for p in t_params]
        for p, g in zip(t_params, grads):
            p.grad = torch.from_numpy(g.copy())
        t_opt.step()
        m_opt(tuple(mindspore.Tensor(g) for g in grads))
    return ([p.detach().numpy() for p in t_params], [p.asnumpy() for p in m_params])


def _scheduler_steps(example, t_ns, m_ns, steps: int):
    call = example.get("call", "out.step()")
    t_lrs, m_lrs = [], []
    for i in range(steps):
        t_lrs.append(_lrs(t_ns["out"]))
        m_lrs.append(_lrs(m_ns["out"]))
        t_ns["out"].optimizer.step()  # torch expects the optimizer to step first
        eval(call, {**t_ns, "i": i})
        eval(call, {**m_ns, "i": i})
    return np.array(t_lrs), np.array(m_lrs)


def _lrs(scheduler) -> List[float]:
    """Learning rate of each parameter group, then get_last_lr(), as floats."""
    groups = [float(g["lr"]) for g in scheduler.optimizer.param_groups]
    return groups + [float(lr) for lr in scheduler.get_last_lr()]
