"""`nn.Embedding.from_pretrained(table, freeze=True)` assigned to a name.

    self.pos_emb = nn.Embedding.from_pretrained(sinusoid_table(n, d), freeze=True)
->
    pos_emb_table = sinusoid_table(n, d)
    self.pos_emb = nn.Embedding(pos_emb_table.shape[0], pos_emb_table.shape[1],
                                embedding_table=pos_emb_table)
    self.pos_emb.embedding_table.requires_grad = False

MindSpore's Embedding takes the initial table as `embedding_table`; freezing it
(torch's default) is its Parameter's requires_grad. A table that is not a plain
name is bound to one first (it is read three times). With padding_idx (MindSpore
zeroes that row of the given table, torch keeps it) or max_norm the call is left.
"""
from __future__ import annotations

import re

import libcst as cst

from ..core.context import Context
from ..core.names import dotted_name
from ..core.quick_libcst import parse_statement
from ..core.report import CONVERTED
from ..core.traversal import traverse
from .statement_pass import StatementPass
from .training.emit import ms_name

_APPLIES = re.compile(r"Embedding\.from_pretrained\(")
_API = "torch.nn.Embedding.from_pretrained"


def applies(source: str) -> bool:
    return bool(_APPLIES.search(source))


def convert_pretrained_embeddings(ctx: Context, module: cst.Module) -> cst.Module:
    rewrite = _PretrainedEmbeddings(ctx)
    result = traverse(module, rewrite)
    rewrite.place_findings()
    return result


class _PretrainedEmbeddings(StatementPass):
    def leave_SimpleStatementLine(self, original, updated):
        if len(updated.body) != 1 or not isinstance(updated.body[0], cst.Assign):
            return updated
        assign = updated.body[0]
        call = assign.value
        if len(assign.targets) != 1 or not isinstance(call, cst.Call) \
                or self.ctx.resolve(call.func) != _API:
            return updated
        target = dotted_name(assign.targets[0].target)
        if target is None or any(a.star for a in call.args):
            return updated
        positional = [a.value for a in call.args if a.keyword is None]
        named = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
        if len(positional) > 2 or set(named) - {"embeddings", "freeze"}:
            return updated  # padding_idx, max_norm, ...: left to the tables (marked)
        table = positional[0] if positional else named.get("embeddings")
        freeze = positional[1] if len(positional) > 1 else named.get("freeze")
        if table is None or (freeze is not None and not (
                isinstance(freeze, cst.Name) and freeze.value in ("True", "False"))):
            return updated
        code = cst.Module([]).code_for_node
        lines = []
        name = dotted_name(table)
        if name is None:
            name = f"{target.rsplit('.', 1)[-1]}_table"
            lines.append(f"{name} = {code(table)}")
        embedding = ms_name(self.ctx, "mindspore.nn.Embedding")
        lines.append(f"{target} = {embedding}({name}.shape[0], {name}.shape[1], "
                     f"embedding_table={name})")
        if freeze is None or freeze.value == "True":
            lines.append(f"{target}.embedding_table.requires_grad = False")
        self.add(call, _API, CONVERTED, "-> mindspore.nn.Embedding(..., embedding_table=)"
                 + (", frozen" if len(lines) and lines[-1].endswith("False") else ""))
        new = [parse_statement(line + "\n") for line in lines]
        new[0] = new[0].with_changes(leading_lines=updated.leading_lines)
        return cst.FlattenSentinel(new)
