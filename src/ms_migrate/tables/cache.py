"""A JSON copy of the built-in rule tables, so that a run need not parse them again.

Parsing and validating the ~1,200 built-in rules costs ~0.1 s of CPU, a large part
of a one-file conversion (a pre-commit hook); reading them back from this JSON
costs ~20 ms (a pickle took ~5 ms, but a planted pickle runs code).
The file is named by a hash of the tables' bytes and of the loader's own source, so
any change to either makes a new one. It lives in $MS_MIGRATE_CACHE_DIR, else
$XDG_CACHE_HOME/ms-migrate, else ~/.cache/ms-migrate (MS_MIGRATE_CACHE_DIR="" turns
it off).

The file is data, never code: JSON of strings, lists and dicts, rebuilt into Rules
field by field with every type checked. It is read only when it is a regular file
owned by this user and writable by no one else; anything unexpected about it
(missing, planted, damaged, from another version, naming a transform that no
longer exists) is a cache miss, and the tables are loaded instead.
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from dataclasses import MISSING
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from ..core.rule import KINDS, Rule

_FORMAT = "ms-migrate rules 1"
_MAX_BYTES = 64 * 1024 * 1024  # the built-in tables take ~2 MB; more is not ours


def cache_dir() -> Optional[Path]:
    chosen = os.environ.get("MS_MIGRATE_CACHE_DIR")
    if chosen is not None:
        return Path(chosen) if chosen else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ms-migrate"


def cached(paths: List[Path], load: Callable[[], List[Rule]]) -> List[Rule]:
    """`load()`, or what it returned last time for tables with these very bytes."""
    folder = cache_dir()
    if folder is None:
        return load()
    here = Path(__file__)
    digest = hashlib.sha256(here.with_name("load.py").read_bytes() + here.read_bytes()
                            + here.parents[1].joinpath("core", "rule.py").read_bytes())
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    target = folder / f"rules-{digest.hexdigest()[:32]}.json"
    rules = read(target)
    if rules is not None:
        return rules
    rules = load()
    write(target, rules)
    return rules


def read(target: Path) -> Optional[List[Rule]]:
    """The rules stored in `target`, or None for any reason at all not to trust it."""
    try:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        fd = os.open(target, flags)
    except OSError:
        return None
    try:
        info = os.fstat(fd)  # of the file opened, not of whatever the path names later
        if not _trusted(info):
            return None
        with os.fdopen(fd, "rb") as f:
            fd = -1
            data = json.loads(f.read(_MAX_BYTES + 1))
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            return None
        stored = data.get("rules")
        if not isinstance(stored, list):
            return None
        return [rule_from_data(item) for item in stored]
    except Exception:  # damaged, truncated, another version's layout: load the tables
        return None
    finally:
        if fd >= 0:
            os.close(fd)


def _trusted(info: os.stat_result) -> bool:
    """A regular file of this user's, that no group or other user can write."""
    if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_BYTES:
        return False
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return False
    getuid = getattr(os, "getuid", None)  # Windows has no owner ids to compare
    return getuid is None or info.st_uid == getuid()


def write(target: Path, rules: List[Rule]) -> None:
    """Store the rules atomically, readable and writable by this user only."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        text = json.dumps({"format": _FORMAT, "rules": [rule_to_data(r) for r in rules]},
                          separators=(",", ":"))
        fd, temp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(temp, target)
        finally:
            if os.path.exists(temp):
                os.unlink(temp)
    except Exception:  # a read-only home, a value JSON cannot hold: no cache, same result
        pass


# How each Rule field is stored as plain JSON data (the rule cache), checked on the way back.
_STORED = {
    "torch_name": "str", "kind": "str", "source": "str", "target": "str?",
    "args": "strs", "target_args": "strs?", "rename": "map", "drop": "strs", "warn": "map",
    "unsupported_args": "map", "accept": "map", "values": "map", "defaults": "map",
    "transform": "str?", "fields": "strs", "template": "str?", "receiver": "str?",
    "params": "map", "drop_params": "strs", "unsqueeze_params": "axes",
    "unsupported": "str?", "notes": "str", "examples": "examples", "reference": "bool",
    "value": "str?", "spread": "str?", "namespace": "str", "tensor_receiver": "bool",
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
        from ..transforms import TRANSFORMS
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
