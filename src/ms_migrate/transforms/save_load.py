"""Transforms for checkpoints: torch.save / load_state_dict -> MindSpore checkpoints.

A MindSpore checkpoint is one flat `name -> Parameter` file. torch's usual
checkpoint dict (`{'model': model.state_dict(), 'optimizer': optimizer.state_dict(),
'epoch': epoch}`) becomes the network's and the optimizer's parameters in one file,
with the other entries in `append_dict`; loading takes each object's parameters from
that flat dict by name, so `checkpoint['model']` is the whole checkpoint.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import libcst as cst

from ..core.callrewrite import Bound, Unsupported, code
from .base import transform

_STATE_METHODS = ("state_dict", "parameters_dict")  # torch's, and after the method rule


def _state_owner(node: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """`model` for `model.state_dict()`, else None."""
    if (isinstance(node, cst.Call) and not node.args and isinstance(node.func, cst.Attribute)
            and node.func.attr.value in _STATE_METHODS):
        return node.func.value
    return None


def _is_optimizer(owner: cst.BaseExpression, key: str) -> bool:
    return "opt" in code(owner).lower() or "opt" in key.lower()


def _split(entries: cst.Dict) -> Tuple[List[cst.BaseExpression], List[cst.DictElement]]:
    """(objects whose state is saved, the other entries) of a checkpoint dict literal."""
    owners, extra = [], []
    networks = optimizers = 0
    for element in entries.elements:
        if not isinstance(element, cst.DictElement):
            raise Unsupported("`**` in a checkpoint dict cannot be matched to parameters")
        owner = _state_owner(element.value)
        if owner is None:
            extra.append(element)
            continue
        key = code(element.key)
        if "sched" in (key + code(owner)).lower():
            raise Unsupported("a MindSpore checkpoint holds no LR scheduler state; "
                              "save its last_epoch in append_dict and rebuild it")
        if _is_optimizer(owner, key):
            optimizers += 1
        else:
            networks += 1
        owners.append(owner)
    if networks > 1 or optimizers > 1:
        raise Unsupported("parameter names of several networks (or optimizers) can "
                          "collide in one MindSpore checkpoint: save each with "
                          "mindspore.save_checkpoint to its own file")
    return owners, extra


def _parameters_dict(owner: cst.BaseExpression) -> cst.Call:
    return cst.Call(cst.Attribute(owner, cst.Name("parameters_dict")))


@transform
def checkpoint_save(ctx, rule, bound: Bound, call=None):
    """torch.save(model.state_dict(), f) -> mindspore.save_checkpoint(model, f)."""
    obj = bound.get("obj")
    owner = _state_owner(obj)
    if owner is not None:
        bound.set("obj", owner)
        return None
    if not isinstance(obj, cst.Dict):
        bound.warnings.append("saved as a checkpoint of its parameters: MindSpore does "
                              "not pickle objects")
        return None
    owners, extra = _split(obj)
    if not owners:
        raise Unsupported("a dict without any state_dict() cannot be a MindSpore "
                          "checkpoint; save values with append_dict")
    if len(owners) == 1:
        saved: cst.BaseExpression = owners[0]
    else:  # one flat dict: the network's parameters, then the optimizer's state
        saved = cst.Dict([cst.StarredDictElement(_parameters_dict(o), comma=cst.Comma(
            whitespace_after=cst.SimpleWhitespace(" "))) for o in owners[:-1]]
            + [cst.StarredDictElement(_parameters_dict(owners[-1]))])
    bound.set("obj", saved)
    if extra:  # the last entry keeps the user's trailing comma, if any
        extra[-1] = extra[-1].with_changes(comma=obj.elements[-1].comma)
        bound.set("append_dict", obj.with_changes(elements=extra))
    return None


def _loaded(node: cst.BaseExpression) -> bool:
    """`torch.load(...)`, already converted to `mindspore.load_checkpoint(...)`."""
    return (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
            and node.func.attr.value == "load_checkpoint")


@transform
def checkpoint_load_into(ctx, rule, bound: Bound, call=None):
    """model.load_state_dict(torch.load(f)['model']) -> load_param_into_net(model, ...(f)).

    A name assigned from torch.load is handled by the checkpoints pass.
    """
    state = bound.get("state_dict")
    if isinstance(state, cst.Subscript) and _loaded(state.value):
        bound.set("state_dict", state.value)  # the checkpoint is flat: take all of it
    return None
