"""`--format`: run `ruff format` (or black) on converted code that changed."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from functools import lru_cache
from typing import List, Optional


class FormatError(Exception):
    """No formatter is installed, or it refused the code; the message says which."""


# How each formatter reads code on stdin and writes it to stdout.
_FORMATTERS = (("ruff", ["format", "-"]), ("black", ["-q", "-"]))


@lru_cache(maxsize=None)
def formatter_command() -> Optional[List[str]]:
    """The command that formats stdin to stdout, or None when none is installed."""
    bin_dir = os.path.dirname(sys.executable)   # the tool beside this Python counts too
    for tool, args in _FORMATTERS:
        exe = shutil.which(tool) or shutil.which(tool, path=bin_dir)
        if exe:
            return [exe, *args]
    return None


def require_formatter() -> None:
    if formatter_command() is None:
        raise FormatError("--format needs `ruff` or `black`; neither is installed "
                          "(pip install ruff)")


def format_code(code: str, filename: str) -> str:
    require_formatter()
    # --stdin-filename lets the formatter find the project's own settings.
    command = [*formatter_command()[:-1], "--stdin-filename", filename, "-"]
    try:
        done = subprocess.run(command, input=code.encode("utf-8"), capture_output=True,
                              timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FormatError(f"{filename}: formatter failed: {exc}") from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = detail[-1] if detail else f"exit status {done.returncode}"
        raise FormatError(f"{filename}: formatter failed: {reason}")
    return done.stdout.decode("utf-8")
