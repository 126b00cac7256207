"""Sparse tensors as the dense tensors they stand for.

A sparse layout changes how a tensor is stored, not its values; MindSpore 2.10's
COOTensor has no CPU kernels for most operations, so a sparse tensor becomes the dense
tensor it holds (the rule warns: memory grows with the dense size).
"""
from __future__ import annotations

from ..core.callrewrite import Bound, rewrite
from .base import transform
from .helper_code import request

DENSE = ("dense in MindSpore: memory grows with the dense size (MindSpore 2.10's COOTensor "
         "has no CPU kernels for most operations)")


@transform
def sparse_coo_helper(ctx, rule, bound: Bound, call=None):
    """torch.sparse_coo_tensor(indices, values, size) -> a helper that scatters the values
    into a dense tensor (transforms/helper_code.py)."""
    bound.warnings.append(DENSE)
    return rewrite(rule, bound, request(ctx, "sparse_coo_tensor"), call, ctx.name)


@transform
def dense_layout(ctx, rule, bound: Bound, call=None):
    """x.to_dense(), x.to_sparse(...), x.coalesce() -> x: the tensor is dense already, and
    a layout's arguments (sparse_dim=, blocksize=) change how it is stored, not its
    values."""
    receiver = bound.get("self")
    if receiver is None:
        return None
    if rule.torch_name.startswith(".to_sparse"):
        bound.warnings.append(DENSE)
    return receiver.with_changes(lpar=call.lpar, rpar=call.rpar) if call.lpar else receiver
