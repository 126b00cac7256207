"""State one conversion shares between its passes: names, imports, findings."""
from __future__ import annotations

import re

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Dict, List, Optional, Set, Tuple, Union

import libcst as cst

from .aliases import canonical, torch_modules
from .facts import Facts
from .names import TORCH_MODULES, ImportStatements, dotted_name, is_torch_name, root_name
from .positions import Locator, StatementLines
from .quick_libcst import parse_expression
from .report import UNSUPPORTED, Finding, Report, mark_text
from .rule import RuleSet
from .selection import Selection

# How converted code imports each MindSpore module, as a MindSpore expert writes it:
# module -> (import statement, local name). Others use `import mindspore` + full path.
IMPORT_STYLE: Dict[str, Tuple[str, str]] = {
    "mindspore": ("import mindspore", "mindspore"),
    "mindspore.nn": ("from mindspore import nn", "nn"),
    "mindspore.ops": ("from mindspore import ops", "ops"),
    "mindspore.dataset": ("import mindspore.dataset as ds", "ds"),
    "mindspore.dataset.vision": ("import mindspore.dataset.vision as vision", "vision"),
    "mindspore.dataset.transforms": ("import mindspore.dataset.transforms as transforms",
                                     "transforms"),
    "mindspore.experimental.optim": ("from mindspore.experimental import optim", "optim"),
    "mindspore.communication": ("from mindspore import communication", "communication"),
    "mindspore.mint.distributed": ("from mindspore.mint import distributed as dist", "dist"),
    "mindspore.amp": ("from mindspore import amp", "amp"),
    "mindspore.common.initializer": ("from mindspore.common import initializer as init", "init"),
    "mindspore.nn.probability.distribution": (
        "import mindspore.nn.probability.distribution as msd", "msd"),
    "mindspore.scipy.linalg": ("import mindspore.scipy.linalg", "mindspore.scipy.linalg"),
    "numpy": ("import numpy as np", "np"),
    "math": ("import math", "math"),
    "multiprocessing": ("import multiprocessing as mp", "mp"),  # torch.multiprocessing
    "functools": ("import functools", "functools"),  # torch.pi, torch.inf -> math.pi, math.inf
}


def import_for(target: str) -> Tuple[str, str]:
    """(import statement, expression text) for a qualified MindSpore name."""
    module, _, attr = target.rpartition(".")
    while module:
        if module in IMPORT_STYLE:
            statement, local = IMPORT_STYLE[module]
            return statement, target.replace(module, local, 1)
        module = module.rpartition(".")[0]
    root = target.split(".", 1)[0]
    if root != "mindspore":  # a standard-library or numpy name: `import os` + `os.path.join`
        return f"import {root}", target
    return IMPORT_STYLE["mindspore"][0], target


@dataclass
class PendingFinding:
    finding: Finding
    locator: Optional[Locator]
    node: Optional[cst.CSTNode]


@dataclass
class Context:
    rules: RuleSet
    aliases: Dict[str, str]
    report: Report
    needed_imports: Set[str] = field(default_factory=set)
    pending: List[PendingFinding] = field(default_factory=list)
    # Names a function scope binds locally: they shadow import aliases there.
    scopes: List[Set[str]] = field(default_factory=list)
    # Uses of each alias left in the output: an import goes when its count is 0.
    alias_uses: Dict[str, int] = field(default_factory=dict)
    # Every name an import binds: such a receiver is a module, never a Tensor.
    imported: Set[str] = field(default_factory=set)
    # Variables of the enclosing functions, lambdas and comprehensions (parameters,
    # assignments, loop targets): there they are variables, not the imports.
    variables: List[Set[str]] = field(default_factory=list)
    # Parameters of the enclosing functions and lambdas, innermost last.
    parameters: List[Set[str]] = field(default_factory=list)
    # Statement stack of `# ms-migrate:` notes waiting to be attached.
    marks: List[List[str]] = field(default_factory=list)
    # id(original call) -> field names of the tuple it returns (see api.convert_tuple_field)
    tuple_fields: Dict[int, Tuple[str, ...]] = field(default_factory=dict)
    # ids of the lambdas written for APIs used as values (passes/api._value_lambda): their
    # parentheses go where the lambda is a whole argument, return value or assigned value
    value_lambdas: Set[int] = field(default_factory=set)
    # ids of the expressions classes name as their bases (engine.Converter.visit_ClassDef)
    class_bases: Set[int] = field(default_factory=set)
    # helper functions the converted file gets (passes/helpers.py): name -> ids of the
    # Names that call it
    helpers: Dict[str, Set[int]] = field(default_factory=dict)
    # Attributes assigned an instance (`self.encoder = Encoder(...)`): layers, not Tensors
    module_attrs: Set[str] = field(default_factory=set)
    # Names bound only to Modules, distributions or new tensors: name -> owner, read from
    # `tree` on the first question (core/receivers.py)
    receiver_owners: Optional[Dict[str, str]] = None
    tree: Optional[cst.Module] = None
    # Alias names released by conversions, in order (rollback re-counts them).
    released: List[str] = field(default_factory=list)
    # What a statement-level pass learned for later ones (core/facts.py).
    facts: Facts = field(default_factory=Facts)
    # Torch aliases a module-level import of something else has rebound by the
    # statement being converted (`import numpy as torch`), and those it binds last.
    rebound: Set[str] = field(default_factory=set)
    late_rebound: Set[str] = field(default_factory=set)
    # MindSpore names handed out by name(), by text: one node per spelling (the imports
    # pass finds them again by id when a short import name clashes with the user's).
    expressions: Dict[str, cst.BaseExpression] = field(default_factory=dict)
    # The rules and passes the user turned on (core/selection.py).
    selection: Selection = field(default_factory=Selection)
    # The statement pass running now (its id goes on its findings); None in the traversal.
    current_pass: Optional[str] = None
    # Lines of the parsed statements (and of those passes rebuilt), and the source.
    lines: Optional[StatementLines] = None
    source: str = ""
    # `--jit`: training steps and models are compiled with mindspore.jit
    jit: bool = False
    # The import statements of the module's versions, walked once per statement (the
    # set-up, the imports and helpers passes read them).
    import_statements: ImportStatements = field(default_factory=ImportStatements)

    # --- names -------------------------------------------------------------
    def is_shadowed(self, name: str) -> bool:
        if not self.scopes:  # module-level code runs in order
            return name in self.rebound
        for scope in self.scopes:  # a loop: no generator per question (most names)
            if name in scope:
                return True
        return False

    def is_module_name(self, name: Optional[str]) -> bool:
        """Whether `name` is an imported module here (not a local variable of the
        same spelling: `def batchify(data, bsz)` next to `import data`)."""
        for scope in self.variables:  # a loop: no generator per question
            if name in scope:
                return False
        if not self.scopes and name in self.rebound:
            return True  # `import numpy as torch` at module level: a module all the same
        # shadowed in a function but no variable there: a local import (`from numpy
        # import linalg as F` under a module-level torch F), a module all the same
        return name in self.imported and (bool(self.scopes) or not self.is_shadowed(name))

    def bind_imports(self, bindings) -> None:
        """Module-level imports, in order: `import numpy as torch` hides torch from
        there on, `import torch` brings it back."""
        if self.scopes:
            return  # a function's imports are among its locals (names.function_locals)
        for name, torch in bindings:
            if name in self.aliases:
                (self.rebound.discard if torch else self.rebound.add)(name)

    def resolve(self, node: cst.BaseExpression) -> Optional[str]:
        """Qualified torch name of a dotted expression, or None; always the public
        spelling (`torch.nn.modules.linear.Linear` -> `torch.nn.Linear`), which
        rules and passes are keyed by."""
        # most expressions asked about are no torch name: the root says so first
        root = node
        while type(root) is cst.Attribute:  # types compared: isinstance on an ABC is slow
            root = root.value
        if type(root) is not cst.Name:
            return None
        head = root.value
        qualified = self.aliases.get(head)
        if qualified is None or self.is_shadowed(head):
            return None
        if root is node:
            return canonical(qualified)
        return canonical(f"{qualified}.{dotted_name(node).partition('.')[2]}")

    def release(self, node: cst.BaseExpression) -> None:
        """A converted reference no longer needs its torch import."""
        root = root_name(node)
        if root in self.alias_uses:
            self.alias_uses[root] -= 1
            self.released.append(root)

    def checkpoint(self) -> Tuple[int, int, frozenset]:
        """Where findings, releases and imports stand, to roll back to (see rollback)."""
        return len(self.pending), len(self.released), frozenset(self.needed_imports)

    def rollback(self, point: Tuple[int, int]) -> None:
        """Undo the conversions since `point`: their code is being put back as it was.

        Unsupported findings stay (their notes are still true); converted ones go,
        and the torch names they released are needed again.
        """
        findings, releases, imports = point
        self.needed_imports.intersection_update(imports)
        self.pending[findings:] = [p for p in self.pending[findings:]
                                   if p.finding.action == UNSUPPORTED]
        for root in self.released[releases:]:
            self.alias_uses[root] += 1
        del self.released[releases:]

    def forget_dropped(self, point: Tuple[int, int], result: str) -> None:
        """A converted call dropped some of its arguments (`layout=torch.strided`):
        the unsupported references inside them, found since `point`, are no longer in
        the code (`result`, the call's new text), so their findings, notes and uses of
        the torch name go."""
        kept = []
        for p in self.pending[point[0]:]:
            text = None
            # a refused call (`generator=torch.Generator()`) is known by its callee
            node = p.node.func if isinstance(p.node, cst.Call) else p.node
            if p.finding.action == UNSUPPORTED and isinstance(node, (cst.Attribute, cst.Name)):
                text = dotted_name(node)
            if text is None or re.search(rf"(?<![\w.]){re.escape(text)}\b", result):
                kept.append(p)
                continue
            note = mark_text(f"{p.finding.api}: {p.finding.message}")
            if self.marks and note in self.marks[-1]:
                self.marks[-1].remove(note)
            self.release(node)
        self.pending[point[0]:] = kept

    def name(self, target: str) -> cst.BaseExpression:
        """Expression for a MindSpore name; records the import it needs."""
        statement, text = import_for(target)
        self.needed_imports.add(statement)
        node = self.expressions.get(text)
        if node is None:
            node = self.expressions[text] = _parsed_name(text)
        return node

    def require(self, statement: str) -> None:
        self.needed_imports.add(statement)

    # --- findings ----------------------------------------------------------
    def finding(self, where: Union[Locator, int, None], api: str, action: str, message: str,
                *, node: Optional[cst.CSTNode] = None, target: Optional[str] = None,
                rule: Optional[str] = None, mark: bool = False) -> Finding:
        """Record a finding: the one way every pass reports.

        `where`: the traversal's Locator (the line is found when the code is written), a
        line number (a statement pass that knows it), or None (StatementPass gives the
        line after its visit). A rollback drops the findings after its checkpoint that
        do not refuse the code. `mark` also writes it above the statement being
        converted as a `# ms-migrate:` note (the traversal's statements; statement
        passes place their own notes). The finding names the pass that made it.
        """
        line, locator = (where, None) if isinstance(where, int) else (0, where)
        finding = Finding(line, api, action, message, target, rule, check=self.current_pass)
        self.pending.append(PendingFinding(finding, locator, node))
        if mark and self.marks:
            self.marks[-1].append(mark_text(f"{api}: {message}"))
        return finding


def is_torch_module(qualified: str) -> bool:
    return qualified in TORCH_MODULES or qualified in torch_modules()


def is_torch_api(qualified: Optional[str]) -> bool:
    return qualified is not None and is_torch_name(qualified) and not is_torch_module(qualified)


def name_node(target: str) -> cst.BaseExpression:
    """The node Context.name hands out for a MindSpore name (without recording its
    import): the same node in every conversion while the cache below keeps it."""
    return _parsed_name(import_for(target)[1])


@lru_cache(maxsize=4096)
def _parsed_name(text: str) -> cst.BaseExpression:
    """A dotted name parsed once per process (nodes never change; which ones a
    conversion handed out is on its context)."""
    return parse_expression(text)
