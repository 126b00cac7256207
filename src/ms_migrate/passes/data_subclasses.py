"""`class AudioDataLoader(DataLoader)`, `class ElasticSampler(DistributedSampler)`: a
subclass of torch's loader or of one of its samplers extends MindSpore's torch-style
class of the same name (`mindspore.dataset.dataloader`), which takes torch's arguments
and keeps torch's attributes (`self.collate_fn`, `self.num_replicas`, `self.epoch`, ...),
so `super().__init__(*args, **kwargs)` and the overridden methods run as written.
Dataset and Sampler subclasses become plain classes instead (data.py).
"""
from __future__ import annotations

import libcst as cst

from ..core.context import Context
from .class_bases import rebase

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


def applies(source: str) -> bool:
    return "class" in source and any(name in source for name in _CLASSES)


def extend_torch_style_classes(ctx: Context, module: cst.Module) -> cst.Module:
    return rebase(ctx, module, _BASES, lambda ctx, name: ctx.name(_TORCH_STYLE + name),
                  lambda name: f"-> {_TORCH_STYLE}{name} as the base class: MindSpore's "
                  "torch-style class takes torch's arguments and keeps its attributes")
