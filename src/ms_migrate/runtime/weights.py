"""Parameter names and values between a torch module and its converted Cell.

The renames come from the layer rules' `params` / `drop_params` / `unsqueeze_params`
fields, so code and weights share one source of truth. A name is translated one
segment at a time: at each module on the way, that module's layer rule may rename
the next segment (a parameter, or a child layer MindSpore calls differently).

Which rule applies to a module comes from its torch layer type: exact for a live
module, declared in the model's source (`layertypes`), or inferred from the names
of the parameters it holds (`running_mean` means a BatchNorm).
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple

import numpy as np

from ..core.rule import Rule, RuleSet
from ..tables.load import load_rules


class WeightError(Exception):
    """Weights do not fit the Cell; the message lists what is missing or mis-shaped."""


def torch_layer_name(module) -> str:
    """`torch.nn.BatchNorm2d` for torch's layers and subclasses of them (`class
    MyNorm(nn.BatchNorm2d)` keeps BatchNorm's parameters), `pkg.mod.Class` for others."""
    for cls in type(module).__mro__:
        if (cls.__module__ or "").startswith("torch.nn") and cls.__name__ != "Module":
            return f"torch.nn.{cls.__name__}"
    cls = type(module)
    return f"{cls.__module__}.{cls.__qualname__}"


def layer_rule(module, rules: RuleSet) -> Optional[Rule]:
    """The rule of a torch layer instance (`torch.nn.BatchNorm2d` for its class)."""
    return rules.get(torch_layer_name(module))


class LayerTypes:
    """Torch layer type (qualified name) per module path; a `*` segment matches any."""

    def __init__(self, types: Optional[Dict[str, str]] = None):
        self.exact: Dict[str, str] = {}
        self.patterns: List[Tuple[List[str], str]] = []
        for path, qualified in (types or {}).items():
            if "*" in path.split("."):
                self.patterns.append((path.split("."), qualified))
            else:
                self.exact[path] = qualified

    @classmethod
    def from_module(cls, torch_module) -> "LayerTypes":
        return cls({name: torch_layer_name(m) for name, m in torch_module.named_modules()})

    def get(self, path: str) -> Optional[str]:
        if path in self.exact:
            return self.exact[path]
        segs = path.split(".") if path else []
        for pattern, qualified in self.patterns:
            if len(pattern) == len(segs) and all(p in ("*", s) for p, s in zip(pattern, segs)):
                return qualified
        return None

    def __len__(self) -> int:
        return len(self.exact) + len(self.patterns)


@dataclass
class Converted:
    """The result of translating a set of weights to the other framework's names."""

    params: Dict[str, np.ndarray]
    renamed: Dict[str, str] = field(default_factory=dict)   # old name -> new name
    dropped: List[str] = field(default_factory=list)
    reshaped: List[str] = field(default_factory=list)        # new names
    notes: List[str] = field(default_factory=list)
    # Weights kept under torch's names that some layer types would rename or reshape:
    # without the layer types (--model) or the target model they may be wrong.
    unclear: List[str] = field(default_factory=list)


class _Translator:
    """Translates names of one set of weights, in one direction."""

    def __init__(self, shapes: Dict[str, Tuple[int, ...]], rules: RuleSet,
                 types: LayerTypes, to_mindspore: bool):
        self.rules, self.types, self.to_ms = rules, types, to_mindspore
        self.layer_rules = [r for r in rules if r.kind == "class"
                            and (r.params or r.drop_params or r.unsqueeze_params)]
        self.local: Dict[str, Dict[str, Tuple[int, ...]]] = {}
        for name, shape in shapes.items():
            prefix, _, leaf = name.rpartition(".")
            self.local.setdefault(prefix, {})[leaf] = tuple(shape)
        self.inferred: Dict[str, Optional[Rule]] = {}
        self.notes: List[str] = []
        self.unclear: List[str] = []  # weights kept as they are that some layer would change

    def rule_of(self, torch_path: str, source_path: str) -> Optional[Rule]:
        declared = self.types.get(torch_path)
        if declared is not None:
            return self.rules.get(declared)
        if source_path not in self.inferred:
            self.inferred[source_path] = self._infer(source_path)
        return self.inferred[source_path]

    def _infer(self, path: str) -> Optional[Rule]:
        local = self.local.get(path, {})
        if not local:
            return None
        distinctive = set(local) - {"weight", "bias"}
        if distinctive:
            candidates = [r for r in self.layer_rules if distinctive & self._names_of(r)]
        elif self.to_ms and _norm_like(local):
            candidates = [r for r in self.layer_rules if {"weight", "bias"} <= set(r.params)]
        else:
            if self.to_ms:
                self._note_unclear(path, local)
            return None
        if not candidates:
            return None
        best = max(len(distinctive & self._names_of(r)) for r in candidates)
        candidates = [r for r in candidates if len(distinctive & self._names_of(r)) == best]
        # BatchNorm1d/2d agree and BatchNorm3d differs: the most common reading wins
        votes: Dict[tuple, List[Rule]] = {}
        for rule in candidates:
            votes.setdefault(self._signature(rule, local), []).append(rule)
        ranked = sorted(votes.values(), key=len, reverse=True)
        where = path or "(top)"
        if len(ranked) > 1 and len(ranked[0]) == len(ranked[1]):
            self.notes.append(f"{where}: layer type unclear from its parameters "
                              f"({', '.join(sorted(local))}); names kept (pass --model)")
            return None
        if len(ranked) > 1:
            others = ", ".join(r.torch_name.rsplit(".", 1)[-1] for g in ranked[1:] for r in g)
            self.notes.append(f"{where}: taken as {ranked[0][0].torch_name.rsplit('.', 1)[-1]} "
                              f"from its parameters, not {others} (pass --model to be sure)")
        return ranked[0][0]

    def _note_unclear(self, path: str, local: Dict[str, Tuple[int, ...]]) -> None:
        """A lone weight (and bias) whose layer would change it, were it that layer:
        an Embedding's 2-D weight looks like a bias-less Linear's."""
        rank, bias = len(local.get("weight", ())), "bias" in local
        readings: Dict[str, List[str]] = {}  # change -> layers that make it
        for rule in self.layer_rules:
            layer = rule.torch_name.rsplit(".", 1)[-1]
            if _LONE_WEIGHT.get(layer) not in ((rank, bias), (rank, None)):
                continue
            change = (f"named {rule.params['weight']}" if "weight" in rule.params
                      else f"a size-1 axis at {rule.unsqueeze_params.get('weight')}")
            readings.setdefault(change, []).append(layer)
        if readings:
            name = f"{path}.weight" if path else "weight"
            said = "; ".join(f"{' or '.join(layers)}: {change}"
                             for change, layers in readings.items())
            self.unclear.append(f"{name} ({rank}-D, {said})")

    def _names_of(self, rule: Rule) -> set:
        if self.to_ms:
            return set(rule.params) | set(rule.drop_params)
        return set(rule.params.values())

    def _signature(self, rule: Rule, local) -> tuple:
        if self.to_ms:
            return tuple(sorted((n, "" if n in rule.drop_params else rule.params.get(n, n),
                                 rule.unsqueeze_params.get(n, -1)) for n in local))
        inverse = {v: k for k, v in rule.params.items()}
        return tuple(sorted((n, inverse.get(n, n),
                             rule.unsqueeze_params.get(inverse.get(n, n), -1)) for n in local))

    def translate(self, name: str, leaf: bool = True):
        """(new name, axis to insert or remove, dropped?) for one parameter name."""
        segs = name.split(".") if name else []
        source, torch_path, out = [], [], []
        axis, dropped = None, False
        i = 0
        while i < len(segs):
            seg, rule = segs[i], self.rule_of(".".join(torch_path), ".".join(source))
            if self.to_ms:
                torch_seg = seg
                new = rule.params.get(seg, seg) if rule else seg
                dropped = bool(leaf and i == len(segs) - 1 and rule and seg in rule.drop_params)
            else:
                inverse = {v: k for k, v in rule.params.items()} if rule else {}
                # a MindSpore name may sit deeper (BatchNorm3d: bn2d.gamma -> weight)
                rest = ".".join(segs[i:])
                if leaf and rest in inverse and "." in rest:
                    seg, i = rest, len(segs) - 1
                torch_seg = new = inverse.get(seg, seg)
            if leaf and i == len(segs) - 1 and rule:
                axis = rule.unsqueeze_params.get(torch_seg)
            out.append(new)
            source.append(seg)
            torch_path.append(torch_seg)
            i += 1
        return ".".join(out), axis, dropped


# Layers with a changed `weight` that their parameters alone cannot tell from a layer
# that keeps it: (rank of weight, has a bias: True/False/None for either). A bias-less
# Linear's 2-D weight, a Bilinear's 3-D one and a plain 1-D Parameter stay as they are.
_LONE_WEIGHT = {"Embedding": (2, False), "Conv1d": (3, None), "ConvTranspose1d": (3, None),
                "PReLU": (1, False), "LayerNorm": (1, False)}


def _norm_like(local: Dict[str, Tuple[int, ...]]) -> bool:
    """A 1-D weight with a bias of the same shape: a normalization layer's affine pair."""
    return (set(local) == {"weight", "bias"} and len(local["weight"]) == 1
            and local["bias"] == local["weight"])


# torch.nn.utils.parametrize keeps `linear.weight` as `linear.parametrizations.weight.original`
_PARAMETRIZED = re.compile(r"\.parametrizations\.(\w+)\.original$")


def convert_state(state: Dict[str, np.ndarray], rules: Optional[RuleSet] = None,
                  types: Optional[LayerTypes] = None, to_mindspore: bool = True,
                  target_shapes: Optional[Dict[str, Tuple[int, ...]]] = None) -> Converted:
    """Translate weights (name -> array) to MindSpore's names, or back to torch's.

    `types` gives torch layer types per module path (else they are inferred from
    parameter names). `target_shapes` (the names and shapes of the model the weights
    are meant for) settles what the rules cannot: a name that is not in the target
    is matched to the one target name reachable through some rule's renames.
    """
    rules = rules or load_rules()
    if to_mindspore:  # a parametrized parameter is the Cell's own (register_parametrization)
        state = {_PARAMETRIZED.sub(r".\1", k): v for k, v in state.items()}
    translator = _Translator({k: np.shape(v) for k, v in state.items()}, rules,
                             types or LayerTypes(), to_mindspore)
    result = Converted({})
    for name, value in state.items():
        new, axis, dropped = translator.translate(name)
        if dropped:
            result.dropped.append(name)
            continue
        value = np.asarray(value)
        before = value.shape
        if axis is not None and to_mindspore:
            value = np.expand_dims(value, axis)
        elif axis is not None and value.ndim > axis and value.shape[axis] == 1:
            value = np.squeeze(value, axis)
        if value.shape != before:
            result.reshaped.append(new)
        if new in result.params:
            raise WeightError(f"two weights become {new!r}; one of them is {name!r}")
        result.params[new] = value
        if new != name:
            result.renamed[name] = new
    result.notes.extend(translator.notes)
    if target_shapes is not None:
        _fit_to_targets(result, target_shapes, rules, to_mindspore)
    else:  # against a target model every name is checked; without one, say what is unsure
        result.unclear = list(dict.fromkeys(translator.unclear))
    return result


def _fit_to_targets(result: Converted, targets: Dict[str, Tuple[int, ...]],
                    rules: RuleSet, to_mindspore: bool) -> None:
    """Rename what the rules alone could not place, and reshape size-1 axes, to fit."""
    renames: Dict[str, set] = {}
    for rule in rules:
        for old, new in rule.params.items():
            a, b = (old, new) if to_mindspore else (new, old)
            renames.setdefault(a, set()).add(b)
    back = {new: old for old, new in result.renamed.items()}
    for name in [n for n in result.params if n not in targets]:
        value = result.params[name]
        # from the original name: an inferred rename may itself be the mistake
        original = back.get(name, name)
        options = [[s] + sorted(renames.get(s, ())) for s in original.split(".")]
        found = []
        for combo in itertools.islice(itertools.product(*options), 1024):
            candidate = ".".join(combo)
            if (candidate in targets and candidate not in result.params
                    and int(np.prod(targets[candidate])) == value.size):
                found.append(candidate)
        if len(found) == 1:
            result.params[found[0]] = result.params.pop(name)
            result.renamed.pop(original, None)
            if found[0] != original:
                result.renamed[original] = found[0]
    for name, value in result.params.items():
        shape = tuple(targets.get(name, value.shape))
        if value.shape != shape and value.size == int(np.prod(shape)) \
                and _same_without_ones(value.shape, shape):
            result.params[name] = value.reshape(shape)
            result.reshaped.append(name)


@dataclass
class Fit:
    """How a set of weights fits a model: names and shapes on both sides."""

    missing: List[str]
    unexpected: List[str]
    misshaped: List[str]
    tied: Dict[str, str]

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.misshaped)

    def summary(self, limit: int = 5) -> str:
        parts = []
        for label, names in (("missing", self.missing), ("unexpected", self.unexpected),
                             ("mis-shaped", self.misshaped)):
            if names:
                shown = ", ".join(names[:limit]) + (", ..." if len(names) > limit else "")
                parts.append(f"{len(names)} {label} ({shown})")
        return "; ".join(parts) or "all weights fit"


def check_fit(params: Dict[str, np.ndarray], targets: Dict[str, Tuple[int, ...]]) -> Fit:
    """Compare weights with a model's parameter names and shapes.

    A weight absent from the model that equals another weight which is present is
    reported as tied (MindSpore lists a shared parameter once), not as unexpected.
    """
    missing = [n for n in targets if n not in params]
    misshaped = [f"{n}: {tuple(params[n].shape)} vs {tuple(targets[n])}"
                 for n in targets if n in params and tuple(params[n].shape) != tuple(targets[n])]
    tied, unexpected = {}, []
    for name in (n for n in params if n not in targets):
        twin = next((t for t in targets if t in params and params[t].shape == params[name].shape
                     and np.array_equal(params[t], params[name])), None)
        if twin is None:
            unexpected.append(name)
        else:
            tied[name] = twin
    return Fit(missing, unexpected, misshaped, tied)


def model_shapes(model, rules: Optional[RuleSet] = None) -> Dict[str, Tuple[int, ...]]:
    """Parameter (and buffer) names and shapes of a MindSpore Cell or a torch module.

    For a torch module, what its layer rules drop (`num_batches_tracked`) is left out:
    a MindSpore checkpoint cannot hold it, and torch fills it in when it is absent.
    """
    if hasattr(model, "parameters_and_names"):
        return {name: tuple(p.shape) for name, p in model.parameters_and_names()}
    rules = rules or load_rules()
    dropped = set()
    for prefix, module in model.named_modules():
        rule = layer_rule(module, rules)
        for leaf in (rule.drop_params if rule else ()):
            dropped.add(f"{prefix}.{leaf}" if prefix else leaf)
    return {name: tuple(t.shape) for name, t in model.state_dict().items()
            if name not in dropped}


def mindspore_path(torch_path: str, types: LayerTypes, rules: Optional[RuleSet] = None) -> str:
    """The Cell path of a torch submodule path (child layers may be renamed)."""
    translator = _Translator({}, rules or load_rules(), types, True)
    return translator.translate(torch_path, leaf=False)[0]


def torch_module_state(torch_module) -> Dict[str, np.ndarray]:
    """Torch name -> value of every parameter and buffer of a live module, in order."""
    state = {}
    for prefix, module in torch_module.named_modules():
        local = list(module.named_parameters(recurse=False)) + list(
            module.named_buffers(recurse=False))
        for name, tensor in local:
            if tensor is not None:
                full = f"{prefix}.{name}" if prefix else name
                state.setdefault(full, _tensor_to_numpy(tensor))
    return state


def torch_state_to_mindspore(torch_module, rules: Optional[RuleSet] = None
                             ) -> Dict[str, np.ndarray]:
    """MindSpore parameter name -> value, for a live torch module."""
    return convert_state(torch_module_state(torch_module), rules,
                         LayerTypes.from_module(torch_module)).params


def _tensor_to_numpy(tensor) -> np.ndarray:
    return tensor_array("tensor", tensor)


def tensor_array(name: str, tensor, notes: Optional[List[str]] = None) -> np.ndarray:
    """A torch tensor as a numpy array, where that is exact; WeightError naming the
    tensor where it is not. Changes of kind are noted in `notes`:

    - sparse layouts are written dense (the same values);
    - bfloat16, float8 (every float8 and bfloat16 value is a float32) and complex32
      widen to float32 / complex64, which numpy and MindSpore checkpoints hold;
    - quantized tensors and meta tensors (no values) are refused.
    """
    import torch
    if tensor.is_meta:
        raise WeightError(f"{name}: a meta tensor holds no values (the model was built on "
                          f"the meta device and never loaded); save real weights")
    if tensor.is_quantized:
        raise WeightError(f"{name}: a quantized tensor ({tensor.dtype}); a MindSpore "
                          f"checkpoint of the converted (float) model holds plain tensors: "
                          f"save the float model's state_dict, before quantization")
    tensor = tensor.detach().cpu()
    if tensor.layout != torch.strided:  # sparse COO/CSR/CSC/BSR: dense holds the same values
        if notes is not None:
            notes.append(f"{name}: sparse ({str(tensor.layout).replace('torch.', '')}) "
                         f"written dense")
        tensor = tensor.to_dense()
    wider = _WIDER.get(str(tensor.dtype).replace("torch.", ""))
    if wider is not None:
        if notes is not None:
            notes.append(f"{name}: {str(tensor.dtype).replace('torch.', '')} stored as {wider} "
                         f"(the same values; numpy has no such dtype)")
        tensor = tensor.to(getattr(torch, wider))
    try:
        return tensor.resolve_conj().resolve_neg().numpy()
    except (TypeError, RuntimeError, NotImplementedError) as exc:
        raise WeightError(f"{name}: cannot be read as an array ({tensor.dtype}, "
                          f"{tensor.layout}): {str(exc).splitlines()[0] if str(exc) else exc}"
                          ) from None


# dtypes numpy lacks -> the one that holds all their values exactly
_WIDER = {"bfloat16": "float32", "complex32": "complex64", "float8_e4m3fn": "float32",
          "float8_e4m3fnuz": "float32", "float8_e5m2": "float32", "float8_e5m2fnuz": "float32",
          "float8_e8m0fnu": "float32"}


def load_into_cell(cell, params: Dict[str, np.ndarray], strict: bool = True
                   ) -> Tuple[List[str], List[str]]:
    """Copy values into the Cell's parameters by name. Returns (missing, unexpected).

    A value whose shape differs only by size-1 axes (Conv1d keeps a 4-D weight in
    MindSpore) is reshaped; any other shape difference is an error. A weight equal
    to one the Cell has (a tied weight, listed once by MindSpore) is not unexpected.
    """
    import mindspore

    cell_params = dict(cell.parameters_and_names())
    # buffers (Cell.register_buffer) are state too, though not Parameters
    buffers = dict(cell.named_buffers()) if hasattr(cell, "named_buffers") else {}
    cell_params.update({n: b for n, b in buffers.items() if n not in cell_params})
    fit = check_fit(params, {n: tuple(p.shape) for n, p in cell_params.items()})
    problems = []
    for name, param in cell_params.items():
        if name not in params:
            continue
        value = np.asarray(params[name])
        shape = tuple(param.shape)
        if value.shape != shape:
            if value.size == int(np.prod(shape)) and _same_without_ones(value.shape, shape):
                value = value.reshape(shape)
            else:
                problems.append(f"{name}: shape {value.shape} does not fit {shape}")
                continue
        data = mindspore.Tensor(value.astype(mindspore.dtype_to_nptype(param.dtype)))
        if name in buffers:
            param.assign_value(data)
        else:
            param.set_data(data)
    # A missing constant (gamma/beta of a norm layer without affine in torch) is
    # not an error: MindSpore keeps it fixed at its initial value, as torch computes.
    required = [n for n in fit.missing if n in buffers
                or getattr(cell_params[n], "requires_grad", True)]
    if strict and (required or fit.unexpected or problems):
        lines = problems + [f"missing in weights: {n}" for n in required] + [
            f"not in the Cell: {n}" for n in fit.unexpected]
        raise WeightError("; ".join(lines))
    return fit.missing, fit.unexpected


def _same_without_ones(a: Iterable[int], b: Iterable[int]) -> bool:
    return [d for d in a if d != 1] == [d for d in b if d != 1]
