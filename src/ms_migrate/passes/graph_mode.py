"""Graph mode (`--jit`): models' `construct` compiled with `@mindspore.jit`, and what
graph mode rejects or runs differently in a `forward`, reported with its line.

Measured on MindSpore 2.10 (CPU), a `construct` under `mindspore.jit`
(tests/test_jit.py runs each case):

- rejected when compiling: `try`, `del`, `import`, a `with` over anything but
  MindSpore's own context managers, `:=` and `yield` ("Unsupported statement 'Try'",
  ...). The class is not compiled.
- runs, but training does not: a value read out of the graph with `.numpy()` /
  `.asnumpy()` / `.tolist()` that the output depends on. Compiled (the whole step or
  only `construct`), the loss stayed at its first value: the parameters were never
  updated. The class is not compiled.
- runs differently: `.item()` and numpy calls on tensor values are run by the Python
  interpreter at run time (JIT fallback), outside the graph; `print` of a tensor prints
  from the graph, in MindSpore's format. Compiled all the same, reported.

An `if` or `while` on a tensor value compiles to graph control flow and gives the
same results, so it is not reported.

Only the outermost models of a file are decorated (the classes no other class of the
file builds): a compiled `construct` compiles the layers it calls with it.
"""
from __future__ import annotations

import re
from typing import Callable, Dict, List, Optional, Set, Tuple

import libcst as cst

from ..core.context import Context
from ..core.names import dotted_name
from ..core.positions import RelevantLines, names_pattern
from ..core.quick_libcst import parse_expression
from ..core.report import GRAPH_MODE, INFO, WARNING
from ..core.traversal import FastVisitor, traverse
from .training.emit import ms_name

# (what, why): a finding's message, and whether the class can still compile
_REJECTED = "rejected by mindspore.jit"
_NO_TRAINING = ("reads the value out of the graph: where the output depends on it, a "
                "compiled training step never updated the parameters (measured)")
_FALLBACK = "run by the Python interpreter at run time (JIT fallback), outside the graph"


def applies(source: str) -> bool:
    return "forward" in source


def compile_models(ctx: Context, module: cst.Module) -> cst.Module:
    classes = _module_classes(ctx, module)
    if not classes:
        return module
    blocked: Dict[str, List[str]] = {}
    numpy = set(_numpy_aliases(ctx))  # once per file: each class's scan reads it
    relevant = RelevantLines(ctx.lines, *_SCANNED, names_pattern(numpy))
    for name, (node, forward) in classes.items():
        problems = _scan(ctx, forward, numpy, relevant) if forward is not None else []
        for line, what, why, stops in problems:
            action = WARNING if ctx.jit else INFO
            tail = "; the model is left uncompiled" if stops and ctx.jit else ""
            ctx.finding(line, GRAPH_MODE, action, f"graph mode: {what}: {why}{tail}")
            if stops:
                blocked.setdefault(name, []).append(f"{what} (line {line})")
    if not ctx.jit:
        return module
    built = {name: _built(node, set(classes)) for name, (node, _f) in classes.items()}
    roots = [n for n in classes if not any(n in built[o] for o in classes if o != n)]
    decorate: Set[int] = set()
    for name in roots:
        node, forward = classes[name]
        if forward is None:
            continue
        stops = _blocked_by(name, built, blocked, set())
        line = ctx.lines.line(node)
        if stops:
            ctx.finding(line, GRAPH_MODE, WARNING, f"graph mode: {name}.construct not "
                        "compiled: " + "; ".join(stops))
            continue
        decorate.add(id(forward))
        ctx.finding(line, GRAPH_MODE, INFO, f"{name}.construct compiled with @mindspore.jit")
    if not decorate:
        return module
    jit = ms_name(ctx, "mindspore.jit")
    body = [_decorated(stmt, decorate, jit) if isinstance(stmt, cst.ClassDef) else stmt
            for stmt in module.body]
    return module.with_changes(body=body)


def _decorated(node: cst.ClassDef, targets: Set[int], jit: str) -> cst.ClassDef:
    """The class with `@mindspore.jit` on its forward (which becomes construct)."""
    body = []
    for stmt in node.body.body:
        if id(stmt) in targets:
            decorator = cst.Decorator(decorator=parse_expression(jit))
            stmt = stmt.with_changes(decorators=[*stmt.decorators, decorator])
        body.append(stmt)
    return node.with_changes(body=node.body.with_changes(body=body))


def _module_classes(ctx: Context, module: cst.Module
                    ) -> Dict[str, Tuple[cst.ClassDef, Optional[cst.FunctionDef]]]:
    """Top-level classes that are torch Modules (directly or through one of the file's):
    name -> (class, its `forward`)."""
    found: Dict[str, Tuple[cst.ClassDef, Optional[cst.FunctionDef]]] = {}
    for stmt in module.body:
        if not isinstance(stmt, cst.ClassDef):
            continue
        is_module = False
        for base in stmt.bases:
            qualified = ctx.resolve(base.value)
            if qualified is not None and qualified.startswith("torch.nn."):
                is_module = True
            elif isinstance(base.value, cst.Name) and base.value.value in found:
                is_module = True
        if not is_module:
            continue
        forward = next((s for s in stmt.body.body if isinstance(s, cst.FunctionDef)
                        and s.name.value == "forward"), None)
        found[stmt.name.value] = (stmt, forward)
    return found


def _built(node: cst.ClassDef, names: Set[str]) -> Set[str]:
    """The file's Module classes this class calls (builds) or derives from."""
    calls = _Calls(names)
    traverse(node.body, calls)
    used = calls.used
    used.update(b.value.value for b in node.bases
                if isinstance(b.value, cst.Name) and b.value.value in names)
    used.discard(node.name.value)
    return used


class _Calls(FastVisitor):
    def __init__(self, names: Set[str]) -> None:
        super().__init__()
        self.names = names
        self.used: Set[str] = set()

    def visit_Call(self, call):
        if isinstance(call.func, cst.Name) and call.func.value in self.names:
            self.used.add(call.func.value)


def _blocked_by(name: str, built: Dict[str, Set[str]], blocked: Dict[str, List[str]],
                seen: Set[str]) -> List[str]:
    if name in seen:
        return []
    seen.add(name)
    found = [f"{name} has {w}" for w in dict.fromkeys(blocked.get(name, []))]
    for other in sorted(built.get(name, ())):
        found.extend(_blocked_by(other, built, blocked, seen))
    return found


_STATEMENTS = {cst.Try: "try", cst.Del: "del", cst.Import: "import",
               cst.ImportFrom: "import", cst.NamedExpr: ":=", cst.Yield: "yield"}
if hasattr(cst, "TryStar"):
    _STATEMENTS[cst.TryStar] = "try"
_OUT_OF_GRAPH = {"numpy": ".numpy()", "asnumpy": ".asnumpy()", "tolist": ".tolist()"}


# A word on every line holding what _Scan reports (the statements' keywords, the
# attributes, `print`; the numpy names come apart): a superset, so no `\b`. One
# pattern each: a search for a literal is far faster than an alternation's.
_SCANNED = tuple(re.compile(re.escape(word)) for word in (
    "try", "del", "import", "yield", "with", "numpy", "tolist", "item", "print", ":="))


def _scan(ctx: Context, forward: cst.FunctionDef, numpy: Set[str],
          relevant: RelevantLines) -> List[Tuple[int, str, str, bool]]:
    """(line, what, why, stops compiling) for each construct of `forward` graph mode
    rejects or runs differently (`relevant`: the statements that may hold one)."""
    scan = _Scan(ctx, forward, numpy, relevant.skips)
    traverse(forward.body, scan)
    return scan.problems


class _Scan(FastVisitor):
    # One class for every forward (its traversal plan is built once, not per scan);
    # per node type (visit_<Node> hooks: punctuation and whitespace are not entered).
    def __init__(self, ctx: Context, forward: cst.FunctionDef, numpy: Set[str],
                 skips: Callable[[cst.CSTNode], bool]) -> None:
        super().__init__()
        self.ctx = ctx
        self.skips = skips
        self.forward = forward
        self.numpy = numpy
        self.problems: List[Tuple[int, str, str, bool]] = []
        self.stack: List[cst.CSTNode] = []

    def line(self) -> int:
        for node in reversed(self.stack):
            found = self.ctx.lines.line(node)
            if found:
                return found
        return self.ctx.lines.line(self.forward)

    def _statement(self, node):
        self.stack.append(node)
        return self._node(node)

    def _nested_scope(self, node):
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            self.stack.append(node)
        return False if node is not self.forward else self._node(node)

    def _node(self, node):
        what = _STATEMENTS.get(type(node))
        if what is not None:
            self.problems.append((self.line(), f"`{what}`", _REJECTED, True))
        elif isinstance(node, cst.With) and not _torch_context(self.ctx, node):
            self.problems.append((self.line(), "`with`", _REJECTED + " (only MindSpore's own "
                                  "context managers compile)", True))
        return True

    def visit_Call(self, node):
        self.call(node)

    def _leave(self, node):
        stack = self.stack
        if stack and stack[-1] is node:
            stack.pop()

    visit_SimpleStatementLine = visit_If = visit_For = visit_While = visit_With = \
        visit_Try = visit_TryStar = visit_Match = _statement
    leave_SimpleStatementLine = leave_If = leave_For = leave_While = leave_With = \
        leave_Try = leave_TryStar = leave_Match = leave_FunctionDef = leave_ClassDef = _leave
    visit_FunctionDef = visit_ClassDef = visit_Lambda = _nested_scope
    visit_Del = visit_Import = visit_ImportFrom = visit_NamedExpr = visit_Yield = _node

    def call(self, node: cst.Call):
        func = node.func
        problems = self.problems
        if isinstance(func, cst.Attribute):
            attr = func.attr.value
            if attr in _OUT_OF_GRAPH and not node.args:
                problems.append((self.line(), f"`{_OUT_OF_GRAPH[attr]}`", _NO_TRAINING, True))
            elif attr == "item" and not node.args:
                problems.append((self.line(), "`.item()`", _FALLBACK, False))
            else:
                root = dotted_name(func)
                if root is not None and root.split(".", 1)[0] in self.numpy:
                    problems.append((self.line(), f"`{root}(...)`", _FALLBACK + " when given "
                                     "tensor values (on constants: at compile time)", False))
        elif isinstance(func, cst.Name) and func.value == "print" and any(
                not isinstance(a.value, (cst.SimpleString, cst.ConcatenatedString))
                for a in node.args):
            problems.append((self.line(), "`print(...)`", "tensors are printed from the graph "
                             "(ops.Print), in MindSpore's format", False))


def _numpy_aliases(ctx: Context) -> Dict[str, str]:
    """Names the file binds to numpy (`import numpy as np`)."""
    found: Dict[str, str] = {}
    source = ctx.source
    at = source.find("import numpy")
    while at != -1:  # only the text between the newlines around each occurrence
        start = source.rfind("\n", 0, at) + 1
        end = source.find("\n", at)
        end = len(source) if end == -1 else end
        for line in source[start:end].splitlines():
            text = line.strip()
            if text.startswith("import numpy"):
                parts = text.split()
                found[parts[3] if len(parts) >= 4 and parts[2] == "as" else "numpy"] = "numpy"
        at = source.find("import numpy", end)
    return found


def _torch_context(ctx: Context, node: cst.With) -> bool:
    """`with torch.no_grad():`, `with autocast(...)`: the passes convert those."""
    for item in node.items:
        expr = item.item.func if isinstance(item.item, cst.Call) else item.item
        qualified = ctx.resolve(expr)
        if qualified is None or not qualified.startswith("torch"):
            return False
    return True
