"""Digests of what the converter writes, to show a change of code left output alone.

Each input (a golden fixture, a corpus file, an example, every rule example's
program) is converted; its digest covers the output code and every finding (line,
API, action, message, target, rule). tests/test_output_digests.py compares them with
tests/snapshots/output_digests.json; after a change that is meant to alter output,
rewrite that file and review what changed:

    python scripts/output_digests.py --write
    python scripts/output_digests.py --tree /some/project --out before.json   # any tree
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Dict, Iterator, Tuple

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "tests" / "snapshots" / "output_digests.json"


def digest(source: str, name: str) -> str:
    """sha256 (16 hex digits) of the converted code and its findings, or of the error."""
    from ms_migrate import ConversionError, convert_source
    try:
        result = convert_source(source, name)
    except ConversionError as exc:
        text = f"error: {exc}"
    else:
        findings = [(f.line, f.api, f.action, f.message, f.target, f.rule)
                    for f in result.report.findings]
        text = result.code + "\0" + json.dumps(findings)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def tree_sources(tree: Path) -> Iterator[Tuple[str, str]]:
    for path in sorted(tree.rglob("*.py")):
        if path.is_file() and not path.is_symlink():
            yield str(path.relative_to(tree)), path.read_text("utf-8", errors="surrogateescape")


def project_sources() -> Iterator[Tuple[str, str]]:
    """The inputs the snapshot covers: fixtures, corpus, examples, rule examples."""
    for path in sorted((ROOT / "tests" / "fixtures").glob("*/*.in.py")):
        yield f"fixtures/{path.parent.name}/{path.name}", path.read_text("utf-8")
    for folder in ("benchmarks/corpus", "examples"):
        for name, text in tree_sources(ROOT / folder):
            yield f"{folder}/{name}", text
    from ms_migrate.tables.load import load_rules
    from ms_migrate.runtime.equivalence import example_program
    for rule in sorted(load_rules(), key=lambda r: r.torch_name):
        for i, example in enumerate(rule.examples):
            yield f"rule/{rule.torch_name}[{i}]", example_program(example, rule.kind)


def digests(sources) -> Dict[str, str]:
    return {name: digest(text, name) for name, text in sources}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help=f"rewrite {SNAPSHOT.relative_to(ROOT)}")
    ap.add_argument("--tree", type=Path, help="digest every .py file of this folder instead")
    ap.add_argument("--out", type=Path, help="where --tree's digests go (default: stdout)")
    args = ap.parse_args(argv)
    if args.tree:
        text = json.dumps(digests(tree_sources(args.tree)), indent=0, sort_keys=True) + "\n"
        if args.out:
            args.out.write_text(text, "utf-8")
        else:
            sys.stdout.write(text)
        return 0
    found = digests(project_sources())
    if args.write:
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(found, indent=0, sort_keys=True) + "\n", "utf-8")
        print(f"{len(found)} digests written to {SNAPSHOT.relative_to(ROOT)}")
        return 0
    expected = json.loads(SNAPSHOT.read_text("utf-8"))
    differ = sorted(k for k in found.keys() | expected.keys() if found.get(k) != expected.get(k))
    for name in differ:
        print(f"differs: {name}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
