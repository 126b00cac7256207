"""Context managers that only label or choose kernels for a region: the region stays.

`torch.autograd.profiler.record_function("name")` labels a range in a profiler trace;
`torch.nn.attention.sdpa_kernel(backends)` (and the older
`torch.backends.cuda.sdp_kernel(...)`) chooses which attention kernel computes the same
values. Neither changes what the region computes. MindSpore's profiler
(`mindspore.profiler.profile`) records every op by itself and MindSpore chooses its
attention kernels, so, with a warning (speed or trace labels only):

- `with record_function(...):` -> its body; other items of the `with` stay;
- `@record_function(...)` -> the decorator goes;
- any other use as a value (`ctx = sdpa_kernel(...)`, `with record_function(...) as
  r:`) -> `nullcontext()`;
- where the file reads the allowed kernels (`torch.nn.attention._cur_sdpa_kernel_backends`)
  sdpa_kernel stays, converted by its rule (a class written into the file that keeps them).
"""
from __future__ import annotations

import re
from typing import Optional

import libcst as cst

from ..core.context import Context
from ..core.report import WARNING
from ..core.traversal import traverse
from .autocast_regions import Regions
from .statement_pass import StatementPass
from .text_search import found

REGIONS = {
    "torch.autograd.profiler.record_function": (
        "a profiler label: MindSpore's profiler (mindspore.profiler.profile) records each "
        "op by itself"),
    "torch.profiler.record_function": (
        "a profiler label: MindSpore's profiler (mindspore.profiler.profile) records each "
        "op by itself"),
    "torch.nn.attention.sdpa_kernel": (
        "a choice of attention kernel (speed only, the same values): MindSpore chooses its "
        "kernels"),
    "torch.backends.cuda.sdp_kernel": (
        "a choice of attention kernel (speed only, the same values): MindSpore chooses its "
        "kernels"),
}
_APPLIES = re.compile(r"\b(record_function|sdpa_kernel|sdp_kernel)\b")
_READS_KERNELS = "_cur_sdpa_kernel_backends"


def applies(source: str) -> bool:
    return found(_APPLIES, source, "record_function", "sdpa_kernel", "sdp_kernel")


def remove_region_contexts(ctx: Context, module: cst.Module) -> cst.Module:
    regions = _Contexts(ctx)
    converted = traverse(module, regions)
    regions.place_findings()
    return converted


class _Contexts(Regions):
    """The autocast pass's splicing of `with` bodies, for the contexts above."""

    def __init__(self, ctx: Context) -> None:
        StatementPass.__init__(self, ctx, _APPLIES)
        self.taken: set = set()

    def _autocast(self, expr) -> Optional[str]:
        func = expr.func if isinstance(expr, cst.Call) else expr
        qualified = self.ctx.resolve(func)
        if qualified == "torch.nn.attention.sdpa_kernel" and _READS_KERNELS in self.ctx.source:
            return None  # the region's kernels are read: its rule writes a class that keeps them
        return qualified if qualified in REGIONS else None

    def _disabled(self, expr, api: str) -> bool:
        return False

    def _removed(self, expr, api: str) -> None:
        self.add(expr, api, WARNING, f"removed: {REGIONS[api]}")

    def _with(self, original, stmt):
        body = super()._with(original, stmt)
        if body:
            lines = list(body[0].leading_lines)
            outer = len(stmt.leading_lines)  # the `with`'s own lines come first
            if outer and lines[:outer] and _blank(lines[outer - 1]):
                while len(lines) > outer and _blank(lines[outer]):
                    del lines[outer]  # one blank line where the `with` and its body had two
                body[0] = body[0].with_changes(leading_lines=lines)
        return body

    def leave_Call(self, original, updated):
        if id(original) in self.taken:
            return updated
        api = self._autocast(original)
        if api is None:
            return updated
        self.ctx.require("from contextlib import nullcontext")
        self.add(original, api, WARNING, f"-> nullcontext(): {REGIONS[api]}")
        return cst.Call(cst.Name("nullcontext"))


def _blank(line: cst.EmptyLine) -> bool:
    return line.comment is None
