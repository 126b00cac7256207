"""What a conversion did: one finding per torch API use, and the conversion rate."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import List, Optional

# Actions. "converted" and "warning" count as converted; "unsupported" does not;
# "info" (e.g. an import rewritten) is not an API use and is not counted.
CONVERTED, WARNING, UNSUPPORTED, INFO = "converted", "warning", "unsupported", "info"
# Findings about graph mode (`--jit`) are not torch API uses: not in the conversion rate.
GRAPH_MODE = "mindspore.jit"

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


# Starts every note the converter writes into the code it converts (and finds again there).
MARK_PREFIX = "# ms-migrate:"


def mark_text(text: str) -> str:
    """A note line for the converted code: `# ms-migrate: <text>`."""
    return f"{MARK_PREFIX} {text}"


def shown(text: str) -> str:
    """Text as it may be printed or put in a report: a file name's bytes that are not
    UTF-8 (kept by Python as lone surrogates) and control characters (a terminal
    escape in a name) become \\xNN, so no output crashes or is hijacked."""
    def escape(m: "re.Match[str]") -> str:
        c = m.group()
        code = ord(c) - 0xDC00 if 0xDC80 <= ord(c) <= 0xDCFF else ord(c)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return _CONTROL.sub(escape, text)


@dataclass
class Finding:
    line: int
    api: str          # the torch API, qualified ("torch.nn.Linear", "Tensor.view")
    action: str       # converted | warning | unsupported | info
    message: str
    target: Optional[str] = None
    rule: Optional[str] = None   # "file.toml:entry" that decided it
    check: Optional[str] = None  # the statement pass that made it (pipeline.py's id)


@dataclass
class Report:
    filename: str = "<string>"
    findings: List[Finding] = field(default_factory=list)
    error: Optional[str] = None
    changed: bool = False

    @property
    def converted(self) -> int:
        return sum(f.action in (CONVERTED, WARNING) and f.api != GRAPH_MODE
                   for f in self.findings)

    @property
    def unsupported(self) -> int:
        return sum(f.action == UNSUPPORTED for f in self.findings)

    @property
    def api_uses(self) -> int:
        return self.converted + self.unsupported

    @property
    def conversion_rate(self) -> float:
        """Converted API uses / all torch API uses (1.0 when there are none)."""
        return self.converted / self.api_uses if self.api_uses else 1.0

    def to_dict(self) -> dict:
        return {
            "file": self.filename,
            "error": self.error,
            "changed": self.changed,
            "api_uses": self.api_uses,
            "converted": self.converted,
            "unsupported": self.unsupported,
            "conversion_rate": round(self.conversion_rate, 4),
            "findings": [asdict(f) for f in sorted(self.findings, key=lambda f: f.line)],
        }

    def lines(self, verbose: bool = False) -> List[str]:
        """`file:line: LEVEL: api: message [pass]` lines, problems first. The id to give
        --select/--disable is the API for a table rule, the pass in brackets otherwise."""
        shown_findings = [f for f in self.findings
                          if verbose or f.action in (UNSUPPORTED, WARNING)]
        order = {UNSUPPORTED: 0, WARNING: 1, CONVERTED: 2, INFO: 3}
        shown_findings.sort(key=lambda f: (order[f.action], f.line))
        return [shown(f"{self.filename}:{f.line}: {f.action}: {f.api}: {f.message}"
                      + (f" [{f.check}]" if f.check else ""))
                for f in shown_findings]

    def summary(self) -> str:
        return shown(f"{self.filename}: {self.converted}/{self.api_uses} torch API uses "
                     f"converted ({self.conversion_rate:.1%}), {self.unsupported} unsupported")
