"""Torch layer types per attribute path, read from a model's source without running it.

`self.conv1 = nn.Conv2d(...)` in `__init__` says the weights under `conv1.` belong
to a torch.nn.Conv2d. Followed: the file's own classes (nested, and base classes),
local variables, small factory functions (`def conv3x3(...): return nn.Conv2d(...)`),
`nn.Sequential` (positional, OrderedDict, `*layers`), `nn.ModuleList` and
`nn.ModuleDict`, `add_module`/`setattr`. Layers built in a loop or a comprehension
get a `*` path segment (`blocks.*`). Anything else is simply not declared; weights
there are named by inference.
"""
from __future__ import annotations

import ast
from collections import deque
from typing import Dict, List, Optional

_SEQUENTIAL = "torch.nn.Sequential"
_MODULE_LIST = "torch.nn.ModuleList"
_MODULE_DICT = "torch.nn.ModuleDict"


class LayerSourceError(Exception):
    """The model source cannot be read, or has no such class."""


def layer_types_from_source(source: str, class_name: str, filename: str = "<model>"
                            ) -> Dict[str, str]:
    """Module path -> qualified torch layer name (or `<file>.<Class>` for the file's own)."""
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as exc:
        raise LayerSourceError(f"{filename}:{exc.lineno}: cannot parse: {exc.msg}") from None
    reader = ModelReader(tree, filename)
    if class_name not in reader.classes:
        found = ", ".join(sorted(reader.classes)) or "none"
        raise LayerSourceError(f"{filename}: no class {class_name!r} (classes: {found})")
    types: Dict[str, str] = {}
    reader.read_class(class_name, "", types, depth=0)
    return types


# The fields that hold statements (an except handler's or a match case's too)
_BLOCKS = frozenset(("body", "orelse", "handlers", "finalbody", "cases"))


def _statements(tree: ast.Module):
    """ast.walk's nodes that are statements (and the handlers and cases that hold
    them), in its order: imports are statements, and walking every expression too
    costs most of reading a class's layers."""
    todo = deque([tree])
    while todo:
        node = todo.popleft()
        for field in node._fields:
            if field in _BLOCKS:
                value = getattr(node, field, None)
                if isinstance(value, list):
                    todo.extend(value)
        yield node


class ModelReader:
    def __init__(self, tree: ast.Module, filename: str):
        self.module_name = filename.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        self.aliases: Dict[str, str] = {}
        self.classes: Dict[str, ast.ClassDef] = {}
        self.functions: Dict[str, ast.FunctionDef] = {}
        for node in _statements(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        self.aliases[a.asname] = a.name
                    else:
                        root = a.name.split(".")[0]
                        self.aliases[root] = root
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for a in node.names:
                    self.aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                self.classes[node.name] = node
            elif isinstance(node, ast.FunctionDef):
                self.functions[node.name] = node

    # --- names ----------------------------------------------------------------
    def qualify(self, node: ast.expr) -> Optional[str]:
        parts: List[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        root = self.aliases.get(node.id, node.id)
        name = ".".join([root] + list(reversed(parts)))
        if name.startswith("torch.nn.modules."):  # torch.nn.modules.conv.Conv2d
            name = "torch.nn." + name.rsplit(".", 1)[-1]
        return name

    # --- classes --------------------------------------------------------------
    def torch_base(self, class_name: str, depth: int = 0) -> Optional[str]:
        """The torch layer a class of the file extends (`class MyNorm(nn.LayerNorm)`)."""
        for base in self.classes[class_name].bases:
            name = self.qualify(base)
            if name in self.classes and depth < 20:
                found = self.torch_base(name, depth + 1)
                if found:
                    return found
            elif name and name.startswith("torch.nn.") and name != "torch.nn.Module":
                return name
        return None

    def read_class(self, class_name: str, prefix: str, out: Dict[str, str], depth: int) -> None:
        if depth > 20:  # a class that contains itself
            return
        cls = self.classes[class_name]
        for base in cls.bases:
            base_name = self.qualify(base)
            if base_name in self.classes:
                self.read_class(base_name, prefix, out, depth + 1)
        init = next((n for n in cls.body
                     if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
        if init is None:
            return
        scope = _Scope(init)
        for stmt in scope.statements:
            for path, value in self._self_assignments(stmt):
                self.declare(_join(prefix, path), value, scope, out, depth)

    def _self_assignments(self, stmt: ast.stmt):
        targets, value = [], None
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        for target in targets:
            if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                    and target.value.id == "self"):
                yield target.attr, value
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            call = stmt.value
            func = call.func
            name_arg = call.args[1:2] if _is_name(func, "setattr") else call.args[:1]
            is_add = (isinstance(func, ast.Attribute) and func.attr in ("add_module",
                      "register_module") and _is_name(func.value, "self"))
            is_setattr = _is_name(func, "setattr") and call.args and _is_name(call.args[0], "self")
            if (is_add or is_setattr) and name_arg and isinstance(name_arg[0], ast.Constant) \
                    and isinstance(name_arg[0].value, str) and len(call.args) >= len(name_arg) + 1:
                yield name_arg[0].value, call.args[-1]

    # --- one value ------------------------------------------------------------
    def declare(self, path: str, node: ast.expr, scope: "_Scope", out: Dict[str, str],
                depth: int) -> None:
        if isinstance(node, ast.Name) and node.id in scope.values:
            node = scope.values[node.id]
        if isinstance(node, ast.IfExp):
            for branch in (node.body, node.orelse):
                self.declare(path, branch, scope, out, depth)
            return
        if not isinstance(node, ast.Call):
            return
        name = self.qualify(node.func)
        if name in self.functions:
            returned = _single_return(self.functions[name])
            if returned is not None:
                self.declare(path, returned, _Scope(self.functions[name]), out, depth)
            return
        if name in self.classes:
            out[path] = self.torch_base(name) or f"{self.module_name}.{name}"
            self.read_class(name, path, out, depth + 1)
            return
        if name is None or not name.startswith("torch."):
            return
        out[path] = name
        if name == _SEQUENTIAL:
            self._children_sequential(path, node, scope, out, depth)
        elif name == _MODULE_LIST and node.args:
            self._children_list(path, node.args[0], scope, out, depth)
        elif name == _MODULE_DICT and node.args and isinstance(node.args[0], ast.Dict):
            self._children_dict(path, node.args[0], scope, out, depth)
        elif name == _MODULE_DICT and node.args and isinstance(node.args[0], ast.Call) \
                and _is_name(node.args[0].func, "dict") and not node.args[0].args:
            for keyword in node.args[0].keywords:  # ModuleDict(dict(wte=nn.Embedding(...)))
                if keyword.arg is not None:
                    self.declare(_join(path, keyword.arg), keyword.value, scope, out, depth)

    def _children_sequential(self, path, node, scope, out, depth):
        args = node.args
        if len(args) == 1 and isinstance(args[0], ast.Call) and \
                (self.qualify(args[0].func) or "").endswith("OrderedDict") and args[0].args:
            pairs = args[0].args[0]
            if isinstance(pairs, ast.Dict):
                self._children_dict(path, pairs, scope, out, depth)
            elif isinstance(pairs, (ast.List, ast.Tuple)):
                for item in pairs.elts:
                    if isinstance(item, ast.Tuple) and len(item.elts) == 2 and \
                            isinstance(item.elts[0], ast.Constant):
                        self.declare(_join(path, str(item.elts[0].value)), item.elts[1],
                                     scope, out, depth)
            return
        if len(args) == 1 and isinstance(args[0], ast.Starred):
            self._children_list(path, args[0].value, scope, out, depth)
            return
        for i, arg in enumerate(args):
            self.declare(_join(path, str(i)), arg, scope, out, depth)

    def _children_list(self, path, node, scope, out, depth):
        if isinstance(node, ast.Name) and node.id in scope.lists:
            items, built_in_loop = scope.lists[node.id]
        elif isinstance(node, ast.Name) and node.id in scope.values:
            return self._children_list(path, scope.values[node.id], scope, out, depth)
        elif isinstance(node, (ast.List, ast.Tuple)):
            items, built_in_loop = node.elts, False
        elif isinstance(node, ast.ListComp):
            items, built_in_loop = [node.elt], True
        else:
            return
        if not built_in_loop and not any(isinstance(i, ast.Starred) for i in items):
            for i, item in enumerate(items):
                self.declare(_join(path, str(i)), item, scope, out, depth)
            return
        # positions unknown: one `*` entry, only when every element is the same layer type
        found: List[Dict[str, str]] = []
        for item in items:
            sub: Dict[str, str] = {}
            self.declare(_join(path, "*"), item, scope, sub, depth)
            found.append(sub)
        if found and all(f == found[0] for f in found):
            out.update(found[0])

    def _children_dict(self, path, node: ast.Dict, scope, out, depth):
        for key, value in zip(node.keys, node.values):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                self.declare(_join(path, key.value), value, scope, out, depth)


class _Scope:
    """A function's statements in order (nested blocks included) and its local names."""

    def __init__(self, func: ast.FunctionDef):
        self.statements: List[ast.stmt] = []
        self.values: Dict[str, ast.expr] = {}
        self.lists: Dict[str, tuple] = {}   # name -> (element expressions, built in a loop)
        self._walk(func.body, in_loop=False)

    def _walk(self, body, in_loop: bool) -> None:
        for stmt in body:
            self.statements.append(stmt)
            self._note_locals(stmt, in_loop)
            for attr in ("body", "orelse", "finalbody"):
                inner = getattr(stmt, attr, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    self._walk(inner, in_loop or isinstance(stmt, (ast.For, ast.While)))
            for handler in getattr(stmt, "handlers", []):
                self._walk(handler.body, in_loop)

    def _note_locals(self, stmt: ast.stmt, in_loop: bool) -> None:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and \
                isinstance(stmt.targets[0], ast.Name):
            name, value = stmt.targets[0].id, stmt.value
            if isinstance(value, (ast.List, ast.Tuple)):
                self.lists[name] = (list(value.elts), False)
            elif isinstance(value, ast.ListComp):
                self.lists[name] = ([value.elt], True)
            else:
                self.values[name] = value
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name) and \
                isinstance(stmt.value, (ast.List, ast.Tuple)) and stmt.target.id in self.lists:
            items, looped = self.lists[stmt.target.id]
            self.lists[stmt.target.id] = (items + list(stmt.value.elts), looped or in_loop)
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            func = stmt.value.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and \
                    func.value.id in self.lists and func.attr in ("append", "extend"):
                items, looped = self.lists[func.value.id]
                new = list(stmt.value.args[:1])
                if func.attr == "extend" and new and isinstance(new[0], (ast.List, ast.Tuple)):
                    new = list(new[0].elts)
                self.lists[func.value.id] = (items + new, looped or in_loop)


def _single_return(func: ast.FunctionDef) -> Optional[ast.expr]:
    returns = [n for n in ast.walk(func) if isinstance(n, ast.Return) and n.value is not None]
    return returns[0].value if len(returns) == 1 else None


def _is_name(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name
