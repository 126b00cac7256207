"""Converting a folder: every .py file converted, other files copied, structure kept."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import List, Optional

import click

from .engine import ConversionError, convert_source
from .report import Report
from .sourcefile import SourceError, atomic_write, encode_source, read_source_text

SKIP_DIRS = {".git", "__pycache__", ".venv", "venv", ".tox", ".mypy_cache", ".pytest_cache",
             "build", "dist", ".eggs", "node_modules"}


def iter_files(root: Path):
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in SKIP_DIRS for part in rel.parts[:-1]) or not path.is_file():
            continue
        yield path, rel


def convert_project(root: Path, output: Optional[Path], in_place: bool, diff: bool,
                    check: bool, report_path: Optional[Path], rules, quiet: bool,
                    verbose: bool) -> int:
    from .cli import EXIT_CHANGED, EXIT_ERROR, EXIT_OK, _totals, _write_json, unified_diff

    if output is None and not (in_place or diff or check):
        click.echo("ms-migrate: error: converting a folder needs -o OUT_DIR, --in-place, "
                   "--diff or --check", err=True)
        return EXIT_ERROR
    if output is not None and output.resolve().is_relative_to(root.resolve()):
        click.echo(f"ms-migrate: error: output folder {output} is inside the input folder",
                   err=True)
        return EXIT_ERROR
    reports: List[Report] = []
    errors = changed = 0
    for path, rel in iter_files(root):
        target = (output / rel) if output is not None else path
        if path.suffix != ".py":
            if output is not None:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
            continue
        try:
            source = read_source_text(path)
            result = convert_source(source.text, str(path), rules)
        except (SourceError, ConversionError) as exc:
            click.echo(f"ms-migrate: error: {exc}", err=True)
            errors += 1
            if output is not None:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
            continue
        reports.append(result.report)
        changed += result.changed
        if diff:
            click.echo("".join(unified_diff(source.text, result.code, str(rel))), nl=False)
        elif output is not None or (in_place and result.changed):
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(target, encode_source(source, result.code))
    if not quiet:
        for report in reports:
            for line in report.lines(verbose):
                click.echo(line, err=True)
        totals = _totals(reports)
        click.echo(f"{len(reports)} files, {changed} changed: {totals['converted']}/"
                   f"{totals['api_uses']} torch API uses converted "
                   f"({totals['conversion_rate']:.1%}), {totals['unsupported']} unsupported",
                   err=True)
    if report_path is not None:
        _write_json(report_path, {"files": [r.to_dict() for r in reports], **_totals(reports)})
    if errors:
        return EXIT_ERROR
    if (check or in_place or diff) and changed:
        return EXIT_CHANGED
    return EXIT_OK
