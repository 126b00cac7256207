"""torch.multiprocessing -> Python's multiprocessing.

torch's module is the standard library's with tensors that travel through shared
memory: a tensor (a model's parameters after `share_memory()`) handed to a child
process is the parent's own storage there. MindSpore tensors are pickled like any
object, so the child works on a copy.
"""
from __future__ import annotations

from ..core.callrewrite import Bound
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
