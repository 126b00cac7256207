"""The pipeline: parse -> resolve names -> passes -> imports -> code + report.

The API, class and marking concerns share one traversal (a libcst traversal
costs about as much as the parse); statement-level passes that restructure code
(training loops, data pipelines) run before it, only on files that need them.
"""
from __future__ import annotations

import re
import sys
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import libcst as cst

from .core.codegen import module_code
from .core.context import Context
from .core.quick_libcst import parse_source, parse_statement, quick_codegen
from .core.names import (
    ImportFound,
    ImportStatements,
    collect_aliases,
    comprehension_variables,
    dotted_name,
    function_locals,
    function_variables,
    import_bindings,
    imported_names,
    late_rebound,
    parameter_names,
)
from .core.positions import Locator, Numbering, RelevantLines, StatementLines, names_pattern
from .core.report import UNSUPPORTED, Report
from .core.selection import Selection
from .core.traversal import FastTransformer, recording_origins, traverse
from .passes import (api, classes, fstrings, helpers, imports, partial_calls, tensor_attributes,
                     tuple_results)
from .pipeline import STATEMENT_PASSES
from .tables.load import RuleSet, load_rules

# A cheap test before parsing: files that never import torch are returned as they are.
_TORCH_WORD = re.compile(r"\btorch(?:vision|text|audio)?\b")
_IMPORT_WORD = re.compile(r"\b(?:import|from)\b")


def mentions_torch(source: str) -> bool:
    """A line (with the lines it continues) naming torch and `import` or `from`: a
    superset of the torch imports (`import os, torch`, `if x: import torch`), in
    linear time (each line is looked at once)."""
    checked = -1
    for m in _TORCH_WORD.finditer(source):
        start = source.rfind("\n", 0, m.start()) + 1
        if start <= checked:
            continue
        end = source.find("\n", m.end())
        checked = end = len(source) if end < 0 else end
        for _ in range(50):  # `import os, \` + `torch` on the next line
            if not source.endswith(("\\\n", "\\\r\n"), 0, start):
                break
            start = source.rfind("\n", 0, start - 1) + 1
        if _IMPORT_WORD.search(source, start, end):
            return True
    return False

# Classes whose instances are tensors, not layers (see Converter.visit_Assign).
_TENSOR_CLASSES = frozenset({"Parameter", "Tensor", "FloatTensor", "DoubleTensor", "HalfTensor",
                             "LongTensor", "IntTensor", "BoolTensor", "ByteTensor"})


@dataclass
class ConversionResult:
    code: str
    report: Report

    @property
    def changed(self) -> bool:
        return self.report.changed


class ConversionError(Exception):
    """The source cannot be converted (e.g. it does not parse)."""


# Lines the Converter may change or must see: a torch alias, a method the tables
# convert, a named-tuple field (`.indices`), `forward`, or `self.x = ...` (which
# attributes hold layers). No leading \b: a pattern that starts with a literal is
# searched for far faster (a superset is fine).
_ATTRIBUTE = re.compile(r"\.\s*(\w+)")
_FORWARD_OR_SELF = (re.compile(r"forward\b"), re.compile(r"self\.\w+\s*="))
_IMPORT = re.compile("import")


_EMPTY = cst.Module([])


class Converter(FastTransformer):
    """One traversal: table-driven API rewriting, Module classes, `# ms-migrate:` notes."""

    def __init__(self, ctx: Context):
        super().__init__()
        self.ctx = ctx
        self._relevant = RelevantLines(ctx.lines, names_pattern(ctx.aliases),
                                       (_ATTRIBUTE, ctx.rules.attribute_words),
                                       *_FORWARD_OR_SELF)
        self.stored = tuple_results.StoredResults(ctx.source, ctx.rules.fields)
        self.classes = classes.ClassTracker()
        self.numbering = Numbering(ctx.lines)
        self.statements = self.numbering.statements  # kept by dispatch.traverse
        self.locators: Dict[int, Optional[Locator]] = {}
        self.call_starts: List[tuple] = []  # ctx.checkpoint() at each open call
        self.inner: set = set()      # ids of parts of a larger reference (callee, `a` of `a.b`)
        self.not_use: set = set()    # ids of Names that are not variable uses (attr, keyword)
        self.not_read: set = set()   # ids of callees and written targets: no Tensor attribute
        self.fstrings: List[tuple] = []  # (quote, ctx.checkpoint()) of each open f-string
        # most files import no partial: their calls need no look at their callee for it
        self.partials = partial_calls.imports_partial(ctx.source)
        # a function whose lines have no import binds no local name by one
        self.import_lines = RelevantLines(ctx.lines, _IMPORT)

    def skips(self, statement: cst.CSTNode) -> bool:
        # classes are always entered: which ones are Modules matters to their subclasses
        return type(statement) is not cst.ClassDef and self._relevant.skips(statement)

    # --- positions --------------------------------------------------------
    def _count(self, kind: str, node: cst.CSTNode) -> None:
        self.locators[id(node)] = self.numbering.number(kind)

    # --- imports are handled at the end; their names are not uses ---------
    def visit_Import(self, node):
        self.ctx.bind_imports(import_bindings(node))
        return False

    visit_ImportFrom = visit_Import

    # --- statements carry the notes --------------------------------------
    def visit_SimpleStatementLine(self, node):
        self.ctx.marks.append([])

    def leave_SimpleStatementLine(self, original, updated):
        return self._attach_marks(original, updated)

    def visit_BaseCompoundStatement(self, node):
        self.ctx.marks.append([])

    def _attach_marks(self, original, node):
        notes = self.ctx.marks.pop()
        if not notes:
            return node
        existing = {line.comment.value for line in node.leading_lines if line.comment}
        if original is self.first_statement:  # its notes were read as the file's header
            existing |= self.header_notes
        new = [cst.EmptyLine(comment=cst.Comment(n)) for n in dict.fromkeys(notes)
               if n not in existing]
        return node.with_changes(leading_lines=[*node.leading_lines, *new]) if new else node

    def leave_If(self, original, updated):
        return self._attach_marks(original, updated)

    visit_If = visit_For = visit_While = visit_With = visit_Try = visit_BaseCompoundStatement
    visit_TryStar = visit_Match = visit_BaseCompoundStatement
    leave_For = leave_While = leave_With = leave_Try = leave_TryStar = leave_Match = leave_If

    # --- scopes -------------------------------------------------------------
    def visit_Module(self, node):
        self.stored.follow(node.body)
        self.first_statement = node.body[0] if node.body else None
        self.header_notes = {line.comment.value for line in node.header if line.comment}

    def visit_ClassDef(self, node):
        self.ctx.marks.append([])
        self.not_use.add(id(node.name))
        self.ctx.class_bases.update(id(base.value) for base in node.bases)
        self.classes.enter_class(self.ctx, node)

    def leave_ClassDef(self, original, updated):
        self.classes.leave()
        return self._attach_marks(original, updated)

    def visit_FunctionDef(self, node):
        self.ctx.marks.append([])
        self.not_use.add(id(node.name))
        variables = function_variables(node)  # walked once for both
        # no import in it: its top-level statement has none (found before the traversal),
        # or its lines have no `import`
        if (not self.ctx.import_statements.within(self.statements[0])
                or self.import_lines.skips(node)):
            local = variables
        else:
            local = function_locals(node, variables)
        # a function runs later: it sees what the module's imports bind last
        self.ctx.scopes.append((local | self.ctx.late_rebound) & set(self.ctx.aliases))
        self.ctx.variables.append(variables)
        params = parameter_names(node.params)
        self.ctx.parameters.append(params)
        self.classes.enter_function()
        self.stored.follow(node.body.body, params)

    def leave_FunctionDef(self, original, updated):
        self.classes.leave()
        self.ctx.scopes.pop()
        self.ctx.variables.pop()
        self.ctx.parameters.pop()
        updated = classes.rename_forward(self.ctx, self.classes, updated, self.numbering.here())
        return self._attach_marks(original, updated)

    def visit_Lambda(self, node):
        params = node.params
        self.ctx.scopes.append(({p.name.value for p in (*params.params, *params.kwonly_params)}
                                | self.ctx.late_rebound) & set(self.ctx.aliases))
        self.ctx.variables.append(function_variables(node))
        self.ctx.parameters.append(parameter_names(node.params))

    def leave_Lambda(self, original, updated):
        self.ctx.scopes.pop()
        self.ctx.variables.pop()
        self.ctx.parameters.pop()
        return updated

    def visit_ListComp(self, node):
        self.ctx.variables.append(comprehension_variables(node))

    def leave_ListComp(self, original, updated):
        self.ctx.variables.pop()
        return updated

    visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_ListComp
    leave_SetComp = leave_DictComp = leave_GeneratorExp = leave_ListComp

    # --- f-strings: what is written in them must fit their quotes ---------
    def visit_FormattedString(self, node):
        self.fstrings.append((node.quote, self.ctx.checkpoint()))

    def leave_FormattedString(self, original, updated):
        _quote, start = self.fstrings.pop()
        if updated is original:
            return updated
        fitted = fstrings.fit_fstring(updated, [quote for quote, _ in self.fstrings])
        if fitted is None:  # the calls in it stay as they were, marked
            undone = [p for p in self.ctx.pending[start[0]:] if p.finding.action != UNSUPPORTED]
            self.ctx.rollback(start)
            for p in undone:
                self.ctx.finding(p.locator, p.finding.api, UNSUPPORTED, "in an f-string whose "
                                 "quotes leave none for the converted code's strings; convert "
                                 "by hand", node=p.node, rule=p.finding.rule, mark=True)
            return original
        return fitted

    # --- expressions ------------------------------------------------------
    def visit_Assign(self, node):
        # `self.encoder = Encoder(...)`: a method call on self.encoder is a layer's
        value = node.value
        if type(value) is cst.Call:  # types compared: isinstance on libcst's ABCs is slow
            callee = dotted_name(value.func) or ""
            name = callee.rpartition(".")[2]
            if name[:1].isupper() and name not in _TENSOR_CLASSES:
                for target in node.targets:
                    t = target.target
                    if (type(t) is cst.Attribute and type(t.value) is cst.Name
                            and t.value.value == "self"):
                        self.ctx.module_attrs.add(t.attr.value)

    def visit_AssignTarget(self, node):
        self.inner.add(id(node.target))  # written, not read: no read's template
        self.not_read.add(id(node.target))

    def visit_Param(self, node):
        self.not_use.add(id(node.name))

    def visit_Arg(self, node):
        if node.keyword is not None:
            self.not_use.add(id(node.keyword))

    def leave_Arg(self, original, updated):
        return self._bare_lambda(updated)

    leave_Return = leave_Assign = leave_Arg

    def _bare_lambda(self, node):
        """An API used as a value became a parenthesised lambda (passes/api.py): where it
        is the whole argument, return value or assigned value the parentheses go."""
        value = node.value
        if value is not None and id(value) in self.ctx.value_lambdas:
            return node.with_changes(value=value.with_changes(lpar=[], rpar=[]))
        return node

    def _helper_name(self, node) -> bool:
        """A helper written into the file (`class MyCelebA(CelebA)`), named as the torch
        class it stands for: neither a torch reference nor a use of its import."""
        return id(node) in self.ctx.helpers.get(node.value, ())

    def visit_Call(self, node):
        self._count("Call", node)
        self.inner.add(id(node.func))  # the callee is converted with the call
        self.not_read.add(id(node.func))
        if self.partials and partial_calls.partial_rule(self.ctx, node) is not None:
            self.inner.add(id(node.args[0].value))  # converted with partial's arguments
        self.call_starts.append(self.ctx.checkpoint())

    def leave_Call(self, original, updated):
        start = self.call_starts.pop()
        first = original.args[0].value if original.args else None
        if self.partials and id(first) in self.inner:
            new = partial_calls.convert(self.ctx, original, updated,
                                        self.locators[id(original)])
            if new is not None:
                return new
        new = api.convert_call(self.ctx, original, updated, self.locators[id(original)])
        if new is updated and updated is not original and self._refused(original, start):
            # A call left unconverted keeps its arguments as they were too: no torch
            # call with MindSpore arguments (`torch.randn(*s, dtype=mindspore.float32)`).
            self.ctx.rollback(start)
            return original
        if new is not updated and any(p.finding.action == UNSUPPORTED
                                      for p in self.ctx.pending[start[0]:]):
            self.ctx.forget_dropped(start, _EMPTY.code_for_node(new))
        return new

    def _refused(self, call: cst.Call, start) -> bool:
        return any(p.node is call and p.finding.action == "unsupported"
                   for p in self.ctx.pending[start[0]:])

    def visit_Attribute(self, node):
        self._count("Attribute", node)
        self.not_use.add(id(node.attr))
        self.inner.add(id(node.value))  # only the whole dotted name is a reference

    def leave_Attribute(self, original, updated):
        if original.attr.value in self.ctx.rules.fields:  # `x.max(1).values`, `best.values`
            if type(original.value) is cst.Call:
                new = api.convert_tuple_field(self.ctx, original, updated)
            else:
                new = self.stored.convert(self.ctx, original, updated,
                                          self.locators[id(original)])
            if new is not updated:
                return new
        if (original.attr.value in self.ctx.rules.tensor_attributes
                and id(original) not in self.not_read):  # `x.is_leaf`, `x.T.real`
            new = tensor_attributes.convert(self.ctx, original, updated,
                                            self.locators.get(id(original)))
            if new is not updated:
                return new
        if id(original) in self.inner:
            return classes.rename_forward_call(self.classes, updated)
        return api.convert_reference(self.ctx, original, updated, self.locators[id(original)])

    def leave_Name(self, original, updated):
        # one hook for both jobs (a Name has no children to visit): most names are no
        # torch alias, and cost a call and a lookup
        name = original.value
        uses = self.ctx.alias_uses  # its names: the aliases, and those passes took back
        if name not in uses:
            return updated
        if id(original) in self.not_use or self._helper_name(original):
            return updated
        if not self.ctx.is_shadowed(name):
            uses[name] += 1  # a use, counted before a conversion of it releases it
        if id(original) in self.inner or name not in self.ctx.aliases:
            return updated
        return api.convert_reference(self.ctx, original, updated, self.numbering.here())


def convert_source(source: str, filename: Optional[str] = None,
                   rules: Optional[RuleSet] = None,
                   selection: Optional[Selection] = None, *,
                   jit: bool = False) -> ConversionResult:
    """Convert PyTorch source to MindSpore source. Never prints, never exits.

    `selection`: the rules and passes to run (default: all; core/selection.py).
    jit: write the training step as a `@mindspore.jit` function and compile models'
    `construct` (graph mode), reporting what graph mode rejects or runs differently.

    Raises ConversionError when the source cannot be parsed.
    """
    name = filename or "<string>"
    if not mentions_torch(source):
        return ConversionResult(source, Report(filename=name))
    # Python reads a lone CR as a line break; libcst and the line scans do not.
    text, cr_only = _universal_newlines(source)
    try:
        with quick_codegen():
            result = _convert(text, name, rules, selection, jit)
    except RecursionError:  # deep but valid code: again, with room to recurse
        result = _with_deep_stack(name, _convert, text, name, rules, selection, jit)
    if cr_only:
        result.code = result.code.replace("\n", "\r")
    result.report.changed = result.code != source
    return result


def _bound_by(statements) -> set:
    """Names the import statements (as text) bind."""
    return {name for text in statements for name in _names_bound_by(text)}


@lru_cache(maxsize=256)
def _names_bound_by(text: str) -> Tuple[str, ...]:
    """Names one import statement (as text) binds; the same few recur in every file."""
    try:
        stmt = parse_statement(text)
    except cst.ParserSyntaxError:
        return ()
    return tuple(name for small in getattr(stmt, "body", ())
                 for name, _torch in import_bindings(small))


def _universal_newlines(source: str) -> Tuple[str, bool]:
    """The source with lone CRs as LFs, and whether every line ended in a lone CR
    (old Mac files; the output goes back to CRs)."""
    if "\r" not in source or "\r" not in source.replace("\r\n", ""):
        return source, False
    cr_only = "\n" not in source
    return re.sub(r"\r(?!\n)", "\n", source), cr_only


def _convert(source: str, filename: str, rules: Optional[RuleSet],
             selection: Optional[Selection], jit: bool = False) -> ConversionResult:
    report = Report(filename=filename)
    try:
        module = parse_source(source)
    except cst.ParserSyntaxError as exc:
        raise ConversionError(_syntax_message(report.filename, source, exc)) from None
    except MemoryError as exc:
        raise ConversionError(f"{report.filename}: too deeply nested to parse") from exc
    rules = rules if rules is not None else load_rules()
    import_statements = ImportStatements()
    found = import_statements.of(module)
    aliases = collect_aliases(module, found)
    if not aliases:
        return ConversionResult(source, report)
    lines = StatementLines(module, source)
    ctx = Context(rules=rules, aliases=aliases, report=report,
                  alias_uses={name: 0 for name in aliases},
                  imported=imported_names(module, found), lines=lines, source=source,
                  late_rebound=late_rebound(module, aliases, found),
                  selection=selection or Selection(), jit=jit,
                  import_statements=import_statements)
    # Statement passes do not follow imports in order: a torch name that a module-level
    # import of something else rebinds (`from mindspore import nn`) is not torch's to them.
    hidden = {name: aliases.pop(name) for name in _rebound_by_imports(found, aliases)}
    with recording_origins(lines.origins):
        for statement_pass in STATEMENT_PASSES:
            if ctx.selection.enabled(statement_pass.id) and statement_pass.applies(source):
                ctx.current_pass = statement_pass.id
                module = statement_pass.run(ctx, module)
        ctx.current_pass = None
    aliases.update(hidden)
    # what the passes wrote (helpers calling `np.stack(...)`) uses the imports the
    # file will have: those names are modules too, never Tensors
    ctx.imported |= imported_names(module, import_statements.of(module)) | _bound_by(
        ctx.needed_imports)
    ctx.tree = module  # what core/receivers.py reads, on the first question
    converted = traverse(module, Converter(ctx))
    # it enters no import (visit_Import) and keeps every statement: imports found stay
    import_statements.carry(module.body, converted.body)
    module = converted
    module = helpers.insert_helpers(ctx, module)
    module = imports.rewrite_imports(ctx, module)
    code = module_code(module, lines)
    for pending in ctx.pending:
        if pending.locator is not None or not pending.finding.line:  # else placed by a pre-pass
            pending.finding.line = lines.locate(pending.locator)
        report.findings.append(pending.finding)
    return ConversionResult(code, report)


def _rebound_by_imports(imports: List[ImportFound], aliases: Dict[str, str]) -> List[str]:
    """Torch aliases that a module-level import of something else binds somewhere."""
    return list(dict.fromkeys(name for stmt, runs in imports if runs
                              for name, torch in import_bindings(stmt)
                              if not torch and name in aliases))


# Deep nesting (hundreds of nested calls, a sum of thousands of terms) recurses deeper
# than Python's default limit allows; a thread with a large stack can go much deeper.
_DEEP_STACK = 512 * 1024 * 1024
_DEEP_LIMIT = 100_000
_DEEP_LOCK = threading.Lock()  # the recursion limit is per process


def _with_deep_stack(filename: str, fn, *args):
    """fn(*args) in a thread with a large stack and a high recursion limit; a clean
    ConversionError when even that is not deep enough."""
    outcome: Dict[str, object] = {}

    def run():
        try:
            outcome["value"] = fn(*args)
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc

    with _DEEP_LOCK:
        old_limit, old_stack = sys.getrecursionlimit(), threading.stack_size()
        limit = _DEEP_LIMIT
        try:
            try:
                threading.stack_size(_DEEP_STACK)
            except ValueError:  # a platform with a lower ceiling: less stack, less depth
                threading.stack_size(_DEEP_STACK // 8)
                limit //= 8
            worker = threading.Thread(target=run, name="ms-migrate-deep", daemon=True)
        finally:
            threading.stack_size(old_stack)
        sys.setrecursionlimit(max(old_limit, limit))
        try:
            worker.start()
            worker.join()
        except RuntimeError:  # no thread could be started (a process limit)
            outcome["error"] = RecursionError()
        finally:
            sys.setrecursionlimit(old_limit)
    error = outcome.get("error")
    if isinstance(error, (RecursionError, MemoryError)):
        raise ConversionError(f"{filename}: too deeply nested to convert") from None
    if error is not None:
        raise error
    return outcome["value"]


def _syntax_message(filename: str, source: str, exc: cst.ParserSyntaxError) -> str:
    """One line naming file and line; Python's own wording when it has one (Python 2 code)."""
    import ast
    try:
        ast.parse(source)
    except SyntaxError as err:
        if err.lineno:
            hint = " (Python 2 code?)" if "Missing parentheses" in (err.msg or "") else ""
            return f"{filename}:{err.lineno}: syntax error: {err.msg}{hint}"
    except (ValueError, RecursionError, MemoryError):
        pass
    first = exc.message.splitlines()[0] if exc.message else "cannot parse"
    return f"{filename}:{exc.raw_line}: syntax error: {first[:200]}"


def convert_file(path: Path, rules: Optional[RuleSet] = None,
                 selection: Optional[Selection] = None, *,
                 jit: bool = False) -> ConversionResult:
    """Read a file (any encoding Python accepts) and convert it."""
    from .core.sourcefile import SourceError, read_source
    try:
        text = read_source(Path(path))
    except SourceError as exc:
        raise ConversionError(str(exc)) from None
    return convert_source(text, str(path), rules, selection, jit=jit)
