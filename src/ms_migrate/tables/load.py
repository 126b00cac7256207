"""Rule tables: load `mappings/*.toml`, validate every entry, index by torch name.

A table file has a `namespace` (e.g. "torch.nn") and one table per API named
relative to it. See docs/writing-rules.md for every field.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Dict, List, Tuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from ..core.rule import KINDS, Rule, RuleSet, TableError, builtin_mappings_dir

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
    "value": str,
    "tensor_receiver": bool,
    "spread": str,
}
_EXAMPLE_FIELDS = {"code", "inputs", "call", "compare", "tol", "train", "setup", "dtype",
                   "steps"}


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
    typed = data.pop("typed", False)
    if not isinstance(typed, bool) or (typed and kind != "method"):
        raise TableError(f"{name}: field 'typed' must be true or false, and only in a "
                         f"table of kind 'method'")
    if not isinstance(namespace, str):
        raise TableError(f"{name}: missing top-level field 'namespace' (a string)")
    if kind not in KINDS:
        raise TableError(f"{name}: field 'kind' must be one of {', '.join(KINDS)}, not {kind!r}")
    rules = []
    for key, entry in data.items():
        where = f"{name}:{key}"
        if not isinstance(entry, dict):
            raise TableError(f"{where}: an entry must be a table, not {type(entry).__name__}")
        rules.append(_build_rule(where, namespace, kind, key, entry, typed))
    return rules


def _build_rule(where: str, namespace: str, kind: str, key: str, entry: dict,
                typed: bool = False) -> Rule:
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
    if "value" in entry:
        _check_value(where, entry["value"], namespace, kind, key)
    if "transform" in entry:
        from ..transforms import TRANSFORMS
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
    if kind == "method":  # a typed table's methods are named by their owner (rule.typed)
        torch_name = f"{namespace}.{key}" if typed else "." + key
    else:
        torch_name = f"{namespace}.{key}" if namespace else key
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
        value=entry.get("value"),
        spread=entry.get("spread"),
        namespace=namespace,
        tensor_receiver=entry.get("tensor_receiver", False),
    )


def _check_templates(where: str, entry: dict, plain_args: set) -> None:
    """Templates are code the converter writes, never runs: check now that they parse,
    so a bad one in a user's table stops the load, not a conversion."""
    from ..core.callrewrite import (
        TEMPLATE_FIELD,
        composition_problem,
        expression_problem,
        value_template_problem,
    )
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


def _check_value(where: str, text: str, namespace: str, kind: str, key: str) -> None:
    """`value`: a torch lambda whose body calls the API itself with its parameters."""
    from ..core.callrewrite import value_lambda
    problem = value_lambda(text, f"{namespace}.{key}" if kind != "method" else None)[1]
    if problem:
        raise TableError(f"{where}: field 'value' {problem}")


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


def load_rules(extra_tables: Tuple[Path, ...] = ()) -> RuleSet:
    """Built-in tables, then the user's own (which extend or override them)."""
    key = tuple(str(p) for p in extra_tables)
    if key not in _CACHE:
        from .cache import cached
        folder = builtin_mappings_dir()
        builtin = sorted(folder.glob("*.toml"))
        if not builtin:  # an incomplete install would convert nothing, and say nothing
            raise TableError(f"{folder}: no built-in rule tables found; the installation "
                             f"is incomplete (reinstall ms-migrate)")
        rules: List[Rule] = list(cached(builtin, lambda: _load_tables(builtin)))
        rules += _load_tables([Path(p) for p in extra_tables])
        _CACHE[key] = RuleSet(rules)
    return _CACHE[key]


def _load_tables(paths: List[Path]) -> List[Rule]:
    return [rule for path in paths for rule in load_table(path)]


_CACHE: Dict[Tuple[str, ...], RuleSet] = {}
