"""Helper functions a transform writes into the converted file, by name.

Where a torch call needs a composition too long for one expression (an argument used
several times, statements), its transform calls `request(ctx, name)` and writes a
call of the helper; passes/helpers.py puts each requested helper, once, after the
file's imports. Helpers spell MindSpore names in full (`mindspore.ops.fold`): they go
through `ctx.name` like every converted name, so they get the file's import style.

Each family module holds HELPERS (name -> code) and, where needed, IMPORTS (name ->
import statements the helper uses) and NEEDS (name -> helpers it builds on, written
first). A new family module is one line in _FAMILIES.
"""
from __future__ import annotations

import libcst as cst

from ..core.context import Context
from . import (
    attention_helper_code,
    audio_helper_code,
    augmentation_helper_code,
    bag_helper_code,
    conv_transpose_helper_code,
    data_split_helper_code,
    distribution_counts_code,
    distribution_family_code,
    distribution_helper_code,
    distribution_kl_code,
    general_helper_code,
    indexing_helper_code,
    layer_helper_code,
    lbfgs_helper_code,
    linalg_helper_code,
    lu_helper_code,
    model_code,
    nn_extra_helper_code,
    parallel_helper_code,
    pytree_helper_code,
    serialization_helper_code,
    signal_helper_code,
    special_helper_code,
    sync_norm_helper_code,
    testing_helper_code,
    text_data_helper_code,
    text_helper_code,
    text_legacy_helper_code,
    torch_function_code,
    vision_data_helper_code,
    vision_helper_code,
)

_FAMILIES = (
    attention_helper_code,
    audio_helper_code,
    augmentation_helper_code,
    bag_helper_code,
    conv_transpose_helper_code,
    data_split_helper_code,
    distribution_family_code,
    distribution_counts_code,
    distribution_helper_code,
    distribution_kl_code,
    general_helper_code,
    indexing_helper_code,
    layer_helper_code,
    lbfgs_helper_code,
    linalg_helper_code,
    lu_helper_code,
    model_code,
    nn_extra_helper_code,
    parallel_helper_code,
    pytree_helper_code,
    serialization_helper_code,
    signal_helper_code,
    special_helper_code,
    sync_norm_helper_code,
    testing_helper_code,
    text_data_helper_code,
    text_helper_code,
    text_legacy_helper_code,
    torch_function_code,
    vision_data_helper_code,
    vision_helper_code,
)

HELPERS: dict[str, str] = {}
_IMPORTS: dict[str, tuple[str, ...]] = {}
NEEDS: dict[str, tuple[str, ...]] = {}
for _family in _FAMILIES:
    _clash = HELPERS.keys() & _family.HELPERS.keys()
    assert not _clash, f"helpers defined twice: {sorted(_clash)}"
    HELPERS.update(_family.HELPERS)
    _IMPORTS.update(getattr(_family, "IMPORTS", {}))
    NEEDS.update(getattr(_family, "NEEDS", {}))


def request(ctx: Context, name: str) -> cst.Name:
    """The helper `name` will be in the file: a Name to call it by. The helpers it
    builds on (NEEDS) come before it."""
    _register(ctx, name)
    node = cst.Name(name)
    ctx.helpers[name].add(id(node))
    return node


def _register(ctx: Context, name: str) -> None:
    for needed in NEEDS.get(name, ()):
        _register(ctx, needed)
    if name not in ctx.helpers:
        ctx.helpers[name] = set()
        for statement in _IMPORTS.get(name, ()):
            ctx.require(statement)
