"""`ms-migrate pre-commit FILES...`: the entry of the hooks in .pre-commit-hooks.yaml.

Without --check, staged files are converted in place: pre-commit sees them change
and stops the commit so the conversion can be reviewed and staged. With --check
nothing is written, and the hook fails while a file would change or still uses
torch. Exit codes: 0 clean, 1 changed (or would change, or torch left), 2 error.
"""
from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import List

import click

from ...core.report import UNSUPPORTED, shown
from ..base import EXIT_CHANGED, EXIT_ERROR, EXIT_OK, fail, main

_TORCH_IMPORT = re.compile(r"^[ \t]*(?:import|from)[ \t]+torch(?:vision|text|audio)?\b",
                           re.MULTILINE)
# What pre-commit's `types: [python]` also hands over: scripts named by their shebang.
_PYTHON_SHEBANG = re.compile(rb"^#![^\n]*\bpython[\d.]*\b")
_PYTHON_SUFFIXES = (".py", ".pyw")


def torch_import_lines(text: str) -> List[int]:
    """Lines of every torch import, nested ones and `import os, torch` included (read
    with Python's parser, never run); a regex scan when the text does not parse."""
    from ...core.names import is_torch_name
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return [text.count("\n", 0, m.start()) + 1 for m in _TORCH_IMPORT.finditer(text)]
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        else:
            continue
        if any(is_torch_name(name) for name in names):
            lines.append(node.lineno)
    return sorted(lines)


def is_python_file(path: Path) -> bool:
    """A .py file, or an extensionless script whose shebang runs Python."""
    if path.suffix in _PYTHON_SUFFIXES:
        return True
    if path.suffix:
        return False
    try:
        with open(path, "rb") as handle:
            return bool(_PYTHON_SHEBANG.match(handle.readline(256)))
    except OSError:
        return False


@main.command("pre-commit")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--check", is_flag=True,
              help="Write nothing; fail while a file would change or still uses torch.")
@click.option("--rules", "extra_rules", multiple=True, type=click.Path(path_type=Path),
              help="Extra rule table (TOML); may repeat.")
def pre_commit(files: tuple, check: bool, extra_rules: tuple) -> None:
    """Convert the given files in place (or only check them), for pre-commit."""
    from ...tables.load import TableError, load_rules
    from ..config import ConfigError, find_config
    from ..project import Options, convert_project, is_excluded, plan_files

    try:
        config = find_config([Path.cwd()])
        rule_paths = (*config.rules, *extra_rules)
        load_rules(tuple(rule_paths))
    except (ConfigError, TableError) as exc:
        fail(str(exc))
    paths = [p for p in files if is_python_file(p)
             and not is_excluded(p.as_posix(), config.exclude)]
    options = Options(in_place=not check, rule_paths=rule_paths, jobs=1, jit=config.jit)
    # follow=False: a link staged in the repository is never written through
    result = convert_project(Path.cwd(), options, tasks=plan_files(paths, options, follow=False))
    failed = False
    for outcome in result.outcomes:
        if outcome.error:
            click.echo(f"ms-migrate: error: {shown(outcome.error)}", err=True)
            continue
        if outcome.changed:
            failed = True
            verb = "would convert" if check else "converted; review and stage"
            click.echo(shown(f"{outcome.rel}: {verb}"), err=True)
        if check:
            failed |= _report_torch_left(outcome)
    if result.errors:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_CHANGED if failed else EXIT_OK)


def _report_torch_left(outcome) -> bool:
    """Print where a file still uses torch; True when it does."""
    left = [f for f in outcome.report.findings if f.action == UNSUPPORTED]
    for f in left:
        click.echo(shown(f"{outcome.rel}:{f.line}: torch still used: {f.api}: {f.message}"),
                   err=True)
    if not outcome.changed:
        from ...core.sourcefile import SourceError, read_source
        try:
            text = read_source(Path(outcome.rel), follow=False)
        except SourceError:
            text = ""
        for line in torch_import_lines(text):
            click.echo(shown(f"{outcome.rel}:{line}: torch still imported"), err=True)
            left.append(line)
    return bool(left)
