"""A pickle of the built-in rule tables, so that a run need not parse them again.

Parsing and validating the ~1,200 built-in rules costs 0.2-0.5 s, most of a one-file
conversion (a pre-commit hook); reading them back from a pickle costs ~15 ms. The
file is named by a hash of the tables' bytes and of the loader's own source, so any
change to either makes a new one. It lives in $MS_MIGRATE_CACHE_DIR, else
$XDG_CACHE_HOME/ms-migrate, else ~/.cache/ms-migrate. Any failure to read or write
it falls back to loading the tables (MS_MIGRATE_CACHE_DIR="" turns it off).
"""
from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Callable, List, Optional, TypeVar

T = TypeVar("T")


def cache_dir() -> Optional[Path]:
    chosen = os.environ.get("MS_MIGRATE_CACHE_DIR")
    if chosen is not None:
        return Path(chosen) if chosen else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ms-migrate"


def cached(paths: List[Path], load: Callable[[], T]) -> T:
    """`load()`, or what it returned last time for tables with these very bytes."""
    folder = cache_dir()
    if folder is None:
        return load()
    digest = hashlib.sha256(Path(__file__).with_name("rules.py").read_bytes())
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    target = folder / f"rules-{digest.hexdigest()[:32]}.pickle"
    try:
        with open(target, "rb") as f:
            return pickle.load(f)
    except Exception:  # missing, unreadable or from another Python: load the tables
        pass
    value = load()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temp, target)
        finally:
            if os.path.exists(temp):
                os.unlink(temp)
    except OSError:
        pass  # a read-only home: no cache, same result
    return value
