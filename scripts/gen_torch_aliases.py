"""Write mappings/aliases/torch_aliases.json: other spellings of ruled torch APIs.

torch exposes one object under many paths (`torch.nn.modules.linear.Linear` is
`torch.nn.Linear`). This script imports torch (and torchvision when installed) once,
walks a fixed list of its modules, and records every attribute that *is* (`is`) an
object whose public name has a rule, as `alternative name -> public name`. The
converter reads the result as data and never imports torch.

Run: .venv/bin/python scripts/gen_torch_aliases.py  (rerun when torch or the rule
tables change; tests/test_aliases.py says when the committed file is stale).
"""
from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import types
from pathlib import Path
from typing import Dict, Iterable, List, Optional

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "mappings" / "aliases" / "torch_aliases.json"

# Packages walked with all their submodules, and single modules walked as they are.
PACKAGES = ("torch.nn", "torch.optim", "torch.utils.data", "torch.autograd",
            "torch.distributions", "torch.amp", "torch.cuda.amp", "torchvision.transforms",
            "torchvision.datasets", "torchvision.models")
MODULES = ("torch", "torch.functional", "torch._tensor", "torch.serialization",
           "torch.random", "torch.cuda", "torch.linalg", "torch.fft", "torch.special",
           "torch._C", "torch._C._nn", "torch._C._linalg", "torch._C._fft",
           "torch._C._special", "torch._C._VariableFunctions", "torchvision",
           "torch.hub", "torch.utils.model_zoo")
# Submodules not worth importing: tests, private helpers with heavy side effects.
SKIP = ("torch.utils.data.datapipes", "torch.nn.attention", "torch.distributions.test",
        "torchvision.models.detection", "torchvision.models.optical_flow",
        "torchvision.models.segmentation", "torchvision.models.video",
        "torchvision.models.quantization")
# Public names the passes recognise in code rather than through a rule.
PASS_NAMES = ("torch.no_grad", "torch.enable_grad", "torch.inference_mode",
              "torch.set_grad_enabled", "torch.compile", "torch.nn.DataParallel",
              "torch.nn.utils.clip_grad_norm_", "torch.nn.utils.clip_grad_value_")
# Modules whose public names are all re-exported by their package (`from .transforms
# import *`): written out, as torchvision need not be installed to generate the table.
MODULE_PATHS = {"torchvision.transforms.transforms": "torchvision.transforms",
                "torchvision.ops.boxes": "torchvision.ops",
                # removed in torch 2.0; its inf and nan were torch's (math's) own
                "torch._six": "torch"}
# Values whose identity means nothing (small ints and strings are shared).
_PLAIN = (int, float, complex, str, bytes, bool, type(None), tuple, frozenset)


def _import(name: str) -> Optional[types.ModuleType]:
    try:
        return importlib.import_module(name)
    except Exception:  # an optional dependency missing, a platform-only module
        return None


def walked_modules() -> List[types.ModuleType]:
    """The fixed list of modules to read, imported (same list in every process)."""
    found: Dict[str, types.ModuleType] = {}
    for name in MODULES:
        module = _import(name)
        if module is not None:
            found[name] = module
    for package in PACKAGES:
        module = _import(package)
        if module is None:
            continue
        found[package] = module
        for info in pkgutil.walk_packages(getattr(module, "__path__", []), package + ".",
                                          onerror=lambda _name: None):
            if info.name.startswith(SKIP) or ".test" in info.name:
                continue
            sub = _import(info.name)
            if sub is not None:
                found[info.name] = sub
    return [found[name] for name in sorted(found)]


def _lookup(qualified: str) -> object:
    """The object a dotted name denotes, or None: attributes first, as Python reads
    `torch.nn.parallel.replicate` (the function, which hides the module of that name),
    submodules where there is no such attribute."""
    parts = qualified.split(".")
    obj: object = _import(parts[0])
    for i in range(1, len(parts)):
        if obj is None:
            return None
        found = getattr(obj, parts[i], None)
        obj = found if found is not None else _import(".".join(parts[:i + 1]))
    return obj


def _hidden(module: types.ModuleType) -> bool:
    """A module its package's attribute of the same name hides (torch.nn.parallel's
    `replicate` is the function): the dotted name is an API, not a namespace."""
    parent, _, last = module.__name__.rpartition(".")
    package = sys.modules.get(parent)
    return package is not None and getattr(package, last, module) is not module


def public_targets(rule_names: Iterable[str]) -> Dict[int, List[str]]:
    """id(object) -> public names with a rule (or holding rules: torch.Tensor)."""
    names = set(rule_names)
    names |= {name.rpartition(".")[0] for name in names}
    targets: Dict[int, List[str]] = {}
    keep = []
    for name in sorted(names):
        obj = _lookup(name)
        if obj is None or isinstance(obj, (types.ModuleType,) + _PLAIN):
            continue
        keep.append(obj)
        targets.setdefault(id(obj), []).append(name)
    targets["keep"] = keep  # type: ignore[index]  # ids stay valid while these live
    return targets


def _best(alternative: str, publics: List[str]) -> str:
    """The public name sharing most of the alternative's path, then the shortest."""
    def shared(public: str) -> int:
        n = 0
        for a, b in zip(alternative.split("."), public.split(".")):
            if a != b:
                break
            n += 1
        return n
    return min(publics, key=lambda p: (-shared(p), len(p), p))


def generate(rule_names: Iterable[str]) -> Dict[str, str]:
    """alternative qualified name -> public qualified name."""
    rule_names = set(rule_names)
    targets = public_targets(rule_names | set(PASS_NAMES))
    table: Dict[str, str] = {}
    for module in walked_modules():
        prefix = module.__name__
        # a name with a rule of its own is the tables' to decide; any other spelling of
        # the same object (torch.autograd.no_grad beside a ruled torch.autograd.Variable)
        # is an alias
        for attr in sorted(vars(module)):
            if attr.startswith("_"):
                continue
            publics = targets.get(id(vars(module)[attr]))
            alternative = f"{prefix}.{attr}"
            if publics and alternative not in rule_names and alternative not in publics:
                table[alternative] = _best(alternative, publics)
    table.update(MODULE_PATHS)
    return dict(sorted(table.items()))


def render(table: Dict[str, str], modules: List[str]) -> str:
    import torch
    versions = f"torch {torch.__version__}"
    vision = sys.modules.get("torchvision")
    if vision is not None:
        versions += f", torchvision {vision.__version__}"
    document = {"about": "Generated by scripts/gen_torch_aliases.py from " + versions
                + "; do not edit. Other spellings of ruled torch APIs -> their public name.",
                "modules": modules, "names": table}
    return json.dumps(document, indent=1, sort_keys=False) + "\n"


def build() -> str:
    sys.path.insert(0, str(ROOT / "src"))
    from ms_migrate.tables.load import load_rules
    rules = load_rules()
    table = generate(r.torch_name for r in rules.by_name.values())
    return render(table, [m.__name__ for m in walked_modules() if not _hidden(m)])


if __name__ == "__main__":
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    text = build()
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"{OUTPUT.relative_to(ROOT)}: {len(json.loads(text)['names'])} names")
