"""Holding signals back while a step must not be cut in half.

Python runs a signal handler between two bytecodes, so Ctrl-C can land in the
middle of importing mindspore (whose half-made threads then abort the interpreter
at exit), or just after a system call made a folder and before the code that would
remove it took hold of it. Within `deferred()` a signal is noted, not acted on,
and raised again when the block ends.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator, List

_HELD = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


@contextmanager
def deferred() -> Iterator[None]:
    """Signals wait until the block ends (main thread only: the others never run
    Python's signal handlers). Blocking them with a thread mask is not enough: the
    kernel hands a process signal to any thread that does not block it, such as
    the BLAS threads numpy started earlier, and Python then acts on it in the main
    thread all the same."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: List[int] = []
    old = {s: signal.signal(s, lambda signum, _frame: caught.append(signum)) for s in _HELD}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
        if caught:
            signal.raise_signal(caught[0])
