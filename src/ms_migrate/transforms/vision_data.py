"""torchvision datasets MindSpore reads differently (LSUN, CelebA, CocoDetection): a class
with torchvision's signature written into the file (vision_data_helper_code.py). LSUN and
CelebA with one target type are read, as every converted torchvision dataset is, through
a GeneratorDataset pipeline; CocoDetection's targets (lists of annotation dicts) have no
column form, so it stays a torch-style map dataset for the loader to wrap."""
from __future__ import annotations

import libcst as cst

from ..core.callrewrite import Bound, rewrite
from ..core.facts import PIPELINE, SOURCE, Columns
from .base import transform
from .helper_code import request

_COLUMNS = {"LSUN": ["image", "label"], "CelebA": ["image", "target"]}

# why a reference that is neither a call nor a base class stays (passes/api.py)
AS_VALUE = ("used as a value: the class written into a converted file is that file's own, "
            "so isinstance against it would miss the instances other converted files make; "
            "test for the attribute the code needs instead")


@transform
def dataset_helper(ctx, rule, bound: Bound, call=None):
    """torchvision.datasets.LSUN(root, ...) -> GeneratorDataset(LSUN(root, ...), ...)."""
    name = rule.torch_name.rpartition(".")[2]
    types = bound.get("target_type")
    data = rewrite(rule, bound, request(ctx, name), call, ctx.name)
    if name not in _COLUMNS or isinstance(types, (cst.List, cst.Tuple, cst.Name, cst.Attribute)):
        return ctx.facts.data.remember(data, SOURCE, Columns(["image", "target"], known=False))
    equal = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                            whitespace_after=cst.SimpleWhitespace(""))
    columns = cst.List([cst.Element(cst.SimpleString(f'"{c}"')) for c in _COLUMNS[name]])
    node = cst.Call(ctx.name("mindspore.dataset.GeneratorDataset"), [
        cst.Arg(data), cst.Arg(columns, keyword=cst.Name("column_names"), equal=equal),
        cst.Arg(cst.Name("False"), keyword=cst.Name("shuffle"), equal=equal)])
    return ctx.facts.data.remember(node, PIPELINE, Columns(list(_COLUMNS[name])))
