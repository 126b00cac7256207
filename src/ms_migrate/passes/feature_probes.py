"""`hasattr(torch.nn.functional, "scaled_dot_product_attention")`: a probe for a torch API.

Code written for several torch versions asks whether an API exists before using it
(nanoGPT's flash attention). Where the rule tables convert that API, the converted
branch that calls it runs in MindSpore, so the probe is `True`, as in the torch the
code was written for. A probe for an API without a converting rule stays, and the
traversal marks its torch module.
"""
from __future__ import annotations

import re

import libcst as cst

from ..core.context import Context, is_torch_module
from ..core.report import CONVERTED
from ..core.strings import string_value
from ..core.traversal import traverse
from .statement_pass import StatementPass
from .text_search import found

_APPLIES = re.compile(r"\bhasattr\(")


def applies(source: str) -> bool:
    return found(_APPLIES, source, "hasattr(")


def convert_feature_probes(ctx: Context, module: cst.Module) -> cst.Module:
    probes = _Probes(ctx)
    converted = traverse(module, probes)
    probes.place_findings()
    return converted


class _Probes(StatementPass):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, _APPLIES)

    def leave_Call(self, original, updated):
        if not (isinstance(original.func, cst.Name) and original.func.value == "hasattr"
                and len(original.args) == 2 and not any(a.keyword or a.star for a in original.args)
                and not self.ctx.is_shadowed("hasattr")):
            return updated
        owner, attribute = (a.value for a in original.args)
        qualified = self.ctx.resolve(owner)
        if (qualified is None or not is_torch_module(qualified)
                or not isinstance(attribute, cst.SimpleString)):
            return updated
        api = f"{qualified}.{string_value(attribute)}"
        rule = self.ctx.rules.get(api)
        if rule is None or rule.unsupported is not None:
            return updated
        self.add(original, api, CONVERTED, f"hasattr(...) -> True: {api} converts, so the "
                 "branch that uses it runs")
        return cst.Name("True")
