"""A seeded `torch.Generator` that only draws permutations -> a numpy Generator.

    g = torch.Generator()                      g = np.random.default_rng(1337)
    g.manual_seed(1337)                 ->
    perm = torch.randperm(n, generator=g)      perm = mindspore.Tensor(g.permutation(n))

MindSpore's ops that take `generator=` are `mint` ops without CPU kernels, and the
classic ones take only a seed; a numpy Generator keeps what the code relies on: a
seeded, private random stream whose state advances with each draw (the same
permutations run after run). The permutations differ from torch's (another random
algorithm): reproducibility only, so converted with a warning.

Only a local name whose every use is its assignment, `g.manual_seed(s)` (a statement,
or chained on the constructor: `torch.Generator().manual_seed(s)`) or `generator=g`
of `torch.randperm` converts; any other use (`generator=g` given to a DataLoader)
leaves the generator to the table, which marks it.
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Set

import libcst as cst

from ..core.context import Context
from ..core.report import WARNING
from ..core.traversal import FastVisitor, traverse
from .statement_pass import StatementPass
from .text_search import found

GENERATOR = "torch.Generator"
RANDPERM = "torch.randperm"
_WHY = ("a seeded numpy Generator draws the permutations: reproducible run after run, "
        "but not torch's permutations")
_APPLIES = re.compile(r"\bGenerator\s*\(")
_USES = re.compile(r"\b(manual_seed|randperm)\b")


def applies(source: str) -> bool:
    return found(_APPLIES, source, "Generator")


def convert_seeded_generators(ctx: Context, module: cst.Module) -> cst.Module:
    names = _Scopes(ctx)
    traverse(module, names)
    if not any(names.ok.values()):
        return module
    generators = _Generators(ctx, names.ok)
    converted = traverse(module, generators)
    generators.place_findings()
    return converted


def _seed_call(node) -> Optional[cst.Call]:
    """`X.manual_seed(s)`: the call, else None."""
    if (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
            and node.func.attr.value == "manual_seed" and len(node.args) == 1
            and node.args[0].keyword is None):
        return node
    return None


class _Scopes(FastVisitor):
    """For each function (and the module): the local names bound to torch.Generator()
    whose every use converts (name -> True), or that have another use (False)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.stack: List[Dict[str, bool]] = []
        self.ok: Dict[cst.CSTNode, Dict[str, bool]] = {}
        self.allowed: Set[int] = set()  # ids of Name nodes in a convertible position

    def _enter(self, node) -> None:
        self.stack.append({})
        self.ok[node] = self.stack[-1]

    def visit_Module(self, node):
        self._enter(node)

    def visit_FunctionDef(self, node):
        self._enter(node)

    def leave_FunctionDef(self, node):
        self.stack.pop()

    def _is_generator(self, node) -> bool:
        if _seed_call(node) is not None:
            node = node.func.value
        return (isinstance(node, cst.Call) and not node.args
                and self.ctx.resolve(node.func) == GENERATOR)

    def visit_Assign(self, node):
        if (len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name)
                and self._is_generator(node.value)):
            name = node.targets[0].target
            self.stack[-1].setdefault(name.value, True)
            self.allowed.add(id(name))

    def visit_Expr(self, node):
        call = _seed_call(node.value)
        if call is not None and isinstance(call.func.value, cst.Name):
            self.allowed.add(id(call.func.value))

    def visit_Call(self, node):
        rest = [a for a in node.args if a.keyword is None or a.keyword.value != "generator"]
        if self.ctx.resolve(node.func) == RANDPERM and len(rest) == 1 \
                and rest[0].keyword is None:
            for arg in node.args:
                if arg.keyword is not None and arg.keyword.value == "generator" \
                        and isinstance(arg.value, cst.Name):
                    self.allowed.add(id(arg.value))

    def visit_Name(self, node):
        for scope in reversed(self.stack):
            if node.value in scope:
                if id(node) not in self.allowed:
                    scope[node.value] = False
                return


class _Generators(StatementPass):
    def __init__(self, ctx: Context, names) -> None:
        super().__init__(ctx, _APPLIES, _USES)
        self.ok_scopes = names
        self.stack: List[Set[str]] = []
        self.unseeded: Set[int] = set()  # `g = default_rng()` we wrote: name by id
        self.seeded: Dict[int, str] = {}  # `g = default_rng(s)` from `g.manual_seed(s)`

    def _names(self, node) -> Set[str]:
        return {name for name, ok in self.ok_scopes.get(node, {}).items() if ok}

    def visit_Module(self, node):
        self.stack.append(self._names(node))

    def visit_FunctionDef(self, node):
        self.stack.append(self._names(node))

    def leave_FunctionDef(self, original, updated):
        self.stack.pop()
        return updated

    def _converted(self, name: str) -> bool:
        return bool(self.stack) and name in self.stack[-1]

    def leave_Assign(self, original, updated):
        target = original.targets[0].target if len(original.targets) == 1 else None
        if not (isinstance(target, cst.Name) and self._converted(target.value)):
            return updated
        seed = _seed_call(original.value)
        args = [cst.Arg(seed.args[0].value)] if seed is not None else []
        self.add(original.value, GENERATOR, WARNING, f"-> numpy.random.default_rng: {_WHY}")
        assign = updated.with_changes(
            value=cst.Call(self.ctx.name("numpy.random.default_rng"), args))
        if not args:
            self.unseeded.add(id(assign))
        return assign

    def leave_SimpleStatementLine(self, original, updated):
        small = original.body[0] if len(original.body) == 1 else None
        call = _seed_call(small.value) if isinstance(small, cst.Expr) else None
        if call is None or not isinstance(call.func.value, cst.Name) \
                or not self._converted(call.func.value.value):
            return updated
        name = call.func.value
        self.add(call, GENERATOR, WARNING, f"manual_seed -> a new numpy.random.default_rng: "
                 f"{_WHY}")
        fresh = cst.Call(self.ctx.name("numpy.random.default_rng"), [cst.Arg(call.args[0].value)])
        assign = cst.Assign(targets=[cst.AssignTarget(cst.Name(name.value))], value=fresh)
        self.seeded[id(assign)] = name.value
        return updated.with_changes(body=[assign])

    # --- `g = default_rng()` right before `g = default_rng(s)`: one statement -------------
    def leave_IndentedBlock(self, original, updated):
        return super().leave_IndentedBlock(original, self._merged(updated))

    def leave_Module(self, original, updated):
        return super().leave_Module(original, self._merged(updated))

    def _single(self, stmt) -> Optional[cst.Assign]:
        if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 \
                and isinstance(stmt.body[0], cst.Assign):
            return stmt.body[0]
        return None

    def _merged(self, updated):
        body = list(updated.body)
        for i in range(len(body) - 2, -1, -1):
            first, second = self._single(body[i]), self._single(body[i + 1])
            if (first is not None and second is not None and id(first) in self.unseeded
                    and self.seeded.get(id(second)) == first.targets[0].target.value):
                body[i + 1] = body[i + 1].with_changes(
                    leading_lines=[*body[i].leading_lines, *body[i + 1].leading_lines])
                del body[i]
        return updated.with_changes(body=body) if len(body) != len(updated.body) else updated

    def leave_Call(self, original, updated):
        if self.ctx.resolve(original.func) != RANDPERM:
            return updated
        generator = next((a.value for a in original.args if a.keyword is not None
                          and a.keyword.value == "generator"), None)
        if not (isinstance(generator, cst.Name) and self._converted(generator.value)):
            return updated
        rest = [a for a in updated.args if a.keyword is None or a.keyword.value != "generator"]
        self.add(original, RANDPERM, WARNING, f"generator= -> its permutation(): {_WHY}")
        draw = cst.Call(cst.Attribute(cst.Name(generator.value), cst.Name("permutation")),
                        [cst.Arg(rest[0].value)])
        return cst.Call(self.ctx.name("mindspore.Tensor"), [cst.Arg(draw)])
