"""A base for passes that turn a call into an assignment to a name (`out=`, `x.t_()`).

A subclass looks at each call that is a whole statement or the whole value of an
assignment (`rebind`), and may return the assignment that replaces it; the note it
leaves in ctx.facts.out_args, keyed by the new call, is added to that call's finding
by the API pass. `may_bind` says whether the enclosing function may assign the names
(assigning a global or enclosing name would make it local there).
"""
from __future__ import annotations

from typing import Dict, List, Optional, Pattern, Set, Tuple, Union

import libcst as cst

from ..core.context import Context
from ..core.names import function_locals
from ..core.positions import RelevantLines
from ..core.traversal import FastTransformer


class Rebinding(FastTransformer):
    def __init__(self, ctx: Context, *relevant: Pattern):
        """`relevant`: patterns one of which every line holding a call this pass may
        rebind matches (statements with no such line are not visited)."""
        super().__init__()
        self.ctx = ctx
        self.notes: Dict[int, Tuple[cst.Call, str]] = ctx.facts.out_args
        self._relevant = RelevantLines(ctx.lines, *relevant)
        # per enclosing function, the names it may rebind (its locals, `global` and
        # `nonlocal` ones), worked out on the first question: most functions have none
        self.scopes: List[Union[cst.FunctionDef, Set[str]]] = []

    def skips(self, statement: cst.CSTNode) -> bool:
        return self._relevant.skips(statement)

    def rebind(self, targets: List[cst.AssignTarget], call: cst.Call) -> Optional[cst.Assign]:
        raise NotImplementedError

    def may_bind(self, names: Set[str]) -> bool:
        if not self.scopes:
            return True
        scope = self.scopes[-1]
        if isinstance(scope, cst.FunctionDef):
            scope = self.scopes[-1] = function_locals(scope) | declared(scope.body)
        return names <= scope

    def visit_FunctionDef(self, node):
        self.scopes.append(node)

    def leave_FunctionDef(self, original, updated):
        self.scopes.pop()
        return updated

    def visit_SimpleStatementLine(self, node):
        return False  # only the statement itself is looked at; nested blocks are entered

    def leave_SimpleStatementLine(self, original, updated):
        if len(updated.body) != 1:
            return updated
        statement = updated.body[0]
        if isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Call):
            targets, call = [], statement.value
        elif isinstance(statement, cst.Assign) and isinstance(statement.value, cst.Call):
            targets, call = list(statement.targets), statement.value
        else:
            return updated
        assign = self.rebind(targets, call)
        return updated if assign is None else updated.with_changes(body=[assign])


def declared(node: cst.CSTNode) -> Set[str]:
    """Names a function body declares `global` or `nonlocal` (nested functions aside)."""
    found: Set[str] = set()
    for child in node.children:
        if isinstance(child, (cst.Global, cst.Nonlocal)):
            found |= {item.name.value for item in child.names}
        elif not isinstance(child, (cst.FunctionDef, cst.ClassDef, cst.BaseExpression)):
            found |= declared(child)
    return found
