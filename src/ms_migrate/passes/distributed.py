"""Data parallel: process groups and model wrappers.

- `dist.init_process_group(...)` becomes `communication.init()` and the data-parallel
  context (`mindspore.set_auto_parallel_context(parallel_mode=DATA_PARALLEL,
  gradients_mean=True)`); msrun gives each process its rank and the group size.
- `model = DistributedDataParallel(model, ...)` and `model = nn.DataParallel(model)`
  go: a MindSpore Cell is not wrapped. For DDP the gradients must be averaged across
  processes in the training step (`nn.DistributedGradReducer(optimizer.parameters)`),
  which the note in the code says. `model.module` becomes `model`.
- `nn.parallel.data_parallel(module, inputs, device_ids)` (the functional form)
  becomes `module(inputs)`: one process per device in MindSpore, as above.

get_rank / get_world_size and the other calls are table rules (torch_distributed.toml).
"""
from __future__ import annotations

import re
from typing import Optional, Set

import libcst as cst

from ..core.context import Context
from ..core.names import dotted_name
from ..core.quick_libcst import parse_statement
from ..core.report import CONVERTED, WARNING, mark_text
from ..core.traversal import traverse
from .statement_pass import StatementPass
from .text_search import contains_any

_APPLIES = re.compile(r"init_process_group|DataParallel|data_parallel\(")
_INIT = "torch.distributed.init_process_group"
_DDP = "torch.nn.parallel.DistributedDataParallel"
_FUNCTIONAL = "torch.nn.parallel.data_parallel"
_WRAPPERS = {
    "torch.nn.parallel.DistributedDataParallel":
        "a training step converted in this file averages the gradients across processes "
        "with nn.DistributedGradReducer (elsewhere, pass them through one); launch with msrun",
    "torch.nn.DataParallel":
        "MindSpore runs one process per device (msrun for several); this one uses one device",
    "torch.nn.parallel.DataParallel":
        "MindSpore runs one process per device (msrun for several); this one uses one device",
}


def applies(source: str) -> bool:
    return contains_any(source, ("init_process_group", "DataParallel", "data_parallel("))  # _APPLIES


def convert_distributed(ctx: Context, module: cst.Module) -> cst.Module:
    distributed = _Distributed(ctx)
    converted = traverse(module, distributed)
    distributed.place_findings()
    return converted


class _Distributed(StatementPass):
    def __init__(self, ctx: Context):
        # the statements it changes name a wrapper or init (maybe by an alias), or `.module`
        names = [local for local, qualified in ctx.aliases.items()
                 if qualified in _WRAPPERS or qualified == _INIT]
        super().__init__(ctx, re.compile("|".join(
            [_APPLIES.pattern, r"\.module\b", *(rf"\b{re.escape(n)}\b" for n in names)])))
        self.unwrapped: Set[str] = set()  # names that held a wrapper: `.module` goes

    def _wrapper(self, node: cst.BaseExpression) -> Optional[str]:
        if isinstance(node, cst.Call) and node.args and node.args[0].keyword is None:
            qualified = self.ctx.resolve(node.func)
            if qualified in _WRAPPERS:
                return qualified
        return None

    def leave_SimpleStatementLine(self, original, updated):
        if len(updated.body) != 1:
            return updated
        small = updated.body[0]
        if (isinstance(small, cst.Expr) and isinstance(small.value, cst.Call)
                and self.ctx.resolve(small.value.func) == _INIT):
            return self._init(original, updated)
        if isinstance(small, cst.Assign) and len(small.targets) == 1:
            qualified = self._wrapper(small.value)
            if qualified is not None:
                return self._unwrap(original, updated, small, qualified)
        return updated

    def _init(self, original, statement: cst.SimpleStatementLine):
        self.add(original, _INIT, CONVERTED, "-> communication.init() and the data-parallel "
                     "context; msrun sets the backend, ranks and group size")
        init = parse_statement("communication.init()")
        self.ctx.require("from mindspore import communication")
        self.ctx.require("import mindspore")
        context = parse_statement(
            "mindspore.set_auto_parallel_context(parallel_mode=mindspore.ParallelMode."
            "DATA_PARALLEL, gradients_mean=True)")
        return cst.FlattenSentinel([init.with_changes(leading_lines=statement.leading_lines),
                                    context])

    def _unwrap(self, original, statement, assign: cst.Assign, qualified: str):
        reason = _WRAPPERS[qualified]
        if qualified == _DDP:  # the training pass averages the gradients then
            self.ctx.facts.data_parallel = True
        self.add(original, qualified, WARNING, f"wrapper removed: {reason}")
        note = mark_text(f"{qualified}: {reason}")
        target = dotted_name(assign.targets[0].target)
        inner = assign.value.args[0].value
        if target:
            self.unwrapped.add(target)
        if target is not None and target == dotted_name(inner):  # `model = DDP(model)`
            return self.drop(statement, [note])
        note_line = cst.EmptyLine(comment=cst.Comment(note))
        return statement.with_changes(body=[assign.with_changes(value=inner)],
                                      leading_lines=[*statement.leading_lines, note_line])

    def leave_Call(self, original, updated):
        """`data_parallel(module, inputs, ...)` -> `module(inputs)` on this device."""
        if self.ctx.resolve(original.func) != _FUNCTIONAL:
            return updated
        args = {a.keyword.value if a.keyword else ("module", "inputs")[i] if i < 2 else "": a
                for i, a in enumerate(updated.args) if not a.star}
        if "module" not in args or "inputs" not in args or len(args) != len(updated.args):
            return updated
        inputs = args["inputs"].value
        elements = (inputs.elements if isinstance(inputs, cst.Tuple)
                    and not any(isinstance(e, cst.StarredElement) for e in inputs.elements)
                    else [cst.Element(inputs)])
        call_args = [cst.Arg(e.value) for e in elements]
        if "module_kwargs" in args:
            call_args.append(cst.Arg(args["module_kwargs"].value, star="**"))
        self.add(original, _FUNCTIONAL, WARNING,
                 f"-> the module called here: {_WRAPPERS['torch.nn.DataParallel']}")
        return cst.Call(func=args["module"].value, args=[
            a.with_changes(comma=cst.MaybeSentinel.DEFAULT) if i == len(call_args) - 1
            else a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            for i, a in enumerate(call_args)])

    def leave_Attribute(self, original, updated):
        if updated.attr.value == "module" and dotted_name(updated.value) in self.unwrapped:
            return updated.value
        return updated
