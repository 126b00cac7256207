"""torch.utils.data and torchvision.datasets calls -> mindspore.dataset pipelines.

A torch Dataset object stays a plain Python object that GeneratorDataset reads
(a "source"); torchvision readers, Subset, random_split and ConcatDataset become
mindspore.dataset objects (a "pipeline"). DataLoader turns either into a
pipeline with `.batch(...)`. What each name of the file holds, and which columns
its samples have, is gathered by the data pass (passes/data.py) before the calls
are converted; see core/facts.py's DataFacts.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import libcst as cst

from ..core.callrewrite import Bound, Unsupported, code
from ..core.facts import DEFAULT_COLUMNS, PIPELINE, SOURCE, Columns, DataFacts
from ..core.parsed import parsed_expression
from ..core.quick_libcst import parse_expression
from .base import literal, transform
from .helper_code import request

# torchvision reader -> (MindSpore reader, folder under torchvision's root, columns,
# on-disk note). MindSpore readers do not download and read other file layouts.
READERS: Dict[str, Tuple[str, Tuple[str, ...], Tuple[str, ...], str]] = {
    "MNIST": ("MnistDataset", ("MNIST", "raw"), ("image", "label"),
              "reads the uncompressed idx files that torchvision keeps in MNIST/raw"),
    "FashionMNIST": ("FashionMnistDataset", ("FashionMNIST", "raw"), ("image", "label"),
                     "reads the uncompressed idx files that torchvision keeps in FashionMNIST/raw"),
    "CIFAR10": ("Cifar10Dataset", ("cifar-10-batches-bin",), ("image", "label"),
                "fetch CIFAR-10's binary version (cifar-10-binary.tar.gz): MindSpore does "
                "not read torchvision's python pickles"),
    "CIFAR100": ("Cifar100Dataset", ("cifar-100-binary",), ("image", "fine_label"),
                 "fetch CIFAR-100's binary version (cifar-100-binary.tar.gz): MindSpore does "
                 "not read torchvision's python pickles"),
    "ImageFolder": ("ImageFolderDataset", (), ("image", "label"),
                    "same folder layout (one subfolder per class, sorted)"),
}


def default_names(count: int) -> List[str]:
    names = list(DEFAULT_COLUMNS[:count])
    return names + [f"column_{i}" for i in range(len(names), count)]


# --- small builders -------------------------------------------------------------
def _arg(value: cst.BaseExpression, keyword: Optional[str] = None) -> cst.Arg:
    if keyword is None:
        return cst.Arg(value)
    return cst.Arg(value=value, keyword=cst.Name(keyword), equal=cst.AssignEqual(
        whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")))


def _call(func: cst.BaseExpression, *args: cst.Arg) -> cst.Call:
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    return cst.Call(func=func, args=[a.with_changes(comma=comma) for a in args[:-1]]
                    + list(args[-1:]))


def _method(receiver: cst.BaseExpression, name: str, *args: cst.Arg) -> cst.Call:
    if isinstance(receiver, (cst.BinaryOperation, cst.IfExp, cst.Lambda)) and not receiver.lpar:
        receiver = receiver.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return _call(cst.Attribute(value=receiver, attr=cst.Name(name)), *args)


def _strings(names: List[str]) -> cst.List:
    # the same few column lists in every file: parsed once per process (core/parsed.py)
    return parsed_expression("[" + ", ".join(f'"{n}"' for n in names) + "]")


def screen(rule, bound: Bound) -> None:
    """The table's unsupported_args, warn and drop, for transforms that build the call."""
    for arg, reason in rule.unsupported_args.items():
        if arg in bound.values and literal(bound.get(arg)) != "None":
            raise Unsupported(f"argument {arg!r}: {reason}")
    for arg, message in rule.warn.items():
        if arg in bound.values:
            bound.pop(arg)
            bound.warnings.append(f"dropped {arg!r}: {message}")
    for arg in rule.drop:
        bound.pop(arg)


def _is_true(text: Optional[str]) -> bool:
    return text not in (None, "False", "None", "0")


def _generator_dataset(ctx, source: cst.BaseExpression, columns: Columns,
                       *extra: cst.Arg) -> cst.Call:
    return _call(ctx.name("mindspore.dataset.GeneratorDataset"), _arg(source),
                 _arg(_strings(columns.names), "column_names"), *extra)


def _as_pipeline(ctx, node: cst.BaseExpression) -> Tuple[cst.BaseExpression, Columns]:
    kind, columns = ctx.facts.data.lookup(node)
    if kind == PIPELINE:
        return node, columns
    return _generator_dataset(ctx, node, columns, _arg(cst.Name("False"), "shuffle")), columns


# --- DataLoader -------------------------------------------------------------------
# A function the data pass writes into the file (passes/data_samplers.py): the pipeline
# with its reader drawing rows with a sampler, or shuffled when the sampler is None.
SAMPLER_HELPER = "reader_with_sampler"


def sampler_or_shuffle(sampler, shuffle) -> bool:
    """`DataLoader(data, sampler=s, shuffle=<expression>)`: torch's `shuffle=(s is None)`,
    which GeneratorDataset refuses (a sampler and shuffle together); or a sampler that
    is None on one branch (`RandomSampler(d) if c else None`), where GeneratorDataset,
    given no sampler, would shuffle."""
    if sampler is None or literal(sampler) == "None":
        return False
    if isinstance(sampler, cst.IfExp) and "None" in (literal(sampler.body),
                                                     literal(sampler.orelse)):
        return literal(shuffle) != "True"
    return shuffle is not None and literal(shuffle) not in ("True", "False", "None")


@transform
def data_loader(ctx, rule, bound: Bound, call=None):
    """DataLoader(dataset, ...) -> GeneratorDataset(dataset, ...).batch(...)."""
    info = ctx.facts.data
    screen(rule, bound)
    dataset = bound.get("dataset")
    if dataset is None:
        raise Unsupported("the dataset argument is missing")
    kind, columns = info.lookup(dataset)
    shuffle = literal(bound.get("shuffle"))
    sampler = bound.get("sampler")
    workers = literal(bound.get("num_workers"))
    chosen = sampler_or_shuffle(sampler, bound.get("shuffle"))
    if sampler is not None and _is_true(shuffle) and not (
            chosen and kind == SOURCE and SAMPLER_HELPER in info.wrappers):
        raise Unsupported("sampler and shuffle=True together (torch refuses them too)")
    if kind == SOURCE and chosen:  # the helper hands the sampler to the source, or shuffles
        extra = [_arg(cst.Name("False"), "shuffle"), *_workers(ctx, workers)]
        source = _generator_dataset(ctx, dataset, columns, *extra)
        given = bound.get("shuffle")
        pipeline = _call(cst.Name(SAMPLER_HELPER), _arg(source), _arg(sampler), *(
            [] if literal(given) in (None, "False", "None") else [_arg(given)]))
        if not columns.known:
            bound.warnings.append(
                f"the dataset's samples are not visible in this file: columns named "
                f"{columns.names}; change them to match what it returns")
    elif kind == SOURCE:
        extra = []
        if sampler is not None and literal(sampler) != "None":
            extra.append(_arg(sampler, "sampler"))
        elif shuffle in (None, "False", "None"):
            extra.append(_arg(cst.Name("False"), "shuffle"))  # MindSpore shuffles by default
        else:
            extra.append(_arg(bound.get("shuffle"), "shuffle"))
        extra += _workers(ctx, workers)
        pipeline = _generator_dataset(ctx, dataset, columns, *extra)
        if not columns.known:
            bound.warnings.append(
                f"the dataset's samples are not visible in this file: columns named "
                f"{columns.names}; change them to match what it returns")
    else:
        pipeline = dataset
        if sampler is not None and literal(sampler) != "None":
            raise Unsupported("a sampler over a mindspore.dataset reader: pass it to the reader")
        if _is_true(shuffle):
            pipeline = _shuffled(dataset, shuffle, bound)
        if workers not in (None, "0"):
            bound.warnings.append("num_workers dropped: set num_parallel_workers on the reader")
    return _batched(ctx, info, bound, pipeline, columns, kind)


def _workers(ctx, workers: Optional[str]) -> List[cst.Arg]:
    if workers in (None, "0"):
        return []
    # MindSpore refuses more workers than CPUs, and 0 (torch: "in this process")
    ctx.require("import os")
    text = (f"min({workers}, os.cpu_count())" if workers.isdigit()
            else f"max(1, min({workers}, os.cpu_count()))")
    return [_arg(parsed_expression(text), "num_parallel_workers")]  # a few texts recur


def _shuffled(dataset, shuffle: str, bound: Bound) -> cst.BaseExpression:
    if shuffle != "True":
        raise Unsupported(f"shuffle={shuffle} over a reader: only a literal True converts")
    if isinstance(dataset, cst.Name):  # a full shuffle needs a buffer as large as the data
        size = _method(dataset, "get_dataset_size")
    else:
        size = cst.Integer("10000")
        bound.warnings.append("shuffle buffer of 10000 samples: raise it to the dataset size "
                              "for a full shuffle")
    return _method(dataset, "shuffle", _arg(size))


def _batched(ctx, info: DataFacts, bound: Bound, pipeline, columns: Columns, kind: str):
    batch_size = bound.get("batch_size")
    collate = bound.get("collate_fn")
    if literal(collate) == "None":
        collate = None
    if literal(batch_size) == "None":
        if collate is not None:
            raise Unsupported("collate_fn without batching (batch_size=None)")
        return info.remember(pipeline, PIPELINE, columns)
    args = [_arg(batch_size if batch_size is not None else cst.Integer("1"))]
    if _is_true(literal(bound.get("drop_last"))):
        args.append(_arg(bound.get("drop_last"), "drop_remainder"))
    out_columns = columns
    if collate is not None:
        map_fn, out_columns = _per_batch_map(info, bound, collate, columns)
        args.append(_arg(map_fn, "per_batch_map"))
        if out_columns.names != columns.names:
            args.append(_arg(_strings(columns.names), "input_columns"))
            args.append(_arg(_strings(out_columns.names), "output_columns"))
    result = _method(pipeline, "batch", *args)
    return info.remember(result, PIPELINE, out_columns)


def _per_batch_map(info: DataFacts, bound: Bound, collate, columns: Columns):
    """torch's collate_fn takes a list of samples; MindSpore's per_batch_map takes one
    list per column (and a batch-info argument) and returns a tuple of columns."""
    params = [_identifier(n) for n in columns.names]
    fn = code(collate).strip()
    if isinstance(collate, (cst.Lambda,)):
        fn = f"({fn})"
    samples = params[0] if len(params) == 1 else f"list(zip({', '.join(params)}))"
    name = collate.value if isinstance(collate, cst.Name) else None
    known, returned = info.collate_returns(name) if name else (False, None)
    if name and info.uses_torch(name):
        bound.warnings.append(f"{name} runs inside the dataset pipeline, where it receives "
                              "numpy arrays: write it with numpy, not tensor operations")
    if known and returned is None:
        body, count = f"({fn}({samples}),)", 1
    elif returned is not None:
        body, count = f"tuple({fn}({samples}))", returned
    else:
        body, count = f"tuple({fn}({samples}))", len(params)
        bound.warnings.append("collate_fn is not visible in this file: assumed it returns "
                              f"{len(params)} values, as numpy arrays")
    lam = parse_expression(f"lambda {', '.join(params)}, batch_info: {body}")
    names = columns.names if count == len(columns.names) else default_names(count)
    return lam, Columns(names, single=count == 1)


def _identifier(name: str) -> str:
    text = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    return text if text and not text[0].isdigit() else f"column_{text}"


# --- datasets -----------------------------------------------------------------------
@transform
def tensor_dataset(ctx, rule, bound: Bound, call=None):
    """TensorDataset(a, b) -> list(zip(a, b)): a list of samples GeneratorDataset reads."""
    screen(rule, bound)
    tensors = bound.packed.get("tensors") or (
        [bound.get("tensors")] if bound.get("tensors") is not None else [])
    if not tensors:
        raise Unsupported("TensorDataset without tensors")
    zipped = _call(cst.Name("zip"), *[_arg(t) for t in tensors])
    columns = Columns(default_names(len(tensors)))  # samples are tuples, even of one
    return ctx.facts.data.remember(_call(cst.Name("list"), _arg(zipped)), SOURCE, columns)


@transform
def subset(ctx, rule, bound: Bound, call=None):
    """Subset(dataset, indices) -> GeneratorDataset(dataset, sampler=SubsetSampler(indices))."""
    screen(rule, bound)
    dataset, indices = bound.get("dataset"), bound.get("indices")
    kind, columns = ctx.facts.data.lookup(dataset)
    if kind != SOURCE:
        raise Unsupported("Subset of a mindspore.dataset reader: pass a sampler to the reader")
    sampler = _call(ctx.name("mindspore.dataset.SubsetSampler"), _arg(indices))
    node = _generator_dataset(ctx, dataset, columns, _arg(sampler, "sampler"))
    return ctx.facts.data.remember(node, PIPELINE, columns)


@transform
def random_split(ctx, rule, bound: Bound, call=None):
    """random_split(dataset, [n1, n2]) -> one SubsetSampler pipeline per random part.

    mindspore.dataset's own split(randomize=True) draws each part again in every
    epoch (the parts overlap, measured on 2.10), so the indices are drawn once here.
    """
    screen(rule, bound)
    dataset, lengths = bound.get("dataset"), bound.get("lengths")
    kind, columns = ctx.facts.data.lookup(dataset)
    if kind != SOURCE:
        raise Unsupported("random_split of a mindspore.dataset reader: "
                          "use its split() and check that the parts do not overlap")
    source = code(dataset).strip()
    if isinstance(lengths, (cst.List, cst.Tuple)) and not any(
            isinstance(el.value, cst.Float) for el in lengths.elements):
        np_mod = ctx.name("numpy.random.permutation")
        split, cumsum = code(ctx.name("numpy.split")), code(ctx.name("numpy.cumsum"))
        parts = (f"{split}({code(np_mod)}(len({source})), {cumsum}({code(lengths)})[:-1])")
    else:  # fractions, or lengths known at run time: a helper written into the file
        parts = f"{code(request(ctx, 'random_split_indices'))}(len({source}), {code(lengths)})"
    gen = code(ctx.name("mindspore.dataset.GeneratorDataset"))
    subset = code(ctx.name("mindspore.dataset.SubsetSampler"))
    # one f-string: the user's text must not pass through str.format (braces in it)
    text = (f"[{gen}({source}, column_names={code(_strings(columns.names))}, "
            f"sampler={subset}(indices)) for indices in {parts}]")
    return parse_expression(text)


@transform
def concat_dataset(ctx, rule, bound: Bound, call=None):
    """ConcatDataset([a, b]) -> a + b over mindspore.dataset pipelines."""
    screen(rule, bound)
    datasets = bound.get("datasets")
    if not isinstance(datasets, (cst.List, cst.Tuple)) or not datasets.elements:
        raise Unsupported("datasets must be a literal list")
    parts = [_as_pipeline(ctx, el.value) for el in datasets.elements]
    result = parts[0][0]
    for part, _ in parts[1:]:
        result = cst.BinaryOperation(result, cst.Add(), part)
    return ctx.facts.data.remember(result, PIPELINE, parts[0][1])


@transform
def vision_dataset(ctx, rule, bound: Bound, call=None):
    """torchvision.datasets.MNIST(root, train, transform, ...) -> mindspore.dataset reader
    with the transform applied by map, on PIL images as torchvision does."""
    screen(rule, bound)
    key = rule.torch_name.rpartition(".")[2]
    reader, folder, columns, note = READERS[key]
    root = bound.get("root")
    if root is None:
        raise Unsupported("root is missing")
    if folder:
        parts = ", ".join([code(root).strip()] + [f'"{p}"' for p in folder])
        ctx.require("import os")
        root = parsed_expression(f"os.path.join({parts})")  # a few texts recur
    args = [_arg(root)]
    if key == "ImageFolder":
        args.append(_arg(cst.Name("True"), "decode"))
    else:
        train = literal(bound.get("train"))
        usage = ('"train"' if train in (None, "True") else '"test"' if train == "False"
                 else f'"train" if {train} else "test"')
        args.append(_arg(parsed_expression(usage), "usage"))
    args.append(_arg(cst.Name("False"), "shuffle"))
    if key in ("CIFAR10", "CIFAR100"):
        bound.warnings.append(note)
    elif _is_true(literal(bound.get("download"))):
        bound.warnings.append("download dropped: MindSpore readers do not download; "
                              "fetch the files first (docs/data.md)")
    node: cst.BaseExpression = _call(ctx.name(f"mindspore.dataset.{reader}"), *args)
    if key == "CIFAR100":
        node = _method(node, "project", _arg(_strings(list(columns))))
    image_ops = bound.get("transform")
    if image_ops is not None and literal(image_ops) != "None":
        ops = cst.List([cst.Element(_call(ctx.name("mindspore.dataset.vision.ToPIL"))),
                        cst.Element(image_ops)])
        node = _method(node, "map", _arg(_with_spaces(ops)), _arg(
            cst.SimpleString(f'"{columns[0]}"'), "input_columns"))
    # torchvision labels are Python ints (int64 batches); MindSpore's are uint32/int32
    cast = _call(ctx.name("mindspore.dataset.transforms.TypeCast"),
                 _arg(ctx.name("mindspore.int64")))
    label_ops = bound.get("target_transform")
    if label_ops is not None and literal(label_ops) != "None":
        cast = _with_spaces(cst.List([cst.Element(cast), cst.Element(label_ops)]))
    node = _method(node, "map", _arg(cast), _arg(cst.SimpleString(f'"{columns[1]}"'),
                                                 "input_columns"))
    return ctx.facts.data.remember(node, PIPELINE, Columns(list(columns)))


def _with_spaces(node: cst.List) -> cst.List:
    elements = list(node.elements)
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    return node.with_changes(elements=[e.with_changes(comma=comma) for e in elements[:-1]]
                             + elements[-1:])


@transform
def capped_samples(ctx, rule, bound: Bound, call=None):
    """Samplers with num_samples: MindSpore draws at most as many samples as the
    dataset has rows (torch may draw more with replacement); the rest is data."""
    if bound.get("num_samples") is not None and literal(bound.get("num_samples")) != "None":
        bound.warnings.append("MindSpore draws at most len(dataset) samples: "
                              "a larger num_samples is capped")
    return None


@transform
def unwrap_callable(ctx, rule, bound: Bound, call=None):
    """transforms.Lambda(fn) -> fn: MindSpore's pipelines take plain Python callables."""
    fn = bound.get("lambd")
    if fn is None:
        raise Unsupported("the function argument is missing")
    if isinstance(fn, cst.Lambda) and not fn.lpar:  # `T.Lambda(f)(x)` must stay a call of f
        fn = fn.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return fn


@transform
def default_collate_helper(ctx, rule, bound, call=None):
    """default_collate(samples) called directly: a helper written into the file does
    what torch does (DataLoader(collate_fn=default_collate) is passes/data.py's)."""
    return cst.Call(request(ctx, "default_collate"), [cst.Arg(bound.get("batch"))])
