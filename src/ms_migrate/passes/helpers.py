"""Short helper functions a transform asked for (transforms/helper_code.py), written
once each after the file's imports, unless the file already defines one of that name."""
from __future__ import annotations

import libcst as cst

from ..core.callrewrite import code_with_mindspore_names
from ..core.context import Context
from ..transforms.helper_code import HELPERS
from .statement_pass import after_imports


def insert_helpers(ctx: Context, module: cst.Module) -> cst.Module:
    """The requested helpers the file does not define yet, after its imports."""
    if not ctx.helpers:
        return module
    defined = {s.name.value for s in module.body if isinstance(s, cst.FunctionDef)}
    new = []
    for name in ctx.helpers:
        if name in defined:
            continue
        helper = cst.parse_statement(HELPERS[name])
        helper = code_with_mindspore_names(helper, ctx.name)
        new.append(helper.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()]))
    if not new:
        return module
    body = list(module.body)
    at = after_imports(body)
    if at < len(body):  # two blank lines after the helpers, as before a definition
        lines = list(body[at].leading_lines)
        blank = next((i for i, line in enumerate(lines) if line.comment is not None),
                     len(lines))
        body[at] = body[at].with_changes(
            leading_lines=[cst.EmptyLine()] * max(0, 2 - blank) + lines)
    body[at:at] = new
    return module.with_changes(body=body)
