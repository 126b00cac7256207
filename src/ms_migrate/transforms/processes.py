"""torch.multiprocessing -> Python's multiprocessing; spawn -> msrun's workers.

torch's module is the standard library's with tensors that travel through shared
memory: a tensor (a model's parameters after `share_memory()`) handed to a child
process is the parent's own storage there. MindSpore tensors are pickled like any
object, so the child works on a copy.
"""
from __future__ import annotations

import libcst as cst

from ..core.callrewrite import Bound, Unsupported, code
from ..core.quick_libcst import parse_expression
from .base import transform

_COPIES = ("MindSpore tensors and Cells given to the process are copies (torch shares "
           "their memory): updates the child makes are not seen by the parent; send "
           "results back through a Pipe or Queue")


@transform
def copied_tensors(ctx, rule, bound: Bound, call=None):
    """Process(target=..., args=...): the standard library's, with a note when
    it is given arguments (tensors among them are copied, not shared)."""
    if bound.get("args") is not None or bound.get("kwargs") is not None:
        bound.warnings.append(_COPIES)
    return None


_MSRUN = ("launch the script with `msrun --worker_num={n} --local_worker_num={n} "
          "<script>.py`: msrun starts the {n} processes (and MindSpore's communication "
          "between them) and each runs this call with its local rank (DEVICE_ID); run "
          "without msrun, it is one process, rank 0")


@transform
def msrun_worker(ctx, rule, bound: Bound, call=None):
    """spawn(fn, args, nprocs) -> fn(local rank, *args): under msrun every worker
    process runs the script, and this call runs fn as that worker."""
    join = bound.pop("join")
    if join is not None and not (isinstance(join, cst.Name) and join.value == "True"):
        raise Unsupported("join=False hands back the processes; msrun starts and joins them")
    for name in ("daemon", "start_method"):
        bound.pop(name)
    ctx.require("import os")
    rank = parse_expression('int(os.environ.get("DEVICE_ID", "0"))')
    args = bound.get("args")
    call_args = [cst.Arg(rank)]
    if isinstance(args, (cst.Tuple, cst.List)):
        for element in args.elements:
            if isinstance(element, cst.StarredElement):
                call_args.append(cst.Arg(element.value, star="*"))
            else:
                call_args.append(cst.Arg(element.value))
    elif args is not None:
        call_args.append(cst.Arg(args, star="*"))
    nprocs = bound.get("nprocs")
    bound.warnings.append(_MSRUN.format(n=code(nprocs) if nprocs is not None else 1))
    return cst.Call(bound.get("fn"), call_args)
