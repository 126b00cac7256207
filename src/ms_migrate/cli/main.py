"""Command line: `ms-migrate convert|rules|...`. Printing and exit codes live here only.

Exit codes follow pre-commit's contract: 0 nothing to do, 1 files changed or would
change, 2 error.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import NoReturn, Optional

import click

from .. import __version__

EXIT_OK, EXIT_CHANGED, EXIT_ERROR = 0, 1, 2


def fail(message: str) -> NoReturn:
    from ..core.report import shown
    click.echo(f"ms-migrate: error: {shown(message)}", err=True)
    sys.exit(EXIT_ERROR)


class _Main(click.Group):
    """Every command: SIGTERM/SIGHUP unwind like Ctrl-C (temporary files removed), and
    an interrupt exits 128 + the signal (130 Ctrl-C), never click's 1 ("changed" to
    pre-commit)."""

    def invoke(self, ctx: click.Context):
        from .signals import exit_code, handled
        with handled():
            try:
                return super().invoke(ctx)
            except KeyboardInterrupt as exc:
                click.echo("ms-migrate: interrupted; nothing half-written was left", err=True)
                ctx.exit(exit_code(exc))


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ms-migrate")
def main() -> None:
    """Convert PyTorch source code into MindSpore source code."""


def _load_rules(extra: tuple):
    from ..tables.load import TableError, load_rules
    try:
        return load_rules(tuple(Path(p) for p in extra))
    except TableError as exc:
        fail(f"rule table: {exc}")


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Write the converted code here (a file, or a folder for a folder).")
@click.option("--in-place", is_flag=True, help="Rewrite the input file(s).")
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff instead of code.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if a file would change.")
@click.option("--report", "report_path", type=click.Path(path_type=Path),
              help="Write the report as JSON to this file.")
@click.option("--rules", "extra_rules", multiple=True, type=click.Path(path_type=Path),
              help="Extra rule table (TOML); may repeat.")
@click.option("--report-md", type=click.Path(path_type=Path),
              help="Write a Markdown report (per file and line) to this file.")
@click.option("--report-html", type=click.Path(path_type=Path),
              help="Write an HTML report (per file and line) to this file.")
@click.option("-j", "--jobs", type=click.IntRange(min=1),
              help="Worker processes for a folder (default: all cores).")
@click.option("--exclude", multiple=True,
              help="Glob of files or folders to leave unconverted (copied as they are); "
                   "may repeat.")
@click.option("--format", "run_format", is_flag=True,
              help="Run `ruff format` (or black) on converted files that changed.")
@click.option("-q", "--quiet", is_flag=True, help="No summary on stderr.")
@click.option("-v", "--verbose", is_flag=True, help="List every finding, not only problems.")
def convert(path: Path, output: Optional[Path], in_place: bool, show_diff: bool, check: bool,
            report_path: Optional[Path], extra_rules: tuple, report_md: Optional[Path],
            report_html: Optional[Path], jobs: Optional[int], exclude: tuple, run_format: bool,
            quiet: bool, verbose: bool) -> None:
    """Convert a PyTorch file or folder to MindSpore; a file is printed unless -o is given."""
    from ..core.sourcefile import (
        SourceError,
        atomic_write,
        decode_source,
        encode_source,
        read_source_text,
    )
    from ..engine import ConversionError, convert_source
    from .config import ConfigError, find_config
    from .formatting import FormatError, format_code, require_formatter
    from .project import unified_diff

    if sum([output is not None, in_place, show_diff, check]) > 1:
        fail("choose one of -o/--output, --in-place, --diff and --check")
    try:
        config = find_config([path, Path.cwd()])
    except ConfigError as exc:
        fail(f"configuration: {exc}")
    extra_rules = (*config.rules, *extra_rules)
    rules = _load_rules(extra_rules)
    if run_format:
        try:
            require_formatter()
        except FormatError as exc:
            fail(str(exc))
    reports = {"json": report_path, "md": report_md, "html": report_html}
    if path.is_dir():
        from .folder import run_folder
        from .project import Options, default_jobs
        options = Options(output=output, in_place=in_place, diff=show_diff,
                          exclude=(*config.exclude, *exclude), rule_paths=extra_rules,
                          jobs=jobs or config.jobs or default_jobs(), format=run_format)
        sys.exit(run_folder(path, options, check=check, quiet=quiet, verbose=verbose,
                            reports=reports))
    if str(path) == "-" and in_place:
        fail("--in-place needs a file, not standard input")
    try:
        # `-` reads standard input (an editor or another tool piping code through)
        source = (decode_source(sys.stdin.buffer.read(), "<stdin>") if str(path) == "-"
                  else read_source_text(path))
        from .project import paused_gc
        with paused_gc():
            result = convert_source(source.text, "<stdin>" if str(path) == "-" else str(path),
                                    rules)
        if run_format and result.changed:
            result.code = format_code(result.code, str(path))
    except (SourceError, ConversionError, FormatError) as exc:
        fail(str(exc))
    report = result.report
    if not quiet:
        for line in report.lines(verbose):
            click.echo(line, err=True)
        click.echo(report.summary(), err=True)
    if any(reports.values()):
        from .folder import single_file_result, write_reports
        if not write_reports(single_file_result(path, source.text, report), reports):
            sys.exit(EXIT_ERROR)
    if check:
        sys.exit(EXIT_CHANGED if result.changed else EXIT_OK)
    if show_diff:
        click.echo("".join(unified_diff(source.text, result.code, str(path))), nl=False)
        sys.exit(EXIT_CHANGED if result.changed else EXIT_OK)
    target = path if in_place else output
    if target is None:
        click.echo(result.code, nl=False)
        return
    if target.resolve() != path.resolve() or result.changed:
        try:
            # named by the user: a link is resolved once and its regular target replaced
            atomic_write(target, encode_source(source, result.code), follow=True)
        except SourceError as exc:
            fail(str(exc))
    if in_place:
        sys.exit(EXIT_CHANGED if result.changed else EXIT_OK)


def _totals(reports) -> dict:
    converted = sum(r.converted for r in reports)
    uses = sum(r.api_uses for r in reports)
    return {"api_uses": uses, "converted": converted,
            "unsupported": sum(r.unsupported for r in reports),
            "conversion_rate": round(converted / uses, 4) if uses else 1.0}


def _write_json(path: Path, data: dict) -> None:
    from ..core.sourcefile import SourceError, atomic_write
    try:
        atomic_write(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"), follow=True)
    except SourceError as exc:
        fail(str(exc))


@main.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text")
@click.option("--rules", "extra_rules", multiple=True, type=click.Path(path_type=Path),
              help="Extra rule table (TOML); may repeat.")
def list_rules(fmt: str, extra_rules: tuple) -> None:
    """List the torch APIs ms-migrate converts, and to what."""
    from ..tables.doc import api_name, render_markdown, target_text

    ruleset = _load_rules(extra_rules)
    if fmt == "markdown":
        click.echo(render_markdown(ruleset), nl=False)
        return
    rules = sorted(ruleset, key=api_name)
    rows = [(api_name(r), target_text(r).strip("`"), r.unsupported or r.notes) for r in rules]
    if fmt == "json":
        click.echo(json.dumps([{"torch": a, "mindspore": b, "supported": not r.unsupported,
                                "notes": c} for (a, b, c), r in zip(rows, rules)], indent=1))
    else:
        for a, b, c in rows:
            click.echo(f"{a:45} {b:45} {c}")


def _register_commands() -> None:
    import importlib
    import pkgutil

    from . import commands
    for info in pkgutil.iter_modules(commands.__path__):
        importlib.import_module(f"{commands.__name__}.{info.name}")


_register_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
