"""Command line: `ms-migrate convert|rules|...`; the other commands are in commands/.

Printing and exit codes live in the cli package only (codes: cli/base.py).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import click

from .base import EXIT_CHANGED, EXIT_ERROR, EXIT_OK, fail, load_rules_or_fail, main
from .commands import analyze, precommit, verify, weights  # noqa: F401  (their commands)


def _selection(rules, select: tuple, disable: tuple):
    """The rules and passes to run; an id that names nothing is an error, not a no-op."""
    from ..core.selection import Selection, split_ids
    from ..pipeline import known_ids
    selection = Selection(split_ids(select), split_ids(disable))
    unknown = selection.unknown(known_ids(rules))
    if unknown:
        fail(f"unknown rule or pass id: {', '.join(unknown)} "
             f"(`ms-migrate rules --ids` lists them)")
    return selection


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
@click.option("--select", multiple=True, metavar="IDS",
              help="Run only these rules and passes (comma-separated ids or dotted prefixes: "
                   "`torch.nn`, `Tensor.view`, `training`; `ms-migrate rules --ids` lists "
                   "them); may repeat.")
@click.option("--disable", multiple=True, metavar="IDS",
              help="Do not run these rules and passes; may repeat.")
@click.option("--jit/--no-jit", default=None,
              help="Graph mode: the training step becomes a @mindspore.jit function and "
                   "models' construct is compiled; what graph mode rejects is reported (default: `jit` in [tool.ms-migrate]).")
@click.option("-q", "--quiet", is_flag=True, help="No summary on stderr.")
@click.option("-v", "--verbose", is_flag=True, help="List every finding, not only problems.")
def convert(path: Path, output: Optional[Path], in_place: bool, show_diff: bool, check: bool,
            report_path: Optional[Path], extra_rules: tuple, report_md: Optional[Path],
            report_html: Optional[Path], jobs: Optional[int], exclude: tuple, run_format: bool,
            select: tuple, disable: tuple, quiet: bool, verbose: bool,
            jit: Optional[bool] = None) -> None:
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
    rules = load_rules_or_fail(extra_rules)
    selection = _selection(rules, (*config.select, *select), (*config.disable, *disable))
    jit = config.jit if jit is None else jit
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
                          jobs=jobs or config.jobs or default_jobs(), format=run_format,
                          selection=selection, jit=jit)
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
                                    rules, selection, jit=jit)
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
@click.option("--ids", is_flag=True,
              help="List the ids --select/--disable take: statement passes, then rules.")
def list_rules(fmt: str, extra_rules: tuple, ids: bool) -> None:
    """List the torch APIs ms-migrate converts, and to what."""
    from ..tables.doc import api_name, render_markdown, target_text

    ruleset = load_rules_or_fail(extra_rules)
    if ids:
        from ..pipeline import STATEMENT_PASSES
        for statement_pass in STATEMENT_PASSES:
            doc = (sys.modules[statement_pass.run.__module__].__doc__ or "").strip()
            click.echo(f"{statement_pass.id:45} pass: {doc.splitlines()[0] if doc else ''}")
        for rule in sorted(ruleset, key=lambda r: r.id):
            click.echo(f"{rule.id:45} rule: {rule.source}")
        return
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


if __name__ == "__main__":  # pragma: no cover
    main()
