"""A folder run's report: summary text, JSON, Markdown and HTML (pure functions)."""
from __future__ import annotations

import html
import os
import re
from collections import Counter
from pathlib import Path
from typing import List, Optional, Tuple
from urllib.parse import quote

from ..core.report import UNSUPPORTED, WARNING, Report, shown
from .project import FileOutcome, ProjectResult


def totals(reports: List[Report]) -> dict:
    converted = sum(r.converted for r in reports)
    uses = sum(r.api_uses for r in reports)
    return {"api_uses": uses, "converted": converted,
            "unsupported": sum(r.unsupported for r in reports),
            "conversion_rate": round(converted / uses, 4) if uses else 1.0}


def top_unsupported(reports: List[Report], limit: int = 10) -> List[Tuple[str, int]]:
    counts = Counter(f.api for r in reports for f in r.findings if f.action == UNSUPPORTED)
    return counts.most_common(limit)


def summary_lines(result: ProjectResult, jobs: int) -> List[str]:
    files = result.converted_files
    t = totals(result.reports)
    copied = len(result.outcomes) - len(files)
    lines = [f"{len(files)} Python files ({result.lines:,} lines), {result.changed} changed, "
             f"{len(result.errors)} with errors" + (f", {copied} other files copied"
                                                    if copied else ""),
             f"torch API uses: {t['api_uses']:,}, converted {t['converted']:,} "
             f"({t['conversion_rate']:.1%}), unsupported {t['unsupported']:,}"]
    top = top_unsupported(result.reports)
    if top:
        lines.append("most frequent unsupported: " +
                     ", ".join(f"{api} ({n})" for api, n in top))
    speed = result.lines / result.seconds if result.seconds else 0
    lines.append(f"time {result.seconds:.2f} s ({speed:,.0f} lines/s, {jobs} "
                 f"job{'s' if jobs != 1 else ''})")
    return lines


def to_json(result: ProjectResult) -> dict:
    files = []
    for o in result.converted_files:
        entry = o.report.to_dict() if o.report else {"file": o.rel, "error": o.error}
        entry.update(file=shown(entry["file"]), path=shown(o.rel), lines=o.lines)
        files.append(entry)
    return {"root": shown(str(result.root)), "files": files,
            "errors": [shown(e) for e in result.errors],
            "lines": result.lines, "seconds": round(result.seconds, 3),
            "top_unsupported": [{"api": a, "count": n} for a, n in
                                top_unsupported(result.reports, 50)],
            **totals(result.reports)}


def _link(result: ProjectResult, rel: str, report_path: Optional[Path]) -> str:
    """A relative URL of a source file as seen from the report's folder.

    Percent-encoded from the name's bytes (so `javascript:` or `"` in a folder name
    is only text) and starting with ./ or ../, so it can never be read as a scheme.
    """
    target = (result.root / rel).absolute()
    base = report_path.absolute().parent if report_path else Path.cwd()
    relative = Path(os.path.relpath(target, base)).as_posix()
    url = quote(os.fsencode(relative), safe="/")
    return url if url.startswith("../") else "./" + url


_MD_SPECIAL = re.compile(r"([\\`*\[\]|~])")


def _md(text: str) -> str:
    """Plain text in Markdown: no raw HTML, no link, emphasis or table syntax."""
    text = shown(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def _code(text: str) -> str:
    """A Markdown code span (nothing inside is markup), fenced past any backticks in it."""
    text = shown(text)
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}" if text.startswith("`") or text.endswith("`") \
        else f"{fence}{text}{fence}"


def _interesting(o: FileOutcome) -> bool:
    return o.error is not None or (o.report is not None and bool(o.report.findings))


def to_markdown(result: ProjectResult, report_path: Optional[Path] = None) -> str:
    t = totals(result.reports)
    out = [f"# ms-migrate report: {_md(str(result.root))}", "",
           f"{len(result.converted_files)} Python files, {result.lines:,} lines; "
           f"{t['converted']}/{t['api_uses']} torch API uses converted "
           f"({t['conversion_rate']:.1%}), {t['unsupported']} unsupported.", ""]
    top = top_unsupported(result.reports)
    if top:
        out += ["## Most frequent unsupported", "", "| API | uses |", "|---|---|"]
        out += [f"| {_code(api)} | {n} |" for api, n in top] + [""]
    out += ["## Files", "", "| file | API uses | converted | rate | unsupported |",
            "|---|---|---|---|---|"]
    for o in result.converted_files:
        anchor = _anchor(o.rel)
        if o.report is None:
            out.append(f"| [{_md(o.rel)}](#{anchor}) | error | | | |")
        elif _interesting(o):
            r = o.report
            out.append(f"| [{_md(o.rel)}](#{anchor}) | {r.api_uses} | {r.converted} | "
                       f"{r.conversion_rate:.0%} | {r.unsupported} |")
    for o in result.converted_files:
        if not _interesting(o):
            continue
        link = _link(result, o.rel, report_path)
        out += ["", f'<a id="{_anchor(o.rel)}"></a>', f"### [{_md(o.rel)}]({link})", ""]
        if o.error:
            out.append(f"Error: {_md(o.error)}")
            continue
        for f in _ordered(o.report):
            snippet = o.snippets.get(f.line, "")
            code = _code(snippet) if snippet else ""
            where = f"[line {f.line}]({link}#L{f.line})" if f.line else "(line unknown)"
            out.append(f"- {where} **{f.action}** {_code(f.api)}: "
                       f"{_md(f.message)}" + (f"  \n  {code}" if code else ""))
    return "\n".join(out) + "\n"


def to_html(result: ProjectResult, report_path: Optional[Path] = None) -> str:
    t = totals(result.reports)
    def esc(text: str) -> str:
        return html.escape(shown(text))
    rows, sections = [], []
    for o in result.converted_files:
        if not _interesting(o):
            continue
        anchor, link = _anchor(o.rel), esc(_link(result, o.rel, report_path))
        if o.report is None:
            rows.append(f'<tr class="error"><td><a href="#{anchor}">{esc(o.rel)}</a></td>'
                        f'<td colspan="4">error</td></tr>')
            sections.append(f'<h3 id="{anchor}"><a href="{link}">{esc(o.rel)}</a></h3>'
                            f'<p class="error">{esc(o.error)}</p>')
            continue
        r = o.report
        rows.append(f'<tr><td><a href="#{anchor}">{esc(o.rel)}</a></td><td>{r.api_uses}</td>'
                    f'<td>{r.converted}</td><td>{r.conversion_rate:.0%}</td>'
                    f'<td>{r.unsupported}</td></tr>')
        items = "".join(
            f'<tr class="{f.action}"><td><a href="{link}#L{f.line}">{f.line}</a></td>'
            f'<td>{f.action}</td><td><code>{esc(f.api)}</code></td><td>{esc(f.message)}'
            f'<pre>{esc(o.snippets.get(f.line, ""))}</pre></td></tr>'
            for f in _ordered(r))
        sections.append(f'<h3 id="{anchor}"><a href="{link}">{esc(o.rel)}</a></h3>'
                        f'<table><tr><th>line</th><th>action</th><th>API</th>'
                        f'<th>what was done</th></tr>{items}</table>')
    top = "".join(f"<li><code>{esc(api)}</code>: {n}</li>"
                  for api, n in top_unsupported(result.reports))
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>ms-migrate report</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}}
.unsupported td,.error{{background:#fdd}}.warning td{{background:#ffd}}
pre{{margin:0;color:#555}}</style></head><body>
<h1>ms-migrate report: {esc(str(result.root))}</h1>
<p>{len(result.converted_files)} Python files, {result.lines:,} lines;
{t['converted']}/{t['api_uses']} torch API uses converted ({t['conversion_rate']:.1%}),
{t['unsupported']} unsupported.</p>
{f"<h2>Most frequent unsupported</h2><ul>{top}</ul>" if top else ""}
<h2>Files</h2><table><tr><th>file</th><th>API uses</th><th>converted</th><th>rate</th>
<th>unsupported</th></tr>{"".join(rows)}</table>
{"".join(sections)}
</body></html>
"""


def _ordered(report: Report):
    order = {UNSUPPORTED: 0, WARNING: 1}
    return sorted(report.findings, key=lambda f: (f.line, order.get(f.action, 2)))


def _anchor(rel: str) -> str:
    return "f-" + "".join(c if c.isascii() and c.isalnum() else "-" for c in rel)
