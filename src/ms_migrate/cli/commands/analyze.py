"""`ms-migrate analyze PATH`: which torch APIs a project uses, and which convert.

Runs the converter without writing anything and groups its findings by API:
how often, where, supported or not, why, and what to do about it.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import click

from ...core.report import CONVERTED, UNSUPPORTED, WARNING, shown
from ..base import EXIT_ERROR, EXIT_OK, fail, main

MAX_PLACES = 5  # locations shown per API in text and Markdown (JSON has them all)


@dataclass
class ApiUse:
    api: str
    uses: int = 0
    converted: int = 0
    places: List[str] = field(default_factory=list)      # "file:line"
    targets: Dict[str, None] = field(default_factory=dict)
    reasons: Dict[str, None] = field(default_factory=dict)
    suggestion: str = ""

    @property
    def status(self) -> str:
        if self.converted == self.uses:
            return "supported"
        return "unsupported" if self.converted == 0 else "partly supported"


def collect(result) -> List[ApiUse]:
    """Findings of every file grouped by API, most used first."""
    apis: Dict[str, ApiUse] = {}
    for outcome in result.converted_files:
        for f in (outcome.report.findings if outcome.report else ()):
            if f.action not in (CONVERTED, WARNING, UNSUPPORTED):
                continue
            use = apis.setdefault(f.api, ApiUse(f.api))
            use.uses += 1
            use.places.append(shown(f"{outcome.rel}:{f.line}" if f.line else outcome.rel))
            if f.action == UNSUPPORTED:
                use.reasons[f.message] = None
            else:
                use.converted += 1
                use.targets[f.target or f.message.split(" (")[0].replace("-> ", "")] = None
    return sorted(apis.values(), key=lambda u: (-u.uses, u.api))


def suggest(use: ApiUse, rules) -> str:
    """What a user can do about an API that does not (always) convert."""
    if use.status == "supported":
        return ""
    name = use.api.rpartition(".")[2]
    similar = sorted(r.torch_name for r in rules
                     if r.target and r.torch_name.rpartition(".")[2] == name
                     and r.torch_name != use.api and not r.torch_name.startswith("."))
    if similar:
        return f"{similar[0]} converts; write the call that way, or add a rule"
    if use.converted:
        return "some uses convert: compare the arguments of the uses that do not"
    return "rewrite by hand, or add a rule table entry for it (docs/writing-rules.md)"


def analyze_path(path: Path, exclude: tuple, rule_paths: tuple, jobs: int):
    from ..project import Options, convert_project, plan_files
    options = Options(exclude=exclude, rule_paths=rule_paths, jobs=jobs)
    if path.is_dir():
        return convert_project(path, options)
    return convert_project(path.parent, options, tasks=plan_files([path], options))


def render_text(uses: List[ApiUse], result) -> List[str]:
    total = sum(u.uses for u in uses)
    converted = sum(u.converted for u in uses)
    lines = [f"{len(result.converted_files)} Python files, {result.lines:,} lines: "
             f"{total} torch API uses of {len(uses)} APIs, {converted} convert "
             f"({converted / total if total else 1:.1%})", ""]
    for u in uses:
        head = f"{u.api:45} {u.uses:5}  {u.status}"
        if u.targets:
            head += f" -> {', '.join(u.targets)}"
        lines.append(head)
        for reason in u.reasons:
            lines.append(f"    why: {reason}")
        if u.suggestion:
            lines.append(f"    suggestion: {u.suggestion}")
        if u.status != "supported":
            more = f" (+{len(u.places) - MAX_PLACES} more)" if len(u.places) > MAX_PLACES else ""
            lines.append(f"    at {', '.join(u.places[:MAX_PLACES])}{more}")
    return lines


def render_markdown(uses: List[ApiUse], result) -> List[str]:
    lines = [f"# torch APIs used in {shown(str(result.root))}", "",
             "| API | uses | status | MindSpore | why / suggestion | where |",
             "|---|---|---|---|---|---|"]
    for u in uses:
        why = "; ".join([*u.reasons, u.suggestion] if u.suggestion else u.reasons)
        places = ", ".join(u.places[:MAX_PLACES]) + (" ..." if len(u.places) > MAX_PLACES else "")
        lines.append(f"| `{u.api}` | {u.uses} | {u.status} | "
                     f"{', '.join(f'`{t}`' for t in u.targets)} | "
                     f"{why.replace('|', '/')} | {places} |")
    return lines


@main.command("analyze")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--markdown", "as_markdown", is_flag=True, help="Print a Markdown table.")
@click.option("--rules", "extra_rules", multiple=True, type=click.Path(path_type=Path),
              help="Extra rule table (TOML); may repeat.")
@click.option("--exclude", multiple=True, help="Glob of files or folders to skip; may repeat.")
@click.option("-j", "--jobs", type=click.IntRange(min=1),
              help="Worker processes (default: all cores).")
def analyze(path: Path, as_json: bool, as_markdown: bool, extra_rules: tuple, exclude: tuple,
            jobs: Optional[int]) -> None:
    """List every torch API PATH uses, how often, where, and whether it converts.

    Writes no code.
    """
    from ...tables.load import TableError, load_rules
    from ..config import ConfigError, find_config
    from ..project import ProjectError, default_jobs

    if as_json and as_markdown:
        fail("choose one of --json and --markdown")
    if not path.exists():
        fail(f"{path}: no such file or folder")
    try:
        config = find_config([path, Path.cwd()])
        rule_paths = (*config.rules, *extra_rules)
        rules = load_rules(tuple(rule_paths))
        result = analyze_path(path, (*config.exclude, *exclude), rule_paths,
                              jobs or config.jobs or default_jobs())
    except (ConfigError, TableError, ProjectError) as exc:
        fail(str(exc))
    if not result.converted_files:
        fail(f"{path}: no Python files to analyze")
    uses = collect(result)
    for use in uses:
        use.suggestion = suggest(use, rules)
    for message in result.errors:
        click.echo(f"ms-migrate: error: {shown(message)}", err=True)
    if as_json:
        click.echo(json.dumps({
            "files": len(result.converted_files), "lines": result.lines,
            "errors": [shown(e) for e in result.errors],
            "apis": [{"api": u.api, "uses": u.uses, "converted": u.converted,
                      "status": u.status, "targets": list(u.targets),
                      "reasons": list(u.reasons), "suggestion": u.suggestion,
                      "places": u.places} for u in uses]}, indent=2))
    else:
        render = render_markdown if as_markdown else render_text
        click.echo("\n".join(render(uses, result)))
    sys.exit(EXIT_ERROR if result.errors else EXIT_OK)
