"""Parameter attributes of the layers a class declares: `self.wte.weight` of an Embedding
is `self.wte.embedding_table`.

    class GPT(nn.Module):
        def __init__(self, config):
            self.wte = nn.Embedding(config.vocab_size, config.n_embd)
            self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
            self.wte.weight = self.lm_head.weight          # weight tying

        def get_num_params(self):
            return self.wte.weight.numel()

`__init__` says which torch layer each attribute path holds (layertypes reads it:
nested containers, the file's own classes and factory functions). In the class's
methods, `self.<path>.<param>` of a layer whose MindSpore Cell names that parameter
differently (the layer rules' `params`) gets MindSpore's name. Assigning one layer's
Parameter to another shares it in MindSpore as in torch (weight tying).
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional

import libcst as cst

from ..core.context import Context
from ..core.layertypes import ModelReader
from ..core.names import dotted_name
from ..core.report import CONVERTED
from ..core.traversal import traverse
from .statement_pass import StatementPass
from .text_search import contains_any, found

_PARAMS = ("weight", "bias", "running_mean", "running_var")
_PARAM_ATTRIBUTES = tuple("." + name for name in _PARAMS)
_APPLIES = re.compile(rf"\bself(?:\.\w+)+\.(?:{'|'.join(_PARAMS)})\b")
# a layer held in a local name of a function: `norm = nn.BatchNorm2d(dim)` then
# `nn.init.zeros_(norm.weight)` (the layer goes into a Sequential afterwards)
_LOCAL_LAYER = re.compile(r"^[ \t]*(\w+)[ \t]*=[ \t]*(?:\w+\.)*\w*(?:Norm\w*|Embedding\w*|PReLU)\(",
                          re.M)
_LOCAL_PARAM = re.compile(rf"\b\w+\.(?:{'|'.join(_PARAMS)})\b")
_REBIND = re.compile(r"^[ \t]*\w+[ \t]*=[^=]", re.M)  # a local name bound anew


def _local_layers(source: str) -> bool:
    return any(re.search(rf"\b{m[1]}\.(?:{'|'.join(_PARAMS)})\b", source)
               for m in _LOCAL_LAYER.finditer(source))


def applies(source: str) -> bool:
    # both tests find a parameter attribute (`.weight`), the local one of a layer's name
    return contains_any(source, _PARAM_ATTRIBUTES) and (
        found(_APPLIES, source, "self")
        or (contains_any(source, ("Norm", "Embedding", "PReLU")) and _local_layers(source)))


def rename_declared_layer_params(ctx: Context, module: cst.Module) -> cst.Module:
    renames = _class_renames(ctx) if _APPLIES.search(ctx.source) else {}
    local = _local_layers(ctx.source)
    if not renames and not local:
        return module
    rename = _DeclaredLayers(ctx, renames, local)
    result = traverse(module, rename)
    rename.place_findings()
    return result


# class name -> layer path -> (torch layer, {torch parameter: MindSpore's})
Renames = Dict[str, Dict[str, tuple]]


def _class_renames(ctx: Context) -> Renames:
    tree = ctx.lines.tree  # the tree the line numbers came from (not parsed again)
    if tree is None:
        return {}
    reader = ModelReader(tree, "model")
    out: Renames = {}
    for name in reader.classes:
        types: Dict[str, str] = {}
        try:
            reader.read_class(name, "", types, depth=0)
        except RecursionError:
            continue
        paths = {}
        for path, layer in types.items():
            if "*" in path.split("."):
                continue
            rule = ctx.rules.get(layer)
            params = {k: v for k, v in (rule.params if rule else {}).items()
                      if k in _PARAMS and "." not in k and v != k}
            if params:
                paths[path] = (layer, params)
        if paths:
            out[name] = paths
    return out


class _DeclaredLayers(StatementPass):
    def __init__(self, ctx: Context, renames: Renames, local: bool = False) -> None:
        super().__init__(ctx, *((_APPLIES, _LOCAL_LAYER, _LOCAL_PARAM, _REBIND) if local else (_APPLIES,)))
        self.renames = renames
        self.classes: List[Optional[Dict[str, tuple]]] = []  # per open class
        self.selves: List[Optional[str]] = []                # per open function
        self.locals: List[Dict[str, tuple]] = []             # per open function

    def _layer_params(self, value) -> Optional[tuple]:
        """(torch layer, {parameter: MindSpore's}) for a call making such a layer."""
        if not isinstance(value, cst.Call):
            return None
        layer = self.ctx.resolve(value.func)
        rule = self.ctx.rules.get(layer) if layer else None
        params = {k: v for k, v in (rule.params if rule else {}).items()
                  if k in _PARAMS and "." not in k and v != k}
        return (layer, params) if params else None

    def visit_Assign(self, node: cst.Assign) -> None:
        if not self.locals:
            return
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                self.locals[-1].pop(target.target.value, None)  # bound anew
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            found = self._layer_params(node.value)
            if found is not None:
                self.locals[-1][node.targets[0].target.value] = found

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.append(self.renames.get(node.name.value) if not self.classes else None)

    def leave_ClassDef(self, original, updated):
        self.classes.pop()
        return updated

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        params = node.params.params
        if self.classes and self.classes[-1] is None:  # a class nested in another
            self.selves.append(None)
        elif self.classes and not self.selves:          # a method: its first parameter
            self.selves.append(params[0].name.value if params else None)
        else:  # a function nested in a method sees its `self`
            self.selves.append(self.selves[-1] if self.selves else None)
        self.locals.append({})

    def leave_FunctionDef(self, original, updated):
        self.selves.pop()
        self.locals.pop()
        return updated

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute):
        if not self.selves or original.attr.value not in _PARAMS:
            return updated
        owner = dotted_name(original.value)
        if owner is not None and "." not in owner and owner in self.locals[-1]:
            found = self.locals[-1][owner]  # a layer the function holds in a local name
        else:
            prefix = (self.selves[-1] or "") + "."
            if self.selves[-1] is None or owner is None or not owner.startswith(prefix):
                return updated
            found = self.classes[0].get(owner[len(prefix):]) if self.classes[0] else None
        if found is None or original.attr.value not in found[1]:
            return updated
        layer, params = found
        new = params[original.attr.value]
        self.add(original, f"{layer}.{original.attr.value}", CONVERTED,
                 f"-> .{new} (MindSpore's name)")
        value = updated.value
        *inner, last = new.split(".")  # BatchNorm3d: `bn2d.gamma`
        for part in inner:
            value = cst.Attribute(value=value, attr=cst.Name(part))
        return updated.with_changes(value=value, attr=cst.Name(last))
