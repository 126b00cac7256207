"""`DataLoader(reader, sampler=...)`: the sampler goes to the pipeline's reader.

A torchvision reader converts to a mindspore.dataset pipeline
(`ds.ImageFolderDataset(...).map(...)`), which takes a sampler only where it starts,
and the sampler is usually made after the reader (`DistributedSampler(dataset, ...)`).
Such a loader's dataset becomes `reader_with_sampler(dataset, sampler, shuffle)`, a
small function written into the file: it hands the sampler to the reader at the
start of the pipeline (`use_sampler`), or shuffles when the sampler is None, as
torch's DataLoader does with `shuffle=(sampler is None)`. The loader then batches it.
"""
from __future__ import annotations

from typing import Callable, List, Optional, Set

import libcst as cst

from ..core.facts import PIPELINE, DataFacts
from ..core.traversal import FastVisitor
from ..transforms.data import SAMPLER_HELPER as HELPER
from ..transforms.data import sampler_or_shuffle
from ..transforms.helper_code import request
from .statement_pass import with_helper_class

_CODE = f'''\
def {HELPER}(dataset, sampler, shuffle=False):
    """The pipeline, its reader drawing rows with `sampler`: torch's
    DataLoader(dataset, sampler=sampler, shuffle=shuffle) over a mindspore.dataset."""
    if sampler is None:
        return dataset.shuffle(dataset.get_dataset_size()) if shuffle else dataset
    if shuffle:
        raise ValueError("sampler option is mutually exclusive with shuffle")
    reader = dataset
    while reader.children:  # the reader where the pipeline starts
        reader = reader.children[0]
    reader.use_sampler(sampler)
    return dataset
'''


def _literal(node: Optional[cst.BaseExpression]) -> Optional[str]:
    return node.value if isinstance(node, cst.Name) else None


def sampled_reader(info: DataFacts, call: cst.Call) -> Optional[cst.Call]:
    """`DataLoader(reader, ..., shuffle=s, sampler=x)` -> `DataLoader(HELPER(reader, x,
    s), ...)`; None unless the dataset is a pipeline name and a sampler is given."""
    if HELPER not in info.wrappers:
        return None
    keywords = {a.keyword.value: a for a in call.args if a.keyword is not None}
    positional = [a for a in call.args if a.keyword is None]
    if any(a.star for a in call.args) or len(positional) > 2 or "sampler" not in keywords:
        return None
    dataset = keywords["dataset"] if "dataset" in keywords else (
        positional[0] if positional else None)
    sampler = keywords["sampler"]
    if (dataset is None or not isinstance(dataset.value, cst.Name) or _literal(sampler.value) == "None"
            or info.names.get(dataset.value.value, ("", None))[0] != PIPELINE):
        return None
    shuffle = keywords.get("shuffle")
    parts: List[cst.Arg] = [cst.Arg(dataset.value), cst.Arg(sampler.value)]
    if shuffle is not None and _literal(shuffle.value) not in ("False", "None"):
        parts.append(cst.Arg(shuffle.value))
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    wrapped = cst.Call(func=cst.Name(HELPER), args=[
        a.with_changes(comma=comma) for a in parts[:-1]] + parts[-1:])
    args = []
    for arg in call.args:
        if arg is sampler or arg is shuffle:
            continue
        args.append(arg.with_changes(value=wrapped) if arg is dataset else arg)
    if args[-1].comma is not cst.MaybeSentinel.DEFAULT and call.args[-1].comma is cst.MaybeSentinel.DEFAULT:
        args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return call.with_changes(args=args)


def with_helper(module: cst.Module) -> cst.Module:
    """The module with the helper written after its imports."""
    return with_helper_class(module, _CODE)


def taken(source: str) -> bool:
    """Whether the file already uses the helper's name."""
    return HELPER in source


# --- samplers of torch-style loaders ---------------------------------------------------
# A batch sampler, and the samplers that feed it or a torch-style loader
# (mindspore.dataset.dataloader.DataLoader), are MindSpore's torch-style classes of the
# same names and signatures: mindspore.dataset's own samplers are not iterable.
TORCH_STYLE = "mindspore.dataset.dataloader."
_DATA = "torch.utils.data."
_CLASSES = ("RandomSampler", "SequentialSampler", "DistributedSampler", "BatchSampler")
TORCH_SAMPLERS = {**{_DATA + c: c for c in _CLASSES},
                  _DATA + "distributed.DistributedSampler": "DistributedSampler"}


_SUBSET_RANDOM = _DATA + "SubsetRandomSampler"
# samplers with no torch-style class in MindSpore: a class written into the file
# (transforms/helper_code.py) draws the indices with numpy, as torch's does
HELPER_SAMPLERS = {_DATA + "SubsetRandomSampler": "ShuffledSubsetSampler",
                   _DATA + "WeightedRandomSampler": "WeightedIndexSampler"}
# where torch's samplers take generator= positionally
GENERATOR_POSITION = {_DATA + "RandomSampler": 3, _DATA + "SubsetRandomSampler": 1,
                      _DATA + "WeightedRandomSampler": 3}
# calls that iterate their one argument
_ITERATING = frozenset({"iter", "list", "tuple", "len", "enumerate", "sorted", "set"})


def random_over_range(node, resolve) -> bool:
    """`SubsetRandomSampler(range(n))`: a permutation of range(n) each time it is
    iterated, as RandomSampler(range(n)) (over other indices they differ)."""
    if not (isinstance(node, cst.Call) and resolve(node.func) == _SUBSET_RANDOM
            and len(node.args) == 1 and node.args[0].keyword in (None,)):
        return False
    inner = node.args[0].value
    return (isinstance(inner, cst.Call) and isinstance(inner.func, cst.Name)
            and inner.func.value == "range" and len(inner.args) == 1
            and inner.args[0].keyword is None and not inner.args[0].star)


class SamplerFlow:
    """Which sampler names feed batch samplers or torch-style loaders, and whether every
    value assigned to them has a torch-style class."""

    def __init__(self):
        self.assigned: dict = {}  # name -> qualified names of the calls assigned to it
        self.fed: set = set()  # names a BatchSampler or a torch-style loader reads

    def assignment(self, name: str, qualified) -> None:
        self.assigned.setdefault(name, set()).add(qualified)

    def feeds(self, node) -> None:
        if isinstance(node, cst.Name):
            self.fed.add(node.value)

    def convertible(self, node, resolve) -> bool:
        """A sampler expression whose every value has a torch-style class."""
        if isinstance(node, (cst.List, cst.Tuple)) or (
                isinstance(node, cst.Call) and isinstance(node.func, cst.Name)
                and node.func.value == "range"):
            return True  # indices as they are: torch-style samplers take any iterable
        if isinstance(node, cst.Call):
            return (resolve(node.func) in TORCH_SAMPLERS or resolve(node.func) in HELPER_SAMPLERS
                    or random_over_range(node, resolve))
        if isinstance(node, cst.Name):
            kinds = self.assigned.get(node.value)
            return bool(kinds) and all(k in TORCH_SAMPLERS or k in HELPER_SAMPLERS
                                       for k in kinds)
        return False

    def torch_style(self, name: str) -> bool:
        return name in self.fed and self.convertible(cst.Name(name), None)

    def convertible_names(self) -> Set[str]:
        """The assigned names `torch_style` may be true of: only their feeds count."""
        return {name for name, kinds in self.assigned.items() if kinds and all(
            k in TORCH_SAMPLERS or k in HELPER_SAMPLERS for k in kinds)}


def torch_style_sampler(ctx, call: cst.Call, qualified: str) -> cst.Call:
    if qualified in HELPER_SAMPLERS and not random_over_range(call, lambda f: qualified):
        return call.with_changes(func=request(ctx, HELPER_SAMPLERS[qualified]))
    name = "RandomSampler" if qualified == _SUBSET_RANDOM else TORCH_SAMPLERS[qualified]
    return call.with_changes(func=ctx.name(TORCH_STYLE + name))


class IteratedNames(FastVisitor):
    """Sampler names the file iterates itself (`for i in sampler`, `list(sampler)`,
    `len(sampler)`): mindspore.dataset's samplers are not iterable, the torch-style
    ones are."""

    def __init__(self, flow: SamplerFlow, skips: Callable[[cst.CSTNode], bool]):
        """`skips(statement)`: a statement that names none of the samplers."""
        super().__init__()
        self.flow = flow
        self.skips = skips

    def _iterated(self, node) -> None:
        if isinstance(node, cst.Name) and node.value in self.flow.assigned:
            self.flow.feeds(node)

    def visit_For(self, node) -> None:
        self._iterated(node.iter)

    def visit_CompFor(self, node) -> None:
        self._iterated(node.iter)

    def visit_Call(self, node) -> None:
        if (isinstance(node.func, cst.Name) and node.func.value in _ITERATING and node.args
                and node.args[0].keyword is None and not node.args[0].star):
            self._iterated(node.args[0].value)


def source_with_sampler(info: DataFacts, call: cst.Call, dataset_kind) -> bool:
    """`DataLoader(source, sampler=s, shuffle=<expression>)` over a Python dataset: the
    transform (transforms/data.py) writes the helper's call; the file needs it."""
    if HELPER not in info.wrappers or dataset_kind == PIPELINE:
        return False
    keywords = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
    return sampler_or_shuffle(keywords.get("sampler"), keywords.get("shuffle"))
