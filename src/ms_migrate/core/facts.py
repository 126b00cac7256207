"""What statement passes learn for later ones: typed, on the context, never in globals.

pipeline.py names the pass that provides each fact and those that need it. A fact
whose pass did not apply to a file keeps its empty default here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Set, Tuple

import libcst as cst

from .names import dotted_name
from .traversal import FastVisitor, traverse

SOURCE, PIPELINE = "source", "pipeline"
# Column names when a dataset's samples cannot be seen in the file.
DEFAULT_COLUMNS = ("data", "label")


@dataclass
class Columns:
    """Columns of a dataset's samples. `single`: one value (or a dict) per sample,
    so MindSpore gives each batch as a one-element list."""

    names: List[str]
    single: bool = False
    known: bool = True


@dataclass
class DataFacts:
    classes: Dict[str, Columns] = field(default_factory=dict)   # Dataset subclasses
    names: Dict[str, Tuple[str, Columns]] = field(default_factory=dict)  # name -> kind, columns
    loaders: Dict[str, Columns] = field(default_factory=dict)   # name -> batch columns
    loader_sources: Dict[str, str] = field(default_factory=dict)  # loader -> dataset name
    functions: Dict[str, cst.FunctionDef] = field(default_factory=dict)  # of this file
    torch_aliases: frozenset = frozenset()  # names the file imports from torch
    # nodes this module built, by id (kept alive), so an enclosing call knows them
    built: Dict[int, Tuple[cst.CSTNode, str, Columns]] = field(default_factory=dict)
    # names holding a DistributedSampler, and loaders given one as sampler=
    distributed_samplers: Set[str] = field(default_factory=set)
    # sampler names and what reads them (passes/data_samplers.SamplerFlow)
    samplers: Any = None
    # functions written into the file that return their first argument's pipeline
    wrappers: frozenset = frozenset()
    # torch names imported and then rebound by the file (`class Dataset(Dataset)`)
    shadowed: Dict[str, str] = field(default_factory=dict)
    # DataLoader calls that become the torch-style loader (passes/data.py): id -> why
    torch_style: Dict[int, str] = field(default_factory=dict)
    # loader name -> the DataLoader calls assigned to it; ids of all DataLoader calls
    loader_calls: Dict[str, List[cst.Call]] = field(default_factory=dict)
    loader_calls_seen: Set[int] = field(default_factory=set)

    def collate_returns(self, name: str) -> Tuple[bool, Optional[int]]:
        """(a function of this file?, how many values it returns: None for one)."""
        fn = self.functions.get(name)
        if fn is None:
            return False, None
        counts = {len(v.elements) if isinstance(v, (cst.Tuple, cst.List)) else None
                  for v in returned_values(fn, yields=False)}
        return True, counts.pop() if len(counts) == 1 else None

    def uses_torch(self, name: str) -> bool:
        fn = self.functions.get(name)
        if fn is None:
            return False
        finder = _NameFinder(self.torch_aliases)
        traverse(fn.body, finder)
        return finder.found

    def remember(self, node: cst.CSTNode, kind: str, columns: Columns) -> cst.CSTNode:
        self.built[id(node)] = (node, kind, columns)
        return node

    def lookup(self, node: cst.BaseExpression) -> Tuple[str, Columns]:
        """What a dataset expression holds; unknown ones are taken as sources."""
        if id(node) in self.built:
            return self.built[id(node)][1:]
        if isinstance(node, cst.Name) and node.value in self.names:
            return self.names[node.value]
        if isinstance(node, cst.Attribute) and dotted_name(node) in self.names:
            return self.names[dotted_name(node)]  # `self.ds = Images(...)`
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name):
            if node.func.value in self.classes:
                return SOURCE, self.classes[node.func.value]
            if node.func.value in self.wrappers and node.args:
                return self.lookup(node.args[0].value)
        return SOURCE, Columns(list(DEFAULT_COLUMNS), known=False)


class _ReturnFinder(FastVisitor):
    def __init__(self, yields: bool):
        self.yields = yields
        self.values: List[cst.BaseExpression] = []

    def visit_FunctionDef(self, node):
        return False  # nested functions return their own values

    def visit_Lambda(self, node):
        return False

    def visit_Return(self, node):
        if not self.yields and node.value is not None:
            self.values.append(node.value)

    def visit_Yield(self, node):
        if self.yields and isinstance(node.value, cst.BaseExpression):
            self.values.append(node.value)


def returned_values(fn: cst.FunctionDef, yields: bool) -> List[cst.BaseExpression]:
    """What a function returns (or yields), nested functions left out."""
    finder = _ReturnFinder(yields)
    traverse(fn.body, finder)
    return finder.values


class _NameFinder(FastVisitor):
    def __init__(self, names):
        self.names = names
        self.found = False

    def visit_Name(self, node):
        if node.value in self.names:
            self.found = True



@dataclass
class Facts:
    # provided by the data pass, read by transforms/data.py (DataLoader, datasets)
    data: DataFacts = field(default_factory=DataFacts)
    # provided by the distributed pass: the model was wrapped for data parallelism,
    # so the training pass reduces gradients across devices
    data_parallel: bool = False
    # provided by the out-args pass: id(new call) -> (call, warning) for the API pass,
    # which converts the rebuilt call and reports the warning on it
    out_args: Dict[int, Tuple[cst.Call, str]] = field(default_factory=dict)
