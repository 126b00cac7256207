"""Signals: SIGTERM and SIGHUP unwind like Ctrl-C, so temporary files are removed.

The default action of SIGTERM/SIGHUP kills the process on the spot, leaving a
half-made temporary file (hundreds of MB for a checkpoint). Raised as exceptions
instead, every `finally` and `with` on the way out cleans up. The exit code is the
shell's 128 + signal number: 130 Ctrl-C, 129 SIGHUP, 143 SIGTERM.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator

_CAUGHT = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))


class Interrupted(KeyboardInterrupt):
    """A termination signal, raised where the program was (a KeyboardInterrupt, so the
    same handlers clean up and no `except Exception` swallows it)."""

    def __init__(self, signum: int):
        super().__init__(f"signal {signum}")
        self.signum = signum


def exit_code(exc: BaseException) -> int:
    return 128 + getattr(exc, "signum", signal.SIGINT)


def _raise(signum, _frame):
    raise Interrupted(signum)


@contextmanager
def handled() -> Iterator[None]:
    """Within: SIGTERM and SIGHUP raise Interrupted (main thread only; restored after)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.signal(s, _raise) for s in _CAUGHT}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
