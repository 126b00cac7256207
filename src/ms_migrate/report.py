"""What a conversion did: one finding per torch API use, and the conversion rate."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import List, Optional

# Actions. "converted" and "warning" count as converted; "unsupported" does not;
# "info" (e.g. an import rewritten) is not an API use and is not counted.
CONVERTED, WARNING, UNSUPPORTED, INFO = "converted", "warning", "unsupported", "info"


@dataclass
class Finding:
    line: int
    api: str          # the torch API, qualified ("torch.nn.Linear", "Tensor.view")
    action: str       # converted | warning | unsupported | info
    message: str
    target: Optional[str] = None
    rule: Optional[str] = None   # "file.toml:entry" that decided it


@dataclass
class Report:
    filename: str = "<string>"
    findings: List[Finding] = field(default_factory=list)
    error: Optional[str] = None
    changed: bool = False

    @property
    def converted(self) -> int:
        return sum(f.action in (CONVERTED, WARNING) for f in self.findings)

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
        """`file:line: LEVEL: message` lines, problems first."""
        shown = [f for f in self.findings
                 if verbose or f.action in (UNSUPPORTED, WARNING)]
        order = {UNSUPPORTED: 0, WARNING: 1, CONVERTED: 2, INFO: 3}
        shown.sort(key=lambda f: (order[f.action], f.line))
        return [f"{self.filename}:{f.line}: {f.action}: {f.api}: {f.message}" for f in shown]

    def summary(self) -> str:
        return (f"{self.filename}: {self.converted}/{self.api_uses} torch API uses converted "
                f"({self.conversion_rate:.1%}), {self.unsupported} unsupported")
