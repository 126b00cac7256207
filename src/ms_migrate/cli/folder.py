"""The command-line side of a folder run: progress bar, messages, reports, exit code."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .project import (
    FileOutcome,
    Options,
    ProjectError,
    ProjectResult,
    check_paths,
    convert_project,
    plan,
    settle_heap,
)

EXIT_OK, EXIT_CHANGED, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130


def error(message: str) -> None:
    from ..core.report import shown
    click.echo(f"ms-migrate: error: {shown(message)}", err=True)


def run_folder(root: Path, options: Options, check: bool, quiet: bool, verbose: bool,
               reports: dict) -> int:
    """Convert a folder and print what happened; returns the exit code."""
    if options.output is None and not (options.in_place or options.diff or check):
        error("converting a folder needs -o OUT_DIR, --in-place, --diff or --check")
        return EXIT_ERROR
    try:
        result = run_with_progress(root, options, quiet, show_diff=options.diff)
    except ProjectError as exc:
        error(str(exc))
        return EXIT_ERROR
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM/SIGHUP (signals.py)
        from .signals import exit_code
        error("interrupted; every file written so far is complete, the rest untouched")
        return exit_code(exc)
    if not quiet:
        for outcome in result.outcomes:
            if outcome.report is not None:
                for line in outcome.report.lines(verbose):
                    click.echo(line, err=True)
        from .projectreport import summary_lines
        for line in summary_lines(result, options.jobs):
            click.echo(line, err=True)
    if not write_reports(result, reports):
        return EXIT_ERROR
    if result.errors:
        return EXIT_ERROR
    if (check or options.in_place or options.diff) and result.changed:
        return EXIT_CHANGED
    return EXIT_OK


def run_with_progress(root: Path, options: Options, quiet: bool,
                      show_diff: bool = False) -> ProjectResult:
    """Run the folder; a progress bar on a terminal, errors as they happen."""
    check_paths(root, options.output)
    tasks = plan(root, options)
    if not any(task.kind == "convert" for task in tasks):
        raise ProjectError(f"{root}: no Python files to convert")
    from ..tables.load import load_rules
    load_rules(tuple(options.rule_paths))  # here, so settle_heap covers them and workers inherit them
    settle_heap()
    bar = None
    if not quiet and tasks and sys.stderr.isatty():
        bar = click.progressbar(length=len(tasks), label="converting", file=sys.stderr,
                                show_pos=True)
        bar.__enter__()

    def on_file(outcome: FileOutcome) -> None:
        if outcome.error:
            if bar:
                click.echo("\r\033[K", nl=False, err=True)  # clear the bar's line first
            error(outcome.error)
        if show_diff and outcome.diff:
            click.echo(outcome.diff, nl=False)
        if bar:
            bar.update(1)

    try:
        return convert_project(root, options, on_file=on_file, tasks=tasks)
    finally:
        if bar:
            bar.__exit__(None, None, None)


def write_reports(result: ProjectResult, reports: dict) -> bool:
    """Write the --report (JSON), --report-md and --report-html files asked for."""
    import json

    from ..core.sourcefile import SourceError, atomic_write
    from .projectreport import to_html, to_json, to_markdown
    render = {"json": lambda p: json.dumps(to_json(result), indent=2) + "\n",
              "md": lambda p: to_markdown(result, p), "html": lambda p: to_html(result, p)}
    for kind, path in reports.items():
        if path is None:
            continue
        try:
            # a report path the user named may be a link: its target is replaced, once
            atomic_write(Path(path), render[kind](Path(path)).encode("utf-8", "replace"),
                         follow=True)
        except SourceError as exc:
            error(str(exc))
            return False
    return True


def single_file_result(path: Path, source_text: str, report) -> ProjectResult:
    """A one-file ProjectResult, so one file gets the same reports as a folder."""
    from .project import _snippets
    outcome = FileOutcome(path.name, lines=source_text.count("\n"), report=report,
                          snippets=_snippets(source_text, report))
    return ProjectResult(path.parent, [outcome], 0.0)

