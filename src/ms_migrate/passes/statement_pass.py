"""A base for statement-level passes: findings with lines, statements removed.

- `add(node, api, action, message)` records a finding on the line of `node`: calls
  and attributes are numbered per statement as the Converter numbers them, and
  `place_findings` (after the visit) gives their lines (positions.StatementLines).
- A pass that makes a statement pointless (`model.to(device)`, `model = DDP(model)`)
  returns `drop(statement, notes)` from `leave_SimpleStatementLine`; when the block
  is left the statement goes, its comments and the notes move to the next
  statement, and a block left empty gets `pass`.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Pattern, Tuple

import libcst as cst

from ..core.context import Context
from ..core.parsed import parsed_statement
from ..core.positions import Locator, Numbering, RelevantLines, names_pattern
from ..core.report import Finding
from ..core.traversal import FastTransformer, rebuilt


class StatementPass(FastTransformer):
    def __init__(self, ctx: Context, *relevant: Pattern) -> None:
        """`relevant`: patterns one of which every line this pass may change matches (a
        statement with no such line is not visited)."""
        super().__init__()
        self.ctx = ctx
        self._relevant = RelevantLines(ctx.lines, *relevant) if relevant else None
        # id(statement) -> (statement, notes); holding the statement keeps its id unique
        self._dropped: Dict[int, Tuple[cst.SimpleStatementLine, List[str]]] = {}
        self._numbering = Numbering(ctx.lines)
        self.statements = self._numbering.statements  # kept by dispatch.traverse
        self._order: Dict[int, Optional[Locator]] = {}
        self._placed: List[Tuple[Finding, Optional[Locator]]] = []

    def skips(self, statement: cst.CSTNode) -> bool:
        return self._relevant is not None and self._relevant.skips(statement)

    # --- findings with lines ------------------------------------------------------
    def visit_Import(self, node):  # the Converter skips imports: so do the numbers
        return False

    def visit_ImportFrom(self, node):
        return False

    def visit_Call(self, node):
        self._number("Call", node)

    def visit_Attribute(self, node):
        self._number("Attribute", node)

    def _number(self, kind: str, node: cst.CSTNode) -> None:
        self._order[id(node)] = self._numbering.number(kind)

    def add(self, node: cst.CSTNode, api: str, action: str, message: str) -> None:
        """A finding on the line of the first call or attribute in (original) `node`."""
        finding = self.ctx.finding(None, api, action, message)
        locator = self._locator(node)
        if locator is None:  # no call or attribute in it: the statement's own line
            locator = (node, None, 0) if self.ctx.lines.knows(node) else self._numbering.here()
        self._placed.append((finding, locator))

    def _locator(self, node: cst.CSTNode) -> Optional[Locator]:
        if id(node) in self._order:
            return self._order[id(node)]
        for child in node.children:
            found = self._locator(child)
            if found is not None:
                return found
        return None

    def place_findings(self) -> None:
        """Give this pass's findings their lines (after the visit)."""
        for finding, locator in self._placed:
            finding.line = self.ctx.lines.locate(locator)

    # --- removed statements ---------------------------------------------------------

    def drop(self, statement: cst.SimpleStatementLine, notes: List[str]):
        comment = statement.trailing_whitespace.comment
        self._dropped[id(statement)] = (statement, notes + ([comment.value] if comment else []))
        return statement

    def leave_IndentedBlock(self, original, updated):
        if not self._dropped_in(updated.body):
            return updated  # unchanged blocks keep the tree's identity (and cached code)
        body, footer = self._without_dropped(updated.body)
        if not body:
            body = [cst.SimpleStatementLine([cst.Pass()], leading_lines=footer)]
            footer = []
        return updated.with_changes(body=body, footer=[*footer, *updated.footer])

    def leave_Module(self, original, updated):
        if not self._dropped_in(updated.body):
            return updated
        body, footer = self._without_dropped(updated.body)
        return updated.with_changes(body=body, footer=[*footer, *updated.footer])

    def _dropped_in(self, statements) -> bool:
        return any(id(stmt) in self._dropped for stmt in statements)

    def _without_dropped(self, statements):
        body, pending = [], []
        for stmt in statements:
            dropped = self._dropped.pop(id(stmt), None)
            if dropped is not None:
                pending += [*stmt.leading_lines,
                            *(cst.EmptyLine(comment=cst.Comment(n)) for n in dropped[1])]
                continue
            if pending:
                stmt = rebuilt(stmt, stmt.with_changes(leading_lines=[*pending, *stmt.leading_lines]))
                pending = []
            body.append(stmt)
        return body, pending


def torch_names(ctx: Context) -> Pattern:
    """Matches on every line where a name the file binds to torch appears: a statement
    with no such line holds nothing that `ctx.resolve` knows (a superset: no `\\b`
    before, so the search starts with a literal)."""
    return names_pattern(ctx.aliases)


def with_helper_class(module: cst.Module, code: str) -> cst.Module:
    """`module` with the helper `code` (a class or function) after its imports."""
    return with_helper_code(module, [parsed_statement(code)])


def with_helper_code(module: cst.Module, helpers) -> cst.Module:
    """`module` with the `helpers` (statements) after its imports, two blank lines
    on each side as before any definition (a comment above the next statement stays
    with it)."""
    if not helpers:
        return module
    helpers = [h.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()]) for h in helpers]
    body = list(module.body)
    at = after_imports(body)
    if at < len(body):
        lines = list(body[at].leading_lines)
        blank = next((i for i, line in enumerate(lines) if line.comment is not None),
                     len(lines))
        body[at] = body[at].with_changes(
            leading_lines=[cst.EmptyLine()] * max(0, 2 - blank) + lines)
    return module.with_changes(body=[*body[:at], *helpers, *body[at:]])


def after_imports(body) -> int:
    """Index in a module's body just past its leading imports: where a pass writes the
    helper code it adds to a file (helpers go after the imports they use)."""
    at = 0
    for i, statement in enumerate(body):
        if isinstance(statement, cst.SimpleStatementLine) and all(
                isinstance(s, (cst.Import, cst.ImportFrom)) for s in statement.body):
            at = i + 1
        elif i > at:
            break
    return at
