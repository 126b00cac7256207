"""Import aliases -> qualified names, resolved once per file.

A light replacement for libcst's QualifiedNameProvider (several times slower):
imports are read from statements only, never from expressions.
"""
from __future__ import annotations

import ast
import warnings
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

import libcst as cst

from .aliases import canonical
from .quick_libcst import parse_expression
from .traversal import FastVisitor, traverse

# Top-level packages whose APIs the rule tables describe.
TORCH_ROOTS = ("torch", "torchvision", "torchtext", "torchaudio")

# Module paths: references to these are namespaces, not APIs.
TORCH_MODULES = frozenset({
    "torch", "torch.nn", "torch.nn.functional", "torch.nn.init", "torch.nn.utils",
    "torch.nn.utils.rnn", "torch.nn.parallel", "torch.nn.modules", "torch.optim",
    "torch.optim.lr_scheduler", "torch.utils", "torch.utils.data", "torch.linalg",
    "torch.fft", "torch.special", "torch.distributions", "torch.cuda", "torch.cuda.amp",
    "torch.amp", "torch.distributed", "torch.backends", "torch.backends.cudnn",
    "torch.autograd", "torch.jit", "torch.onnx", "torch.hub", "torch.testing",
    "torchvision", "torchvision.transforms", "torchvision.datasets", "torchvision.models",
    "torchvision.utils", "torchvision.ops", "torchvision.io",
    "torchtext", "torchtext.data", "torchtext.data.utils", "torchtext.data.functional",
    "torchtext.vocab", "torchtext.datasets", "torchtext.datasets.multi30k",
    "torchaudio", "torchaudio.transforms", "torchaudio.functional",
})


def dotted_name(node: cst.BaseExpression) -> Optional[str]:
    """`a.b.c` as a string, or None when the expression is not a plain dotted name."""
    parts = []
    # types compared, not isinstance: libcst's classes are ABCs, slow to check against
    while type(node) is cst.Attribute:
        parts.append(node.attr.value)
        node = node.value
    if type(node) is not cst.Name:
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def root_name(node: cst.BaseExpression) -> Optional[str]:
    while type(node) is cst.Attribute:
        node = node.value
    return node.value if type(node) is cst.Name else None


def is_torch_name(qualified: str) -> bool:
    return qualified.split(".", 1)[0] in TORCH_ROOTS


# libcst's BaseSuite and BaseCompoundStatement as sets of types: `type(node) in` them
# is far cheaper than isinstance against an ABC
SUITES = frozenset({cst.IndentedBlock, cst.SimpleStatementSuite})


def _subclasses(kind: type) -> frozenset:
    """Every class that derives from `kind`, itself included."""
    found, todo = set(), [kind]
    while todo:
        item = todo.pop()
        if item not in found:
            found.add(item)
            todo.extend(item.__subclasses__())
    return frozenset(found)


EXPRESSIONS = _subclasses(cst.BaseExpression)
COMPOUND_STATEMENTS = frozenset({cst.ClassDef, cst.For, cst.FunctionDef, cst.If, cst.Match,
                                 cst.Try, cst.TryStar, cst.While, cst.With})


def iter_statements(body: Iterable[cst.CSTNode],
                    enter=None) -> Iterator[cst.CSTNode]:
    """Every statement, nested ones included, without entering expressions (nor the
    compound statements for which `enter(stmt)` is false)."""
    for stmt in body:
        yield stmt
        if enter is not None and not enter(stmt):
            continue
        if type(stmt) is cst.SimpleStatementLine:  # its small statements, once each
            yield from stmt.body
            continue
        for attr in ("body", "orelse", "handlers", "finalbody", "cases"):
            child = getattr(stmt, attr, None)
            if child is None:
                continue
            if type(child) in SUITES:
                yield from iter_statements(child.body, enter)
            elif isinstance(child, (list, tuple)):
                yield from iter_statements(child, enter)
            elif isinstance(child, cst.CSTNode):
                yield from iter_statements([child], enter)


# The fields of a compound statement (or clause) that hold statements, in the order
# iter_statements reads them (a try's `else` before its handlers).
_BLOCK_FIELDS = ("body", "orelse", "handlers", "finalbody", "cases")
_BLOCKS_OF: Dict[type, Tuple[str, ...]] = {}
_DEFINITIONS = (cst.FunctionDef, cst.ClassDef)
_IMPORTS = (cst.Import, cst.ImportFrom)


def _nested(stmt: cst.CSTNode) -> list:
    """The statements (and clauses: else, except, case) directly inside a compound
    statement or clause, in iter_statements' order; [] for any other node."""
    kind = type(stmt)
    fields = _BLOCKS_OF.get(kind)
    if fields is None:
        fields = _BLOCKS_OF[kind] = tuple(
            name for name in _BLOCK_FIELDS if name in getattr(kind, "__dataclass_fields__", ()))
    children = []
    for name in fields:
        child = getattr(stmt, name)
        if child is None:
            continue
        if type(child) in SUITES:
            children.extend(child.body)
        elif isinstance(child, (list, tuple)):
            children.extend(child)
        else:  # else, finally, elif
            children.append(child)
    return children


def walk_statements(body: Iterable[cst.CSTNode],
                    definitions: bool = True) -> Iterator[cst.CSTNode]:
    """Every statement of a block, nested ones (and clauses) included, each once, in
    iter_statements' order; function and class bodies only with `definitions`.
    Without recursion: no generator per block, and no depth limit."""
    todo = list(body)
    todo.reverse()
    while todo:
        stmt = todo.pop()
        yield stmt
        kind = type(stmt)
        if kind is cst.SimpleStatementLine:
            yield from stmt.body
        elif definitions or (kind is not cst.FunctionDef and kind is not cst.ClassDef):
            children = _nested(stmt)
            if children:
                children.reverse()
                todo.extend(children)


ImportFound = Tuple[cst.CSTNode, bool]  # (Import or ImportFrom, whether it runs with the module)


def _imports_in(statement: cst.CSTNode) -> Iterator[ImportFound]:
    """The import statements in a statement, in order, and whether each runs when the
    statement does (not in a function or class body)."""
    todo = [(statement, True)]
    while todo:
        stmt, runs = todo.pop()
        kind = type(stmt)
        if kind is cst.SimpleStatementLine:
            for small in stmt.body:
                if type(small) in _IMPORTS:
                    yield small, runs
        elif kind in _IMPORTS:  # in a one-line block: `if x: import y`
            yield stmt, runs
        else:
            children = _nested(stmt)
            if children:
                inner = runs and kind not in _DEFINITIONS
                todo.extend((child, inner) for child in reversed(children))


class ImportStatements:
    """The import statements of a module, found by walking its statements (never its
    expressions), remembered per top-level statement: passes rebuild only the
    statements they change, so a later version of the module is walked again only
    there. One per conversion (on the Context)."""

    def __init__(self) -> None:
        self._found: Dict[int, Tuple[cst.CSTNode, Tuple[ImportFound, ...]]] = {}

    def of(self, module: cst.Module) -> List[ImportFound]:
        """(import statement, whether it runs with the module) for each, in order."""
        found: List[ImportFound] = []
        for statement in module.body:
            found.extend(self.within(statement))
        return found

    def carry(self, before: Sequence[cst.CSTNode], after: Sequence[cst.CSTNode]) -> None:
        """`after`, a block's statements once a traversal that enters no import statement
        and adds or removes no statement has run (the Converter), imports what `before`
        did: a statement it rebuilt around the same imports is not walked again."""
        if len(before) != len(after):
            return
        found = self._found
        for old, new in zip(before, after):
            if new is old or type(new) is not type(old):
                continue
            known = found.get(id(old))
            if known is not None and known[0] is old:
                found[id(new)] = (new, known[1])

    def within(self, statement: cst.CSTNode) -> Tuple[ImportFound, ...]:
        known = self._found.get(id(statement))
        if known is None or known[0] is not statement:
            known = self._found[id(statement)] = (statement, tuple(_imports_in(statement)))
        return known[1]


def collect_aliases(module: cst.Module,
                    imports: Optional[Sequence[ImportFound]] = None) -> Dict[str, str]:
    """Local name -> qualified torch name, for every torch import in the file, in its
    public spelling (`from torch.nn.modules.linear import Linear` -> torch.nn.Linear).
    `imports`: the module's, when already found (ImportStatements)."""
    aliases: Dict[str, str] = {}
    for stmt, _runs in imports if imports is not None else ImportStatements().of(module):
        if type(stmt) is cst.Import:
            for alias in stmt.names:
                full = dotted_name(alias.name)
                if not full or not is_torch_name(full):
                    continue
                if alias.asname is not None:
                    aliases[alias.asname.name.value] = full
                else:  # `import torch.nn` binds `torch`
                    root = full.split(".", 1)[0]
                    aliases[root] = root
        elif type(stmt) is cst.ImportFrom and stmt.relative == ():
            module_name = dotted_name(stmt.module) if stmt.module else None
            if not module_name or not is_torch_name(module_name):
                continue
            if type(stmt.names) is cst.ImportStar:
                continue
            for alias in stmt.names:
                name = alias.name.value
                local = alias.asname.name.value if alias.asname else name
                aliases[local] = canonical(f"{module_name}.{name}")
    for name in rebound_names(module.body) & set(aliases):
        del aliases[name]  # `nn = ...` at module level: no longer torch's
    return aliases


def imported_names(module: cst.Module,
                   imports: Optional[Sequence[ImportFound]] = None) -> Set[str]:
    """Every local name an import statement binds (modules, not tensors)."""
    names: Set[str] = set()
    for stmt, _runs in imports if imports is not None else ImportStatements().of(module):
        if type(stmt.names) is not cst.ImportStar:
            for alias in stmt.names:
                if alias.asname is not None:
                    names.update(target_names(alias.asname.name))
                else:
                    names.add((dotted_name(alias.name) or "").split(".")[0])
    return names


def names_in(node: cst.CSTNode) -> Set[str]:
    """The value of every Name in `node`, attribute names (`b` of `a.b`) included."""
    found = _AllNames()
    traverse(node, found)
    return found.names


class _AllNames(FastVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: Set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)


def target_names(target: cst.BaseExpression) -> Iterator[str]:
    kind = type(target)  # types compared: isinstance on libcst's ABCs is slow
    if kind is cst.Name:
        yield target.value
    elif kind is cst.Tuple or kind is cst.List:
        for el in target.elements:
            yield from target_names(el.value)
    elif kind is cst.StarredElement:
        yield from target_names(target.value)


def rebound_names(body: Iterable[cst.CSTNode], nested: bool = False) -> Set[str]:
    """Names bound by assignment-like statements in a block (not by imports).

    With nested=False, function and class bodies inside are skipped: their
    bindings are local to them.
    """
    bound: Set[str] = set()
    todo = list(body)  # a stack, not recursion: order does not matter to a set
    while todo:
        stmt = todo.pop()
        kind = type(stmt)
        if kind is cst.SimpleStatementLine:
            for small in stmt.body:
                small_kind = type(small)
                if small_kind is cst.Assign:
                    for t in small.targets:
                        bound.update(target_names(t.target))
                elif small_kind is cst.AnnAssign or small_kind is cst.AugAssign:
                    bound.update(target_names(small.target))
            continue
        if kind is cst.FunctionDef or kind is cst.ClassDef:
            bound.add(stmt.name.value)
            if not nested:
                continue
        elif kind is cst.For:
            bound.update(target_names(stmt.target))
        elif kind is cst.With:
            for item in stmt.items:
                if item.asname is not None:
                    bound.update(target_names(item.asname.name))
        # the small statements of a one-line block (`if x: y = 1`) bind nothing here
        for attr in ("body", "orelse", "finalbody"):
            child = getattr(stmt, attr, None)
            if type(child) is cst.IndentedBlock:
                todo.extend(child.body)
            elif child is not None and type(child) not in SUITES and hasattr(child, "body"):
                todo.append(child)  # else, finally, elif
        for handler in getattr(stmt, "handlers", ()):
            if handler.name is not None:
                bound.update(target_names(handler.name.name))
            todo.extend(handler.body.body)
    return bound


def parameter_names(params: cst.Parameters) -> Set[str]:
    """The names a function's or lambda's parameters bind."""
    return {p.name.value for p in (*params.posonly_params, *params.params,
                                   *params.kwonly_params, params.star_arg, params.star_kwarg)
            if type(p) is cst.Param}


def function_variables(node) -> Set[str]:
    """Variables of a function or lambda: its parameters and what its body assigns
    (imports aside); they shadow module-level names of the same spelling there."""
    params = node.params
    names = {p.name.value for p in (*params.posonly_params, *params.params,
                                    *params.kwonly_params)}
    for star in (params.star_arg, params.star_kwarg):
        if type(star) is cst.Param:
            names.add(star.name.value)
    if type(node.body) is cst.IndentedBlock:
        names |= rebound_names(node.body.body)
    return names


def comprehension_variables(node) -> Set[str]:
    """Names the `for` clauses of a comprehension bind (local to it)."""
    names: Set[str] = set()
    comp = getattr(node, "for_in", None)
    while comp is not None:
        names.update(target_names(comp.target))
        comp = comp.inner_for_in
    return names


def function_locals(node: cst.FunctionDef, variables: Optional[Set[str]] = None) -> Set[str]:
    """Names local to a function: its parameters and what its body assigns.
    `variables`: its function_variables, when the caller has them already."""
    names = set(function_variables(node) if variables is None else variables)
    if type(node.body) is cst.IndentedBlock:
        names |= {name for top in node.body.body for stmt, runs in _imports_in(top) if runs
                  for name, torch in import_bindings(stmt) if not torch}
    return names


def import_bindings(stmt: cst.CSTNode) -> Iterator[Tuple[str, bool]]:
    """(local name, whether it is torch's) for each name an import statement binds."""
    kind = type(stmt)
    if kind is cst.Import:
        for alias in stmt.names:
            full = dotted_name(alias.name) or ""
            if alias.asname is not None:
                for name in target_names(alias.asname.name):
                    yield name, is_torch_name(full)
            else:
                yield full.split(".")[0], is_torch_name(full)
    elif kind is cst.ImportFrom and type(stmt.names) is not cst.ImportStar:
        module = dotted_name(stmt.module) if stmt.module is not None else None
        torch = stmt.relative == () and bool(module) and is_torch_name(module)
        for alias in stmt.names:
            yield (alias.asname.name.value if alias.asname else alias.name.value), torch


class LocalNames:
    """A function's local names (function_locals; those among `within` when given),
    worked out on the first question: most functions a pass enters never ask. It can
    stand as a scope of Context.scopes."""

    def __init__(self, function: cst.FunctionDef, within: Optional[Iterable[str]] = None):
        self.function, self.within = function, within
        self._names: Optional[Set[str]] = None

    @property
    def names(self) -> Set[str]:
        if self._names is None:
            self._names = function_locals(self.function)
            if self.within is not None:
                self._names &= set(self.within)
        return self._names

    def __contains__(self, name: str) -> bool:
        return name in self.names


def running_statements(body: Iterable[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """The statements of a block that run with it, each once, in order: nested blocks
    entered, function and class bodies not."""
    return walk_statements(body, definitions=False)


def late_rebound(module: cst.Module, aliases: Dict[str, str],
                 imports: Optional[Sequence[ImportFound]] = None) -> Set[str]:
    """Torch aliases that a module-level import of something else binds last
    (`import numpy as torch`): what a function body sees when it runs."""
    last: Dict[str, bool] = {}
    for stmt, runs in imports if imports is not None else ImportStatements().of(module):
        if not runs:
            continue
        for name, torch in import_bindings(stmt):
            if name in aliases:
                last[name] = torch
    return {name for name, torch in last.items() if not torch}


def keep_parentheses(old: cst.BaseExpression, new: cst.BaseExpression) -> cst.BaseExpression:
    """What replaces an expression keeps its parentheses (`(x\n .sum()\n .cpu())`), and
    one that breaks lines outside brackets gets some (`"GPU" if ...\n else "CPU"`, out
    of `torch.device(...)`'s)."""
    if new is old or type(new) not in EXPRESSIONS or new.lpar:
        return new
    if getattr(old, "lpar", None):
        return new.with_changes(lpar=old.lpar, rpar=old.rpar)
    if _breaks_lines_bare(new) and not _breaks_lines_bare(old):  # else the context allows it
        return new.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return new


def _breaks_lines_bare(node: cst.BaseExpression) -> bool:
    """Whether the expression breaks a line outside any bracket of its own."""
    if type(node) is cst.Call and not node.lpar:  # most are calls: their arguments,
        # often many lines, are inside their brackets; only what precedes them can break
        if not may_break_lines(node.func) and not may_break_lines(node.whitespace_after_func):
            return False
    elif not may_break_lines(node):  # most do not: no code to write
        return False
    code = cst.Module([]).code_for_node(node)
    if "\n" not in code:
        return False
    if _python_parses(code):  # CPython's parser, many times faster, takes what libcst does
        return False
    try:
        parse_expression(code)
    except cst.ParserSyntaxError:
        return True
    return False


def _python_parses(code: str) -> bool:
    with warnings.catch_warnings():  # `"\d"` in a string warns
        warnings.simplefilter("ignore")
        try:
            ast.parse(code, mode="eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False
    return True


# Per node type: its fields (libcst nodes are dataclasses with slots); per type of
# field value: 1 text, 2 a sequence, 3 a node, 0 anything else (isinstance on libcst's
# abstract classes is slow).
_NODE_FIELDS: Dict[type, Tuple[str, ...]] = {}
_VALUE_KINDS: Dict[type, int] = {str: 1, list: 2, tuple: 2, type(None): 0, bool: 0}


def may_break_lines(node: cst.CSTNode) -> bool:
    """Whether the node's code may hold a line break: it has a Newline node or a line
    break in one of its text fields (a string, a `\\` continuation). A superset of
    `"\\n" in code_for_node(node)`, in a fraction of the time of writing the code."""
    # most nodes asked about are a call's function, a dotted name, or spaces: their
    # fields are read directly, down to what the dots hang on
    kind = type(node)
    space = cst.SimpleWhitespace
    while kind is cst.Attribute and not node.lpar and not node.rpar:
        attr, dot = node.attr, node.dot
        if (type(attr) is not cst.Name or attr.lpar or attr.rpar or "\n" in attr.value
                or type(dot) is not cst.Dot):
            break
        before, after = dot.whitespace_before, dot.whitespace_after
        if (type(before) is not space or "\n" in before.value
                or type(after) is not space or "\n" in after.value):
            break
        node = node.value
        kind = type(node)
    if kind is cst.Name and not node.lpar and not node.rpar:
        return "\n" in node.value
    if kind is cst.SimpleWhitespace:
        return "\n" in node.value
    todo = [node]  # a loop over a stack of field values: no call per node or field
    pop, push, push_all = todo.pop, todo.append, todo.extend
    while todo:
        value = pop()
        value_kind = _VALUE_KINDS.get(type(value))
        if value_kind is None:
            value_kind = _VALUE_KINDS[type(value)] = 3 if isinstance(value, cst.CSTNode) else 0
        if value_kind == 3:
            kind = type(value)
            if kind is cst.Newline:
                return True
            names = _NODE_FIELDS.get(kind)
            if names is None:
                names = _NODE_FIELDS[kind] = tuple(kind.__dataclass_fields__)
            for name in names:
                push(getattr(value, name))
        elif value_kind == 1:
            if "\n" in value:
                return True
        elif value_kind == 2:
            push_all(value)
    return False
