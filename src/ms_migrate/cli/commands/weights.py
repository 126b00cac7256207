"""`ms-migrate convert-weights`: torch state_dict <-> MindSpore checkpoint."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import click

from ..base import fail, main


@main.command("convert-weights")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="The file to write: .ckpt for torch input; .pth/.pt/.safetensors for .ckpt input.")
@click.option("--key", help="Where the weights sit in a checkpoint dict (model_state, a.b).")
@click.option("--model", "model_ref", metavar="FILE.py:CLASS",
              help="The torch model's source: exact layer types per attribute (read, never run).")
@click.option("--check-against", "check_ref", metavar="FILE.py:CLASS",
              help="The model the weights are for (imported and built with --args): "
                   "check every name and shape before writing.")
@click.option("--args", "model_args", metavar="ARGS",
              help='Constructor arguments for --check-against, e.g. "3, num_classes=10".')
@click.option("--skip-unexpected", is_flag=True,
              help="With --check-against: leave out weights the model does not have "
                   "(optimizer state in a training checkpoint) instead of stopping.")
@click.option("--allow-pickle", is_flag=True,
              help="Load torch files that hold pickled objects (runs their code: trusted files only).")
@click.option("--strip-prefix", metavar="PREFIX",
              help="Remove this prefix from names that have it (module. from DataParallel).")
@click.option("--rules", "extra_rules", multiple=True, type=click.Path(path_type=Path),
              help="Extra rule table (TOML); may repeat.")
@click.option("-q", "--quiet", is_flag=True, help="No summary on stderr.")
def convert_weights(source: Path, output: Path, key: Optional[str], model_ref: Optional[str],
                    check_ref: Optional[str], model_args: Optional[str],
                    skip_unexpected: bool, allow_pickle: bool,
                    strip_prefix: Optional[str], extra_rules: tuple, quiet: bool) -> None:
    """Convert torch weights (.pth, .safetensors) to a MindSpore .ckpt, or back."""
    os.environ.setdefault("GLOG_v", "3")  # MindSpore's own logging, before its import
    from ...runtime.verify import VerifyError
    from ...runtime.weightfiles import CheckpointError, file_format, read_weights, write_weights
    from ...runtime.weights import WeightError, check_fit, convert_state
    from ..base import load_rules_or_fail

    if source.is_dir() or output.is_dir():
        fail(f"{source if source.is_dir() else output}: is a directory; name a weight file")
    try:
        src_kind, out_kind = file_format(source), file_format(output)
    except CheckpointError as exc:
        fail(str(exc))
    to_mindspore = src_kind != "mindspore"
    if to_mindspore == (out_kind != "mindspore"):
        fail(f"{output}: write a .ckpt file for torch weights, and a .pth/.pt/.safetensors "
             f"file for a .ckpt" )
    if (model_args or skip_unexpected) and not check_ref:
        fail("--args and --skip-unexpected go with --check-against")
    rules = load_rules_or_fail(extra_rules)
    _import_frameworks({src_kind, out_kind}, bool(check_ref))
    try:
        state, notes = read_weights(source, key, allow_pickle)
        if strip_prefix:
            state = {k[len(strip_prefix):] if k.startswith(strip_prefix) else k: v
                     for k, v in state.items()}
        types = _layer_types(model_ref) if model_ref else None
        targets = _target_shapes(check_ref, model_args, rules) if check_ref else None
        converted = convert_state(state, rules, types, to_mindspore, targets)
    except (CheckpointError, VerifyError, WeightError) as exc:
        fail(str(exc))
    notes += converted.notes
    if targets is not None:
        fit = check_fit(converted.params, targets)
        if skip_unexpected and fit.unexpected:
            for name in fit.unexpected:
                del converted.params[name]
            notes.append(f"left out {len(fit.unexpected)} weights the model does not have: "
                         f"{', '.join(fit.unexpected[:5])}{', ...' if len(fit.unexpected) > 5 else ''}")
            fit.unexpected = []
        if not fit.ok:
            fail(f"weights do not fit {check_ref}: {fit.summary()}; nothing written")
        for name, twin in fit.tied.items():
            del converted.params[name]
            notes.append(f"{name}: the same tensor as {twin} (tied); written once")
    try:
        write_weights(output, converted.params)
    except CheckpointError as exc:
        fail(str(exc))
    if converted.unclear:  # a checkpoint that may miss layers is never quiet
        shown = converted.unclear[:8]
        more = len(converted.unclear) - len(shown)
        click.echo(f"warning: {len(converted.unclear)} weights kept under torch's names; "
                   f"their layer type cannot be told from the weights alone, and some layer "
                   f"types name or shape them differently in MindSpore:", err=True)
        for line in shown:
            click.echo(f"  {line}", err=True)
        if more:
            click.echo(f"  ... and {more} more", err=True)
        click.echo("  to settle them pass --model FILE.py:CLASS (the model's source is read, "
                   "not run) or --check-against FILE.py:CLASS", err=True)
    if not quiet:
        for note in notes:
            click.echo(f"note: {note}", err=True)
        click.echo(f"{source} -> {output}: {len(converted.params)} tensors, "
                   f"{len(converted.renamed)} renamed, {len(converted.dropped)} dropped, "
                   f"{len(set(converted.reshaped))} reshaped"
                   + (", all names and shapes checked" if targets is not None else ""),
                   err=True)


def _import_frameworks(kinds: set, torch_model: bool) -> None:
    """Import torch/mindspore with signals held back: Ctrl-C half-way through
    mindspore's import left threads that aborted the interpreter at exit."""
    import importlib

    from ...runtime.signals import deferred
    names = ["torch"] * ("torch" in kinds or torch_model) + ["mindspore"] * ("mindspore" in kinds)
    for name in names:
        try:
            with deferred():
                importlib.import_module(name)
        except ImportError as exc:
            fail(f"convert-weights needs {name} ({exc}); pip install 'ms-migrate[verify]'")


def _layer_types(ref: str):
    from ...core.sourcefile import SourceError, read_source
    from ...core.layertypes import LayerSourceError, layer_types_from_source
    from ...runtime.verify import VerifyError
    from ...runtime.weights import LayerTypes

    path, sep, class_name = ref.rpartition(":")
    if not sep or not path:
        raise VerifyError(f"--model {ref!r}: expected FILE.py:ClassName")
    try:
        return LayerTypes(layer_types_from_source(read_source(Path(path)), class_name, path))
    except (SourceError, LayerSourceError) as exc:
        raise VerifyError(str(exc)) from None


def _target_shapes(ref: str, model_args: Optional[str], rules):
    from ...runtime.verify import build, parse_call_args
    from ...runtime.weights import model_shapes

    args, kwargs = parse_call_args(model_args)
    return model_shapes(build(ref, args, kwargs), rules)
