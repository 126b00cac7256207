"""What every command shares: the `ms-migrate` group, exit codes, errors, rule loading.

Exit codes follow pre-commit's contract: 0 nothing to do, 1 files changed or would
change, 2 error.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

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


def load_rules_or_fail(extra: tuple):
    from ..tables.load import TableError, load_rules
    try:
        return load_rules(tuple(Path(p) for p in extra))
    except TableError as exc:
        fail(f"rule table: {exc}")
