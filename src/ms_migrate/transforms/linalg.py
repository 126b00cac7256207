"""Linear algebra composed from inverse and matmul where MindSpore 2.10 has no solver."""
from __future__ import annotations

import libcst as cst

from ..core.callrewrite import Bound, Unsupported, render_template, rewrite
from .base import literal, transform
from .helper_code import request


@transform
def solve_side(ctx, rule, bound: Bound, call=None):
    """linalg.solve: A X = B is the rule's template (inverse(A) @ B); with left=False
    the system is X A = B, whose solution is B @ inverse(A)."""
    left = literal(bound.pop("left"))
    if left in (None, "True"):
        return render_template(rule, bound, ctx.name)
    if left != "False":
        raise Unsupported(f"left={left}: write the two sides by hand")
    a, b = bound.get("A"), bound.get("B")
    if a is None or b is None:
        raise Unsupported("needs the arguments 'A' and 'B'")
    inverse = cst.Call(ctx.name("mindspore.ops.inverse"), [cst.Arg(a)])
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    return cst.Call(ctx.name("mindspore.ops.matmul"), [cst.Arg(b, comma=comma), cst.Arg(inverse)])


@transform
def linalg_written_function(ctx, rule, bound: Bound, call=None):
    """torch.linalg.<name> -> linalg_<name>(...) written into the file, with torch's
    arguments, where torch.<name> is another function (torch.lu, torch.lu_solve)."""
    name = "linalg_" + rule.torch_name.rpartition(".")[2]
    return rewrite(rule, bound, request(ctx, name), call, ctx.name)
