"""Statement edits of the training pass, applied in one walk.

The pass decides on the original tree and records edits keyed by the id of the
original statement: remove it (its comments stay), take it (it moved elsewhere
with its comments), replace it, insert before or after it, give an `if` an
`else`, attach `# ms-migrate:` notes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Set, Tuple

import libcst as cst

from ...core.positions import StatementLines
from ...core.traversal import rebuilt, with_fields
from .sites import Stmt


@dataclass
class Edits:
    """Statement edits keyed by the original statement's id, applied in one walk."""
    remove: Set[int] = field(default_factory=set)    # dropped; comments stay behind
    take: Set[int] = field(default_factory=set)      # moved elsewhere with their comments
    replace: Dict[int, List[cst.BaseStatement]] = field(default_factory=dict)
    before: Dict[int, List[cst.BaseStatement]] = field(default_factory=dict)
    after: Dict[int, List[cst.BaseStatement]] = field(default_factory=dict)
    orelse: Dict[int, List[cst.BaseStatement]] = field(default_factory=dict)  # `if` gets else
    notes: Dict[int, List[str]] = field(default_factory=dict)

    def insert_before(self, stmt: Stmt, new: List[cst.BaseStatement]) -> None:
        self.before.setdefault(id(stmt.node), []).extend(new)

    def note(self, stmt: Stmt, text: str) -> None:
        self.notes.setdefault(id(stmt.node), []).append(text)

    def edited(self) -> Set[int]:
        """Ids of the statements with an edit in a statement list (not `orelse`)."""
        return (self.remove | self.take | self.replace.keys() | self.before.keys()
                | self.after.keys() | self.notes.keys())


def with_note(node: cst.BaseStatement, note: str) -> cst.BaseStatement:
    return node.with_changes(leading_lines=[*node.leading_lines,
                                            cst.EmptyLine(comment=cst.Comment(note))])


def _spaced(definitions: List[cst.BaseStatement], indented: bool,
            at_start: bool) -> List[cst.BaseStatement]:
    """Blank lines around a function definition, as PEP 8 has them."""
    blank = [cst.EmptyLine(indent=False)] * (1 if indented else 2)
    out = []
    for i, stmt in enumerate(definitions):
        after_def = i > 0 and isinstance(definitions[i - 1], cst.FunctionDef)
        if (isinstance(stmt, cst.FunctionDef) and not (at_start and i == 0)) or after_def:
            stmt = stmt.with_changes(leading_lines=[*blank, *stmt.leading_lines])
        out.append(stmt)
    return out


def apply_edits(module: cst.Module, edits: Edits, lines: StatementLines) -> cst.Module:
    """The module with the edits made. Only statement lists and what holds them are
    walked (no expressions, headers or whitespace)."""
    body = _ApplyEdits(edits, lines).statements(module.body, indented=False)
    return module if body is module.body else module.with_changes(body=body)


# What holds statement lists, besides the Module and IndentedBlock: compound statements
# (rebuilt ones are noted for line numbers) and the parts of them that hold a block.
_COMPOUND = frozenset({cst.If, cst.For, cst.While, cst.With, cst.Try, cst.TryStar,
                       cst.FunctionDef, cst.ClassDef, cst.Match})
_PARTS = frozenset({cst.Else, cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally,
                    cst.MatchCase})
_HOLDING_FIELDS = ("body", "orelse", "handlers", "finalbody", "cases")


class _ApplyEdits:
    def __init__(self, edits: Edits, lines: StatementLines):
        self.edits = edits
        self.edited = edits.edited()
        self.lines = lines
        self.made = 0  # edits made so far: a statement rebuilt with none inside spans its lines

    def statements(self, originals, indented: bool):
        """A statement list with its edits made (and those inside its statements); the
        very list when nothing in it changed."""
        updated = [self._node(stmt)[0] for stmt in originals]
        if any(id(orig) in self.edited for orig in originals):
            return self._body(originals, updated, indented)
        if all(new is orig for new, orig in zip(updated, originals)):
            return originals
        return updated

    def _node(self, node) -> Tuple[cst.CSTNode, bool]:
        """The node with the edits inside it made; and whether it holds a block.

        A compound statement that holds a block is handed on as a new node even when
        nothing in it changed, as by the traversal this walk replaced (which rebuilt
        every block): later passes number the lines inside a statement that is not the
        one parsed by its first line (positions.StatementLines), and findings must
        keep their lines."""
        kind = type(node)
        if kind is cst.IndentedBlock:
            body = self.statements(node.body, indented=True)
            return (node if body is node.body else with_fields(node, body=body)), True
        if kind not in _COMPOUND and kind not in _PARTS:
            return node, False  # a line of small statements, a one-line suite
        made = self.made
        changes = {}
        holds_block = False
        for name in _HOLDING_FIELDS:
            value = getattr(node, name, None)
            if value is None:
                continue
            if isinstance(value, (list, tuple)):  # except handlers, match cases
                done = [self._node(part) for part in value]
                holds_block = holds_block or any(held for _, held in done)
                new = tuple(part for part, _ in done)
                if all(n is v for n, v in zip(new, value)):
                    continue
            else:
                new, held = self._node(value)
                holds_block = holds_block or held
                if new is value:
                    continue
            changes[name] = new
        updated = with_fields(node, **changes) if changes or (
            holds_block and kind in _COMPOUND) else node
        if kind is cst.If:
            updated = self._orelse(node, updated)
        if updated is not node and kind in _COMPOUND:
            rebuilt(node, updated)
            if self.made == made:  # nothing in it changed: later passes may skip it by lines
                self.lines.same_lines(node, updated)
        return updated, holds_block

    def _orelse(self, original, updated):
        extra = self.edits.orelse.get(id(original))
        if not extra:
            return updated
        self.made += 1
        if updated.orelse is None:
            block = updated.body.with_changes(body=extra)
            return updated.with_changes(orelse=cst.Else(body=block))
        block = updated.orelse.body
        return updated.with_changes(orelse=updated.orelse.with_changes(
            body=block.with_changes(body=[*extra, *block.body])))

    def _body(self, originals, updated, indented):
        out: List[cst.BaseStatement] = []
        carry: List[cst.EmptyLine] = []  # comments of removed statements move down
        for orig, upd in zip(originals, updated):
            key = id(orig)
            if key not in self.edited and not carry:  # as it is (a rebuilt one is noted)
                out.append(upd)
                continue
            self.made += 1
            start = len(out)
            inserted = self.edits.before.get(key, [])
            out.extend(_spaced(inserted, indented, at_start=not out))
            if key in self.edits.take:
                continue
            if key in self.edits.remove:
                carry.extend(upd.leading_lines)
                continue
            new = list(self.edits.replace.get(key, [upd]))
            if new and inserted and isinstance(inserted[-1], cst.FunctionDef):  # blank after it
                blank = [cst.EmptyLine(indent=False)] * (1 if indented else 2)
                new[0] = new[0].with_changes(leading_lines=[*blank, *new[0].leading_lines])
            notes = self.edits.notes.get(key, [])
            if new and (carry or notes):
                first = new[0]
                present = {line.comment.value for line in first.leading_lines if line.comment}
                extra = [cst.EmptyLine(comment=cst.Comment(n)) for n in dict.fromkeys(notes)
                         if n not in present]
                new[0] = first.with_changes(leading_lines=[*carry, *first.leading_lines, *extra])
                carry = []
            out.extend(new)
            out.extend(self.edits.after.get(key, []))
            rebuilt(orig, out[start:])  # new statements take the line of the one they replace
        if not out and indented:
            out.append(cst.SimpleStatementLine(body=[cst.Pass()]))
        return out
