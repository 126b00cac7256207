"""The supported-API table (docs/supported-apis.md), generated from the rule tables."""
from __future__ import annotations

from collections import defaultdict
from typing import Dict, List

from ..core.rule import Rule, RuleSet


def api_name(rule: Rule) -> str:
    if rule.kind == "method" and not rule.typed:
        namespace = rule.source.split(":")[0]
        owner = "torch.nn.Module" if namespace.startswith("module") else "torch.Tensor"
        return owner + rule.torch_name
    return rule.torch_name


def target_text(rule: Rule) -> str:
    if rule.unsupported:
        return "—"
    if rule.template:
        return "composition: `" + rule.template.replace("|", "\\|") + "`"
    if rule.target:
        return f"`{rule.target}`"
    if rule.transform == "written_function":
        return f"`{rule.torch_name.rpartition('.')[2]}(...)` written into the file"
    return f"({rule.transform})"


def counts(rules: RuleSet) -> Dict[str, int]:
    all_rules = list(rules)
    return {
        "rules": len(all_rules),
        "converted": sum(not r.unsupported for r in all_rules),
        "verified": sum(bool(r.examples) and not r.unsupported for r in all_rules),
        "examples": sum(len(r.examples) for r in all_rules),
        "unsupported": sum(bool(r.unsupported) for r in all_rules),
    }


def render_markdown(rules: RuleSet) -> str:
    c = counts(rules)
    by_table: Dict[str, List[Rule]] = defaultdict(list)
    for rule in rules:
        by_table[rule.source.split(":")[0]].append(rule)
    lines = [
        "# Supported PyTorch APIs",
        "",
        "Generated from `mappings/` by `ms-migrate rules --format markdown`; do not edit.",
        "",
        f"- {c['rules']} torch APIs have rules: {c['converted']} convert, "
        f"{c['unsupported']} are known and reported unsupported (with the reason below).",
        f"- {c['verified']} converting rules carry {c['examples']} examples, each run on "
        "torch and, converted, on MindSpore (CPU) with the same inputs by "
        "`tests/test_rule_examples.py`, comparing shapes, dtypes and values.",
        "- Any torch API not listed here is reported as unsupported where it is used.",
        "",
    ]
    for table in sorted(by_table):
        lines += [f"## {table}", "", "| torch | MindSpore | notes |", "|---|---|---|"]
        for rule in sorted(by_table[table], key=lambda r: r.torch_name):
            note = (rule.unsupported or rule.notes).replace("|", "\\|").replace("\n", " ")
            lines.append(f"| `{api_name(rule)}` | {target_text(rule)} | {note} |")
        lines.append("")
    return "\n".join(lines)
