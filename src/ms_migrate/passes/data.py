"""Data pipelines: what the statements around DataLoader calls need.

The calls themselves (DataLoader, TensorDataset, samplers, torchvision readers)
convert from the tables through transforms/data.py, in the traversal after the
statement passes. This pass, the last but one of them (pipeline.py), runs before it and
  - learns what each name of the file holds and the columns of its samples
    (DataFacts, left in ctx.facts.data for those transforms);
  - turns Dataset/Sampler subclasses into plain classes that GeneratorDataset
    reads, with sample values it accepts (numpy arrays, also under numpy 2);
  - rewrites uses of loaders that differ: loader.dataset, loader.batch_size, and
    batches of one value (MindSpore gives a 1-element list). len(loader) stays:
    MindSpore datasets have len().
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Set

import libcst as cst

from ..core.aliases import canonical
from ..core.context import Context
from ..core.facts import PIPELINE, SOURCE, Columns, DataFacts, returned_values
from ..core.names import LocalNames, dotted_name, walk_statements
from ..core.positions import RelevantLines, names_pattern
from ..core.quick_libcst import parse_statement
from ..core.report import CONVERTED, UNSUPPORTED, WARNING, mark_text
from ..core.traversal import FastVisitor, traverse
from ..transforms.data import READERS, default_names
from . import data_annotations, data_samplers
from .data_escapes import escaping
from .data_shadowed import shadowed_imports, without_imported
from .statement_pass import StatementPass
from .text_search import found

_APPLIES = re.compile(r"\b(DataLoader|\w*Dataset|\w*Sampler|random_split|Subset|torchvision)\b")

DATA = "torch.utils.data."
_BASES = {DATA + "Dataset", DATA + "IterableDataset", DATA + "Sampler",
          DATA + "dataset.Dataset", DATA + "dataset.IterableDataset", DATA + "sampler.Sampler"}
_DEFAULT_COLLATE = {DATA + "default_collate", DATA + "dataloader.default_collate",
                    DATA + "_utils.collate.default_collate"}
_DISTRIBUTED_SAMPLERS = {DATA + "DistributedSampler", DATA + "distributed.DistributedSampler"}
_SET_EPOCH = ("MindSpore's DistributedSampler draws a new order every epoch itself, the "
              "same on every shard: set_epoch removed")
# Calls whose generator= argument has no MindSpore counterpart.
_SEEDED = {DATA + name for name in ("DataLoader", "random_split", "RandomSampler",
                                    "SubsetRandomSampler", "WeightedRandomSampler")}
# numpy functions that always return arrays (np.int64(3) is a scalar, not one of them).
_NP_ARRAYS = {"array", "asarray", "stack", "concatenate", "zeros", "ones", "full", "empty",
              "arange", "eye", "linspace", "zeros_like", "ones_like", "full_like", "load"}
# Methods whose returned (or yielded) values become dataset columns.
_SAMPLE_METHODS = ("__getitem__", "__iter__", "__next__")


# _APPLIES where it may start (its \w* reads back to the word's start: a name that
# ends a word needs no \b before it), tried only where the literals are
_APPLIES_AT = re.compile(r"\b(?:DataLoader|random_split|Subset|torchvision)\b|(?:Dataset|Sampler)\b")


def applies(source: str) -> bool:
    """`_APPLIES.search(source)`: its alternation is tried at every character."""
    return found(_APPLIES_AT, source, "DataLoader", "Dataset", "Sampler", "random_split",
                 "Subset", "torchvision")


def convert_data(ctx: Context, module: cst.Module) -> cst.Module:
    info = DataFacts(torch_aliases=frozenset(ctx.aliases), wrappers=frozenset(
        () if data_samplers.taken(ctx.source) else (data_samplers.HELPER,)))
    info.samplers = data_samplers.SamplerFlow()
    info.shadowed = shadowed_imports(module, ctx.aliases)
    ctx.facts.data = info
    subclasses = _collect(ctx, info, module)
    _torch_batches_where_escaping(ctx, info, module)
    rewriter = _DataRewriter(ctx, info, subclasses)
    converted = traverse(module, rewriter)
    if rewriter.placed_any:
        rewriter.place_findings()
    if rewriter.unshadowed:
        converted = without_imported(converted, rewriter.unshadowed)
    if rewriter.sampled_readers:
        converted = data_samplers.with_helper(converted)
    return converted


# --- what the file holds ------------------------------------------------------------
def _qualified(ctx: Context, node: cst.BaseExpression) -> Optional[str]:
    # types compared: isinstance against libcst's ABCs is slow (every assignment asks)
    return ctx.resolve(node.func) if type(node) is cst.Call else None


def _collect(ctx: Context, info: DataFacts, module: cst.Module) -> Dict[str, str]:
    """Fill `info` from the file; return Dataset/Sampler subclasses -> "dataset"/"sampler"."""
    subclasses: Dict[str, str] = {}
    # exact types (libcst's are abstract-based: a failed isinstance costs a lookup)
    statements = list(walk_statements(module.body))
    for stmt in statements:
        if type(stmt) is cst.FunctionDef:
            _collect_function(info, stmt)
    for stmt in statements:
        kind = type(stmt)
        if kind is cst.ClassDef:
            _collect_class(ctx, info, stmt, subclasses)
        elif kind is cst.Assign:
            _collect_assignments(ctx, info, (stmt,))
        elif kind is cst.SimpleStatementLine and len(stmt.body) > 1:
            # `a = x; b = y` has always been read a, b, a, b: the first round here,
            # the second as the loop meets them (one small statement read twice in a
            # row learns nothing new)
            _collect_assignments(ctx, info, stmt.body)
    # (a sampler some value of which has no torch-style class never becomes one: where
    # it is iterated does not matter)
    iterable = info.samplers.convertible_names()
    if iterable:
        traverse(module, data_samplers.IteratedNames(info.samplers, RelevantLines(
            ctx.lines, names_pattern(iterable)).skips))
    return subclasses


def _collect_assignments(ctx, info: DataFacts, statements) -> None:
    for stmt in statements:
        if type(stmt) is cst.Assign and len(stmt.targets) == 1:
            _collect_assignment(ctx, info, stmt.targets[0].target, stmt.value)


def _collect_class(ctx, info: DataFacts, node: cst.ClassDef,
                   subclasses: Dict[str, str]) -> None:
    inherited = None
    role = None
    for base in node.bases:
        api = base_api(ctx, node, base.value)
        if api in _BASES:
            role = "sampler" if api.endswith("Sampler") else "dataset"
        elif isinstance(base.value, cst.Name) and base.value.value in subclasses:
            role = subclasses[base.value.value]
            inherited = info.classes.get(base.value.value)
    if role is None:
        return
    subclasses[node.name.value] = role
    if role == "sampler":
        return
    columns = _sample_columns(node) or inherited
    if columns is not None:
        info.classes[node.name.value] = columns


def base_api(ctx: Context, node: cst.ClassDef, base: cst.BaseExpression) -> Optional[str]:
    """The torch class a base names; `class Dataset(Dataset)` too, whose own name
    shadows the import everywhere but in its bases (they run before it binds)."""
    api = ctx.resolve(base)
    if api is None and isinstance(base, cst.Name) and base.value == node.name.value:
        api = ctx.facts.data.shadowed.get(base.value)
    return api


def _methods(node: cst.ClassDef):
    for stmt in node.body.body:
        if isinstance(stmt, cst.FunctionDef):
            yield stmt


def _sample_columns(node: cst.ClassDef) -> Optional[Columns]:
    """Columns from what __getitem__ returns (or __iter__ yields)."""
    values = []
    for method in _methods(node):
        if method.name.value in _SAMPLE_METHODS:
            values += returned_values(method, yields=method.name.value == "__iter__")
    if not values:
        return None
    shapes = {_arity(v) for v in values}
    if len(shapes) != 1:
        return None
    arity = shapes.pop()
    if arity is None:  # one value (or a dict) per sample
        return Columns(["data"], single=True)
    names = [_column_name(el.value) for el in values[0].elements]
    if None in names or len(set(names)) != len(names):
        names = default_names(arity)
    return Columns(names)


def _arity(value: cst.BaseExpression) -> Optional[int]:
    """Items per sample; a list is a sample of several items to default_collate too."""
    return len(value.elements) if isinstance(value, (cst.Tuple, cst.List)) else None


def _column_name(value: cst.BaseExpression) -> Optional[str]:
    """`image` for `image`, `self.image`, `self.images[i]` is not guessed."""
    if isinstance(value, cst.Name):
        return value.value
    if isinstance(value, cst.Attribute):
        return value.attr.value
    return None


def _collect_function(info: DataFacts, node: cst.FunctionDef) -> None:
    """Functions that may be collate_fns; read only when a loader names one."""
    info.functions.setdefault(node.name.value, node)


def dataset_of(ctx, info: DataFacts, node: cst.BaseExpression):
    """(kind, columns) of a dataset expression of the original torch code, or None."""
    kind = type(node)  # types compared: isinstance against libcst's ABCs is slow
    if kind is cst.Name:
        return info.names.get(node.value)
    if kind is cst.Attribute:
        return info.names.get(dotted_name(node) or "")
    if kind is not cst.Call:
        return None
    if type(node.func) is cst.Name and node.func.value in info.classes:
        return SOURCE, info.classes[node.func.value]
    qualified = _qualified(ctx, node) or ""
    short = qualified.rpartition(".")[2]
    if qualified == DATA + "TensorDataset":
        return SOURCE, Columns(default_names(len(node.args)))
    if qualified.startswith("torchvision.datasets.") and short in READERS:
        return PIPELINE, Columns(list(READERS[short][2]))
    if qualified == "torchvision.datasets.FakeData":  # a GeneratorDataset (transforms/vision.py)
        return PIPELINE, Columns(["image", "label"])
    if qualified in (DATA + "Subset", DATA + "ConcatDataset") and node.args:
        first = node.args[0].value
        if isinstance(first, (cst.List, cst.Tuple)) and first.elements:
            first = first.elements[0].value
        inner = dataset_of(ctx, info, first)
        return (PIPELINE, inner[1]) if inner else None
    return None


def _collect_assignment(ctx, info: DataFacts, target, value) -> None:
    qualified = _qualified(ctx, value)
    kind = type(target)  # types compared: isinstance against libcst's ABCs is slow
    if qualified == DATA + "random_split" and (kind is cst.Tuple or kind is cst.List):
        inner = dataset_of(ctx, info, value.args[0].value) if value.args else None
        if inner:
            for el in target.elements:
                if isinstance(el.value, cst.Name):
                    info.names[el.value.value] = (PIPELINE, inner[1])
        return
    if kind is cst.Attribute and dotted_name(target):
        found = dataset_of(ctx, info, value)  # `self.ds = Images(...)`
        if found is not None:
            info.names[dotted_name(target)] = found
        return
    if kind is not cst.Name:
        return
    name = target.value
    if type(value) is cst.IfExp:  # `DistributedSampler(data) if distributed else None`
        for branch in (value.body, value.orelse):
            if not (isinstance(branch, cst.Name) and branch.value == "None"):
                info.samplers.assignment(name, _qualified(ctx, branch))
    elif (qualified in data_samplers.TORCH_SAMPLERS or qualified in data_samplers.HELPER_SAMPLERS
          or name in info.samplers.assigned):
        info.samplers.assignment(name, qualified)
    if qualified == DATA + "BatchSampler" and value.args:
        info.samplers.feeds(value.args[0].value)
    if qualified in _DISTRIBUTED_SAMPLERS:
        info.distributed_samplers.add(name)
    if qualified == DATA + "DataLoader":
        _collect_loader(ctx, info, name, value)
        return
    found = dataset_of(ctx, info, value)
    if found is not None:
        info.names[name] = found


# DataLoader arguments GeneratorDataset(...).batch(...) cannot express: such a loader
# becomes MindSpore's torch-style DataLoader, which takes torch's arguments.
_TORCH_STYLE_ARGS = ("batch_sampler", "worker_init_fn")
TORCH_STYLE_LOADER = "mindspore.dataset.dataloader.DataLoader"
_ARGUMENTS_WHY = ("its arguments (`**`, batch_sampler=, worker_init_fn=) do not fit "
                  "GeneratorDataset(...).batch(...)")
_COLLATE_WHY = ("its collate_fn uses tensor operations, which fail inside a dataset "
                "pipeline's per_batch_map; this loader collates in Python, as torch's")
_ESCAPES_WHY = ("its batches are one value, which GeneratorDataset gives as a one-element "
                "list, and the loader is used where that cannot be unpacked (passed on, "
                "stored, returned); this loader gives torch's batches")


def torch_style(call: cst.Call, info: DataFacts) -> bool:
    """`DataLoader(ds, **kwargs)`, batch_sampler=/worker_init_fn= given, or a loader
    the data pass found to need torch's batches (see _needs_torch_batches)."""
    return id(call) in info.torch_style or any(
        a.star or (a.keyword is not None and a.keyword.value in _TORCH_STYLE_ARGS
                   and not (isinstance(a.value, cst.Name) and a.value.value == "None"))
        for a in call.args)


def _collate_uses_torch(ctx, info: DataFacts, call: cst.Call) -> bool:
    """A collate_fn of this file that computes with torch, itself or through the
    functions of this file it calls: inside the pipeline (per_batch_map) MindSpore
    tensor operations fail ("The pointer[runtime_info] is null"; making a tensor from
    data works); the torch-style loader collates in Python, as torch's does."""
    collate = next((a.value for a in call.args if a.keyword is not None
                    and a.keyword.value == "collate_fn"), None)
    if isinstance(collate, cst.Name):
        collate = info.functions.get(collate.value)
    if not isinstance(collate, (cst.FunctionDef, cst.Lambda)):
        return False
    finder = _TorchOps(ctx, info)
    traverse(collate.body, finder)
    return finder.found


# Calls that only make a tensor from data: they run in a pipeline's threads.
_MAKERS = {"torch.tensor", "torch.as_tensor", "torch.from_numpy", "torch.Tensor",
           "torch.LongTensor", "torch.FloatTensor", "torch.IntTensor", "torch.BoolTensor"}


class _TorchOps(FastVisitor):
    def __init__(self, ctx, info: DataFacts, seen=None):
        self.ctx = ctx
        self.info = info
        self.seen = set() if seen is None else seen  # functions already read
        self.makers: Set[int] = set()
        self.found = False

    def visit_Call(self, node):
        func = node.func
        if self.ctx.resolve(func) in _MAKERS:
            self.makers.add(id(func))
        elif (isinstance(func, cst.Name) and func.value in self.info.functions
              and func.value not in self.seen):
            self.seen.add(func.value)
            inner = _TorchOps(self.ctx, self.info, self.seen)
            traverse(self.info.functions[func.value].body, inner)
            self.found = self.found or inner.found

    def visit_Attribute(self, node):
        if id(node) in self.makers:
            return False
        if self.ctx.resolve(node) is not None:
            self.found = True
            return False
        return True

    def visit_Name(self, node):
        if id(node) not in self.makers and self.ctx.resolve(node) is not None:
            self.found = True


def _feeds_samplers(info: DataFacts, call: cst.Call) -> None:
    """A torch-style loader iterates its samplers: they become torch-style too."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in ("sampler", "batch_sampler"):
            info.samplers.feeds(arg.value)


def _collect_loader(ctx, info: DataFacts, name: str, call: cst.Call) -> None:
    sampler = next((a.value for a in call.args if a.keyword is not None
                    and a.keyword.value == "sampler"), None)
    if isinstance(sampler, cst.Name) and sampler.value in info.distributed_samplers:
        info.distributed_samplers.add(name)  # `loader.sampler.set_epoch(epoch)`
    calls = info.loader_calls.setdefault(name, [])
    if call not in calls:
        calls.append(call)
    if _collate_uses_torch(ctx, info, call):
        info.torch_style[id(call)] = _COLLATE_WHY
    if torch_style(call, info):  # batches, .dataset and .batch_size as torch's: nothing to rewrite
        _feeds_samplers(info, call)
        return
    args = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
    positional = [a.value for a in call.args if a.keyword is None]
    dataset = args.get("dataset", positional[0] if positional else None)
    collate = args.get("collate_fn", positional[6] if len(positional) > 6 else None)
    if dataset is None:
        return
    found = dataset_of(ctx, info, dataset)
    if isinstance(dataset, cst.Name):
        info.loader_sources[name] = dataset.value
    columns = found[1] if found else Columns(default_names(2), known=False)
    known, count = info.collate_returns(collate.value) if isinstance(
        collate, cst.Name) else (False, None)
    if known:
        columns = Columns(["data"], single=True) if count is None else Columns(
            columns.names if count == len(columns.names) else default_names(count))
    info.loaders[name] = columns


def _torch_batches_where_escaping(ctx, info: DataFacts, module: cst.Module) -> None:
    """Loaders of one-value batches used where their batches cannot be unpacked become
    the torch-style loader (data_escapes.py)."""
    single = {name for name, columns in info.loaders.items() if columns.single}

    def single_call(call: cst.Call) -> bool:
        if _qualified(ctx, call) != DATA + "DataLoader":
            return False
        info.loader_calls_seen.add(id(call))
        if not torch_style(call, info) and _collate_uses_torch(ctx, info, call):
            info.torch_style[id(call)] = _COLLATE_WHY
        if torch_style(call, info):
            _feeds_samplers(info, call)
            return False
        dataset = next((a.value for a in call.args if a.keyword is None
                        or a.keyword.value == "dataset"), None)
        found = dataset_of(ctx, info, dataset) if dataset is not None else None
        return bool(found and found[1].single and not any(
            a.keyword is not None and a.keyword.value == "collate_fn" for a in call.args))

    names, calls = escaping(module, single, single_call, RelevantLines(
        ctx.lines, names_pattern(single | _loader_words(ctx))).skips)
    for call_id in calls:
        info.torch_style[call_id] = _ESCAPES_WHY
    for name in names:
        del info.loaders[name]
        info.loader_sources.pop(name, None)
        for call in list(info.loader_calls.get(name, ())):
            info.torch_style[id(call)] = _ESCAPES_WHY
            _collect_loader(ctx, info, name, call)


def _loader_words(ctx: Context) -> Set[str]:
    """Words a line calling DataLoader holds: `DataLoader` (the callee's last name, in
    any spelling that resolves to it), or a name bound to the class itself
    (`from torch.utils.data import DataLoader as DL`)."""
    return {"DataLoader", *(name for name, qualified in ctx.aliases.items()
                            if canonical(qualified) == DATA + "DataLoader")}


def _data_words(ctx: Context) -> Set[str]:
    """Words a line holds where a name resolves to torch.utils.data's classes and
    functions the rewriter reads (DataLoader, Dataset, IterableDataset, the samplers,
    random_split): their last name (the alias table keeps it), or a name the file
    binds to one of them."""
    return {"DataLoader", "Dataset", "Sampler", "random_split",
            *(name for name, qualified in ctx.aliases.items()
              if canonical(qualified).startswith(DATA))}


# --- rewriting ----------------------------------------------------------------------
def _call(func: cst.BaseExpression, *args: cst.BaseExpression) -> cst.Call:
    return cst.Call(func=func, args=[cst.Arg(a) for a in args])


class _DataRewriter(StatementPass):
    def __init__(self, ctx: Context, info: DataFacts, subclasses: Dict[str, str]):
        # what it rewrites names a torch data class or function, a loader, a sampler or
        # a Dataset subclass; in a Dataset subclass's sample methods every statement
        # counts (sample values, indices)
        super().__init__(ctx, names_pattern(
            {*_data_words(ctx), *info.loaders, *info.loader_sources,
             *info.distributed_samplers, *subclasses, *info.shadowed}))
        self.info = info
        self.subclasses = subclasses
        self.counted: Set[int] = set()  # `loader.dataset` nodes that len() converts
        self.consumed: Set[tuple] = set()  # (scope, pipeline name) a loader already reads
        # (id, local names) of the enclosing scopes: a function's are worked out only
        # where a loader's dataset is looked up in them
        self.scopes: List[tuple] = [(0, frozenset())]
        self.parameters: List[Set[str]] = []  # of the enclosing functions
        self.loops = 0
        self.class_stack: List[str] = []
        self.method_stack: List[str] = []
        self.marks: List[List[str]] = []
        self.sampled_readers = False  # a loader's sampler went to its reader (the helper)
        self.assigned_to: List[str] = []  # the names being assigned, innermost last
        self.unshadowed: Set[str] = set()  # `class Dataset(Dataset)`: its import goes

    # --- notes on the enclosing statement -----------------------------------------
    def _note(self, node, api: str, message: str) -> None:
        self.add(node, api, UNSUPPORTED, message)
        if self.marks:
            self.marks[-1].append(mark_text(f"{api}: {message}"))

    def visit_SimpleStatementLine(self, node):
        self.marks.append([])

    def leave_SimpleStatementLine(self, original, updated):
        if self._sets_epoch(original):
            self.add(original, DATA + "DistributedSampler.set_epoch", CONVERTED, _SET_EPOCH)
            self.marks.pop()
            return self.drop(updated, [mark_text(_SET_EPOCH)])
        return self._attach(updated)

    def _sets_epoch(self, line: cst.SimpleStatementLine) -> bool:
        """`sampler.set_epoch(epoch)` or `loader.sampler.set_epoch(epoch)`."""
        small = line.body[0]
        if len(line.body) != 1 or not isinstance(small, cst.Expr) or not isinstance(
                small.value, cst.Call) or not isinstance(small.value.func, cst.Attribute):
            return False
        func = small.value.func
        receiver = func.value
        if isinstance(receiver, cst.Attribute) and receiver.attr.value == "sampler":
            receiver = receiver.value
        return (func.attr.value == "set_epoch" and isinstance(receiver, cst.Name)
                and receiver.value in self.info.distributed_samplers)

    def _attach(self, node):
        notes = self.marks.pop()
        if not notes:
            return node
        existing = {line.comment.value for line in node.leading_lines if line.comment}
        new = [cst.EmptyLine(comment=cst.Comment(n)) for n in dict.fromkeys(notes)
               if n not in existing]
        return node.with_changes(leading_lines=[*node.leading_lines, *new])

    # --- Dataset / Sampler subclasses -------------------------------------------------
    def skips(self, statement: cst.CSTNode) -> bool:
        # a Dataset subclass's sample method (its returns, yields, index, transforms)
        # is read whole; the rest of a subclass as any other code (visit_FunctionDef
        # says which methods count)
        if self.method_stack and self.method_stack[-1] in _SAMPLE_METHODS:
            return False
        if (type(statement) is cst.FunctionDef and statement.name.value in _SAMPLE_METHODS
                and self.class_stack
                and self.subclasses.get(self.class_stack[-1]) == "dataset"):
            return False
        return super().skips(statement)

    def visit_ClassDef(self, node):
        self.class_stack.append(node.name.value)

    def leave_ClassDef(self, original, updated):
        self.class_stack.pop()
        if original.name.value not in self.subclasses:
            return updated
        bases = [b for b in updated.bases if base_api(self.ctx, original, b.value) not in _BASES]
        if len(bases) == len(updated.bases):
            return updated
        for base in original.bases:
            api = base_api(self.ctx, original, base.value)
            if api in _BASES and self.ctx.resolve(base.value) is None:
                self.unshadowed.add(base.value.value)
            if api in _BASES:
                self.add(base, api, CONVERTED, "-> plain class, read by "
                             "mindspore.dataset.GeneratorDataset (sampler=)"
                             if api.endswith("Sampler") else
                             "-> plain class, read by mindspore.dataset.GeneratorDataset")
        if bases:
            bases[-1] = bases[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            return updated.with_changes(bases=bases)
        return updated.with_changes(bases=[], lpar=cst.MaybeSentinel.DEFAULT,
                                    rpar=cst.MaybeSentinel.DEFAULT)

    def visit_FunctionDef(self, node):
        in_dataset = bool(self.class_stack) and self.subclasses.get(
            self.class_stack[-1]) == "dataset"
        self.method_stack.append(node.name.value if in_dataset else "")
        self.class_stack.append("")  # a nested class or function is not the dataset
        params = node.params
        self.scopes.append((id(node), LocalNames(node)))
        self.parameters.append({p.name.value for p in (*params.posonly_params, *params.params,
                                                        *params.kwonly_params)})

    def _visible_loader(self, name: str) -> bool:
        """A loader of this file, not a function parameter that shares its name."""
        return name in self.info.loaders and not any(name in p for p in self.parameters)

    # --- type hints ------------------------------------------------------------------
    def leave_Annotation(self, original, updated):
        new, count = data_annotations.with_loader_class(
            updated, self.ctx.resolve, lambda api: self.ctx.name(self._loader_class()))
        if count:
            self.add(original, DATA + "DataLoader", CONVERTED,
                     f"type hint -> {self._loader_class()}")
        return new

    def _loader_class(self) -> str:
        return (TORCH_STYLE_LOADER if self.info.loader_calls_seen
                and self.info.loader_calls_seen <= set(self.info.torch_style)
                else data_annotations.PIPELINE_CLASS)

    def _without_dataset_hint(self, original, updated, field: str):
        api = data_annotations.only_dataset(self.ctx.resolve, getattr(original, field))
        if api is None:
            return updated
        self.add(getattr(original, field), api, CONVERTED, "type hint removed: a Dataset "
                 "subclass becomes a plain class that GeneratorDataset reads")
        return updated.with_changes(**{field: None})

    def leave_Param(self, original, updated):
        return self._without_dataset_hint(original, updated, "annotation")

    def leave_FunctionDef(self, original, updated):
        updated = self._without_dataset_hint(original, updated, "returns")
        self.scopes.pop()
        self.parameters.pop()
        self.class_stack.pop()
        method = self.method_stack.pop()
        if method == "__getitem__":
            return _index_as_int(updated)
        return updated

    def _in_sample_method(self, yields: bool) -> bool:
        method = self.method_stack[-1] if self.method_stack else ""
        return method == ("__iter__" if yields else "__getitem__") or (
            not yields and method == "__next__")

    def leave_Return(self, original, updated):
        if updated.value is not None and self._in_sample_method(yields=False):
            return updated.with_changes(value=self._as_arrays(updated.value))
        return updated

    def leave_Yield(self, original, updated):
        if isinstance(updated.value, cst.BaseExpression) and self._in_sample_method(True):
            return updated.with_changes(value=self._as_arrays(updated.value))
        return updated

    def _as_arrays(self, value: cst.BaseExpression) -> cst.BaseExpression:
        """Sample values as numpy arrays: GeneratorDataset under numpy 2 refuses Python
        and numpy scalars. Tensors and arrays made by a call stay as they are."""
        if isinstance(value, cst.List):  # with workers, GeneratorDataset takes tuples only
            value = cst.Tuple(elements=value.elements, lpar=[cst.LeftParen()],
                              rpar=[cst.RightParen()])
        if isinstance(value, cst.Tuple):
            return value.with_changes(elements=[
                el.with_changes(value=self._as_array(el.value)) for el in value.elements])
        if isinstance(value, cst.Dict):
            return value.with_changes(elements=[
                el.with_changes(value=self._as_array(el.value))
                if isinstance(el, cst.DictElement) else el for el in value.elements])
        return self._as_array(value)

    def _as_array(self, value: cst.BaseExpression) -> cst.BaseExpression:
        if isinstance(value, cst.Call):
            func = value.func
            if self.ctx.resolve(func) is not None:  # a torch call: a tensor
                return value
            if (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)
                    and func.value.value in ("np", "numpy") and func.attr.value in _NP_ARRAYS):
                return value
        return _call(self.ctx.name("numpy.asarray"), value)

    # --- DataLoader arguments and loader uses -------------------------------------------
    def visit_Call(self, node):
        super().visit_Call(node)
        # (types compared: isinstance against libcst's ABCs is slow, and every call asks)
        if type(node.func) is cst.Name and node.func.value == "len" and len(node.args) == 1:
            arg = node.args[0].value
            if (isinstance(arg, cst.Attribute) and isinstance(arg.value, cst.Name)
                    and arg.value.value in self.info.loader_sources
                    and self._visible_loader(arg.value.value)):
                self.counted.add(id(arg))

    def leave_Call(self, original, updated):
        qualified = _qualified(self.ctx, original)
        if qualified in _SEEDED:
            updated = self._without_generator(original, updated)
        if qualified == DATA + "BatchSampler" and original.args and self.info.samplers.convertible(
                original.args[0].value, self.ctx.resolve):
            inner = updated.args[0].value
            if isinstance(inner, cst.Call) and (self.ctx.resolve(
                    original.args[0].value.func) in data_samplers.TORCH_SAMPLERS
                    or data_samplers.random_over_range(original.args[0].value, self.ctx.resolve)):
                # BatchSampler(RandomSampler(data), ...)
                inner = data_samplers.torch_style_sampler(
                    self.ctx, inner, self.ctx.resolve(original.args[0].value.func))
                updated = updated.with_changes(args=[updated.args[0].with_changes(value=inner),
                                                     *updated.args[1:]])
            return self._torch_style_sampler(original, updated, qualified)
        if ((qualified in data_samplers.TORCH_SAMPLERS or qualified in data_samplers.HELPER_SAMPLERS)
                and self.assigned_to and self.info.samplers.torch_style(self.assigned_to[-1])):
            return self._torch_style_sampler(original, updated, qualified)
        if (qualified == DATA + "DataLoader" and not torch_style(original, self.info)
                and _collate_uses_torch(self.ctx, self.info, original)):
            self.info.torch_style[id(original)] = _COLLATE_WHY
        if qualified == DATA + "DataLoader" and torch_style(original, self.info):
            self.add(original, "DataLoader", CONVERTED, f"-> {TORCH_STYLE_LOADER}: "
                     + self.info.torch_style.get(id(original), _ARGUMENTS_WHY))
            return updated.with_changes(func=self.ctx.name(TORCH_STYLE_LOADER))
        if qualified == DATA + "DataLoader":
            self._check_one_consumer(original)
            sampled = data_samplers.sampled_reader(self.info, updated)
            if sampled is not None:
                self.sampled_readers = True
                message = (f"sampler= goes to the reader at the pipeline's start "
                           f"({data_samplers.HELPER}, written into this file); the reader "
                           "then yields the sampler's rows only, len() included")
                self.add(original, DATA + "DataLoader", WARNING, message)
                if self.marks:
                    self.marks[-1].append(mark_text(message))
                updated = sampled
            elif data_samplers.source_with_sampler(self.info, original, self._kind(original)):
                self.sampled_readers = True
            return self._without_default_collate(original, updated)
        func = original.func
        if self._in_sample_method(yields=False) or self._in_sample_method(yields=True):
            self._check_eager_transform(original)
        if not (type(func) is cst.Name and len(original.args) == 1):
            return updated
        arg = updated.args[0].value
        if func.value == "len":
            return self._len(arg, original, updated)
        if func.value == "next" and _is_iter_of(arg, self._is_single):
            return cst.Subscript(value=updated, slice=[cst.SubscriptElement(
                cst.Index(cst.Integer("0")))])
        return updated

    def _kind(self, loader: cst.Call):
        dataset = next((a.value for a in loader.args if a.keyword is None
                        or a.keyword.value == "dataset"), None)
        found = dataset_of(self.ctx, self.info, dataset) if dataset is not None else None
        return found[0] if found else SOURCE

    def _torch_style_sampler(self, original, updated, qualified):
        target = (f"{data_samplers.TORCH_STYLE}{data_samplers.TORCH_SAMPLERS[qualified]}"
                  if qualified in data_samplers.TORCH_SAMPLERS else
                  f"{data_samplers.HELPER_SAMPLERS[qualified]} (a class written into this file)")
        self.add(original, qualified, CONVERTED,
                 f"-> {target}: it feeds a batch sampler or a torch-style DataLoader, or the "
                 "code iterates it")
        return data_samplers.torch_style_sampler(self.ctx, updated, qualified)

    def visit_Assign(self, node):
        target = node.targets[0].target if len(node.targets) == 1 else None
        self.assigned_to.append(target.value if type(target) is cst.Name else "")

    def leave_Assign(self, original, updated):
        self.assigned_to.pop()
        return updated

    def visit_For(self, node):
        self.marks.append([])
        self.loops += 1

    def visit_While(self, node):
        self.loops += 1

    def leave_While(self, original, updated):
        self.loops -= 1
        return updated

    def _check_one_consumer(self, call: cst.Call) -> None:
        """A mindspore.dataset pipeline is a tree: one dataset feeds one loader."""
        dataset = next((a.value for a in call.args if a.keyword is None
                        or a.keyword.value == "dataset"), None)
        if not isinstance(dataset, cst.Name):
            return
        kind = self.info.names.get(dataset.value, (SOURCE, None))[0]
        if kind != PIPELINE:
            return
        # the same name in two functions is two datasets, unless both read a global one
        scope = next((key for key, names in reversed(self.scopes) if dataset.value in names), 0)
        if (scope, dataset.value) in self.consumed or self.loops:
            self.add(call, DATA + "DataLoader", WARNING,
                     f"{dataset.value} is a mindspore.dataset pipeline, which feeds one "
                     "loader only: make one loader, or build the dataset again for each")
            if self.marks:
                self.marks[-1].append(mark_text(f"{dataset.value} feeds one loader only "
                                                "in MindSpore: build it again for another loader"))
        self.consumed.add((scope, dataset.value))

    def _check_eager_transform(self, call: cst.Call) -> None:
        """`self.transform(image)`: MindSpore 2.10's Compose, called on one PIL image,
        returns a 1-tuple (inside .map() it does not)."""
        func = call.func
        if (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)
                and func.value.value == "self" and "transform" in func.attr.value):
            message = (f"if self.{func.attr.value} is a Compose, MindSpore returns a 1-tuple "
                       "when it is called on one PIL image: take [0]")
            self.add(call, "torchvision.transforms.Compose", WARNING, message)
            if self.marks:
                self.marks[-1].append(mark_text(f"{message}"))

    def _without_generator(self, original: cst.Call, call: cst.Call) -> cst.Call:
        """`generator=torch.Generator().manual_seed(0)` goes before its torch calls are
        converted: MindSpore seeds pipelines globally, numpy draws random_split."""
        position = data_samplers.GENERATOR_POSITION.get(_qualified(self.ctx, original))
        args = [a for i, a in enumerate(call.args) if not (
            a.keyword and a.keyword.value == "generator"
            or a.keyword is None and i == position and not a.star)]
        if len(args) == len(call.args):
            return call
        how = ("seed numpy (np.random.seed) for a fixed split"
               if _qualified(self.ctx, original) == DATA + "random_split"
               else "seed the pipeline with mindspore.dataset.config.set_seed")
        self.add(original, _qualified(self.ctx, original), WARNING, f"generator dropped: {how}")
        if self.marks:
            self.marks[-1].append(mark_text(f"generator dropped: {how}"))
        if args:
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return call.with_changes(args=args)

    def _without_default_collate(self, original: cst.Call, call: cst.Call) -> cst.Call:
        args = [a for a in call.args if not (
            a.keyword is not None and a.keyword.value == "collate_fn"
            and self.ctx.resolve(a.value) in _DEFAULT_COLLATE)]
        if len(args) == len(call.args):
            return call
        self.add(original, DATA + "default_collate", CONVERTED,
                 "-> .batch() without per_batch_map")
        args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return call.with_changes(args=args)

    @property
    def placed_any(self) -> bool:
        return bool(self._placed)

    def _single_loaders(self) -> Set[str]:
        return {n for n, c in self.info.loaders.items() if c.single and self._visible_loader(n)}

    def _len(self, arg, original: cst.Call, call: cst.Call):
        """len(loader.dataset) -> len(dataset); MindSpore datasets have len() themselves."""
        if (isinstance(arg, cst.Attribute) and arg.attr.value == "dataset"
                and isinstance(arg.value, cst.Name) and self._visible_loader(arg.value.value)):
            source = self.info.loader_sources.get(arg.value.value)
            if source is None:
                return call  # loader.dataset is reported where it is met
            self.add(original, "DataLoader.dataset", CONVERTED, f"-> {source}")
            return call.with_changes(args=[cst.Arg(cst.Name(source))])
        return call

    def leave_Attribute(self, original, updated):
        if not (isinstance(original.value, cst.Name)
                and original.value.value in self.info.loaders):
            return updated
        attr = original.attr.value
        if id(original) in self.counted:
            return updated
        if attr == "batch_size":
            self.add(original, "DataLoader.batch_size", CONVERTED, "-> get_batch_size()")
            return _call(updated.with_changes(attr=cst.Name("get_batch_size")))
        if attr == "dataset" and (original.value.value not in self.info.loader_sources
                                  or not self._visible_loader(original.value.value)):
            self._note(original, "DataLoader.dataset", "the loader's dataset cannot be seen "
                       "here; use the dataset object itself")
        elif attr == "dataset":
            source = self.info.loader_sources[original.value.value]
            if self.info.names.get(source, (SOURCE, None))[0] == SOURCE:
                self.add(original, "DataLoader.dataset", CONVERTED, f"-> {source}")
                return cst.Name(source)
            self._note(original, "DataLoader.dataset", f"{source} is a mindspore.dataset "
                       "pipeline: use its own methods (get_dataset_size(), ...)")
        return updated

    def leave_For(self, original, updated):
        self.loops -= 1
        return self._attach(self._unpacked(original, updated))

    def leave_CompFor(self, original, updated):
        return self._unpacked(original, updated)

    def _unpacked(self, original, updated):
        """`for x in loader` -> `for (x,) in loader` when batches are one column."""
        it, target = original.iter, updated.target
        if _is_one_tuple(target):  # written by an earlier conversion: not wrapped again
            return updated
        if self._is_single(it):
            target = _one_tuple(target)
        elif (isinstance(it, cst.Call) and isinstance(it.func, cst.Name)
              and it.func.value == "enumerate" and it.args and self._is_single(it.args[0].value)
              and isinstance(target, cst.Tuple) and len(target.elements) == 2
              and not _is_one_tuple(target.elements[1].value)):
            elements = list(target.elements)
            elements[1] = elements[1].with_changes(value=_one_tuple(elements[1].value))
            target = target.with_changes(elements=elements)
        if target is updated.target:
            return updated
        self.add(original.iter, "DataLoader", CONVERTED, "batches of one column unpacked as (x,)")
        return updated.with_changes(target=target)

    def _is_single(self, node) -> bool:
        """A loader whose batches are one value (or a dict): MindSpore wraps it in a list."""
        if isinstance(node, cst.Name):
            return node.value in self._single_loaders()
        if (_qualified(self.ctx, node) != DATA + "DataLoader" or not node.args
                or torch_style(node, self.info)):
            return False
        dataset = next((a.value for a in node.args if a.keyword is None
                        or a.keyword.value == "dataset"), None)
        found = dataset_of(self.ctx, self.info, dataset) if dataset is not None else None
        collates = any(a.keyword is not None and a.keyword.value == "collate_fn"
                       for a in node.args)
        return bool(found and found[1].single and not collates)


def _is_one_tuple(target: cst.BaseExpression) -> bool:
    return isinstance(target, (cst.Tuple, cst.List)) and len(target.elements) == 1


def _one_tuple(target: cst.BaseExpression) -> cst.Tuple:
    return cst.Tuple([cst.Element(target, comma=cst.Comma())])


def _is_iter_of(node, is_single) -> bool:
    return (isinstance(node, cst.Call) and isinstance(node.func, cst.Name)
            and node.func.value == "iter" and len(node.args) == 1
            and is_single(node.args[0].value))


def _index_as_int(method: cst.FunctionDef) -> cst.FunctionDef:
    """GeneratorDataset passes numpy integers, which MindSpore tensors refuse as indices."""
    params = method.params.params
    if len(params) < 2 or not isinstance(method.body, cst.IndentedBlock):
        return method
    index = params[1].name.value
    if not _used_as_index(method.body, index):
        return method
    body = list(method.body.body)
    position = 1 if body and _is_docstring(body[0]) else 0
    line = parse_statement(f"{index} = int({index})\n")
    body.insert(position, line)
    return method.with_changes(body=method.body.with_changes(body=body))


class _IndexUse(FastVisitor):
    def __init__(self, name: str):
        self.name = name
        self.found = False

    def visit_SubscriptElement(self, node):
        if isinstance(node.slice, cst.Index) and isinstance(node.slice.value, cst.Name) \
                and node.slice.value.value == self.name:
            self.found = True


def _used_as_index(body: cst.CSTNode, name: str) -> bool:
    finder = _IndexUse(name)
    traverse(body, finder)
    return finder.found


def _is_docstring(stmt: cst.CSTNode) -> bool:
    return (isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.Expr)
            and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))
