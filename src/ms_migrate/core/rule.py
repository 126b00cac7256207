"""The rule model: one torch API and how it becomes MindSpore code, and all of them indexed.

Loading and checking the tables that hold them is tables/load.py's work.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple


class TableError(Exception):
    """A rule table is malformed; the message names file, entry and field."""


# Table kinds: how an entry's key is matched in user code.
KINDS = ("function", "class", "attribute", "method")

@dataclass(frozen=True)
class Rule:
    """One torch API and how it becomes MindSpore code."""

    torch_name: str                      # "torch.nn.Linear" or ".view" for methods
    kind: str
    source: str                          # "file.toml:entry" for messages
    target: Optional[str] = None         # "mindspore.nn.Dense"; ".shape" = attribute of receiver
    args: Tuple[str, ...] = ()           # torch signature, in order; "*name" collects positionals
    target_args: Optional[Tuple[str, ...]] = None
    rename: Dict[str, str] = field(default_factory=dict)
    drop: Tuple[str, ...] = ()           # arguments without meaning in MindSpore (inplace, device)
    warn: Dict[str, str] = field(default_factory=dict)     # dropped with a warning
    unsupported_args: Dict[str, str] = field(default_factory=dict)
    accept: Dict[str, str] = field(default_factory=dict)  # unsupported arg -> harmless value
    values: Dict[str, str] = field(default_factory=dict)   # arg -> template with {}
    defaults: Dict[str, str] = field(default_factory=dict) # target arg -> source text
    transform: Optional[str] = None      # name in transforms.TRANSFORMS
    fields: Tuple[str, ...] = ()         # names of a returned tuple's fields ("values", ...)
    template: Optional[str] = None       # composition: "0.5 * (1 + mindspore.ops.erf({input}))"
    receiver: Optional[str] = None       # methods: target arg that takes the receiver
    params: Dict[str, str] = field(default_factory=dict)   # parameter renames for weights
    drop_params: Tuple[str, ...] = ()
    unsqueeze_params: Dict[str, int] = field(default_factory=dict)  # param -> axis of size 1
    unsupported: Optional[str] = None    # reason: the API is known and cannot convert
    notes: str = ""
    examples: Tuple[Dict[str, Any], ...] = ()
    reference: bool = True               # a bare reference (no call) may be renamed
    value: Optional[str] = None          # a reference as a value: "lambda x, dim=-1: torch.f(x, dim)"
    spread: Optional[str] = None         # takes torch's parameters: `f(*args, **kw)` goes there
    namespace: str = ""                  # the table's namespace ("torch.nn.Module" for methods)
    # Tensor attributes (`x.is_leaf`): only on a receiver known to be a Tensor (`x.real`:
    # numpy arrays and Python numbers have it too)
    tensor_receiver: bool = False

    @property
    def id(self) -> str:
        """What findings call it and --select/--disable name: `torch.nn.Linear`, `Tensor.view`;
        a method of a typed table by its owner: `torch.nn.Module.half`."""
        return "Tensor" + self.torch_name if self.torch_name.startswith(".") else self.torch_name

    @property
    def typed(self) -> bool:
        """A method that applies only where the receiver is known to be its owner
        (a `typed = true` table: core/receivers.py)."""
        return self.kind == "method" and not self.torch_name.startswith(".")

    @property
    def simple(self) -> bool:
        """True when a call converts by renaming the callee alone."""
        return not (self.rename or self.drop or self.warn or self.unsupported_args
                    or self.values or self.defaults or self.transform or self.template
                    or self.receiver or self.target_args is not None
                    or any(a.startswith("*") for a in self.args))


class RuleSet:
    """All rules, indexed: qualified torch name -> Rule, method name -> Rule."""

    def __init__(self, rules: List[Rule]):
        self.by_name: Dict[str, Rule] = {}
        self.methods: Dict[str, Rule] = {}
        # (owner, method name) -> Rule: the typed tables' methods, and the Module methods
        self.owned: Dict[Tuple[str, str], Rule] = {}
        for rule in rules:
            if rule.typed:
                self.owned[(rule.namespace, rule.torch_name.rpartition(".")[2])] = rule
                continue
            index = self.methods if rule.kind == "method" else self.by_name
            index[rule.torch_name.lstrip(".")] = rule
            if rule.kind == "method" and rule.namespace != "torch.Tensor":
                self.owned.setdefault((rule.namespace, rule.torch_name[1:]), rule)
        # `x.is_leaf`, `x.real`: attributes read on a Tensor (kind "attribute" in torch.Tensor)
        self.tensor_attributes: Dict[str, Rule] = {
            name.rpartition(".")[2]: rule for name, rule in self.by_name.items()
            if rule.kind == "attribute" and name.startswith("torch.Tensor.")}
        self.typed_names = frozenset(name for (_, name), rule in self.owned.items() if rule.typed)
        # every named-tuple field (`values`, `indices`...): read as [0], [1]... in MindSpore
        self.fields = frozenset(f for rule in rules for f in rule.fields)
        # the words after a dot that a rule may rewrite (`x.view`, `out.values`): the
        # lines the API pass enters (built once here, not for each file)
        self.attribute_words = frozenset(self.methods.keys() | self.typed_names | self.fields
                                         | self.tensor_attributes.keys())

    def get(self, qualified_name: str) -> Optional[Rule]:
        return self.by_name.get(qualified_name)

    def method(self, name: str, owner: Optional[str] = None) -> Optional[Rule]:
        """The rule for `<receiver>.name(...)`; with the receiver's type known (`owner`,
        core/receivers.py), only that type's methods apply."""
        if owner is not None:
            return self.owned.get((owner, name))
        return self.methods.get(name)

    def __iter__(self):
        yield from self.by_name.values()
        yield from self.methods.values()
        yield from (rule for rule in self.owned.values() if rule.typed)

    def __len__(self) -> int:
        return (len(self.by_name) + len(self.methods)
                + sum(1 for rule in self.owned.values() if rule.typed))


def builtin_mappings_dir() -> Path:
    """`mappings/` ships inside the wheel; in a source checkout it is at the top."""
    package = Path(__file__).resolve().parents[1]
    packaged = package / "mappings"
    if packaged.is_dir():
        return packaged
    return package.parents[1] / "mappings"
