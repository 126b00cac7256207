"""Calls that become a helper written into the file (transforms/helper_code.py): the
torch arguments keep their names, as the helper takes torch's signature."""
from __future__ import annotations

import libcst as cst

from ..core.callrewrite import Bound, Unsupported, code, rewrite
from .base import transform
from .helper_code import request
from .layers import batch_norm
from .tensors import write_back


def _helper_call(ctx, rule, bound: Bound, call, name: str):
    return rewrite(rule, bound, request(ctx, name), call, ctx.name)


@transform
def written_function(ctx, rule, bound: Bound, call=None):
    """A torch function MindSpore lacks -> the helper of the same name written into the
    file, called with torch's arguments (torch.nn.parallel.scatter -> scatter(...),
    torch.svd / Tensor.svd -> svd(...)). The rule's notes say what the helper computes."""
    return _helper_call(ctx, rule, bound, call, rule.torch_name.rpartition(".")[2])


@transform
def written_function_inplace(ctx, rule, bound: Bound, call=None):
    """An in-place Tensor method MindSpore lacks on CPU -> the helper named after it
    without its "_" (x.fill_diagonal_(v) -> fill_diagonal(x, v)), written back into the
    receiver as `inplace` writes."""
    name = rule.torch_name.rpartition(".")[2].rstrip("_")
    value = _helper_call(ctx, rule, bound, call, name)
    return write_back(ctx, rule, call.func.value, value)


@transform
def multi30k_splits_helper(ctx, rule, bound: Bound, call=None):
    """torchtext's legacy Multi30k.splits(...) -> multi30k_splits(...) written into the file
    (torchtext 0.12's Multi30k function is written under the name Multi30k)."""
    return _helper_call(ctx, rule, bound, call, "multi30k_splits")


@transform
def linalg_svd_helper(ctx, rule, bound: Bound, call=None):
    """torch.linalg.svd -> linalg_svd(...): (U, S, Vh) in torch's order."""
    return _helper_call(ctx, rule, bound, call, "linalg_svd")


_TOKENIZERS = ("None", '"basic_english"', "'basic_english'", '"spacy"', "'spacy'")


@transform
def tokenizer_helper(ctx, rule, bound: Bound, call=None):
    """torchtext's get_tokenizer -> get_tokenizer(...) written into the file, which knows
    None, "basic_english", "spacy" and callables; another library's name is refused."""
    name = bound.get("tokenizer")
    text = None if name is None else code(name).strip()
    if text is not None and text[:1] in "\"'" and text not in _TOKENIZERS:
        raise Unsupported(f"tokenizer {text}: only None, 'basic_english', 'spacy' or a "
                          f"callable are written for MindSpore")
    return _helper_call(ctx, rule, bound, call, "get_tokenizer")


@transform
def nanquantile_helper(ctx, rule, bound: Bound, call=None):
    """Tensor.nanquantile -> quantile(..., ignore_nan=True): NaNs sorted last and not
    counted."""
    new = _helper_call(ctx, rule, bound, call, "quantile")
    return new.with_changes(args=[*new.args, cst.Arg(
        cst.Name("True"), keyword=cst.Name("ignore_nan"),
        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                              whitespace_after=cst.SimpleWhitespace("")))])


@transform
def chain_dataset_helper(ctx, rule, bound: Bound, call=None):
    """torch.utils.data.ChainDataset(datasets) -> ChainedDatasets(datasets): iterates each
    dataset in turn (MindSpore has no chain of iterable sources)."""
    return _helper_call(ctx, rule, bound, call, "ChainedDatasets")


@transform
def functional_vjp_helper(ctx, rule, bound: Bound, call=None):
    """torch.autograd.functional.vjp -> functional_vjp(...): mindspore.vjp, then its
    function applied to v."""
    return _helper_call(ctx, rule, bound, call, "functional_vjp")



@transform
def unfold_windows_helper(ctx, rule, bound: Bound, call=None):
    """Tensor.unfold(dimension, size, step) -> unfold_windows(x, ...): sliding windows."""
    return _helper_call(ctx, rule, bound, call, "unfold_windows")


@transform
def sync_batch_norm(ctx, rule, bound: Bound, call=None):
    """torch.nn.SyncBatchNorm -> the SyncBatchNorm class written into the file, with
    BatchNorm's arguments (momentum, track_running_stats) rewritten."""
    batch_norm(ctx, rule, bound, call)
    return _helper_call(ctx, rule, bound, call, "SyncBatchNorm")
