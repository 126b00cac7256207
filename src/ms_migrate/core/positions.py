"""Line numbers for findings, without libcst's PositionProvider.

PositionProvider costs about two parses. Instead Python's C `ast` parser gives every
statement its lines, and the statements of both trees are matched in order: a libcst
line `a; b` is two `ast` statements, `elif` is an `if` inside `orelse` in both.
Inside a statement, a visitor numbers the calls and attribute accesses it meets in
source order, and the n-th one of the `ast` statement (nested statements apart)
gives the line.

Passes hand unchanged statements on as the very objects that were parsed
(dispatch.traverse), so these lines stay exact whatever ran before; a statement a
pass rebuilt takes the first line of the one it replaced (`origins`, filled while
dispatch.recording_origins is open).
"""
from __future__ import annotations

import ast
import re
from bisect import bisect_left, bisect_right
from functools import lru_cache
from typing import Collection, Dict, Iterator, List, Optional, Pattern, Tuple, Union

import libcst as cst

from .parsed import helper_line_code

_EMPTY = cst.Module([])

# (statement, "Call" | "Attribute" | None for the statement itself, index)
Locator = Tuple[cst.CSTNode, Optional[str], int]

_KINDS = {"Call": ast.Call, "Attribute": ast.Attribute}


class StatementLines:
    """Lines of the statements of one parsed module, and of what passes made of them."""

    def __init__(self, module: cst.Module, source: str):
        # id(libcst statement) -> (statement, its `ast` statements)
        self._ast: Dict[int, Tuple[cst.CSTNode, Tuple[ast.stmt, ...]]] = {}
        self.origins: Dict[int, Tuple[cst.CSTNode, cst.CSTNode]] = {}
        self._numbered: Dict[Tuple[int, str], List[int]] = {}
        self.source = source
        self._starts: Optional[List[int]] = None
        # pattern -> the lines it matches: passes share patterns (torch_names)
        self._pattern_lines: Dict[Pattern, Tuple[int, ...]] = {}
        # id(statement) -> (statement, its span)
        self._spans: Dict[int, Tuple[cst.CSTNode, Tuple[int, int]]] = {}
        # id(statement) -> (statement, its code), for lines a pass wrote
        self._written: Dict[int, Tuple[cst.CSTNode, str]] = {}
        # Python's own tree of the source (None: it does not parse), for the passes too;
        # held here, not in a cache, so it goes with the conversion
        self.tree: Optional[ast.Module] = None
        try:
            self.tree = tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return
        flat: List[ast.stmt] = []
        _ast_statements(tree.body, flat)
        position = 0
        statements: List[Tuple[cst.CSTNode, int, bool]] = []
        _cst_statements(module.body, statements)
        for node, size, advances in statements:
            if position + size > len(flat):
                break
            self._ast[id(node)] = (node, tuple(flat[position:position + size]))
            position += size if advances else 0
        if position != len(flat):  # the trees disagree: no lines rather than wrong ones
            self._ast.clear()

    def _parsed(self, stmt: cst.CSTNode) -> Optional[Tuple[ast.stmt, ...]]:
        found = self._ast.get(id(stmt))
        return found[1] if found is not None and found[0] is stmt else None

    def _replaced(self, stmt: cst.CSTNode) -> Optional[cst.CSTNode]:
        found = self.origins.get(id(stmt))
        return found[1] if found is not None and found[0] is stmt else None

    def is_parsed(self, stmt: cst.CSTNode) -> bool:
        """The very statement parsed: nothing in it has changed."""
        return self._parsed(stmt) is not None

    def knows(self, stmt: cst.CSTNode) -> bool:
        return self._parsed(stmt) is not None or self._replaced(stmt) is not None

    def line(self, stmt: cst.CSTNode) -> int:
        """First line of a statement (a function's `def` line), or of the one it replaced;
        0 when unknown."""
        nodes = self._parsed(stmt)
        if nodes is None:
            first = self._replaced(stmt)
            nodes = self._parsed(first) if first is not None else None
        return nodes[0].lineno if nodes else 0

    def span(self, stmt: cst.CSTNode) -> Optional[Tuple[int, int]]:
        """(first, last) line of a statement as parsed, decorators included."""
        found = self._spans.get(id(stmt))  # passes ask for each statement many times
        if found is not None and found[0] is stmt:
            return found[1]
        found = self._ast.get(id(stmt))  # (self._parsed, without the call: once each)
        if found is None or found[0] is not stmt or not found[1]:
            return None
        nodes = found[1]
        first = nodes[0].lineno
        decorators = getattr(nodes[0], "decorator_list", None)
        if decorators:
            first = min(first, *(d.lineno for d in decorators))
        span = self._spans[id(stmt)] = (stmt, (first, nodes[-1].end_lineno))
        return span[1]

    def same_lines(self, old: cst.CSTNode, new: cst.CSTNode) -> None:
        """`new` is `old` rebuilt with nothing in it changed: it spans the lines `old`
        spans (a pass that skips by lines may skip it), though it is not the statement
        parsed (`is_parsed`, `line` and `locate` do not take it for `old`)."""
        span = self.span(old)
        if span is not None:
            self._spans[id(new)] = (new, span)

    def written_code(self, stmt: cst.SimpleStatementLine) -> str:
        """The code of a line of statements a pass wrote (no parsed span), once per
        statement: later passes search it instead of walking it."""
        found = self._written.get(id(stmt))
        if found is not None and found[0] is stmt:
            return found[1]
        code = helper_line_code(stmt)  # written once per process
        if code is None:
            code = _EMPTY.code_for_node(stmt)
        self._written[id(stmt)] = (stmt, code)
        return code

    def line_at(self, offset: int) -> int:
        """The 1-based line of a character offset in the source."""
        return bisect_right(self._line_starts(), offset)

    def line_start(self, line: int) -> Optional[int]:
        """The offset in the source where a 1-based line starts (the source's length for
        the line after a last line break); None past that."""
        starts = self._line_starts()
        return starts[line - 1] if 0 < line <= len(starts) else None

    def _line_starts(self) -> List[int]:
        if self._starts is None:
            self._starts = [0] + [m.end() for m in re.finditer("\n", self.source)]
        return self._starts

    def lines_matching(self, pattern: Pattern,
                       words: Optional[Collection[str]] = None) -> Tuple[int, ...]:
        """The lines where `pattern` matches (with group 1 in `words`, when given), each
        once, in order."""
        if pattern is NEVER:
            return ()
        if words is not None:  # a word list is a pass's own: nothing to share
            return self._lines_of(m for m in find_all(pattern, self.source)
                                  if m.group(1) in words)
        found = self._pattern_lines.get(pattern)
        if found is None:
            words = _word_by_word(pattern)
            found = self._pattern_lines[pattern] = (
                tuple(sorted(set().union(*(self.lines_matching(w) for w in words))))
                if words else self._lines_of(find_all(pattern, self.source)))
        return found

    def _lines_of(self, matches: Iterator[re.Match]) -> Tuple[int, ...]:
        # a common word (`for`, a torch alias) matches many times a line: the line of
        # each is looked up only past the end of the last line found
        starts = self._line_starts()
        lines: List[int] = []
        line_end = -1
        for match in matches:
            start = match.start()
            if start < line_end:
                continue
            line = bisect_right(starts, start)
            lines.append(line)
            line_end = starts[line] if line < len(starts) else len(self.source) + 1
        return tuple(lines)

    def locate(self, locator: Optional[Locator]) -> int:
        if locator is None:
            return 0
        stmt, kind, index = locator
        nodes = self._parsed(stmt)
        if nodes is None or kind is None:
            return self.line(stmt)
        first = nodes[0]
        if first.lineno == nodes[-1].end_lineno and not getattr(first, "decorator_list", None):
            return first.lineno  # a statement on one line: its calls are all there
        key = (id(stmt), kind)
        lines = self._numbered.get(key)
        if lines is None:
            lines = self._numbered[key] = _numbered_lines(nodes, _KINDS[kind])
        return lines[index] if index < len(lines) else nodes[0].lineno


def _numbered_lines(statements, kind: type) -> List[int]:
    """Lines of the `kind` nodes of statements, nested statements apart, in source order."""
    found = []
    todo = list(statements)
    while todo:
        node = todo.pop()
        if isinstance(node, kind):
            found.append((node.lineno, node.col_offset, -node.end_lineno,
                          -node.end_col_offset, node.lineno))
        for field in node._fields:  # ast.iter_child_nodes, without its generator
            value = getattr(node, field, None)
            if isinstance(value, list):
                todo.extend(child for child in value
                            if isinstance(child, ast.AST) and not isinstance(child, ast.stmt))
            elif isinstance(value, ast.AST) and not isinstance(value, ast.stmt):
                todo.append(value)
    return [item[4] for item in sorted(found)]


# the fields of `ast` statements that hold statements (or handlers, or cases), by type
_BLOCK_NAMES = ("body", "orelse", "handlers", "finalbody", "cases")
_AST_BLOCKS = {kind: tuple(name for name in _BLOCK_NAMES if name in kind._fields)
               for kind in vars(ast).values()
               if isinstance(kind, type) and issubclass(kind, ast.stmt)}


def _ast_statements(stmts, out: List[ast.stmt]) -> None:
    for stmt in stmts:
        out.append(stmt)
        for name in _AST_BLOCKS.get(type(stmt), _BLOCK_NAMES):  # none for a simple one
            for child in getattr(stmt, name, None) or ():
                if isinstance(child, ast.stmt):
                    _ast_statements((child,), out)
                else:  # an except handler or a match case: its body
                    _ast_statements(child.body, out)


def _cst_statements(stmts, out: List[Tuple[cst.CSTNode, int, bool]]) -> None:
    """(statement, how many `ast` statements it is, whether it moves on past them) in
    the order of `_ast_statements`: a line of small statements covers them all, then
    each of them moves on by one. (Types compared, not isinstance: libcst's classes
    are ABCs, slow to check against.)"""
    for stmt in stmts:
        kind = type(stmt)
        if kind is cst.SimpleStatementLine:
            out.append((stmt, len(stmt.body), False))
            out.extend((small, 1, True) for small in stmt.body)
            continue
        out.append((stmt, 1, True))
        if kind is not cst.Match:  # a match has only cases
            _suite(stmt.body, out)
        if kind is cst.If and type(stmt.orelse) is cst.If:
            _cst_statements([stmt.orelse], out)
            continue
        for handler in getattr(stmt, "handlers", ()):
            _suite(handler.body, out)
        for case in getattr(stmt, "cases", ()):
            _suite(case.body, out)
        for name in ("orelse", "finalbody"):
            child = getattr(stmt, name, None)
            if child is not None:
                _suite(child.body, out)


def _suite(suite, out: List[Tuple[cst.CSTNode, int, bool]]) -> None:
    if type(suite) is cst.IndentedBlock:
        _cst_statements(suite.body, out)
    else:  # `if x: a; b` holds small statements, each an `ast` statement
        out.extend((small, 1, True) for small in suite.body)


class Numbering:
    """Numbers the calls and attribute accesses a visitor meets, per statement.

    The visitor's `statements` list is kept by dispatch.traverse.
    """

    def __init__(self, lines: StatementLines):
        self.lines = lines
        self.statements: List[cst.CSTNode] = []
        self._counts: Dict[Tuple[int, str], int] = {}

    def number(self, kind: str) -> Optional[Locator]:
        """Locator of the next `kind` node in the current statement."""
        if not self.statements:
            return None
        stmt = self.statements[-1]
        if not self.lines.knows(stmt):
            return self.here()
        key = (id(stmt), kind)
        index = self._counts.get(key, 0)
        self._counts[key] = index + 1
        return stmt, kind, index

    def here(self) -> Optional[Locator]:
        """Locator of the innermost statement with a known line."""
        for stmt in reversed(self.statements):
            if self.lines.knows(stmt):
                return stmt, None, 0
        return None


# a pattern that matches nowhere: no scan of the source needed
NEVER = re.compile(r"(?!)")


def find_all(pattern: Pattern, text: str) -> Iterator[re.Match]:
    """`pattern.finditer(text)`, faster for a pattern that starts with `\\b`.

    Python's `re` looks for a literal that starts a pattern before it tries a match; a
    leading `\\b` hides it, and the pattern is then tried at every character (40 times
    slower on this corpus for `\\bclass\\b`). So the pattern less its `\\b` finds the
    places to try (it matches wherever the whole pattern does), and the whole pattern
    decides there: the same matches, in the same order.
    """
    loose = _without_boundary(pattern)
    if loose is None:
        yield from pattern.finditer(text)
        return
    start = 0
    while start <= len(text):  # (`search` reads a start past the end as the end)
        candidate = loose.search(text, start)
        if candidate is None:
            return
        found = pattern.match(text, candidate.start())
        if found is None:
            start = candidate.start() + 1
        elif found.end() == found.start():  # an empty match: finditer's rules from here
            yield from pattern.finditer(text, found.start())
            return
        else:
            yield found
            start = found.end()


@lru_cache(maxsize=256)
def _without_boundary(pattern: Pattern) -> Optional[Pattern]:
    """The pattern less the `\\b` it starts with; None for any other pattern."""
    if not isinstance(pattern.pattern, str) or not pattern.pattern.startswith("\\b"):
        return None
    return re.compile(pattern.pattern[2:], pattern.flags)


def names_pattern(names: Collection[str]) -> Pattern:
    """Matches where any of `names` appears as a word's end (never, for no names): a
    superset of the names as words, with no `\\b` before, so a search starts with a
    literal (far faster). For RelevantLines."""
    return _names_pattern(tuple(sorted(names)))


@lru_cache(maxsize=64)
def _names_pattern(names: Tuple[str, ...]) -> Pattern:
    return re.compile(rf"(?:{'|'.join(map(re.escape, names))})\b") if names else NEVER


# names_pattern's spelling, for words
_WORDS = re.compile(r"\(\?:(\w+(?:\|\w+)*)\)\\b")
_ONE_BY_ONE = 12  # words scanned one by one (8 common ones: 31 ms over 690 files against 51)


@lru_cache(maxsize=256)
def _word_by_word(pattern: Pattern) -> Tuple[Pattern, ...]:
    """For a names_pattern of a few words, a pattern for each: they match on the same
    lines, and a literal's search is several times faster than the alternation's, which
    is tried at every character. () for any other pattern."""
    words = (_WORDS.fullmatch(pattern.pattern)
             if isinstance(pattern.pattern, str) and pattern.flags == re.UNICODE else None)
    if words is None or words.group(1).count("|") >= _ONE_BY_ONE:
        return ()
    return tuple(re.compile(rf"{word}\b") for word in words.group(1).split("|"))


class RelevantLines:
    """Which statements a pass needs to visit: those with a line its pattern matches.

    Most statements of a file hold nothing a given pass rewrites; skipping them
    (dispatch.traverse asks `skips`) saves most of the pass. A line of statements a
    pass wrote (no parsed span) is looked for in its code; other statements a pass
    built are entered.
    """

    def __init__(self, lines: StatementLines,
                 *patterns: Union[Pattern, Tuple[Pattern, Collection[str]]]):
        """A `(pattern, words)` pair counts a match only when its group 1 is in `words`
        (one cheap `\\.(\\w+)` scan beats an alternation of hundreds of words)."""
        self._lines = lines
        self._spans = lines._spans
        self._patterns = [p if isinstance(p, tuple) else (p, None) for p in patterns]
        hits = set()
        for pattern, words in self._patterns:
            hits.update(lines.lines_matching(pattern, words))
        self._hits = sorted(hits)

    def skips(self, stmt: cst.CSTNode) -> bool:
        found = self._spans.get(id(stmt))  # StatementLines.span's own lookup, without a call:
        # every pass asks for every statement it may enter
        span = found[1] if found is not None and found[0] is stmt else self._lines.span(stmt)
        if span is None:  # written by a pass: its code, if it is a line, else enter it
            return (type(stmt) is cst.SimpleStatementLine
                    and not self._matches(self._lines.written_code(stmt)))
        i = bisect_left(self._hits, span[0])
        return i == len(self._hits) or self._hits[i] > span[1]

    def _matches(self, code: str) -> bool:
        for pattern, words in self._patterns:
            if words is None:
                if pattern.search(code):
                    return True
            elif any(m.group(1) in words for m in pattern.finditer(code)):
                return True
        return False
