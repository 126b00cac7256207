"""Names whose objects are known: a Module, a distribution, a plain tensor.

`m = nn.Linear(2, 2)`, `net = Net()` (a class of this file deriving from a torch.nn
class), `d = torch.distributions.Normal(mu, s)`: where a file binds a name only to
such objects (no other assignment, parameter, loop target or import of that name
anywhere in it), a method call on the name is that type's method. `m.half()` is
Module.half, which casts the parameters, not Tensor.half; `d.sample([3])` is
Distribution.sample. The API pass looks such calls up in the tables of that type
(`typed = true` tables and the Module methods), never in the Tensor methods. A name
bound only to new tensors (`w = torch.empty(3, 4)`) is a Tensor, not a Parameter:
torch.nn.init writes it with ops.assign, as a Tensor has no set_data.

The file is read once, on the first question (`owner`), after the statement passes.
"""
from __future__ import annotations

import dataclasses
import re
from bisect import bisect_left
from typing import Dict, List, Optional, Set, Tuple

import libcst as cst

from .context import Context
from .positions import RelevantLines, StatementLines
from .traversal import FastVisitor, traverse

MODULE = "torch.nn.Module"
DISTRIBUTION = "torch.distributions.Distribution"
TENSOR = "torch.Tensor"
# an object of a class of this file that derives from no torch class (a `Trainer`):
# its methods are its own, `trainer.train(epochs)` is no Module.train
PLAIN = "plain object"
# a reshape or view of a new tensor: MindSpore refuses to write into a view with
# ops.assign; no other name sees its base, so assign_value writes the same
FRESH_VIEW = "view of a new tensor"
_VIEWS = frozenset({"reshape", "view"})
# torch functions that make a new tensor nothing else refers to
_NEW_TENSORS = frozenset("torch." + name for name in (
    "empty", "zeros", "ones", "rand", "randn", "randint", "tensor", "Tensor", "FloatTensor",
    "full", "eye", "arange", "linspace"))

# torch.nn classes whose instances are Tensors, not Modules
_NOT_MODULES = frozenset({"torch.nn.Parameter", "torch.nn.UninitializedParameter",
                          "torch.nn.Buffer", "torch.nn.UninitializedBuffer"})
_OTHER = "other"


def owner(ctx: Context, name: str) -> Optional[str]:
    """MODULE, DISTRIBUTION, TENSOR or FRESH_VIEW for a name the file binds only to such
    objects."""
    if ctx.receiver_owners is None:
        ctx.receiver_owners = receiver_owners(ctx, ctx.tree) if ctx.tree is not None else {}
    return ctx.receiver_owners.get(name)


def receiver_owners(ctx: Context, module: cst.Module) -> Dict[str, str]:
    """Name -> MODULE, DISTRIBUTION or TENSOR, for the names bound only to such objects."""
    bindings = _Bindings(ctx.lines)
    traverse(module, bindings)
    classes = _module_classes(ctx, bindings.classes)
    plain = _plain_classes(bindings.classes)
    distributions = {name for name, doc in bindings.docs.items()
                     if (doc or "").startswith("torch.distributions.")}
    owners: Dict[str, str] = {}
    for name, values in bindings.values.items():
        # most names have some other value (a parameter, a loop target: None first)
        kind = _owner(ctx, values[0], classes, plain, distributions)
        if kind != _OTHER and all(_owner(ctx, value, classes, plain, distributions) == kind
                                  for value in values[1:]):
            owners[name] = kind
    return owners


def _owner(ctx: Context, value: Optional[cst.BaseExpression], classes: Set[str],
           plain: Set[str], distributions: Set[str] = frozenset()) -> str:
    # types compared, not isinstance: libcst's classes are ABCs, slow to check against
    if type(value) is not cst.Call:
        return _OTHER
    func = value.func
    kind = type(func)
    if kind is cst.Attribute and func.attr.value in _VIEWS:
        base = _owner(ctx, func.value, classes, plain, distributions)
        return FRESH_VIEW if base in (TENSOR, FRESH_VIEW) else _OTHER
    if kind is cst.Name:
        if func.value in classes:
            return MODULE
        if func.value in distributions:
            return DISTRIBUTION  # a class written in for one MindSpore lacks (a transform)
        if func.value in plain:
            return PLAIN
    qualified = ctx.resolve(value.func) or ""
    if qualified in _NEW_TENSORS:
        return TENSOR
    parts = qualified.split(".")
    if len(parts) != 3 or not parts[2][:1].isupper():
        return _OTHER
    if parts[:2] == ["torch", "nn"] and qualified not in _NOT_MODULES:
        return MODULE
    if parts[:2] == ["torch", "distributions"]:
        return DISTRIBUTION
    return _OTHER


def _module_classes(ctx: Context, classes: Dict[str, List[cst.BaseExpression]]) -> Set[str]:
    """The file's classes deriving (through each other) from a torch.nn class."""
    found: Set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, bases in classes.items():
            if name in found:
                continue
            for base in bases:
                qualified = ctx.resolve(base) or ""
                if ((qualified.startswith("torch.nn.") and qualified.count(".") == 2
                     and qualified not in _NOT_MODULES)
                        or (type(base) is cst.Name and base.value in found)):
                    found.add(name)
                    changed = True
                    break
    return found


def _plain_classes(classes: Dict[str, List[cst.BaseExpression]]) -> Set[str]:
    """The file's classes with no base but `object` or each other (nothing imported)."""
    found: Set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, bases in classes.items():
            if name not in found and all(
                    type(b) is cst.Name and (b.value == "object" or b.value in found)
                    for b in bases):
                found.add(name)
                changed = True
    return found


# What binds a name inside an expression: a lambda's parameters, a comprehension's
# targets, `:=`. A keyword needs no \b before it (`[1for x in y]`).
_EXPRESSION_BINDERS = re.compile(r"(?:lambda|for)\b|:=")
# the same, one literal-led pattern each: the file is searched for them far faster
# than for an alternation
_BINDER_WORDS = (re.compile(r"lambda\b"), re.compile(r"for\b"), re.compile(":="))


# Compound statements _Bindings walks itself: their own bindings are known (a Match's
# patterns and an `except*` are left to the general walk), the statements in them
# each skipped or walked on their own.
_COMPOUND = frozenset({cst.FunctionDef, cst.ClassDef, cst.For, cst.With, cst.If, cst.While,
                       cst.Try})
_SMALL = frozenset(kind for kind in vars(cst).values()
                   if isinstance(kind, type) and cst.BaseSmallStatement in kind.__mro__)
_BODIES = frozenset({"body", "orelse", "handlers", "finalbody"})
# comments and blank lines above a statement (passes move comments): no binding there
_BLANKS = frozenset({"leading_lines", "lines_after_decorators"})
_HEADER_FIELDS: Dict[type, Tuple[str, ...]] = {}
_NODE_TYPES: Dict[type, bool] = {}  # type -> whether it is a libcst node


def _is_node(value) -> bool:
    """isinstance(value, cst.CSTNode), answered once per type (an ABC check is slow)."""
    found = _NODE_TYPES.get(type(value))
    if found is None:
        found = _NODE_TYPES[type(value)] = isinstance(value, cst.CSTNode)
    return found


def _header_fields(kind: type) -> Tuple[str, ...]:
    """The fields of a compound statement that may hold what its header binds."""
    found = _HEADER_FIELDS.get(kind)
    if found is None:
        found = _HEADER_FIELDS[kind] = tuple(
            field.name for field in dataclasses.fields(kind)
            if field.name not in _BODIES and field.name not in _BLANKS)
    return found


_DOC_STRINGS = (cst.SimpleString, cst.ConcatenatedString)


def _distribution_doc(node: cst.ClassDef) -> Optional[str]:
    """The class's docstring; None where it has none, or a plain string literal that
    does not name torch.distributions (most: reading a docstring evaluates its literal)."""
    first = node.body.body[0] if node.body.body else None
    if type(first) is cst.SimpleStatementLine:
        first = first.body[0] if first.body else None
    if type(first) is not cst.Expr or type(first.value) not in _DOC_STRINGS:
        return None
    literal = first.value
    if (type(literal) is cst.SimpleString and "\\" not in literal.value
            and "torch.distributions." not in literal.value):
        return None
    return node.get_docstring()


class _Bindings(FastVisitor):
    """Every value each name is bound to in the file; None for a binding that is
    not a plain assignment (a parameter, a loop target, an import, ...)."""

    def __init__(self, lines: Optional[StatementLines] = None) -> None:
        super().__init__()
        # small statements whose lines (as parsed) have no lambda, comprehension or `:=`
        # bind only what they assign: their expressions, most of a file, are not walked
        self._plain = RelevantLines(lines, *_BINDER_WORDS) if lines is not None else None
        self._lines = lines
        self._binder_lines = sorted({line for words in _BINDER_WORDS
                                     for line in lines.lines_matching(words)}) if lines is not None else ()
        self.values: Dict[str, List[Optional[cst.BaseExpression]]] = {}
        self.classes: Dict[str, List[cst.BaseExpression]] = {}
        # class -> docstring, where it may start with torch.distributions. (else None): a
        # class documented as a torch.distributions one is the converter's own
        # (transforms/distribution_helper_code.py)
        self.docs: Dict[str, Optional[str]] = {}

    def skips(self, statement: cst.CSTNode) -> bool:
        # types compared, not isinstance: libcst's classes are ABCs, slow to check
        kind = type(statement)
        if self._plain is None:
            return False
        if kind is cst.SimpleStatementLine:  # most statements
            self._line(statement)
            return True
        if kind is cst.Import or kind is cst.ImportFrom:
            return False
        if kind in _SMALL:
            if not self._plain.skips(statement):
                return False
            self._small(statement)  # its own binding
            return True
        if kind in _COMPOUND:
            self._compound(statement)
            return True
        return False

    def _compound(self, statement: cst.BaseCompoundStatement) -> None:
        """A compound statement's own bindings, then the statements in it (each skipped
        or walked on its own). Its expressions are walked only where its header's lines
        have a lambda, comprehension or `:=`."""
        hook = getattr(self, f"visit_{type(statement).__name__}", None)
        if hook is not None:
            hook(statement)
        if self._header_binds(statement):
            self._walk_header(statement)
        elif type(statement) is cst.FunctionDef:
            params = statement.params
            for param in (*params.posonly_params, *params.params, *params.kwonly_params):
                self.visit_Param(param)
            for param in (params.star_arg, params.star_kwarg):
                if type(param) is cst.Param:
                    self.visit_Param(param)
        elif type(statement) is cst.With:
            for item in statement.items:
                self.visit_WithItem(item)
        self._suite(statement.body)
        for handler in getattr(statement, "handlers", ()):
            self.visit_ExceptHandler(handler)
            if handler.type is not None and not self._plain.skips(statement):
                traverse(handler.type, self)
            self._suite(handler.body)
        orelse = getattr(statement, "orelse", None)
        if type(orelse) is cst.If:  # `elif`
            self._statements((orelse,))
        elif orelse is not None:
            self._suite(orelse.body)
        final = getattr(statement, "finalbody", None)
        if final is not None:
            self._suite(final.body)

    def _header_binds(self, statement: cst.BaseCompoundStatement) -> bool:
        """Whether the lines from a compound statement's first (its decorators) to its
        body's, which hold all of its header, have a lambda, comprehension or `:=`;
        True for a header a pass built. Its whole span would take in its body, where
        most functions have a loop: their headers would all be walked. A loop's own `for`
        does not count."""
        parsed = self._parsed_header(statement)
        if parsed is None:
            return True
        first, last = self._lines.span(parsed)
        block = parsed.body
        inner = self._lines.span(block.body[0]) if block.body else None
        if inner is not None:  # an indented block starts on a line of its own
            last = inner[0] - 1 if type(block) is cst.IndentedBlock else inner[0]
        hits = self._binder_lines  # each matching line once
        i = bisect_left(hits, first)
        if i == len(hits) or hits[i] > last:
            return False
        if type(statement) is not cst.For:
            return True
        # a loop's own `for` is one match: it binds with more than that on those lines
        lines = self._lines
        text = lines.source[lines.line_start(first):lines.line_start(last + 1)]
        return len(_EXPRESSION_BINDERS.findall(text)) > 1

    def _parsed_header(self, statement: cst.BaseCompoundStatement) -> Optional[cst.CSTNode]:
        """The statement as parsed that has this one's header: itself, or the one it
        replaced where a pass changed only what is in its blocks (most functions and
        classes a pass changed); None if there is none."""
        lines = self._lines
        if lines.span(statement) is not None:
            return statement
        found = lines.origins.get(id(statement))
        if found is None or found[0] is not statement:
            return None
        parsed = found[1]
        if type(parsed) is not type(statement) or lines.span(parsed) is None:
            return None
        for name in _header_fields(type(statement)):
            if getattr(statement, name) is not getattr(parsed, name):
                return None
        return parsed

    def _walk_header(self, statement: cst.BaseCompoundStatement) -> None:
        """What a statement holds outside its blocks (a def's parameters and decorators,
        a loop's target and iterable), walked as any expression; its blank lines and
        comments bind nothing."""
        for name in _header_fields(type(statement)):
            value = getattr(statement, name)
            for item in (value if isinstance(value, (list, tuple)) else (value,)):
                if _is_node(item):
                    traverse(item, self)

    def _suite(self, suite: cst.BaseSuite) -> None:
        self._statements(suite.body)

    def _statements(self, statements) -> None:
        for statement in statements:
            if not self.skips(statement):
                traverse(statement, self)

    def _line(self, line: cst.SimpleStatementLine) -> None:
        """A line of small statements: where it has no lambda, comprehension or `:=`
        (as parsed, or as a pass wrote it), each binds only what it assigns or imports;
        else each is skipped or walked on its own."""
        if not self._plain.skips(line):
            self._statements(line.body)
            return
        for small in line.body:
            kind = type(small)
            if kind is cst.Import or kind is cst.ImportFrom:
                if type(small.names) is not cst.ImportStar:
                    for alias in small.names:
                        self.visit_ImportAlias(alias)
            else:
                self._small(small)

    def _small(self, small: cst.BaseSmallStatement) -> None:
        """What a small statement (not an import) binds itself."""
        hook = _SMALL_BINDINGS.get(type(small))  # the others bind nothing
        if hook is not None:
            hook(self, small)

    def _bind(self, target: cst.BaseExpression, value: Optional[cst.BaseExpression]) -> None:
        kind = type(target)
        if kind is cst.Name:
            self.values.setdefault(target.value, []).append(value)
        elif kind is cst.Tuple or kind is cst.List:
            for element in target.elements:
                self._bind(element.value, None)
        elif kind is cst.StarredElement:
            self._bind(target.value, None)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind(node.target, None)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind(node.target, None)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target, None)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind(node.target, None)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name, None)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._bind(node.name.name, None)

    def visit_Param(self, node: cst.Param) -> None:
        self._bind(node.name, None)

    def visit_Global(self, node: cst.Global) -> None:
        for item in node.names:
            self._bind(item.name, None)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        for item in node.names:
            self._bind(item.name, None)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._bind(node.name, None)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._bind(node.name, None)
        self.classes[node.name.value] = [arg.value for arg in node.bases]
        self.docs[node.name.value] = _distribution_doc(node)

    def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
        bound = node.asname.name if node.asname is not None else node.name
        while type(bound) is cst.Attribute:  # `import a.b` binds a
            bound = bound.value
        self._bind(bound, None)


# the small statements that bind a name (their _Bindings hooks), imports apart
_SMALL_BINDINGS = {cst.Assign: _Bindings.visit_Assign, cst.AnnAssign: _Bindings.visit_AnnAssign,
                   cst.AugAssign: _Bindings.visit_AugAssign, cst.Global: _Bindings.visit_Global,
                   cst.Nonlocal: _Bindings.visit_Nonlocal}
