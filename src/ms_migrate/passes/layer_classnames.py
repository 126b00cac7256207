"""Class-name tests on a layer, as weight-init functions write them:

    def weights_init(m):
        classname = m.__class__.__name__        # or type(m).__name__
        if classname.find('BatchNorm') != -1:   # 'X' in c, c.startswith('X'), c == 'X'

`ClassNames` traces such variables per function to the layer variable (`m`) and
reads a test as the torch layers it matches, among the layer rules (torch.nn.X
converted to a mindspore.nn Cell). MindSpore names some of those Cells differently
(Linear is Dense), so `mismatches` says which layers a test stops or starts matching.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

import libcst as cst

from ..core.rule import RuleSet
from ..core.strings import string_value
from ..core.traversal import FastVisitor, traverse


@dataclass(frozen=True)
class ClassNameTest:
    variable: str                   # the layer variable (`m`)
    strings: Tuple[str, ...]        # the names tested
    match: Callable[[str], bool]    # the test, applied to a class name
    label: str                      # "*BatchNorm*": how the report names the layers


def class_name_of(node: cst.BaseExpression) -> Optional[str]:
    """`m` when `node` is `m.__class__.__name__` or `type(m).__name__`."""
    if not (isinstance(node, cst.Attribute) and node.attr.value == "__name__"):
        return None
    owner = node.value
    if isinstance(owner, cst.Attribute) and owner.attr.value == "__class__":
        owner = owner.value
    elif (isinstance(owner, cst.Call) and isinstance(owner.func, cst.Name)
          and owner.func.value == "type" and len(owner.args) == 1):
        owner = owner.args[0].value
    else:
        return None
    return owner.value if isinstance(owner, cst.Name) else None


def traced_class_names(scope: cst.CSTNode) -> Dict[str, str]:
    """Variables a module, class or function (not those nested in it) assigns only a
    layer's class name -> that layer variable."""
    collect = _Assignments()
    if isinstance(scope, cst.FunctionDef):  # a parameter is something else
        for param in (*scope.params.posonly_params, *scope.params.params,
                      *scope.params.kwonly_params):
            collect._bind(param.name, None)
        scope = scope.body
    elif isinstance(scope, cst.ClassDef):
        scope = scope.body
    traverse(scope, collect)
    return {name: values[0] for name, values in collect.values.items()
            if None not in values and len(set(values)) == 1}


class _Assignments(FastVisitor):
    def __init__(self) -> None:
        self.values: Dict[str, List[Optional[str]]] = {}

    def _bind(self, target: cst.BaseExpression, value: Optional[str]) -> None:
        for name in _bound_names(target):
            self.values.setdefault(name, []).append(value)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            single = isinstance(target.target, cst.Name)
            self._bind(target.target, class_name_of(node.value) if single else None)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(node.target, class_name_of(node.value) if node.value else None)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind(node.target, None)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target, None)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name, None)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind(node.target, class_name_of(node.value))

    def visit_FunctionDef(self, node) -> bool:  # another scope
        return False

    def visit_ClassDef(self, node) -> bool:
        return False

    def visit_Lambda(self, node) -> bool:
        return False


def _bound_names(target: cst.BaseExpression) -> List[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for e in target.elements for n in _bound_names(e.value)]
    if isinstance(target, cst.StarredElement):
        return _bound_names(target.value)
    return []


class ClassNames:
    """Torch layers (and their MindSpore Cells) that class-name tests match."""

    def __init__(self, rules: RuleSet) -> None:
        # torch class name -> (qualified torch name, MindSpore class name)
        self.layers: Dict[str, Tuple[str, str]] = {}
        for rule in rules.by_name.values():
            parent, _, name = rule.torch_name.rpartition(".")
            target = rule.target or ""
            if (rule.kind == "class" and parent == "torch.nn"
                    and target.startswith("mindspore.nn.")):
                self.layers[name] = (rule.torch_name, target.rpartition(".")[2])

    def matched(self, test: ClassNameTest) -> List[str]:
        """Qualified torch names of the layers `test` matches."""
        return [qualified for name, (qualified, _) in self.layers.items() if test.match(name)]

    def mismatches(self, test: ClassNameTest) -> Tuple[List[str], List[str]]:
        """Converted layers the test judges differently by MindSpore's class name:
        (no longer matched, newly matched), as 'GroupNorm (torch.nn.InstanceNorm1d/2d)'."""
        lost: Dict[str, List[str]] = {}
        gained: Dict[str, List[str]] = {}
        for name, (_, ms_name) in self.layers.items():
            if test.match(name) != test.match(ms_name):
                (lost if test.match(name) else gained).setdefault(ms_name, []).append(name)
        return _named(lost), _named(gained)


def _named(layers: Dict[str, List[str]]) -> List[str]:
    return [f"{ms_name} (torch.nn.{'/'.join(names)})" for ms_name, names in layers.items()]


def read_test(test: cst.BaseExpression, traced: Dict[str, str]) -> Optional[ClassNameTest]:
    """The class-name test `test` is, with `traced` naming class-name variables."""
    if isinstance(test, cst.Call):
        return _method_test(test, traced)
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
        return None
    left, op, right = test.left, test.comparisons[0].operator, test.comparisons[0].comparator
    if isinstance(op, cst.In) and _layer(right, traced):  # 'X' in classname
        return _made(_layer(right, traced), _strings(left, single=True), "substring")
    if isinstance(op, cst.In) and _layer(left, traced):   # classname in ('A', 'B')
        return _made(_layer(left, traced), _strings(right, single=False), "equal")
    if isinstance(op, cst.Equal):
        subject, string = (left, right) if _layer(left, traced) else (right, left)
        return _made(_layer(subject, traced), _strings(string, single=True), "equal")
    if isinstance(left, cst.Call) and _found(op, right):  # classname.find('X') != -1
        return _method_test(left, traced, methods=("find",))
    return None


def _found(op: cst.BaseCompOp, right: cst.BaseExpression) -> bool:
    """`!= -1`, `> -1` or `>= 0`: what `str.find` returns for a match."""
    minus_one = (isinstance(right, cst.UnaryOperation) and isinstance(right.operator, cst.Minus)
                 and isinstance(right.expression, cst.Integer)
                 and right.expression.value == "1")
    zero = isinstance(right, cst.Integer) and right.value == "0"
    return ((isinstance(op, (cst.NotEqual, cst.GreaterThan)) and minus_one)
            or (isinstance(op, cst.GreaterThanEqual) and zero))


_KINDS = {"find": "substring", "startswith": "prefix", "endswith": "suffix"}


def _method_test(call: cst.Call, traced, methods=("startswith", "endswith")):
    """classname.find('X') (compared by the caller), .startswith / .endswith('X')."""
    func = call.func
    if not (isinstance(func, cst.Attribute) and func.attr.value in methods
            and len(call.args) == 1 and not call.args[0].keyword):
        return None
    kind = _KINDS[func.attr.value]
    strings = _strings(call.args[0].value, single=kind == "substring")  # find takes one
    return _made(_layer(func.value, traced), strings, kind)


def _layer(node: cst.BaseExpression, traced: Dict[str, str]) -> Optional[str]:
    """The layer variable whose class name `node` holds."""
    if isinstance(node, cst.Name):
        return traced.get(node.value)
    return class_name_of(node)


def _strings(node: cst.BaseExpression, single: bool) -> Tuple[str, ...]:
    """The string literal(s) `node` is; several only from a tuple/list/set unless
    `single`; () when it is anything else."""
    if isinstance(node, cst.SimpleString):
        value = string_value(node)
        return (value,) if isinstance(value, str) else ()
    if single or not isinstance(node, (cst.Tuple, cst.List, cst.Set)):
        return ()
    strings = [_strings(e.value, True) for e in node.elements]
    return tuple(s for one in strings for s in one) if all(strings) else ()


def _made(variable: Optional[str], strings: Tuple[str, ...], kind: str):
    if variable is None or not strings:
        return None
    match, glob = {
        "substring": (lambda name: any(s in name for s in strings), "*{}*"),
        "prefix": (lambda name: name.startswith(strings), "{}*"),
        "suffix": (lambda name: name.endswith(strings), "*{}"),
        "equal": (lambda name: name in strings, "{}"),
    }[kind]
    return ClassNameTest(variable, strings, match, "/".join(glob.format(s) for s in strings))
