"""Gradient modes: `with torch.no_grad():`, `@torch.no_grad()`, `torch.set_grad_enabled`.

MindSpore computes gradients only inside a grad function (mindspore.value_and_grad),
so outside one these switches have nothing to switch: the `with` goes and its body
stays, the decorator goes, the call goes. Inside an nn.Module (a Cell), code runs
within the grad function, so there a no_grad block would let gradients through:
it is left in place and marked.
"""
from __future__ import annotations

import re
from typing import List, Optional

import libcst as cst

from ...core.context import Context
from ...core.names import LocalNames, dotted_name, running_statements
from ...core.positions import RelevantLines
from ...core.quick_libcst import parse_expression
from ...core.report import CONVERTED, UNSUPPORTED, mark_text
from ...core.traversal import FastTransformer, FastVisitor, rebuilt, traverse
from ..text_search import contains_any

GRAD_MODES = frozenset({"torch.no_grad", "torch.inference_mode", "torch.enable_grad",
                        "torch.set_grad_enabled", "torch.autograd.no_grad",
                        "torch.autograd.enable_grad", "torch.autograd.set_grad_enabled",
                        "torch.autograd.grad_mode.no_grad"})
WHY = "removed: MindSpore computes gradients only inside grad_fn"
IN_CELL = ("inside a Cell gradients flow through this block in MindSpore; "
           "wrap its results in ops.stop_gradient")


_GRAD_MODE_WORDS = re.compile(r"no_grad|grad_enabled|inference_mode|enable_grad")


def applies(source: str) -> bool:
    return contains_any(source, ("no_grad", "grad_enabled", "inference_mode", "enable_grad"))


def convert_grad_modes(ctx: Context, module: cst.Module) -> cst.Module:
    return traverse(module, _GradModes(ctx, _mindspore_names(module)))


def _mindspore_names(module: cst.Module) -> dict:
    """Local name -> MindSpore path, for the file's mindspore imports: converted code
    subclasses `nn.Dense` (from mindspore import nn) where torch code had nn.Linear."""
    names = {}
    for stmt in running_statements(module.body):
        if isinstance(stmt, cst.Import):
            for alias in stmt.names:
                full = dotted_name(alias.name) or ""
                if full.split(".")[0] == "mindspore":
                    local = alias.asname.name.value if alias.asname else "mindspore"
                    names[local] = full if alias.asname else "mindspore"
        elif (isinstance(stmt, cst.ImportFrom) and stmt.module is not None
              and not stmt.relative and not isinstance(stmt.names, cst.ImportStar)):
            path = dotted_name(stmt.module) or ""
            if path.split(".")[0] == "mindspore":
                for alias in stmt.names:
                    local = alias.asname.name.value if alias.asname else alias.name.value
                    names[local] = f"{path}.{alias.name.value}"
    return names


def _same(new, old) -> bool:
    return len(new) == len(old) and all(a is b for a, b in zip(new, old))


class _GradModes(FastTransformer):
    def __init__(self, ctx: Context, mindspore_names: dict):
        super().__init__()
        self.ctx = ctx
        self.mindspore_names = mindspore_names
        self._relevant = RelevantLines(ctx.lines, _GRAD_MODE_WORDS)
        self.module_classes: set = set()
        # ("class", methods the forward pass runs (at first the Cell's ClassDef), or None
        # for a plain class) and ("def", name) entries, innermost last.
        self.stack: List[tuple] = []

    def skips(self, statement: cst.CSTNode) -> bool:
        # classes are always entered: which ones are Cells matters to their subclasses
        # (types compared: isinstance against libcst's ABCs is slow)
        return type(statement) is not cst.ClassDef and self._relevant.skips(statement)

    def _grad_mode(self, expr: cst.BaseExpression) -> Optional[str]:
        func = expr.func if isinstance(expr, cst.Call) else expr
        qualified = self.ctx.resolve(func)
        return qualified if qualified in GRAD_MODES else None

    def _report(self, node: cst.CSTNode, api: str, action: str, message: str) -> None:
        self.ctx.finding(self.ctx.lines.line(node), api, action, message)

    # --- where we are: a Cell's forward pass keeps its no_grad blocks --------------------
    def visit_ClassDef(self, node):
        is_cell = False
        for base in node.bases:
            qualified = self.ctx.resolve(base.value) or ""
            written = dotted_name(base.value) or ""
            if (qualified.startswith("torch.nn.") or written.rsplit(".", 1)[-1] == "Cell"
                    or written in self.module_classes  # converted code keeps its Cells
                    or self._mindspore_layer(written)):
                is_cell = True
        if is_cell:
            self.module_classes.add(node.name.value)
        # a Cell's forward methods are looked up when a grad mode inside it asks
        self.stack.append(("class", node if is_cell else None))

    def _mindspore_layer(self, written: str) -> bool:
        """`nn.Dense` with `from mindspore import nn`: a Cell, as its torch layer was."""
        head, _, rest = written.partition(".")
        path = self.mindspore_names.get(head)
        full = f"{path}.{rest}" if path and rest else path or ""
        return full.startswith("mindspore.nn.") and full.rsplit(".", 1)[-1][:1].isupper()

    def leave_ClassDef(self, original, updated):
        self.stack.pop()
        return updated

    def visit_FunctionDef(self, node):
        self.stack.append(("def", node.name.value))
        # a parameter or local named like an import (`nn=None`) is not torch's in here
        self.ctx.scopes.append(LocalNames(node, self.ctx.aliases))

    def _inside_cell(self, in_method: bool = False) -> bool:
        """In a Cell's forward (or a method it calls): MindSpore differentiates it. Also in
        the class body itself, unless `in_method`."""
        for i in range(len(self.stack) - 1, -1, -1):
            kind, value = self.stack[i]
            if kind == "class":
                if value is None:
                    return False
                if isinstance(value, cst.ClassDef):
                    value = _forward_methods(value)
                    self.stack[i] = (kind, value)
                method = self.stack[i + 1][1] if i + 1 < len(self.stack) else None
                return (method is None and not in_method) or method in value
        return False

    # --- decorators ----------------------------------------------------------------------
    def leave_FunctionDef(self, original, updated):
        self.ctx.scopes.pop()  # decorators are outside the function's scope
        updated = self._decorators(original, updated)
        self.stack.pop()
        return updated

    def _decorators(self, original, updated):
        kept = []
        for deco in updated.decorators:
            api = self._grad_mode(deco.decorator)
            if api is None:
                kept.append(deco)
            elif self._inside_cell(in_method=True) and api in _NO_GRAD:
                self._report(original, api, CONVERTED, NO_GRAD)
                kept.append(deco.with_changes(decorator=self._no_grad_call()))
            elif self._inside_cell():
                self._report(original, api, UNSUPPORTED, IN_CELL)
                kept.append(deco)
            else:
                self._report(original, api, CONVERTED, WHY)
        return updated if _same(kept, updated.decorators) else updated.with_changes(decorators=kept)

    # --- with blocks and calls ------------------------------------------------------------
    def visit_SimpleStatementLine(self, node):
        return False  # grad modes are statements, with blocks and decorators: no need to
        # walk the expressions inside simple statements (most of a tree's nodes)

    def leave_IndentedBlock(self, original, updated):
        body = self._splice(original.body, updated.body)
        if _same(body, updated.body):
            return updated  # unchanged blocks keep the tree's identity (and cached code)
        return updated.with_changes(body=body or [cst.SimpleStatementLine(body=[cst.Pass()])])

    def leave_Module(self, original, updated):
        body = self._splice(original.body, updated.body)
        return updated if _same(body, updated.body) else updated.with_changes(body=body)

    def _splice(self, originals, updated) -> List[cst.BaseStatement]:
        out: List[cst.BaseStatement] = []
        for orig, stmt in zip(originals, updated):
            kind = type(stmt)  # types compared: isinstance against libcst's ABCs is slow
            if kind is cst.With:
                out.extend(self._with(orig, stmt))
            elif self._is_grad_mode_call(stmt):
                self._report(orig, self._grad_mode(stmt.body[0].value), CONVERTED, WHY)
                comments = [line for line in stmt.leading_lines if line.comment is not None]
                if comments:  # the user's comments stay
                    out.append(cst.SimpleStatementLine(body=[cst.Pass()], leading_lines=comments))
            elif kind is cst.SimpleStatementLine:
                out.append(self._values(orig, stmt))
            else:
                out.append(stmt)
        return out

    def _no_grad_call(self) -> cst.Call:
        from .emit import ms_name
        return cst.Call(parse_expression(ms_name(self.ctx, "mindspore._no_grad")))

    def _values(self, original, stmt):
        """`context = torch.no_grad if frozen else nullcontext`: the class as a value is
        mindspore._no_grad in a Cell's forward, nullcontext elsewhere."""
        if self._relevant.skips(original):
            return stmt
        values = _Values(self)
        new = traverse(stmt, values)
        if not values.found:
            return stmt
        new = rebuilt(original, new)
        for api in values.found:
            self._report(original, api, CONVERTED, NO_GRAD if values.in_cell else
                         "-> nullcontext(): " + WHY.replace("removed: ", ""))
        return new

    def _is_grad_mode_call(self, stmt) -> bool:
        return (type(stmt) is cst.SimpleStatementLine and len(stmt.body) == 1
                and type(stmt.body[0]) is cst.Expr
                and type(stmt.body[0].value) is cst.Call
                and self._grad_mode(stmt.body[0].value) is not None
                and not self._inside_cell())

    def _with(self, original: cst.With, stmt: cst.With) -> List[cst.BaseStatement]:
        modes = [item for item in stmt.items
                 if item.asname is None and self._grad_mode(item.item) is not None]
        if not modes:
            return [stmt]
        api = self._grad_mode(modes[0].item)
        if self._inside_cell(in_method=True) and len(stmt.items) == 1 and api in _NO_GRAD:
            stopped = _stopped(self.ctx, stmt)
            if stopped is not None:
                self._report(original, api, CONVERTED, STOPPED)
                return stopped
        if self._inside_cell(in_method=True) and all(
                self._grad_mode(item.item) in _NO_GRAD for item in modes):
            self._report(original, api, CONVERTED, NO_GRAD)
            items = [item.with_changes(item=self._no_grad_call()) if item in modes else item
                     for item in stmt.items]
            return [stmt.with_changes(items=items)]
        if self._inside_cell():
            self._report(original, api, UNSUPPORTED, IN_CELL)
            note = mark_text(f"{api}: {IN_CELL}")
            if any(line.comment and line.comment.value == note for line in stmt.leading_lines):
                return [stmt]
            line = cst.EmptyLine(comment=cst.Comment(note))
            return [rebuilt(original, stmt.with_changes(leading_lines=[*stmt.leading_lines, line]))]
        self._report(original, api, CONVERTED, WHY)
        rest = [item for item in stmt.items if item not in modes]
        if rest:  # `with torch.no_grad(), open(f) as g:` keeps the other items
            rest[-1] = rest[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            return [stmt.with_changes(items=rest)]
        if not isinstance(stmt.body, cst.IndentedBlock):
            return [cst.SimpleStatementLine(body=stmt.body.body,
                                            leading_lines=stmt.leading_lines)]
        body = list(stmt.body.body)
        body[0] = rebuilt(body[0], body[0].with_changes(leading_lines=[*stmt.leading_lines,
                                                               *body[0].leading_lines]))
        return body


_NO_GRAD = frozenset({"torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad",
                      "torch.autograd.grad_mode.no_grad"})
NO_GRAD = ("-> mindspore._no_grad(): in a Cell's forward the operations it runs are not "
           "differentiated (PyNative mode)")


class _Values(FastTransformer):
    """References to torch.no_grad that are not called: the class used as a value."""

    def __init__(self, modes: "_GradModes") -> None:
        super().__init__()
        self.modes = modes
        self.in_cell = modes._inside_cell(in_method=True)
        self.called: set = set()
        self.found: List[str] = []

    def visit_Call(self, node):
        self.called.add(id(node.func))

    def visit_Attribute(self, node):
        return self._check(node)

    def leave_Attribute(self, original, updated):
        return self._replace(original, updated)

    def leave_Name(self, original, updated):
        return self._replace(original, updated)

    def _check(self, node):
        return self.modes.ctx.resolve(node) is None  # a torch name: its parts are not visited

    def _replace(self, original, updated):
        if id(original) in self.called:
            return updated
        api = self.modes.ctx.resolve(original)
        if api not in _NO_GRAD:
            return updated
        self.found.append(api)
        if self.in_cell:
            from .emit import ms_name
            return parse_expression(ms_name(self.modes.ctx, "mindspore._no_grad"))
        self.modes.ctx.require("from contextlib import nullcontext")
        return cst.Name("nullcontext")
STOPPED = "-> ops.stop_gradient on each value the block assigns"


def _stopped(ctx: Context, stmt: cst.With) -> Optional[List[cst.BaseStatement]]:
    """In a Cell's forward, `with torch.no_grad():` whose statements only assign names
    (and detach them: `x.detach_()`), or return one value at the end -> the same
    statements with `ops.stop_gradient(...)` values.
    Any other statement (an in-place update, a call) leaves the block as it is."""
    if not isinstance(stmt.body, cst.IndentedBlock):
        return None
    assigned: set = set()
    out: List[cst.BaseStatement] = []
    stop = None
    for line in stmt.body.body:
        if not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1:
            return None
        small = line.body[0]
        if (isinstance(small, cst.Assign) and len(small.targets) == 1
                and isinstance(small.targets[0].target, cst.Name)):
            if stop is None:
                from .emit import ms_name
                stop = ms_name(ctx, "mindspore.ops.stop_gradient")
            value = cst.Call(parse_expression(stop), [cst.Arg(small.value)])
            assigned.add(small.targets[0].target.value)
            out.append(line.with_changes(body=[small.with_changes(value=value)]))
        elif (isinstance(small, cst.Expr) and isinstance(small.value, cst.Call)
              and not small.value.args and isinstance(small.value.func, cst.Attribute)
              and small.value.func.attr.value in ("detach_", "requires_grad_")
              and isinstance(small.value.func.value, cst.Name)
              and small.value.func.value.value in assigned):
            continue  # already cut from the graph
        elif (isinstance(small, cst.Return) and small.value is not None
              and not isinstance(small.value, cst.Tuple) and line is stmt.body.body[-1]):
            if stop is None:
                from .emit import ms_name
                stop = ms_name(ctx, "mindspore.ops.stop_gradient")
            value = cst.Call(parse_expression(stop), [cst.Arg(small.value)])
            out.append(line.with_changes(body=[small.with_changes(value=value)]))
        else:
            return None
    if not out:
        return None
    out[0] = out[0].with_changes(leading_lines=[*stmt.leading_lines, *out[0].leading_lines])
    return out


def _forward_methods(cls: cst.ClassDef) -> set:
    """`forward`/`construct` and the methods they call as `self.name(...)`."""
    names = {"forward", "construct"}
    called: set = set()
    for stmt in cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ():
        if isinstance(stmt, cst.FunctionDef) and stmt.name.value in names:
            traverse(stmt, _SelfCalls(called))
    return names | called


class _SelfCalls(FastVisitor):
    """Fills `called` with the methods called as `self.name(...)`."""

    def __init__(self, called: set):
        super().__init__()
        self.called = called

    def visit_Call(self, node):
        func = node.func
        if (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)
                and func.value.value == "self"):
            self.called.add(func.attr.value)
