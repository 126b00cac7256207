"""`torch.utils.tensorboard.SummaryWriter` -> `SummaryRecordWriter`, a small class on
MindSpore's `SummaryRecord` written into the file (transforms/helper_code.py).

A writer is often built in one file and used in another (`log_writer` passed to an
engine's train function), or subclassed (`class Logger(SummaryWriter)`), so the
methods keep torch's names: `add_scalar`, `add_histogram`, `add_image(s)`,
`add_figure` record their value at their step (`add_value` + `record`); `flush`,
`close` and `log_dir` are SummaryRecord's own. MindSpore writes its summary format
(read by MindInsight), not TensorBoard's event files, and allows one open
SummaryRecord per process (warned).

Arguments of the constructor other than `log_dir` tune torch's writer (queue size,
flush period, file name): dropped with a warning. Methods with no MindSpore summary
plugin (`add_audio`, `add_text`, `add_graph`, ...) are marked and reported where
the file builds or subclasses a writer.
"""
from __future__ import annotations

import re

import libcst as cst

from ..core.callrewrite import args_by_name
from ..core.context import Context
from ..core.report import UNSUPPORTED, WARNING
from ..core.traversal import traverse
from ..transforms.helper_code import request
from .statement_pass import StatementPass
from .text_search import found

API = "torch.utils.tensorboard.SummaryWriter"
_ARGS = ("log_dir", "comment", "purge_step", "max_queue", "flush_secs", "filename_suffix")
_WRITES = ("MindSpore's SummaryRecord records each value at its step in MindSpore's "
           "summary format (MindInsight reads it), not TensorBoard's; one SummaryRecord "
           "may be open per process")
_CONVERTED = ("-> SummaryRecordWriter (torch's writer methods on mindspore.SummaryRecord): "
              + _WRITES)
_NO_PLUGIN = ("add_audio", "add_text", "add_graph", "add_embedding", "add_pr_curve",
              "add_video", "add_hparams", "add_scalars", "add_mesh", "add_custom_scalars")
_APPLIES = re.compile(r"\bSummaryWriter\b")


def applies(source: str) -> bool:
    return found(_APPLIES, source, "SummaryWriter")


def convert_summary_writers(ctx: Context, module: cst.Module) -> cst.Module:
    writers = _Writers(ctx)
    converted = traverse(module, writers)
    writers.place_findings()
    return converted


class _Writers(StatementPass):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, _APPLIES, re.compile(r"\.add_[a-z_]+\("))
        self.inner: set = set()  # callees of converted calls
        self.seen = False

    def visit_Call(self, node):
        super().visit_Call(node)
        if self.ctx.resolve(node.func) == API:
            self.inner.add(id(node.func))

    def leave_Call(self, original, updated):
        if self.ctx.resolve(original.func) == API:
            return self._constructor(original, updated)
        func = original.func
        if (self.seen and isinstance(func, cst.Attribute)
                and func.attr.value in _NO_PLUGIN):
            self.add(original, f"{API}.{func.attr.value}", UNSUPPORTED,
                     "MindSpore's SummaryRecord has no summary plugin for it")
        return updated

    def _constructor(self, original, updated):
        self.seen = True
        bound = args_by_name(updated, _ARGS)
        dropped = [name for name in bound if name != "log_dir"]
        message = _CONVERTED
        if dropped:
            message += "; dropped " + ", ".join(f"'{n}'" for n in dropped) + \
                ": SummaryRecord has no such setting"
        self.add(original, API, WARNING, message)
        args = [arg for arg in updated.args[:1] if arg.keyword is None]
        args += [arg for arg in updated.args if arg.keyword and arg.keyword.value == "log_dir"]
        if args:
            args[0] = args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return cst.Call(request(self.ctx, "SummaryRecordWriter"), args)

    def leave_Attribute(self, original, updated):
        return self._reference(original, updated)

    def leave_Name(self, original, updated):
        return self._reference(original, updated)

    def _reference(self, original, updated):
        if id(original) in self.inner or self.ctx.resolve(original) != API:
            return updated
        self.seen = True
        self.add(original, API, WARNING, _CONVERTED)
        return request(self.ctx, "SummaryRecordWriter")
