"""torchvision.utils.make_grid / save_image: a helper written into the converted file.

MindSpore has no image-grid writer. A file that calls either gets readable helpers
(numpy + PIL) computing torchvision's grid: images side by side, `nrow` a row,
`padding` pixels of `pad_value` around each, one-channel images as RGB,
`normalize=True` maps `value_range` (default: the batch's min and max, or each
image's with `scale_each=True`) to [0, 1]; save_image writes the grid as 8-bit RGB
(round(255 * x), clipped), as torchvision does. The calls name the helpers.
"""
from __future__ import annotations

import re

import libcst as cst

from ..core.context import Context
from ..core.parsed import parsed_statement
from ..core.report import CONVERTED
from ..core.traversal import traverse
from .statement_pass import StatementPass, with_helper_code
from .text_search import found

_APIS = {"torchvision.utils.make_grid": "make_grid", "torchvision.utils.save_image": "save_image"}
_APPLIES = re.compile(r"\b(?:make_grid|save_image)\b")

_MAKE_GRID = '''\
def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False,
              pad_value=0.0):
    """Images (N, C, H, W) side by side, nrow a row (padding, normalization as in make_grid upstream)."""
    if isinstance(tensor, (list, tuple)):
        tensor = ops.stack(list(tensor))
    images = tensor.asnumpy() if isinstance(tensor, mindspore.Tensor) else np.asarray(tensor)
    images = images.astype(np.float32)
    if images.ndim == 2:
        images = images[None]
    if images.ndim == 3:
        images = images[None]
    if images.shape[1] == 1:
        images = np.concatenate([images] * 3, axis=1)
    if normalize:
        def scale(image):
            low, high = value_range if value_range is not None else (np.min(image), np.max(image))
            return (np.clip(image, low, high) - low) / max(high - low, 1e-5)
        images = np.stack([scale(image) for image in images]) if scale_each else scale(images)
    if images.shape[0] == 1:
        return mindspore.Tensor(images[0])
    count, channels, height, width = images.shape
    columns = min(nrow, count)
    rows = -(-count // columns)
    height, width = height + padding, width + padding
    grid = np.full((channels, rows * height + padding, columns * width + padding), pad_value,
                   dtype=np.float32)
    for k, image in enumerate(images):
        top, left = (k // columns) * height + padding, (k % columns) * width + padding
        grid[:, top:top + height - padding, left:left + width - padding] = image
    return mindspore.Tensor(grid)
'''

_SAVE_IMAGE = '''\
def save_image(tensor, fp, format=None, **grid_options):
    """Write images as one 8-bit RGB grid (make_grid options)."""
    grid = make_grid(tensor, **grid_options).asnumpy()
    pixels = np.stack(list(np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8)), axis=-1)
    Image.fromarray(pixels).save(fp, format=format)
'''


def applies(source: str) -> bool:
    return found(_APPLIES, source, "make_grid", "save_image")


def convert_image_grid(ctx: Context, module: cst.Module) -> cst.Module:
    taken = {s.name.value for s in module.body if isinstance(s, (cst.FunctionDef, cst.ClassDef))}
    grid = _ImageGrid(ctx, taken)
    converted = traverse(module, grid)
    grid.place_findings()
    if not grid.used:
        return converted
    ctx.require("import numpy as np")
    ctx.require("import mindspore")
    ctx.require("from mindspore import ops")
    helpers = [_MAKE_GRID]
    if "save_image" in grid.used:
        ctx.require("from PIL import Image")
        helpers.append(_SAVE_IMAGE)
    written = grid.used | {"make_grid"}  # save_image calls make_grid
    for helper in written:  # `from torchvision.utils import save_image`: the helper's name now
        if ctx.aliases.get(helper) == f"torchvision.utils.{helper}":
            del ctx.aliases[helper]
    converted = converted.with_changes(body=_block_without_imports(converted.body, written))
    return with_helper_code(converted, [parsed_statement(code) for code in helpers])


class _ImageGrid(StatementPass):
    def __init__(self, ctx: Context, taken):
        super().__init__(ctx, _APPLIES)
        self.taken = taken
        self.used = set()

    def leave_Call(self, original, updated):
        api = self.ctx.resolve(original.func)
        helper = _APIS.get(api)
        if helper is None or helper in self.taken:
            return updated
        self.used.add(helper)
        self.add(original, api, CONVERTED,
                 f"-> {helper}(), a numpy + PIL helper written into this file")
        return updated.with_changes(func=cst.Name(helper))


def _block_without_imports(body, helpers):
    """The statements without the helpers' imports, also those inside a module-level
    `try:` (PyTorch-GAN imports everything in `try: ... except ImportError`)."""
    kept = []
    for statement in body:
        if isinstance(statement, cst.Try) and isinstance(statement.body, cst.IndentedBlock):
            inner = _block_without_imports(statement.body.body, helpers)
            if len(inner) != len(statement.body.body) or any(
                    new is not old for new, old in zip(inner, statement.body.body)):
                statement = statement.with_changes(body=statement.body.with_changes(
                    body=inner or [cst.SimpleStatementLine([cst.Pass()])]))
        statement = _without_imports(statement, helpers)
        if statement is not None:
            kept.append(statement)
    return kept


def _without_imports(statement, helpers):
    """`from torchvision.utils import save_image, make_grid` without the helpers' names."""
    if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], cst.ImportFrom)):
        return statement
    node = statement.body[0]
    module = cst.Module([]).code_for_node(node.module) if node.module else ""
    if module != "torchvision.utils" or isinstance(node.names, cst.ImportStar):
        return statement
    names = [a for a in node.names if a.asname is not None or a.name.value not in helpers]
    if len(names) == len(node.names):
        return statement
    if not names:
        return None
    names[-1] = names[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return statement.with_changes(body=[node.with_changes(names=names)])
