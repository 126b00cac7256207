"""Rule tables: load `mappings/*.toml`, validate every entry, index by torch name.

A table file has a `namespace` (e.g. "torch.nn") and one table per API named
relative to it. See docs/writing-rules.md for every field.
"""
from __future__ import annotations

import sys
from dataclasses import MISSING, dataclass, field
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class TableError(Exception):
    """A rule table is malformed; the message names file, entry and field."""


# Table kinds: how an entry's key is matched in user code.
KINDS = ("function", "class", "attribute", "method")

_FIELD_TYPES: Dict[str, type] = {
    "target": str,
    "args": list,
    "target_args": list,
    "rename": dict,
    "drop": list,
    "warn": dict,
    "unsupported_args": dict,
    "values": dict,
    "defaults": dict,
    "transform": str,
    "receiver": str,
    "params": dict,
    "drop_params": list,
    "unsqueeze_params": dict,
    "unsupported": str,
    "notes": str,
    "examples": list,
    "kind": str,
    "reference": bool,
    "template": str,
    "fields": list,
    "accept": dict,
}
_EXAMPLE_FIELDS = {"code", "inputs", "call", "compare", "tol", "train", "setup", "dtype",
                   "steps"}


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
    namespace: str = ""                  # the table's namespace ("torch.nn.Module" for methods)

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
        for rule in rules:
            index = self.methods if rule.kind == "method" else self.by_name
            index[rule.torch_name.lstrip(".")] = rule
        # every named-tuple field (`values`, `indices`...): read as [0], [1]... in MindSpore
        self.fields = frozenset(f for rule in rules for f in rule.fields)

    def get(self, qualified_name: str) -> Optional[Rule]:
        return self.by_name.get(qualified_name)

    def method(self, name: str) -> Optional[Rule]:
        return self.methods.get(name)

    def __iter__(self):
        yield from self.by_name.values()
        yield from self.methods.values()

    def __len__(self) -> int:
        return len(self.by_name) + len(self.methods)


def builtin_mappings_dir() -> Path:
    """`mappings/` ships inside the wheel; in a source checkout it is at the top."""
    packaged = Path(__file__).parent / "mappings"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "mappings"


def load_table(path: Path) -> List[Rule]:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise TableError(f"{path}: cannot read rule table: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TableError(f"{path}: not valid TOML: {exc}") from None
    name = Path(path).name
    namespace = data.pop("namespace", None)
    kind = data.pop("kind", "function")
    if not isinstance(namespace, str):
        raise TableError(f"{name}: missing top-level field 'namespace' (a string)")
    if kind not in KINDS:
        raise TableError(f"{name}: field 'kind' must be one of {', '.join(KINDS)}, not {kind!r}")
    rules = []
    for key, entry in data.items():
        where = f"{name}:{key}"
        if not isinstance(entry, dict):
            raise TableError(f"{where}: an entry must be a table, not {type(entry).__name__}")
        rules.append(_build_rule(where, namespace, kind, key, entry))
    return rules


def _build_rule(where: str, namespace: str, kind: str, key: str, entry: dict) -> Rule:
    for fname, value in entry.items():
        expected = _FIELD_TYPES.get(fname)
        if expected is None:
            raise TableError(f"{where}: unknown field {fname!r}")
        if not isinstance(value, expected):
            raise TableError(f"{where}: field {fname!r} must be a {expected.__name__}, "
                             f"not {type(value).__name__}")
    kind = entry.get("kind", kind)
    if kind not in KINDS:
        raise TableError(f"{where}: field 'kind' must be one of {', '.join(KINDS)}")
    if not {"target", "unsupported", "transform", "template"} & set(entry):
        raise TableError(f"{where}: needs 'target', 'template', 'transform' or 'unsupported'")
    args = entry.get("args", [])
    _check_str_list(where, "args", args)
    _check_str_list(where, "drop", entry.get("drop", []))
    _check_str_list(where, "drop_params", entry.get("drop_params", []))
    if "target_args" in entry:
        _check_str_list(where, "target_args", entry["target_args"])
    for fname in ("rename", "warn", "unsupported_args", "values", "defaults", "params", "accept"):
        for k, v in entry.get(fname, {}).items():
            if not isinstance(v, str):
                raise TableError(f"{where}: field {fname!r}: value of {k!r} must be a string")
    for k, v in entry.get("unsqueeze_params", {}).items():
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise TableError(f"{where}: field 'unsqueeze_params': value of {k!r} must be "
                             f"an axis (an integer >= 0)")
    plain_args = {a.lstrip("*") for a in args}
    for fname in ("rename", "warn", "unsupported_args", "values"):
        for arg in entry.get(fname, {}):
            if args and arg not in plain_args:
                raise TableError(f"{where}: field {fname!r} names {arg!r}, "
                                 f"which is not in 'args'")
    for arg in entry.get("drop", []):
        if args and arg not in plain_args:
            raise TableError(f"{where}: field 'drop' names {arg!r}, which is not in 'args'")
    _check_one_fate(where, entry)
    _check_templates(where, entry, plain_args)
    if "transform" in entry:
        from .transforms import TRANSFORMS
        if entry["transform"] not in TRANSFORMS:
            raise TableError(f"{where}: field 'transform': no transform named "
                             f"{entry['transform']!r}")
    examples = entry.get("examples", [])
    for i, ex in enumerate(examples):
        if not isinstance(ex, dict) or "code" not in ex:
            raise TableError(f"{where}: field 'examples'[{i}] needs a 'code' string")
        unknown = set(ex) - _EXAMPLE_FIELDS
        if unknown:
            raise TableError(f"{where}: field 'examples'[{i}]: unknown key {sorted(unknown)[0]!r}")
    torch_name = "." + key if kind == "method" else f"{namespace}.{key}" if namespace else key
    return Rule(
        torch_name=torch_name, kind=kind, source=where,
        target=entry.get("target"),
        args=tuple(args),
        target_args=tuple(entry["target_args"]) if "target_args" in entry else None,
        rename=dict(entry.get("rename", {})),
        drop=tuple(entry.get("drop", [])),
        warn=dict(entry.get("warn", {})),
        unsupported_args=dict(entry.get("unsupported_args", {})),
        accept=dict(entry.get("accept", {})),
        values=dict(entry.get("values", {})),
        defaults=dict(entry.get("defaults", {})),
        transform=entry.get("transform"),
        template=entry.get("template"),
        fields=tuple(entry.get("fields", [])),
        receiver=entry.get("receiver"),
        params=dict(entry.get("params", {})),
        drop_params=tuple(entry.get("drop_params", [])),
        unsqueeze_params=dict(entry.get("unsqueeze_params", {})),
        unsupported=entry.get("unsupported"),
        notes=entry.get("notes", ""),
        examples=tuple(examples),
        reference=entry.get("reference", kind in ("class", "attribute")),
        namespace=namespace,
    )


def _check_templates(where: str, entry: dict, plain_args: set) -> None:
    """Templates are code the converter writes, never runs: check now that they parse,
    so a bad one in a user's table stops the load, not a conversion."""
    from .callrewrite import (TEMPLATE_FIELD, composition_problem, expression_problem,
                              value_template_problem)
    for arg, template in entry.get("values", {}).items():
        problem = value_template_problem(template)
        if problem:
            raise TableError(f"{where}: field 'values': template for {arg!r} {problem}")
    for arg, text in entry.get("defaults", {}).items():
        problem = expression_problem(text)
        if problem:
            raise TableError(f"{where}: field 'defaults': value of {arg!r} {problem}")
    if "template" in entry:
        for match in TEMPLATE_FIELD.finditer(entry["template"]):
            if match.group(1) not in plain_args | {"self", entry.get("receiver")}:
                raise TableError(f"{where}: field 'template' uses {{{match.group(1)}}}, "
                                 f"which is not in 'args'")
        problem = composition_problem(entry["template"])
        if problem:
            raise TableError(f"{where}: field 'template' {problem}")


def _check_one_fate(where: str, entry: dict) -> None:
    """An argument is renamed, dropped, warned about or refused: never two of these."""
    seen: Dict[str, str] = {}
    for fname in ("rename", "drop", "warn", "unsupported_args"):
        for arg in entry.get(fname, []):
            if arg in seen:
                raise TableError(f"{where}: field {fname!r} names {arg!r}, which field "
                                 f"{seen[arg]!r} already handles")
            seen[arg] = fname


def _check_str_list(where: str, fname: str, value: list) -> None:
    for item in value:
        if not isinstance(item, str):
            raise TableError(f"{where}: field {fname!r} must list strings, found {item!r}")


# How each Rule field is stored as plain JSON data (the rule cache), checked on the way back.
_STORED = {
    "torch_name": "str", "kind": "str", "source": "str", "target": "str?",
    "args": "strs", "target_args": "strs?", "rename": "map", "drop": "strs", "warn": "map",
    "unsupported_args": "map", "accept": "map", "values": "map", "defaults": "map",
    "transform": "str?", "fields": "strs", "template": "str?", "receiver": "str?",
    "params": "map", "drop_params": "strs", "unsqueeze_params": "axes",
    "unsupported": "str?", "notes": "str", "examples": "examples", "reference": "bool",
    "namespace": "str",
}


def rule_to_data(rule: Rule) -> Dict[str, Any]:
    """A rule as JSON-ready plain data: the fields that differ from their defaults."""
    return {name: value for name, value in
            ((name, getattr(rule, name)) for name in _STORED)
            if value != _EMPTY.get(name, _NO_DEFAULT)}


def rule_from_data(data: Any) -> Rule:
    """A rule back from rule_to_data's output; ValueError if anything is off."""
    if not isinstance(data, dict) or not data.keys() <= _STORED.keys():
        raise ValueError("not a stored rule")
    fields = {name: _CHECKS[kind](name, data[name]) if name in data else _default(name)
              for name, kind in _STORED.items()}
    if fields["kind"] not in KINDS:
        raise ValueError(f"unknown kind {fields['kind']!r}")
    if fields["transform"] is not None:
        from .transforms import TRANSFORMS
        if fields["transform"] not in TRANSFORMS:  # from another version of the code
            raise ValueError(f"no transform named {fields['transform']!r}")
    return Rule(**fields)


_NO_DEFAULT = object()
_EMPTY = {f.name: f.default if f.default is not MISSING else f.default_factory()
          for f in dataclass_fields(Rule)
          if f.default is not MISSING or f.default_factory is not MISSING}


def _default(name: str) -> Any:
    if name not in _EMPTY:
        raise ValueError(f"stored rule lacks {name!r}")
    value = _EMPTY[name]
    return {} if isinstance(value, dict) else value  # each rule its own dict, as Rule() does


def _bad(name: str, kind: str):
    raise ValueError(f"stored field {name!r} is not a {kind}")


def _str(name, v):
    return v if type(v) is str else _bad(name, "string")


def _opt_str(name, v):
    return v if v is None or type(v) is str else _bad(name, "string")


def _strs(name, v):
    if type(v) is list and all(type(x) is str for x in v):
        return tuple(v)
    return _bad(name, "list of strings")


def _map(name, v):
    if type(v) is dict and all(type(x) is str for x in v.values()):
        return v
    return _bad(name, "table of strings")


def _axes(name, v):
    if type(v) is dict and all(type(x) is int and x >= 0 for x in v.values()):
        return v
    return _bad(name, "table of axes")


def _examples(name, v):
    if type(v) is list and all(type(x) is dict and type(x.get("code")) is str for x in v):
        return tuple(v)
    return _bad(name, "list of examples")


_CHECKS = {"str": _str, "str?": _opt_str, "strs": _strs,
           "strs?": lambda name, v: None if v is None else _strs(name, v), "map": _map,
           "axes": _axes, "examples": _examples,
           "bool": lambda name, v: v if type(v) is bool else _bad(name, "boolean")}


def load_rules(extra_tables: Tuple[Path, ...] = ()) -> RuleSet:
    """Built-in tables, then the user's own (which extend or override them)."""
    key = tuple(str(p) for p in extra_tables)
    if key not in _CACHE:
        from .rulecache import cached
        builtin = sorted(builtin_mappings_dir().glob("*.toml"))
        rules: List[Rule] = list(cached(builtin, lambda: _load_tables(builtin)))
        rules += _load_tables([Path(p) for p in extra_tables])
        _CACHE[key] = RuleSet(rules)
    return _CACHE[key]


def _load_tables(paths: List[Path]) -> List[Rule]:
    return [rule for path in paths for rule in load_table(path)]


_CACHE: Dict[Tuple[str, ...], RuleSet] = {}
