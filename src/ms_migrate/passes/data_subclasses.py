"""`class AudioDataLoader(DataLoader)`, `class ElasticSampler(DistributedSampler)`: a
subclass of torch's loader or of one of its samplers extends MindSpore's torch-style
class of the same name (`mindspore.dataset.dataloader`), which takes torch's arguments
and keeps torch's attributes (`self.collate_fn`, `self.num_replicas`, `self.epoch`, ...),
so `super().__init__(*args, **kwargs)` and the overridden methods run as written.
Dataset and Sampler subclasses become plain classes instead (data.py).
"""
from __future__ import annotations

import re

import libcst as cst

from ..core.context import Context
from ..core.report import CONVERTED
from ..core.traversal import traverse
from .statement_pass import StatementPass

_DATA = "torch.utils.data."
_TORCH_STYLE = "mindspore.dataset.dataloader."
_CLASSES = {
    "DataLoader": ("DataLoader", "dataloader.DataLoader"),
    "DistributedSampler": ("DistributedSampler", "distributed.DistributedSampler"),
    "RandomSampler": ("RandomSampler", "sampler.RandomSampler"),
    "SequentialSampler": ("SequentialSampler", "sampler.SequentialSampler"),
    "BatchSampler": ("BatchSampler", "sampler.BatchSampler"),
}
_BASES = {_DATA + spelling: name for name, spellings in _CLASSES.items()
          for spelling in spellings}
_APPLIES = re.compile(r"\bclass\b")


def applies(source: str) -> bool:
    return "class" in source and any(name in source for name in _CLASSES)


def extend_torch_style_classes(ctx: Context, module: cst.Module) -> cst.Module:
    rebaser = _Rebaser(ctx)
    converted = traverse(module, rebaser)
    rebaser.place_findings()
    return converted


class _Rebaser(StatementPass):
    def __init__(self, ctx: Context):
        super().__init__(ctx, _APPLIES)

    def leave_ClassDef(self, original, updated):
        bases = list(updated.bases)
        for k, base in enumerate(original.bases):
            api = self.ctx.resolve(base.value)
            name = _BASES.get(api or "")
            if name is None:
                continue
            bases[k] = bases[k].with_changes(value=self.ctx.name(_TORCH_STYLE + name))
            self.add(base, api, CONVERTED,
                     f"-> {_TORCH_STYLE}{name} as the base class: MindSpore's torch-style "
                     "class takes torch's arguments and keeps its attributes")
        return updated.with_changes(bases=bases)
