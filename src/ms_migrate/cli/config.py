"""Project settings from `[tool.ms-migrate]` in pyproject.toml.

The nearest pyproject.toml with that table wins, searched from the converted path
upwards, then from the current directory upwards. Paths inside it (`rules`) are
relative to the pyproject.toml that names them.

    [tool.ms-migrate]
    target = "classic"            # the MindSpore API profile to emit
    exclude = ["tests/data/*"]    # globs, relative to the converted folder
    rules = ["my_rules.toml"]     # extra rule tables: extend or override built-ins
    jobs = 4                      # worker processes for folders (default: all cores)
    select = ["torch.nn"]         # only these rules and passes (ids: `ms-migrate rules`)
    disable = ["training"]        # and not these
    jit = true                    # compile training steps and models (mindspore.jit)
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Tuple

from ..tables.load import tomllib

# `classic` is mindspore.nn / mindspore.ops, which runs on CPU, GPU and Ascend.
PROFILES = ("classic",)
_FIELDS = {"target": str, "exclude": list, "rules": list, "jobs": int, "select": list,
           "disable": list, "jit": bool}


class ConfigError(Exception):
    """The configuration is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class Config:
    path: Optional[Path] = None            # the pyproject.toml it came from
    target: str = "classic"
    exclude: Tuple[str, ...] = ()
    rules: Tuple[Path, ...] = ()           # absolute paths
    jobs: Optional[int] = None
    select: Tuple[str, ...] = ()
    disable: Tuple[str, ...] = ()
    jit: bool = False


def find_config(starts: Iterable[Path]) -> Config:
    """The first `[tool.ms-migrate]` found upwards from each start in turn."""
    seen = set()
    for start in starts:
        start = Path(start).absolute()
        folder = start if start.is_dir() else start.parent
        for candidate in (folder, *folder.parents):
            if candidate in seen:
                break
            seen.add(candidate)
            table = _read_table(candidate / "pyproject.toml")
            if table is not None:
                return parse_config(table, candidate / "pyproject.toml")
    return Config()


def _read_table(pyproject: Path) -> Optional[dict]:
    if not pyproject.is_file():
        return None
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{pyproject}: cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{pyproject}: not valid TOML: {exc}") from None
    table = data.get("tool", {}).get("ms-migrate")
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.ms-migrate] must be a table")
    return table


def parse_config(table: dict, pyproject: Path) -> Config:
    where = f"{pyproject}: [tool.ms-migrate]"
    for key, value in table.items():
        expected = _FIELDS.get(key)
        if expected is None:
            raise ConfigError(f"{where}: unknown key {key!r} "
                              f"(known: {', '.join(sorted(_FIELDS))})")
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
            raise ConfigError(f"{where}: {key!r} must be a {expected.__name__}, "
                              f"not {type(value).__name__}")
    for key in ("exclude", "rules", "select", "disable"):
        for item in table.get(key, []):
            if not isinstance(item, str):
                raise ConfigError(f"{where}: {key!r} must list strings, found {item!r}")
    target = table.get("target", "classic")
    if target not in PROFILES:
        raise ConfigError(f"{where}: 'target' {target!r} is not a known profile "
                          f"(known: {', '.join(PROFILES)})")
    jobs = table.get("jobs")
    if jobs is not None and jobs < 1:
        raise ConfigError(f"{where}: 'jobs' must be at least 1")
    rules = tuple((pyproject.parent / p).resolve() for p in table.get("rules", []))
    for rule_path in rules:
        if not rule_path.is_file():
            raise ConfigError(f"{where}: 'rules' names {rule_path}, which does not exist")
    return Config(path=pyproject, target=target, exclude=tuple(table.get("exclude", [])),
                  rules=rules, jobs=jobs, select=tuple(table.get("select", [])),
                  disable=tuple(table.get("disable", [])), jit=table.get("jit", False))
