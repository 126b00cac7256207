"""LayerNorm without learnable affine parameters: MindSpore's LayerNorm always has
them, so they are frozen at their initial values (gamma ones, beta zeros).

    self.norm = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
->
    self.norm = nn.LayerNorm((d,), epsilon=1e-6)
    self.norm.gamma.requires_grad = False
    self.norm.beta.requires_grad = False

In torch too a frozen LayerNorm of ones and zeros computes what
elementwise_affine=False does; `bias=False` freezes the bias only. Only where the
layer is assigned to a name the freezing statements can follow (also as one branch
of `a if flag else b`: then they run `if flag:`).
"""
from __future__ import annotations

import re
from typing import List

import libcst as cst

from ..core.context import Context
from ..core.names import dotted_name
from ..core.quick_libcst import parse_statement
from ..core.report import WARNING
from ..core.traversal import traverse
from .statement_pass import StatementPass

_APPLIES = re.compile(r"LayerNorm\([^)]*\b(?:elementwise_affine|bias)\s*=\s*False")
_LAYERS = ("torch.nn.LayerNorm",)


def applies(source: str) -> bool:
    return bool(_APPLIES.search(source))


def freeze_affine_norms(ctx: Context, module: cst.Module) -> cst.Module:
    freeze = _FrozenNorms(ctx)
    result = traverse(module, freeze)
    freeze.place_findings()
    return result


def _false(arg: cst.Arg) -> bool:
    return isinstance(arg.value, cst.Name) and arg.value.value == "False"


class _FrozenNorms(StatementPass):
    def leave_SimpleStatementLine(self, original, updated):
        if len(updated.body) != 1 or not isinstance(updated.body[0], cst.Assign):
            return updated
        assign = updated.body[0]
        call, guard = assign.value, None
        if isinstance(call, cst.IfExp) and dotted_name(call.test) is not None:
            # `nn.LayerNorm(d, bias=False) if qk_norm else nn.Identity()`
            for branch, test in ((call.body, dotted_name(call.test)),
                                 (call.orelse, f"not {dotted_name(call.test)}")):
                if isinstance(branch, cst.Call) and self.ctx.resolve(branch.func) in _LAYERS:
                    guard = (test, branch is call.body)
                    call = branch
                    break
        if len(assign.targets) != 1 or not isinstance(call, cst.Call):
            return updated
        target = dotted_name(assign.targets[0].target)
        if target is None or self.ctx.resolve(call.func) not in _LAYERS:
            return updated
        off = {a.keyword.value for a in call.args if a.keyword is not None and _false(a)
               and a.keyword.value in ("elementwise_affine", "bias")}
        if not off:
            return updated
        frozen: List[str] = ["weight", "bias"] if "elementwise_affine" in off else ["bias"]
        args = [a for a in call.args if not (a.keyword is not None and
                                             a.keyword.value in ("elementwise_affine", "bias"))]
        if args:
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        layer = self.ctx.resolve(call.func)
        flags = ", ".join(f"{k}=False" for k in sorted(off))
        self.add(original.body[0].value, layer, WARNING,
                 f"{flags}: MindSpore's LayerNorm always has gamma and beta: "
                 f"{' and '.join(frozen)} frozen at their initial values")
        value = call.with_changes(args=args)
        if guard is not None:
            branch = "body" if guard[1] else "orelse"
            value = assign.value.with_changes(**{branch: value})
        new = updated.with_changes(body=[assign.with_changes(value=value)])
        rule = self.ctx.rules.get(layer)
        names = rule.params if rule else {}  # MindSpore's names: weight is gamma
        lines = [f"{target}.{names.get(p, p)}.requires_grad = False" for p in frozen]
        if guard is not None:
            lines = [f"if {guard[0]}:\n" + "".join(f"    {line}\n" for line in lines)]
        return cst.FlattenSentinel([new, *(parse_statement(line + "\n") for line in lines)])
