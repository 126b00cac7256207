"""Type hints that name torch's data classes (`dataset: Dataset`, `-> DataLoader`).

A converted loader is a mindspore.dataset pipeline (`GeneratorDataset(...).batch(...)`,
whose class is `mindspore.dataset.Dataset`), or MindSpore's torch-style DataLoader
when every loader of the file becomes one; a hint naming `DataLoader` names that. A
Dataset subclass becomes a plain Python class that GeneratorDataset reads, so
torch's `Dataset` base has no MindSpore class to name: a parameter or return hint
that is only `Dataset` goes (the value is any object with __getitem__ and __len__).
"""
from __future__ import annotations

from typing import Callable, Optional

import libcst as cst

from ..core.traversal import FastTransformer, traverse

_DATA = "torch.utils.data."
LOADERS = {_DATA + "DataLoader", _DATA + "dataloader.DataLoader"}
DATASETS = {_DATA + "Dataset", _DATA + "IterableDataset", _DATA + "dataset.Dataset",
            _DATA + "dataset.IterableDataset"}
PIPELINE_CLASS = "mindspore.dataset.Dataset"


def only_dataset(resolve, annotation: Optional[cst.Annotation]) -> Optional[str]:
    """The torch Dataset class a hint is, when it is nothing else."""
    if annotation is None:
        return None
    api = resolve(annotation.annotation)
    return api if api in DATASETS else None


def with_loader_class(annotation: cst.Annotation, resolve, replace: Callable[[str], cst.BaseExpression]):
    """The hint with each name of torch's DataLoader replaced: (hint, count)."""
    renamer = _Renamer(resolve, replace)
    new = traverse(annotation.annotation, renamer)
    if new is annotation.annotation:
        return annotation, 0  # unchanged: the statement stays the one parsed
    return annotation.with_changes(annotation=new), renamer.count


class _Renamer(FastTransformer):
    def __init__(self, resolve, replace):
        super().__init__()
        self.resolve = resolve
        self.replace = replace
        self.count = 0

    def visit_Attribute(self, node):
        return self.resolve(node) not in LOADERS

    def leave_Attribute(self, original, updated):
        return self._renamed(original, updated)

    def leave_Name(self, original, updated):
        return self._renamed(original, updated)

    def _renamed(self, original, updated):
        api = self.resolve(original)
        if api in LOADERS:
            self.count += 1
            return self.replace(api)
        return updated
