"""Fields read from a stored result: `result = torch.max(x, 1)` ... `result.indices`.

torch's max, sort, topk... return named tuples, MindSpore's plain ones. A field read
on the call itself is api.convert_tuple_field's; here a result assigned to a plain
name (`name = <call>`) is followed through the statements of its scope (a module or
function body, in source order, through branches, loops and try blocks) to say, for
each later read `name.<field>`, which assignments may have given `name` its value.
A read only converted calls reach (with that field at one place) becomes `name[i]`;
a read such a call and some other value may reach is left and marked. Nested functions,
lambdas and generator expressions run later: reads in them are left. Names declared
`global` or `nonlocal` anywhere in the file are not followed (a call may rebind them).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Collection, Dict, FrozenSet, List, Optional, Pattern, Sequence

import libcst as cst

from ..core.context import Context
from ..core.names import COMPOUND_STATEMENTS, SUITES, target_names, walk_statements
from ..core.positions import Locator
from ..core.traversal import child_nodes
from ..core.report import UNSUPPORTED

# What a name may hold: ids of the calls assigned to it, OTHER (any other value) and
# UNBOUND (reading it raises NameError, so a read never sees that).
OTHER, UNBOUND = "other", "unbound"
Values = FrozenSet[object]
State = Optional[Dict[str, Values]]  # None: unreachable (after return, break...)

_OTHER = frozenset({OTHER})
_NAME_BEFORE = re.compile(r"(\w+)\s*$")
_DECLARED = re.compile(r"\b(?:global|nonlocal)\s+(\w+(?:\s*,\s*\w+)*)")
# types compared, not isinstance: libcst's classes are ABCs, slow to check against
_COMPREHENSIONS = frozenset({cst.ListComp, cst.SetComp, cst.DictComp})
_RUN_LATER = frozenset({cst.Lambda, cst.GeneratorExp})


@lru_cache(maxsize=8)
def _field_reads(fields: FrozenSet[str]) -> Pattern:
    """Where a field is read (`.indices`): the same fields for every file of a run."""
    return re.compile(rf"\.\s*(?:{'|'.join(sorted(fields))})\b")


class StoredResults:
    """For the Converter: follows the scopes it enters, rewrites the reads it leaves."""

    def __init__(self, source: str, fields: FrozenSet[str]):
        self.fields = fields
        self.reads: Dict[int, Values] = {}  # id(`name.field` node) -> what name may hold
        # `.field` first (a literal-led search is fast), then the name just before it
        read = _field_reads(fields) if fields else None
        self.names = set()
        for m in (read.finditer(source) if read else ()):
            before = _NAME_BEFORE.search(source, max(0, m.start() - 200), m.start())
            if before is not None:
                self.names.add(before.group(1))
        # literals first: a regex led by \b and an alternation is slow over a whole file
        if self.names and ("global" in source or "nonlocal" in source):
            for m in _DECLARED.finditer(source):
                self.names.difference_update(re.split(r"\s*,\s*", m.group(1)))

    def follow(self, body: Sequence[cst.CSTNode], params: Collection[str] = ()) -> None:
        """Follow one scope's statements; `params` are bound on entry."""
        if not self.names:
            return
        names = {t.target.value for s in walk_statements(body) if type(s) is cst.Assign
                 for t in s.targets if type(t.target) is cst.Name} & self.names
        if names:
            state = {n: _OTHER if n in params else frozenset({UNBOUND}) for n in names}
            _Flow(names, self.fields, self.reads).block(body, state)

    def convert(self, ctx: Context, original: cst.Attribute, updated: cst.Attribute,
                locator: Optional[Locator]) -> cst.BaseExpression:
        """`result.indices` -> `result[1]` where only converted calls reach it."""
        values = self.reads.get(id(original))
        if not values:
            return updated
        field = original.attr.value
        found = [ctx.tuple_fields.get(v, ()) for v in values - {UNBOUND}]
        places = {fields.index(field) if field in fields else None for fields in found}
        if len(places) == 1 and None not in places:
            index = cst.Integer(str(places.pop()))
            return cst.Subscript(updated.value, [cst.SubscriptElement(cst.Index(index))])
        places.discard(None)
        if places:
            name = original.value.value
            use = " / ".join(f"{name}[{i}]" for i in sorted(places))
            ctx.finding(locator, f"{name}.{field}", UNSUPPORTED,
                        f"MindSpore returns a plain tuple, without .{field}: where {name} holds "
                        f"the result of a call converted above, use {use}",
                        node=original, mark=True)
        return updated


def _join(*states: State) -> State:
    reached = [s for s in states if s is not None]
    if not reached:
        return None
    return {n: frozenset().union(*(s[n] for s in reached)) for n in reached[0]}


class _Flow:
    """Reaching assignments of a few names through one scope's statements."""

    def __init__(self, names: Collection[str], fields: Collection[str],
                 reads: Dict[int, Values]):
        self.names, self.fields, self.reads = names, fields, reads
        self.loops: List[tuple] = []  # per enclosing loop: (break states, continue states)
        self.tries: List[Dict[str, Values]] = []  # per enclosing try: all it bound

    def block(self, statements: Sequence[cst.CSTNode], state: State) -> State:
        for statement in statements:
            if state is None:
                break
            state = self.statement(statement, state)
        return state

    def suite(self, suite: Optional[cst.CSTNode], state: State) -> State:
        """A block (`body`), or an else/finally clause: its block."""
        if suite is None or state is None:
            return state
        body = suite.body
        return self.block(body.body if type(body) in SUITES else body, state)

    def bind(self, state: State, name: str, values: Values = _OTHER) -> State:
        if name not in self.names:
            return state
        for bound in self.tries:
            bound[name] = bound.get(name, frozenset()) | values
        return {**state, name: values}

    def statement(self, node: cst.CSTNode, state: State) -> State:
        kind = type(node)
        if kind is cst.SimpleStatementLine:
            return self.block(node.body, state)
        if kind is cst.Assign:
            state = self.expr(node.value, state)
            target = node.targets[0].target
            if (len(node.targets) == 1 and type(target) is cst.Name
                    and type(node.value) is cst.Call):
                return self.bind(state, target.value, frozenset({id(node.value)}))
            for t in node.targets:
                state = self.target(t.target, state)
            return state
        if kind is cst.AnnAssign or kind is cst.AugAssign:
            state = self.expr(node.value, state) if node.value is not None else state
            return self.target(node.target, state)
        if kind is cst.Del:
            return self.target(node.target, state)
        if kind is cst.Return or kind is cst.Raise:
            self.expr(node, state)
            return None
        if kind is cst.Break or kind is cst.Continue:
            if self.loops:
                self.loops[-1][kind is cst.Continue].append(state)
            return None
        if kind is cst.Import or kind is cst.ImportFrom:
            if type(node.names) is cst.ImportStar:
                return {n: _OTHER for n in state}
            for alias in node.names:
                bound = alias.asname.name if alias.asname else alias.name
                while type(bound) is cst.Attribute:  # `import a.b` binds `a`
                    bound = bound.value
                state = self.target(bound, state)
            return state
        if kind is cst.FunctionDef or kind is cst.ClassDef:
            return self.bind(state, node.name.value)
        if kind is cst.If:
            state = self.expr(node.test, state)
            orelse = node.orelse
            if type(orelse) is cst.If:  # elif
                return _join(self.suite(node.body, state), self.statement(orelse, state))
            return _join(self.suite(node.body, state), self.suite(orelse, state))
        if kind is cst.For:
            return self.loop(node, self.expr(node.iter, state),
                             lambda s: self.target(node.target, s), lambda s: s)
        if kind is cst.While:
            return self.loop(node, state, lambda s: self.expr(node.test, s),
                             lambda s: self.expr(node.test, s))
        if kind is cst.With:
            for item in node.items:
                state = self.expr(item.item, state)
                if item.asname is not None:
                    state = self.target(item.asname.name, state)
            return self.suite(node.body, state)
        if kind is cst.Try or kind is cst.TryStar:
            return self.try_(node, state)
        if kind in COMPOUND_STATEMENTS:  # match: not followed inside
            return {n: v | _OTHER for n, v in state.items()}
        return self.expr(node, state)  # an expression statement, assert, pass...

    def loop(self, node, state: State, enter, leave) -> State:
        head = state
        while True:
            self.loops.append(([], []))
            end = self.suite(node.body, enter(head))
            breaks, continues = self.loops.pop()
            again = _join(state, end, *continues)
            if again == head:
                break
            head = again
        return _join(self.suite(node.orelse, leave(head)), *breaks)

    def try_(self, node, state: State) -> State:
        self.tries.append({})
        jumps = [len(j) for j in self.loops[-1]] if self.loops else []
        body = self.suite(node.body, state)
        raised = self.widen(state, self.tries[-1])  # an exception leaves what was bound
        ends = [self.suite(node.orelse, body)]
        for handler in node.handlers:
            at = self.expr(handler.type, raised) if handler.type is not None else raised
            if handler.name is not None:
                at = self.target(handler.name.name, at)
            ends.append(self.suite(handler.body, at))
        bound = self.tries.pop()
        end = _join(*ends)
        if node.finalbody is None:
            return end
        self.suite(node.finalbody, self.widen(state, bound))  # after a raise or a return
        for found, start in zip(self.loops[-1] if self.loops else (), jumps):
            jumped = found[start:]  # a break or continue in the try runs the finally too
            del found[start:]
            found.extend([self.suite(node.finalbody, s) for s in jumped])
        return self.suite(node.finalbody, end)

    @staticmethod
    def widen(state: Dict[str, Values], bound: Dict[str, Values]) -> Dict[str, Values]:
        return {n: v | bound.get(n, frozenset()) for n, v in state.items()}

    def target(self, node: cst.BaseExpression, state: State) -> State:
        """A name bound to any other value; an attribute's or subscript's parts are read."""
        kind = type(node)
        if kind is cst.Name:
            return self.bind(state, node.value)
        if kind is cst.Tuple or kind is cst.List:
            for element in node.elements:
                state = self.target(element.value, state)
            return state
        if kind is cst.StarredElement:
            return self.target(node.value, state)
        if kind is cst.Attribute:  # `name.values = v` writes, it does not read
            return self.expr(node.value, state)
        return self.expr(node, state)

    def expr(self, node: cst.CSTNode, state: State) -> State:
        """Note the field reads in an expression, in order; a walrus binds."""
        kind = type(node)
        if kind is cst.Attribute and type(node.value) is cst.Name:
            name = node.value.value
            if name in self.names and node.attr.value in self.fields:
                self.reads[id(node)] = self.reads.get(id(node), frozenset()) | state[name]
            return state
        if kind is cst.NamedExpr:
            return self.target(node.target, self.expr(node.value, state))
        if kind in _RUN_LATER:
            return state
        if kind in _COMPREHENSIONS and self.comprehension_binds(node):
            return state
        for child in child_nodes(node):
            state = self.expr(child, state)
        return state

    def comprehension_binds(self, node) -> bool:
        """A comprehension whose `for` binds a followed name: its reads are left."""
        part = node.for_in
        while part is not None:
            if any(name in self.names for name in target_names(part.target)):
                return True
            part = part.inner_for_in
        return False
