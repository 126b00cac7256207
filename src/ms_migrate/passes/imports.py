"""torch imports out, the MindSpore imports the new code uses in.

Runs last, when it is known which torch aliases the output still uses: an import
stays while any use of its name was left unconverted.
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Sequence, Set, Tuple

import libcst as cst

from ..core.codegen import module_code
from ..core.context import IMPORT_STYLE, Context
from ..core.names import (
    COMPOUND_STATEMENTS,
    ImportFound,
    ImportStatements,
    comprehension_variables,
    dotted_name,
    function_variables,
    is_torch_name,
    rebound_names,
    target_names,
)
from ..core.parsed import parsed_statement
from ..core.positions import RelevantLines, StatementLines
from ..core.quick_libcst import parse_expression
from ..core.report import MARK_PREFIX
from ..core.traversal import FastTransformer, FastVisitor, traverse


# Order of the added imports: plain imports first, then from-imports, as isort would.
def _sort_key(statement: str):
    return (statement.startswith("from "), statement)


def _torch_import_names(small: cst.BaseSmallStatement) -> List[str]:
    """Local names a torch import binds, or [] when it is not a torch import."""
    kind = type(small)  # types compared: isinstance against libcst's ABCs is slow
    if kind is cst.Import:
        names = []
        for alias in small.names:
            full = dotted_name(alias.name) or ""
            if is_torch_name(full):
                names.append(alias.asname.name.value if alias.asname else full.split(".")[0])
        return names
    if kind is cst.ImportFrom and small.relative == () and small.module is not None:
        module = dotted_name(small.module) or ""
        if is_torch_name(module) and not isinstance(small.names, cst.ImportStar):
            return [(a.asname.name.value if a.asname else a.name.value) for a in small.names]
    return []


def _prune(small: cst.BaseSmallStatement, used: Set[str]):
    """The import without its unused torch names; None when nothing is left."""
    names = _torch_import_names(small)
    if not names:
        return small
    keep = []
    for alias in small.names:
        if isinstance(small, cst.Import):
            full = dotted_name(alias.name) or ""
            if not is_torch_name(full):
                keep.append(alias)
                continue
            local = alias.asname.name.value if alias.asname else full.split(".")[0]
        else:
            local = alias.asname.name.value if alias.asname else alias.name.value
        if local in used:
            keep.append(alias)
    if not keep:
        return None
    if len(keep) == len(small.names):
        return small
    keep[-1] = keep[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    changes = {"names": keep}
    if isinstance(small, cst.ImportFrom) and not _spans_lines(keep):
        changes["lpar"] = changes["rpar"] = None  # `from x import (a, b)` -> `a, b` on one line
    return small.with_changes(**changes)


def _spans_lines(aliases) -> bool:
    """Whether the names are laid out over several lines (they need their parentheses)."""
    return any(isinstance(a.comma, cst.Comma) and "\n" in cst.Module([]).code_for_node(a.comma)
               for a in aliases)


def _prune_block(body: Sequence[cst.CSTNode], used: Set[str],
                 imports: Optional[ImportStatements] = None) -> List[cst.CSTNode]:
    """The statements without unused torch imports; the same objects where nothing goes.
    `imports`: the module's, to pass by its compound statements that import no torch."""
    out, comments = [], []  # the comments of removed lines go to the next statement
    for stmt in body:
        kind = type(stmt)
        if kind is cst.SimpleStatementLine:
            smalls = [s for s in (_prune(s, used) for s in stmt.body) if s is not None]
            if not smalls:
                comments += _comments_of(stmt)
                continue
            if any(new is not old for new, old in zip(smalls, stmt.body)) or len(smalls) < len(stmt.body):
                smalls[-1] = smalls[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
                stmt = stmt.with_changes(body=smalls)
        elif kind in COMPOUND_STATEMENTS and (imports is None or any(
                _torch_import_names(small) for small, _runs in imports.within(stmt))):
            stmt = _prune_suites(stmt, used)
        if comments:
            stmt = stmt.with_changes(leading_lines=[*stmt.leading_lines, *comments])
            comments = []
        out.append(stmt)
    return out


def _comments_of(stmt: cst.SimpleStatementLine) -> List[cst.EmptyLine]:
    """A removed line's comments, above it and after it, as lines of their own."""
    trailing = stmt.trailing_whitespace.comment
    return [*(line for line in stmt.leading_lines if line.comment is not None),
            *([cst.EmptyLine(comment=trailing)] if trailing else [])]


def _prune_suites(stmt: cst.CSTNode, used: Set[str]) -> cst.CSTNode:
    changes = {}
    for attr in ("body", "orelse", "finalbody"):
        child = getattr(stmt, attr, None)
        if isinstance(child, cst.IndentedBlock):
            new_body = _prune_block(child.body, used) or [cst.SimpleStatementLine([cst.Pass()])]
            if len(new_body) != len(child.body) or any(a is not b for a, b in zip(new_body, child.body)):
                changes[attr] = child.with_changes(body=new_body)
        elif isinstance(child, cst.SimpleStatementSuite):  # `if x: import torch`
            line = _prune_block([cst.SimpleStatementLine(child.body)], used)
            smalls = line[0].body if line else [cst.Pass()]
            if len(smalls) != len(child.body) or any(a is not b for a, b in zip(smalls, child.body)):
                changes[attr] = child.with_changes(body=smalls)
        elif isinstance(child, (cst.Else, cst.Finally, cst.If)):
            new = _prune_suites(child, used)
            if new is not child:
                changes[attr] = new
    handlers = getattr(stmt, "handlers", None)
    if handlers:
        new_handlers = [_prune_suites(h, used) for h in handlers]
        if any(a is not b for a, b in zip(new_handlers, handlers)):
            changes["handlers"] = new_handlers
    return stmt.with_changes(**changes) if changes else stmt


def _existing_imports(body: Sequence[cst.CSTNode], wanted: Set[str]) -> Set[str]:
    """The file's top-level imports (as text) that may be among the `wanted` ones."""
    if not wanted:
        return set()
    # an import's text is a wanted one's only if it names the same top package first:
    # the others are not written out (that cost most of this pass)
    roots: Optional[Set[str]] = set()
    for statement in wanted:
        first = _FIRST_PACKAGE.match(statement)
        if first is None:  # not a plain absolute import: write them all out
            roots = None
            break
        roots.add(first.group(1))
    found = set()
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, (cst.Import, cst.ImportFrom)) and (
                        roots is None or _root_of(small) in roots):
                    found.add(cst.Module([]).code_for_node(small).strip())
                    if isinstance(small, cst.ImportFrom) and not isinstance(
                            small.names, cst.ImportStar) and small.module is not None:
                        module = dotted_name(small.module)
                        for alias in small.names:
                            local = f" as {alias.asname.name.value}" if alias.asname else ""
                            found.add(f"from {module} import {alias.name.value}{local}")
    return found


_FIRST_PACKAGE = re.compile(r"(?:import|from)\s+(\w+)")


def _root_of(small) -> Optional[str]:
    """The top package an import names first (`import a.b, c`: a; `from a.b import c`:
    a); None for a relative import of its own package (`from . import x`)."""
    name = small.names[0].name if isinstance(small, cst.Import) else small.module
    return (dotted_name(name) or "").split(".")[0] if name is not None else None


def _merge(statements: Set[str]) -> List[str]:
    """`from mindspore import nn` + `from mindspore import ops` -> one line."""
    from_groups: Dict[str, List[str]] = {}
    plain = []
    for statement in statements:
        if statement.startswith("from ") and " as " not in statement:
            module, _, name = statement[5:].partition(" import ")
            from_groups.setdefault(module, []).append(name)
        else:
            plain.append(statement)
    merged = plain + [f"from {m} import {', '.join(sorted(n))}" for m, n in from_groups.items()]
    return sorted(merged, key=_sort_key)


class _Replace(FastTransformer):
    """Puts other nodes where ctx.name()'s names (a Name or an Attribute) are."""

    def __init__(self, ctx: Context, replacements: Dict[int, Tuple[str, cst.BaseExpression]],
                 everywhere: Set[str]):
        super().__init__()
        self.replacements = replacements
        self.everywhere = everywhere  # else only where a function binds the name
        self.scopes: List[Set[str]] = []
        self.spelled: Set[str] = set()
        self.parsed = ctx.lines.is_parsed

    def skips(self, statement) -> bool:
        return self.parsed(statement)  # as parsed: no converted name in it

    def visit_FunctionDef(self, node):
        self.scopes.append(function_variables(node))

    visit_Lambda = visit_FunctionDef

    def visit_ListComp(self, node):
        self.scopes.append(comprehension_variables(node))

    visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_ListComp

    def leave_FunctionDef(self, original, updated):
        self.scopes.pop()
        return updated

    leave_Lambda = leave_ListComp = leave_SetComp = leave_DictComp = leave_FunctionDef
    leave_GeneratorExp = leave_FunctionDef

    def leave_Name(self, original, updated):
        found = self.replacements.get(id(original))
        if found is None:
            return updated
        head, full = found
        if head in self.everywhere or any(head in scope for scope in self.scopes):
            self.spelled.add(head)
            return full
        return updated

    leave_Attribute = leave_Name


# Where the source may bind a name: an assignment or loop target, a parameter, an
# `as` clause, an unpacking (a superset of Python's binding forms, in text). Each form
# is searched for on its own, from its first literal: an alternation of patterns that
# start with `\b` is tried at every position of the file (ten times slower).
_TARGET = r"{0}(?=\s*(?:=(?!=)|,|:|\)|\bin\b))"
_AS = r"as\s+{0}\b"
_STARRED = r"\*\s*{0}\b"
_DECLARED = r"\b(?:global|nonlocal)\b[^\n]*\b{0}\b"
_WORD = re.compile(r"\w")


# A line that is one import statement: the names it binds are not variables (nearly
# every file has `import torch.nn as nn`, which would send each to the tree).
_IMPORT_LINE = re.compile(r"^[ \t]*(?:import|from)\b[^\n;\\(]*$", re.M)


def _binds(code: str, name: str) -> bool:
    """Whether code (the user's source without its import lines) may bind `name` as a
    variable anywhere (then the tree is asked)."""
    if name not in code:
        return False
    name = re.escape(name)
    return (_at_word_start(_TARGET.format(name), code) or _at_word_start(_AS.format(name), code)
            or re.search(_STARRED.format(name), code) is not None
            or (("global" in code or "nonlocal" in code)
                and re.search(_DECLARED.format(name), code) is not None))


def _at_word_start(pattern: str, code: str) -> bool:
    """Whether `pattern` (its first character a word character) matches at the start
    of a word: `\bpattern`."""
    return any(m.start() == 0 or not _WORD.match(code, m.start() - 1)
               for m in re.finditer(pattern, code))


def _function_bound(ctx: Context, module: cst.Module, names: Set[str]) -> Set[str]:
    """Which of `names` a function, lambda or comprehension binds as a variable
    (imports aside). A statement whose lines never spell one of them is not entered."""
    relevant = RelevantLines(ctx.lines, re.compile(
        r"\b(?:%s)\b" % "|".join(map(re.escape, sorted(names)))))
    bindings = Bindings(ctx.lines, relevant)
    traverse(module, bindings)
    return bindings.bound & names


class Bindings(FastVisitor):
    """The variables functions, lambdas and comprehensions bind, in the statements
    `relevant` does not skip."""

    def __init__(self, lines: StatementLines, relevant: RelevantLines):
        super().__init__()
        self.lines, self.relevant = lines, relevant
        self.bound: Set[str] = set()

    def skips(self, statement):
        # a line a pass wrote (nearly every converted line, by now) is walked: cheaper
        # than writing its code to search it, and a name it binds is a word of its code
        return self.lines.span(statement) is not None and self.relevant.skips(statement)

    def visit_FunctionDef(self, node):
        self.bound.update(function_variables(node))

    visit_Lambda = visit_FunctionDef

    def visit_CompFor(self, node):
        self.bound.update(target_names(node.target))


def _imported_paths(found: List[ImportFound]) -> Dict[str, str]:
    """What the file's own imports bind each name to (`from .utils import init`:
    init -> .utils.init); a MindSpore import must not rebind such a name to another."""
    paths: Dict[str, str] = {}
    for stmt, runs in found:
        if not runs:
            continue
        if isinstance(stmt, cst.Import):
            for alias in stmt.names:
                full = dotted_name(alias.name) or ""
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    paths[alias.asname.name.value] = full
                else:
                    head = full.split(".")[0]
                    paths[head] = head
        elif isinstance(stmt, cst.ImportFrom) and not isinstance(stmt.names, cst.ImportStar):
            module = "." * len(stmt.relative) + (dotted_name(stmt.module) or ""
                                                 if stmt.module is not None else "")
            for alias in stmt.names:
                local = alias.asname.name.value if alias.asname else alias.name.value
                paths[local] = f"{module}.{alias.name.value}"
    return paths


def _spell_out_clashes(ctx: Context, module: cst.Module, used: Set[str],
                       found: List[ImportFound]) -> cst.Module:
    """A torch alias that stays (`nn`, for an unsupported layer) must not be rebound by
    a MindSpore import of the same name: spell those MindSpore names out in full. So
    must a variable of that name (`optim = torch.optim.Adam(...)`): everywhere when the
    module binds it, in the functions that bind it otherwise."""
    added = {local: path for path, (statement, local) in IMPORT_STYLE.items()
             if statement in ctx.needed_imports and local != path}
    if not added:
        return module
    imported = _imported_paths(found)
    everywhere = used | rebound_names(module.body) | {
        local for local, path in added.items()
        if imported.get(local, path) != path and not is_torch_name(imported[local])}
    clashes = {local: path for local, path in added.items() if local in everywhere}
    if len(clashes) < len(added):
        user_code = _IMPORT_LINE.sub("", ctx.source)
        maybe = {local for local in added if local not in clashes and _binds(user_code, local)}
        in_functions = _function_bound(ctx, module, maybe) if maybe else set()
        clashes.update({local: path for local, path in added.items() if local in in_functions})
    if not clashes:
        return module
    replacements = {}
    for text, node in ctx.expressions.items():  # ctx.name() hands out these very nodes
        head, _, rest = text.partition(".")
        if head in clashes:
            full = f"{clashes[head]}.{rest}" if rest else clashes[head]
            replacements[id(node)] = (head, parse_expression(full))
    replace = _Replace(ctx, replacements, set(clashes) & everywhere)
    module = traverse(module, replace)
    code = module_code(module, ctx.lines) if set(clashes) - everywhere else ""
    for local, path in clashes.items():
        if local in everywhere or not re.search(rf"(?<![\w.]){local}\.", code):
            ctx.needed_imports.discard(IMPORT_STYLE[path][0])  # no short use left
        if local in replace.spelled:
            ctx.needed_imports.add(f"import {path}")
    return module


def rewrite_imports(ctx: Context, module: cst.Module) -> cst.Module:
    used = {name for name, count in ctx.alias_uses.items() if count > 0}
    # A torch import whose name the file rebinds was never tracked: keep it.
    found = ctx.import_statements.of(module)
    used |= {name for stmt, _runs in found
             for name in _torch_import_names(stmt) if name not in ctx.alias_uses}
    module = _spell_out_clashes(ctx, module, used, found)
    body = list(module.body)
    existing = _existing_imports(body, ctx.needed_imports)
    needed = {s for s in ctx.needed_imports if s not in existing}
    if needed:
        body = _split_anchor(body)
    # Where the first top-level torch import was: the new imports go there.
    anchor = next((i for i, s in enumerate(body) if _imports_torch(s)), None)
    if anchor is not None and not isinstance(body[anchor], cst.SimpleStatementLine):
        # `try: import torch ...` or `if ...: import torch`: the new imports go before it
        body = _prune_block(body, used, ctx.import_statements)
        new_lines = [parsed_statement(s) for s in _merge(needed)]
        body[anchor:anchor] = new_lines
    elif anchor is not None:
        removed = body[anchor]
        head = _prune_block(body[:anchor + 1], used, ctx.import_statements)
        kept_anchor = len(head) == anchor + 1
        new_lines = [parsed_statement(s) for s in _merge(needed)]
        if new_lines and not kept_anchor:  # the first new import takes the line's place
            new_lines[0] = new_lines[0].with_changes(
                leading_lines=removed.leading_lines,
                trailing_whitespace=removed.trailing_whitespace)
        tail = _prune_block(body[anchor + 1:], used, ctx.import_statements)
        if not new_lines and not kept_anchor and tail:  # nothing takes its place
            tail[0] = tail[0].with_changes(
                leading_lines=[*_comments_of(removed), *tail[0].leading_lines])
        body = head + new_lines + tail
    else:
        body = _prune_block(body, used, ctx.import_statements)
        if needed:
            position = _after_docstring_and_future(body)
            body[position:position] = [parsed_statement(s) for s in _merge(needed)]
    return module.with_changes(body=body)


def _imports_torch(stmt: cst.CSTNode) -> bool:
    """A top-level statement that imports torch, itself or in a block that runs at once
    (not in a function or class body)."""
    if isinstance(stmt, cst.SimpleStatementLine):
        return any(_torch_import_names(x) for x in stmt.body)
    if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
        return False
    return any(_imports_torch(child) for child in _blocks(stmt))


def _blocks(stmt: cst.CSTNode):
    """The statements directly in a compound statement's blocks (and its clauses')."""
    for attr in ("body", "orelse", "finalbody", "handlers", "cases"):
        child = getattr(stmt, attr, None)
        if isinstance(child, cst.BaseSuite):
            yield from (child.body if isinstance(child, cst.IndentedBlock)
                        else [cst.SimpleStatementLine(body=child.body)])
        elif isinstance(child, (list, tuple)):
            yield from child  # except handlers, match cases: compound themselves
        elif isinstance(child, cst.CSTNode):
            yield child  # else, finally, elif


def _split_anchor(body: List[cst.CSTNode]) -> List[cst.CSTNode]:
    """`import torch; x = torch.zeros(2)`: the statements after the first torch import
    on its line go to a line of their own, so the new imports can stand before them."""
    for i, stmt in enumerate(body):
        if not _imports_torch(stmt):
            continue
        if not isinstance(stmt, cst.SimpleStatementLine):
            return body
        first = next(k for k, x in enumerate(stmt.body) if _torch_import_names(x))
        rest = stmt.body[first + 1:]
        if not rest or all(isinstance(x, (cst.Import, cst.ImportFrom)) for x in rest):
            return body
        head = list(stmt.body[:first + 1])
        head[-1] = head[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
        # notes of unconverted calls belong to the statements that hold them
        notes = [l for l in stmt.leading_lines
                 if l.comment is not None and l.comment.value.startswith(MARK_PREFIX)]
        line = stmt.with_changes(body=head, trailing_whitespace=cst.TrailingWhitespace(),
                                 leading_lines=[l for l in stmt.leading_lines if l not in notes])
        after = cst.SimpleStatementLine(body=rest, leading_lines=notes,
                                        trailing_whitespace=stmt.trailing_whitespace)
        return [*body[:i], line, after, *body[i + 1:]]
    return body


def _after_docstring_and_future(body: List[cst.CSTNode]) -> int:
    position = 0
    for i, stmt in enumerate(body):
        if not isinstance(stmt, cst.SimpleStatementLine):
            break
        small = stmt.body[0]
        is_doc = (i == 0 and isinstance(small, cst.Expr)
                  and isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString)))
        is_future = (isinstance(small, cst.ImportFrom) and small.module is not None
                     and dotted_name(small.module) == "__future__")
        if not (is_doc or is_future):
            break
        position = i + 1
    return position
