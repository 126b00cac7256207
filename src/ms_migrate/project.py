"""Converting a folder: every .py file converted, other files copied, structure kept.

Files are converted in a pool of worker processes (each loads the rule tables
once); one bad file is reported and the rest still converted. Never prints: the
caller gets one FileOutcome per file, as each finishes, and a ProjectResult.
"""
from __future__ import annotations

import fnmatch
import gc
import os
import signal
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

from .report import Report

SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", ".venv", "venv", ".tox", ".nox",
             ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis", "build", "dist",
             ".eggs", "node_modules"}


class ProjectError(Exception):
    """The folder run cannot start (bad paths); the message says why."""


@dataclass
class Options:
    output: Optional[Path] = None      # folder to write into; None: in place or nothing
    in_place: bool = False
    diff: bool = False                 # return unified diffs
    exclude: Tuple[str, ...] = ()
    rule_paths: Tuple[Path, ...] = ()
    jobs: int = 1
    format: bool = False               # run ruff/black on changed output


@dataclass
class FileOutcome:
    rel: str                           # path relative to the converted folder, posix
    kind: str = "convert"              # convert | copy
    lines: int = 0
    report: Optional[Report] = None
    error: Optional[str] = None
    diff: str = ""
    snippets: Dict[int, str] = field(default_factory=dict)  # line -> source text

    @property
    def changed(self) -> bool:
        return self.report is not None and self.report.changed


@dataclass
class ProjectResult:
    root: Path
    outcomes: List[FileOutcome]
    seconds: float

    @property
    def converted_files(self) -> List[FileOutcome]:
        return [o for o in self.outcomes if o.kind == "convert"]

    @property
    def reports(self) -> List[Report]:
        return [o.report for o in self.outcomes if o.report is not None]

    @property
    def errors(self) -> List[str]:
        return [o.error for o in self.outcomes if o.error]

    @property
    def changed(self) -> int:
        return sum(o.changed for o in self.outcomes)

    @property
    def lines(self) -> int:
        return sum(o.lines for o in self.outcomes)


# --- planning ---------------------------------------------------------------

def is_excluded(rel: str, patterns: Tuple[str, ...]) -> bool:
    """As in .gitignore: a glob without "/" matches any file or folder name on the
    path; one with "/" matches the path from the top (or a folder above the file)."""
    parts = rel.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    for pattern in patterns:
        pattern = pattern.strip("/")
        candidates = prefixes if "/" in pattern else parts
        if any(fnmatch.fnmatchcase(c, pattern) for c in candidates):
            return True
    return False


def iter_files(root: Path, exclude: Tuple[str, ...] = ()) -> Iterator[Tuple[Path, str, bool]]:
    """(path, relative posix path, excluded) for every file; symlinked folders not entered."""
    for folder, dirs, files in os.walk(root, followlinks=False):
        rel_folder = Path(folder).relative_to(root).as_posix()
        rel_folder = "" if rel_folder == "." else rel_folder + "/"
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS
                         and not os.path.islink(os.path.join(folder, d)))
        for name in sorted(files):
            rel = rel_folder + name
            yield Path(folder) / name, rel, is_excluded(rel, exclude)


def check_paths(root: Path, output: Optional[Path]) -> None:
    if not root.exists():
        raise ProjectError(f"{root}: no such file or folder")
    if not os.access(root, os.R_OK | os.X_OK):
        raise ProjectError(f"{root}: permission denied")
    if output is None:
        return
    if output.exists() and not output.is_dir():
        raise ProjectError(f"{output}: output exists and is not a folder")
    out, src = output.resolve(), root.resolve()
    if out == src or src in out.parents:
        raise ProjectError(f"output folder {output} is inside the input folder {root}")


# --- one file (runs in a worker) ------------------------------------------

Task = Tuple[str, str, str, Optional[str], bool, bool]  # kind, path, rel, target, diff, format

_RULES = None


def _init_worker(rule_paths: Tuple[Path, ...]) -> None:
    """Load the rules once per worker; let the parent handle Ctrl-C."""
    global _RULES
    from .rules import load_rules
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # pool.terminate() sends SIGTERM: unwind, so a write in progress removes its temp file.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    _RULES = load_rules(tuple(rule_paths))


@contextmanager
def paused_gc():
    """No cyclic garbage collection while a file converts.

    libcst allocates millions of small objects, which triggers collections that
    rescan the growing tree again and again (a quarter of the time here); the
    trees hold no cycles, so reference counting frees them anyway.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run_task(task: Task) -> FileOutcome:
    kind, path, rel, target, want_diff, want_format = task
    from .sourcefile import SourceError, atomic_copy
    outcome = FileOutcome(rel, kind)
    try:
        if kind == "copy":
            if target is not None:
                atomic_copy(Path(path), Path(target))
        else:
            with paused_gc():
                _convert_task(outcome, Path(path), target, want_diff, want_format)
    except SourceError as exc:
        outcome.error = str(exc)
    return outcome


def _convert_task(outcome: FileOutcome, path: Path, target: Optional[str], want_diff: bool,
                  want_format: bool) -> None:
    from .engine import ConversionError, convert_source
    from .formatting import FormatError, format_code
    from .sourcefile import SourceError, atomic_copy, atomic_write, encode_source, \
        read_source_text
    try:
        source = read_source_text(path)
        outcome.lines = source.text.count("\n") + (not source.text.endswith("\n"))
        result = convert_source(source.text, str(path), _RULES)
        code = result.code
        if want_format and result.changed:
            code = format_code(code, str(path))
    except (ConversionError, FormatError) as exc:
        outcome.error = str(exc)
        if target is not None and Path(target) != path:
            atomic_copy(path, Path(target))   # the output tree stays complete
        return
    except SourceError as exc:
        outcome.error = str(exc)
        return
    outcome.report = result.report
    outcome.snippets = _snippets(source.text, result.report)
    if want_diff:
        from .cli import unified_diff
        outcome.diff = "".join(unified_diff(source.text, code, outcome.rel))
    if target is not None and (result.changed or Path(target) != path):
        atomic_write(Path(target), encode_source(source, code))


def _snippets(text: str, report: Report) -> Dict[int, str]:
    wanted = {f.line for f in report.findings if f.line > 0}
    if not wanted:
        return {}
    lines = text.splitlines()
    return {n: lines[n - 1].strip()[:200] for n in sorted(wanted) if n <= len(lines)}


# --- the whole folder -------------------------------------------------------

def plan(root: Path, options: Options) -> List[Task]:
    tasks: List[Task] = []
    for path, rel, excluded in iter_files(root, options.exclude):
        target = None
        if options.output is not None:
            target = str(options.output / rel)
        elif options.in_place:
            target = str(path)
        if path.suffix == ".py" and not excluded:
            tasks.append(("convert", str(path), rel, target, options.diff, options.format))
        elif options.output is not None:
            tasks.append(("copy", str(path), rel, target, False, False))
    return tasks


def plan_files(paths: List[Path], options: Options) -> List[Task]:
    """Tasks for files named one by one (a pre-commit run); in place or check only."""
    return [("convert", str(p), p.as_posix(), str(p) if options.in_place else None,
             options.diff, options.format) for p in paths]


def convert_project(root: Path, options: Options,
                    on_file: Optional[Callable[[FileOutcome], None]] = None,
                    tasks: Optional[List[Task]] = None) -> ProjectResult:
    """Convert (or, with neither output nor in_place, only analyse) a folder."""
    start = time.perf_counter()
    if tasks is None:
        check_paths(root, options.output)
        tasks = plan(root, options)
    if options.output is not None:
        try:
            options.output.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ProjectError(f"{options.output}: cannot create: {exc.strerror or exc}") \
                from None
    outcomes = []
    for outcome in _run(tasks, options):
        outcomes.append(outcome)
        if on_file is not None:
            on_file(outcome)
    outcomes.sort(key=lambda o: o.rel)
    return ProjectResult(root, outcomes, time.perf_counter() - start)


def _run(tasks: List[Task], options: Options) -> Iterator[FileOutcome]:
    jobs = max(1, min(options.jobs, sum(t[0] == "convert" for t in tasks)))
    if jobs == 1:
        global _RULES
        from .rules import load_rules
        _RULES = load_rules(tuple(options.rule_paths))
        yield from map(run_task, tasks)
        return
    import multiprocessing
    # fork: workers inherit the parent's imports and loaded rules, so they start at once.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    pool = multiprocessing.get_context(method).Pool(
        jobs, initializer=_init_worker, initargs=(tuple(options.rule_paths),))
    try:
        # Big files first, so one large file does not finish alone at the end.
        ordered = sorted(tasks, key=lambda t: -_size(t[1]) if t[0] == "convert" else 0)
        chunk = max(1, len(tasks) // (jobs * 16))
        yield from pool.imap_unordered(run_task, ordered, chunksize=chunk)
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1
