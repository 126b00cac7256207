"""`ms-migrate verify`: a torch model and its conversion, same weights, same inputs."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import click

from ..base import EXIT_CHANGED, EXIT_OK, fail, main


@main.command("verify")
@click.argument("torch_ref", metavar="TORCH_FILE.py:CLASS")
@click.argument("ms_ref", metavar="MINDSPORE_FILE.py:CLASS")
@click.option("--args", "model_args", metavar="ARGS",
              help='Constructor arguments for both models, e.g. "3, num_classes=10".')
@click.option("--ms-args", "ms_args", metavar="ARGS",
              help="Constructor arguments for the MindSpore model, when they differ.")
@click.option("--input", "inputs", multiple=True, required=True, metavar="SPEC",
              help="One per forward argument: SHAPE[/DTYPE[/LOW:HIGH]], "
                   "e.g. 2x3x32x32/float32 or 4x16/int64/0:100.")
@click.option("--atol", type=float, default=1e-4, show_default=True)
@click.option("--rtol", type=float, default=1e-4, show_default=True)
@click.option("--per-cell", is_flag=True,
              help="Compare every submodule; name the first one whose outputs differ.")
@click.option("--train", is_flag=True,
              help="Run in training mode (dropout off) and also compare the state the run "
                   "updates (BatchNorm running statistics).")
@click.option("--weights", "weights_path", type=click.Path(path_type=Path),
              help="Load these torch weights into the torch model first (else its own init).")
@click.option("--key", help="Where the weights sit in a checkpoint dict.")
@click.option("--allow-pickle", is_flag=True,
              help="Load torch files that hold pickled objects (trusted files only).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for inputs and init.")
@click.option("--rules", "extra_rules", multiple=True, type=click.Path(path_type=Path),
              help="Extra rule table (TOML); may repeat.")
def verify(torch_ref: str, ms_ref: str, model_args: Optional[str], ms_args: Optional[str],
           inputs: tuple, atol: float, rtol: float, per_cell: bool, train: bool,
           weights_path: Optional[Path], key: Optional[str], allow_pickle: bool, seed: int,
           extra_rules: tuple) -> None:
    """Run both models on the same weights and inputs; exit 0 when outputs match, 1 if not.

    This imports (runs) both files.
    """
    os.environ.setdefault("GLOG_v", "3")  # MindSpore's own logging, before its import
    from ...runtime.verify import VerifyError, build, make_input, parse_call_args, verify_models
    from ...runtime.weightfiles import CheckpointError, read_weights
    from ...runtime.weights import WeightError
    from ..base import load_rules_or_fail

    if atol < 0 or rtol < 0:
        fail("--atol and --rtol must not be negative")
    rules = load_rules_or_fail(extra_rules)
    try:
        import numpy as np
        import torch
        rng = np.random.default_rng(seed)
        arrays = [make_input(spec, rng) for spec in inputs]
        t_args = parse_call_args(model_args)
        m_args = parse_call_args(ms_args) if ms_args is not None else t_args
        torch.manual_seed(seed)
        torch_model = build(torch_ref, *t_args)
        if weights_path is not None:
            state, _ = read_weights(weights_path, key, allow_pickle)
            _load_torch_state(torch_model, state, weights_path)
        cell = build(ms_ref, *m_args)
    except (VerifyError, CheckpointError) as exc:
        fail(str(exc))
    try:
        result = verify_models(torch_model, cell, arrays, atol=atol, rtol=rtol,
                               per_cell=per_cell, rules=rules, seed=seed, train=train)
    except WeightError as exc:
        click.echo(f"the torch weights do not fit the Cell: {exc}", err=True)
        click.echo("NOT equivalent", err=True)
        sys.exit(EXIT_CHANGED)
    except (Exception, SystemExit) as exc:  # the user's forward/construct failed
        from ...runtime.verify import first_line
        what = (f"sys.exit({exc.code!r})" if isinstance(exc, SystemExit)
                else f"{type(exc).__name__}: {first_line(exc)}")
        click.echo(f"running the models failed: {what}", err=True)
        click.echo("NOT equivalent", err=True)
        sys.exit(EXIT_CHANGED)
    for line in result.lines():
        click.echo(line)
    sys.exit(EXIT_OK if result.ok else EXIT_CHANGED)


def _load_torch_state(model, state, path) -> None:
    import torch

    from ...runtime.verify import VerifyError
    try:
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise VerifyError(f"{path}: does not fit the torch model: "
                          f"{' '.join(l.strip() for l in first[1:3]) or first[0]}") from None
