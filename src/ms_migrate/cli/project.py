"""Converting a folder: every .py file converted, other files copied, structure kept.

Files are converted in a pool of worker processes (each loads the rule tables
once); one bad file is reported and the rest still converted. Never prints: the
caller gets one FileOutcome per file, as each finishes, and a ProjectResult.
"""
from __future__ import annotations

import difflib
import fnmatch
import gc
import os
import signal
import stat
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterator, List, NamedTuple, Optional, Tuple

from ..core.report import Report
from ..core.selection import Selection

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
    selection: Selection = Selection()  # the rules and passes to run
    jit: bool = False                  # compile training steps and models (mindspore.jit)


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

def unified_diff(old: str, new: str, name: str) -> List[str]:
    return list(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                     f"a/{name}", f"b/{name}"))


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


class Task(NamedTuple):
    kind: str                  # convert | copy | link | error
    path: str
    rel: str
    target: Optional[str]      # where to write; None: nothing written
    diff: bool = False
    format: bool = False
    follow: bool = False       # the user named this path: a link is resolved once
    base: Optional[str] = None  # the output folder: no link below it is written through
    note: str = ""             # an error found while planning; a link's text
    jit: bool = False          # convert with mindspore.jit (see engine.convert_source)


def walk(root: Path) -> Iterator[Tuple[str, Path, str, str]]:
    """(kind, path, rel, message) for every entry, kind file|link|special|error.

    Links are listed, never followed (a folder link is not entered); a folder that
    cannot be read is an error, not silently left out.
    """
    stack = [(Path(root), "")]
    while stack:
        folder, rel_folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            yield ("error", folder, rel_folder.rstrip("/") or ".",
                   f"{folder}: cannot read folder: {exc.strerror or exc}; its files are left out")
            continue
        subfolders = []
        for entry in entries:
            rel = rel_folder + entry.name
            path = folder / entry.name
            try:
                if entry.is_symlink():
                    yield "link", path, rel, ""
                elif entry.is_dir(follow_symlinks=False):
                    if entry.name not in SKIP_DIRS:
                        subfolders.append((path, rel + "/"))
                elif entry.is_file(follow_symlinks=False):
                    yield "file", path, rel, ""
                else:
                    from ..core.sourcefile import kind_of
                    kind = kind_of(entry.stat(follow_symlinks=False).st_mode)
                    yield "special", path, rel, f"{path}: {kind}, not a regular file; skipped"
            except OSError as exc:
                yield "error", path, rel, f"{path}: cannot read: {exc.strerror or exc}"
        stack.extend(reversed(subfolders))


def link_inside(root: Path, path: Path, rel: str) -> Optional[str]:
    """The link's text, relative, when it points inside the tree; None when it leaves it.

    Both the written text and where it really leads must stay inside: a link is
    recreated in the output as it is, never followed.
    """
    try:
        text = os.readlink(path)
    except OSError:
        return None
    top = os.path.realpath(root)
    here = os.path.dirname(os.path.join(top, rel))
    lexical = os.path.normpath(os.path.join(here, text))   # an absolute text stays absolute
    real = os.path.realpath(path)
    if not all(p == top or p.startswith(top + os.sep) for p in (lexical, real)):
        return None
    return os.path.relpath(lexical, here)


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
    if out == src:
        raise ProjectError(f"output folder {output} is the input folder; "
                           f"use --in-place to rewrite it")
    if src in out.parents:
        raise ProjectError(f"output folder {output} is inside the input folder {root}")
    if out in src.parents:
        raise ProjectError(f"input folder {root} is inside the output folder {output}; "
                           f"writing there could overwrite the input")


# --- one file (runs in a worker) ------------------------------------------

# What each worker process converts with (set once per process, read by every task).
_RULES = None
_SELECTION = Selection()


def _init_worker(rule_paths: Tuple[Path, ...], selection: Selection) -> None:
    """Load the rules once per worker; let the parent handle Ctrl-C."""
    global _RULES, _SELECTION
    from ..tables.load import load_rules
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # pool.terminate() sends SIGTERM: unwind, so a write in progress removes its temp file.
    signal.signal(signal.SIGTERM, _leave(143))
    if hasattr(signal, "SIGHUP"):  # a closed terminal reaches the workers too
        signal.signal(signal.SIGHUP, _leave(129))
    sys.unraisablehook = _exit_again
    _RULES = load_rules(tuple(rule_paths))
    _SELECTION = selection
    settle_heap()
    _hold_quick_codegen()


def _leave(code: int):
    def leave(_signum, _frame):
        raise SystemExit(code)
    return leave


def _exit_again(unraisable) -> None:
    """A signal's SystemExit raised inside a weakref callback or a __del__ is swallowed
    there (Python prints it and goes on), and the worker would run on, or block on the
    task queue for ever. Raise it again a moment later, from the worker's own code, so
    it still unwinds (temporary files removed) and ends."""
    exc = unraisable.exc_value
    if not isinstance(exc, SystemExit) or not hasattr(signal, "setitimer"):
        sys.__unraisablehook__(unraisable)
        return
    signal.signal(signal.SIGALRM, _leave(exc.code))
    signal.setitimer(signal.ITIMER_REAL, 0.01)


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


def settle_heap() -> None:
    """Keep the collector from rescanning what stays loaded for the whole run (the
    modules, the rule tables): without it each full collection between files walks
    them all again, 5% of a run's time here. Only for processes that convert and end."""
    gc.collect()
    gc.freeze()


def _hold_quick_codegen() -> None:
    """libcst's codegen stays swapped for what a worker process has left to live (it
    only converts): swapping it in and out for each file makes the interpreter drop
    what it has learnt about libcst's classes each time (1% of a run)."""
    from ..core.quick_libcst import quick_codegen
    quick_codegen().__enter__()


def run_task(task: Task) -> FileOutcome:
    from ..core.sourcefile import SourceError
    outcome = FileOutcome(task.rel, "convert" if task.kind == "convert" else "copy")
    try:
        _check_parents(task)
        if task.kind == "error":
            outcome.error = task.note
        elif task.kind == "link":
            from ..core.sourcefile import make_link
            make_link(Path(task.target), task.note)
        elif task.kind == "copy":
            from ..core.sourcefile import atomic_copy
            atomic_copy(Path(task.path), Path(task.target))
        else:
            with paused_gc():
                _convert_task(outcome, task)
    except SourceError as exc:
        outcome.error = str(exc)
    except Exception as exc:  # a bug on one file must not stop the others
        outcome.error = (f"{task.path}: internal error ({type(exc).__name__}: {exc}); "
                         f"left unconverted; please report it")
        outcome.report = None
        _copy_unconverted(task)
    return outcome


def _check_parents(task: Task) -> None:
    """Refuse to write below a folder of the output that is a link (or not a folder)."""
    from ..core.sourcefile import SourceError
    if task.base is None or task.target is None:
        return
    folder = Path(task.base)
    for part in Path(task.target).relative_to(task.base).parts[:-1]:
        folder = folder / part
        try:
            mode = os.lstat(folder).st_mode
        except FileNotFoundError:
            return
        except OSError as exc:
            raise SourceError(f"{folder}: cannot write: {exc.strerror or exc}") from None
        if stat.S_ISLNK(mode):
            raise SourceError(f"{folder}: is a symbolic link; {task.target} not written through it")
        if not stat.S_ISDIR(mode):
            raise SourceError(f"{folder}: not a folder; {task.target} not written")


def _copy_unconverted(task: Task) -> None:
    """After a failed conversion, the -o tree still gets the original file."""
    from ..core.sourcefile import SourceError, atomic_copy
    if task.kind != "convert" or task.target is None or Path(task.target) == Path(task.path):
        return
    try:
        atomic_copy(Path(task.path), Path(task.target), task.follow)
    except SourceError:
        pass


def _convert_task(outcome: FileOutcome, task: Task) -> None:
    from ..core.sourcefile import atomic_write, encode_source, read_source_text
    from ..engine import ConversionError, convert_source
    from .formatting import FormatError, format_code
    path, target = Path(task.path), task.target
    source = read_source_text(path, task.follow)
    try:
        outcome.lines = source.text.count("\n") + (not source.text.endswith("\n"))
        result = convert_source(source.text, str(path), _RULES, _SELECTION, jit=task.jit)
        code = result.code
        if task.format and result.changed:
            code = format_code(code, str(path))
    except (ConversionError, FormatError) as exc:
        outcome.error = str(exc)
        _copy_unconverted(task)   # the output tree stays complete
        return
    outcome.report = result.report
    outcome.snippets = _snippets(source.text, result.report)
    if task.diff:
        from ..core.report import shown
        outcome.diff = "".join(unified_diff(source.text, code, shown(outcome.rel)))
    if target is not None and (result.changed or Path(target) != path):
        atomic_write(Path(target), encode_source(source, code), task.follow)


def _snippets(text: str, report: Report) -> Dict[int, str]:
    wanted = {f.line for f in report.findings if f.line > 0}
    if not wanted:
        return {}
    lines = text.splitlines()
    return {n: lines[n - 1].strip()[:200] for n in sorted(wanted) if n <= len(lines)}


# --- the whole folder -------------------------------------------------------

def plan(root: Path, options: Options) -> List[Task]:
    tasks: List[Task] = []
    base = str(options.output) if options.output is not None else None
    for kind, path, rel, message in walk(root):
        excluded = is_excluded(rel, options.exclude)
        target = None
        if options.output is not None:
            target = str(options.output / rel)
        elif options.in_place:
            target = str(path)
        if kind in ("error", "special"):
            if not (excluded and options.output is None):
                tasks.append(Task("error", str(path), rel, None, note=message))
        elif kind == "link":
            text = link_inside(root, path, rel)
            if text is None:
                if not (excluded and options.output is None):
                    tasks.append(Task("error", str(path), rel, None, note=(
                        f"{path}: symbolic link to a path outside the folder; not followed")))
            elif options.output is not None:
                tasks.append(Task("link", str(path), rel, target, base=base, note=text))
        elif path.suffix == ".py" and not excluded:
            tasks.append(Task("convert", str(path), rel, target, options.diff, options.format,
                              base=base, jit=options.jit))
        elif options.output is not None:
            tasks.append(Task("copy", str(path), rel, target, base=base))
    return tasks


def plan_files(paths: List[Path], options: Options, follow: bool = True) -> List[Task]:
    """Tasks for files named one by one (analyze, a pre-commit run); in place or check only.

    follow: a named link is resolved once (analyze); pre-commit passes False, so a
    link staged in a repository is never written through.
    """
    return [Task("convert", str(p), p.as_posix(), str(p) if options.in_place else None,
                 options.diff, options.format, follow=follow, jit=options.jit) for p in paths]


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
        global _RULES, _SELECTION
        from ..tables.load import load_rules
        _RULES = load_rules(tuple(options.rule_paths))
        _SELECTION = options.selection
        from ..core.quick_libcst import quick_codegen
        with quick_codegen():  # once for the run, not once a file (_hold_quick_codegen)
            yield from map(run_task, tasks)
        return
    import multiprocessing
    # fork: workers inherit the parent's imports and loaded rules, so they start at once.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    pool = multiprocessing.get_context(method).Pool(
        jobs, initializer=_init_worker, initargs=(tuple(options.rule_paths), options.selection))
    try:
        # Big files first, so one large file does not finish alone at the end.
        ordered = sorted(tasks, key=lambda t: -_size(t[1]) if t[0] == "convert" else 0)
        chunk = max(1, len(tasks) // (jobs * 16))
        yield from pool.imap_unordered(run_task, ordered, chunksize=chunk)
        pool.close()
    except BaseException:
        _stop_workers(pool)
        raise
    finally:
        pool.join()


def _stop_workers(pool, patience: float = 5.0) -> None:
    """pool.terminate(), which SIGTERMs the workers and waits for each. A worker stopped
    while another held the result queue's lock blocks on that lock and never ends, so
    whoever is left after `patience` seconds is killed: an interrupt never hangs."""
    import threading
    stopper = threading.Thread(target=pool.terminate, name="ms-migrate-stop", daemon=True)
    stopper.start()
    stopper.join(patience)
    if stopper.is_alive():
        for worker in list(getattr(pool, "_pool", ())):
            if worker.exitcode is None:
                worker.kill()
        stopper.join()


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
