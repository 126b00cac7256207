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
from pathlib import Path
from typing import Callable, List, Optional

from .rules import Rule, rule_from_data, rule_to_data

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
    digest = hashlib.sha256(here.with_name("rules.py").read_bytes() + here.read_bytes())
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
