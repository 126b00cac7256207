"""`class Dataset(Dataset)`: a Dataset subclass named as the torch class it extends.

The class statement rebinds the imported name, so the file's names (core/names.py)
no longer take it for torch's; only the class's own bases, evaluated before the name
binds, still mean torch's class. The data pass (data.py) reads those bases through
`shadowed_imports` and, once the base is gone, takes the name out of its torch import.
"""
from __future__ import annotations

from typing import Dict, Iterable, Set

import libcst as cst

from ..core.aliases import canonical
from ..core.names import dotted_name, is_torch_name


def shadowed_imports(module: cst.Module, aliases: Dict[str, str]) -> Dict[str, str]:
    """Local name -> torch name, for the module-level `from torch... import` names the
    file rebinds (and so are not in `aliases`)."""
    found: Dict[str, str] = {}
    for stmt in module.body:
        for small in _imports(stmt):
            module_name = dotted_name(small.module) or ""
            for alias in small.names:
                local = alias.asname.name.value if alias.asname else alias.name.value
                if local not in aliases:
                    found[local] = canonical(f"{module_name}.{alias.name.value}")
    return found


def _imports(stmt: cst.CSTNode) -> Iterable[cst.ImportFrom]:
    if not isinstance(stmt, cst.SimpleStatementLine):
        return
    for small in stmt.body:
        if (isinstance(small, cst.ImportFrom) and small.relative == () and small.module
                and is_torch_name(dotted_name(small.module) or "")
                and not isinstance(small.names, cst.ImportStar)):
            yield small


def without_imported(module: cst.Module, names: Set[str]) -> cst.Module:
    """The module with `names` taken out of its module-level torch imports; an import
    left with no name goes, its comments with it."""
    body = []
    for stmt in module.body:
        smalls = list(_imports(stmt))
        if not smalls:
            body.append(stmt)
            continue
        kept = []
        for small in stmt.body:
            if small in smalls:
                left = [a for a in small.names if (
                    a.asname.name.value if a.asname else a.name.value) not in names]
                if not left:
                    continue
                if len(left) != len(small.names):
                    left[-1] = left[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                    small = small.with_changes(names=left)
            kept.append(small)
        if kept:
            kept[-1] = kept[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
            body.append(stmt.with_changes(body=kept))
    return module.with_changes(body=body)
