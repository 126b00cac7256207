"""Weight names between torch and MindSpore: rules, inference, layer types from source."""
import dataclasses

import numpy as np
import pytest

from ms_migrate.core.layertypes import LayerSourceError, layer_types_from_source
from ms_migrate.tables.load import RuleSet, load_rules
from ms_migrate.runtime.weights import LayerTypes, WeightError, check_fit, convert_state


def arrays(**shapes):
    rng = np.random.default_rng(0)
    return {k.replace("__", "."): rng.standard_normal(s).astype("float32")
            for k, s in shapes.items()}


def with_rule(name, **changes):
    """The built-in rules with one rule changed."""
    rules = list(load_rules())
    return RuleSet([dataclasses.replace(r, **changes) if r.torch_name == name else r
                    for r in rules])


# --- names from the rules -------------------------------------------------------
def test_batchnorm_inferred_from_running_stats():
    state = arrays(bn__weight=(4,), bn__bias=(4,), bn__running_mean=(4,),
                   bn__running_var=(4,), fc__weight=(3, 4), fc__bias=(3,))
    state["bn.num_batches_tracked"] = np.array(7)
    out = convert_state(state)
    assert set(out.params) == {"bn.gamma", "bn.beta", "bn.moving_mean",
                               "bn.moving_variance", "fc.weight", "fc.bias"}
    assert out.dropped == ["bn.num_batches_tracked"]
    assert np.array_equal(out.params["bn.moving_variance"], state["bn.running_var"])


def test_norm_layer_inferred_from_its_1d_affine_pair():
    out = convert_state(arrays(ln__weight=(8,), ln__bias=(8,), fc__weight=(8, 8)))
    assert set(out.params) == {"ln.gamma", "ln.beta", "fc.weight"}


def test_reverse_direction_inverts_the_rules():
    ms = arrays(bn__gamma=(4,), bn__beta=(4,), bn__moving_mean=(4,), bn__moving_variance=(4,),
                emb__embedding_table=(10, 4), ln__gamma=(4,), ln__beta=(4,))
    out = convert_state(ms, to_mindspore=False)
    assert set(out.params) == {"bn.weight", "bn.bias", "bn.running_mean", "bn.running_var",
                               "emb.weight", "ln.weight", "ln.bias"}


def test_embedding_needs_its_type_or_the_target():
    state = arrays(emb__weight=(10, 4), fc__weight=(3, 4))
    assert set(convert_state(state).params) == {"emb.weight", "fc.weight"}
    typed = convert_state(state, types=LayerTypes({"emb": "torch.nn.Embedding",
                                                   "fc": "torch.nn.Linear"}))
    assert set(typed.params) == {"emb.embedding_table", "fc.weight"}
    fitted = convert_state(state, target_shapes={"emb.embedding_table": (10, 4),
                                                 "fc.weight": (3, 4)})
    assert set(fitted.params) == {"emb.embedding_table", "fc.weight"}
    assert fitted.renamed == {"emb.weight": "emb.embedding_table"}


def test_wildcard_layer_types():
    types = LayerTypes({"blocks.*.norm": "torch.nn.BatchNorm1d", "blocks": "torch.nn.ModuleList"})
    assert types.get("blocks.3.norm") == "torch.nn.BatchNorm1d"
    assert types.get("blocks.3") is None
    assert types.get("blocks") == "torch.nn.ModuleList"


def test_unsqueeze_params_adds_and_removes_the_axis():
    rules = with_rule("torch.nn.Conv1d", unsqueeze_params={"weight": 2})
    types = LayerTypes({"conv": "torch.nn.Conv1d"})
    state = arrays(conv__weight=(4, 3, 5), conv__bias=(4,))
    out = convert_state(state, rules, types)
    assert out.params["conv.weight"].shape == (4, 3, 1, 5)
    back = convert_state(out.params, rules, types, to_mindspore=False)
    assert back.params["conv.weight"].shape == (4, 3, 5)
    assert np.array_equal(back.params["conv.weight"], state["conv.weight"])


def test_target_shapes_add_size_one_axes():
    out = convert_state(arrays(conv__weight=(4, 3, 5)),
                        target_shapes={"conv.weight": (4, 3, 1, 5)})
    assert out.params["conv.weight"].shape == (4, 3, 1, 5)


def test_child_layer_renames_through_params():
    torch = pytest.importorskip("torch")
    ms_nn = pytest.importorskip("mindspore.nn")
    rules = with_rule("torch.nn.Module", params={})  # a copy of the built-in rules
    rules = RuleSet(list(rules) + [dataclasses.replace(
        next(iter(rules)), torch_name="torch.nn.TransformerEncoderLayer", kind="class",
        target="mindspore.nn.TransformerEncoderLayer", params={"linear1": "dense1",
                                                              "linear2": "dense2"},
        drop_params=(), examples=())])
    layer = torch.nn.TransformerEncoderLayer(8, 2, 16)
    state = {k: v.numpy() for k, v in layer.state_dict().items()}
    out = convert_state(state, rules, LayerTypes.from_module(layer))
    cell = ms_nn.TransformerEncoderLayer(8, 2, 16)
    fit = check_fit(out.params, {n: tuple(p.shape) for n, p in cell.parameters_and_names()})
    assert fit.ok, fit.summary()


def test_two_weights_onto_one_name_is_an_error():
    state = arrays(bn__weight=(4,), bn__gamma=(4,), bn__running_mean=(4,))
    with pytest.raises(WeightError, match="bn.gamma"):
        convert_state(state)


def test_check_fit_reports_each_kind_and_tied_weights():
    params = arrays(a=(2, 3), b=(4,), extra=(5,))
    params["decoder.weight"] = params["a"].copy()
    fit = check_fit(params, {"a": (2, 3), "b": (5,), "c": (1,)})
    assert fit.missing == ["c"]
    assert fit.unexpected == ["extra"]
    assert fit.misshaped == ["b: (4,) vs (5,)"]
    assert fit.tied == {"decoder.weight": "a"}
    assert "1 missing (c)" in fit.summary()


# --- layer types from the model's source ------------------------------------------
MODEL = '''
import torch
import torch.nn as nn
from collections import OrderedDict
from torch.nn import BatchNorm2d as BN


def conv3x3(i, o):
    return nn.Conv2d(i, o, 3, padding=1)


class Base(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv3x3(3, 4)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bn = BN(c)
        self.proj = nn.Sequential(OrderedDict([("conv", nn.Conv1d(c, c, 1)),
                                               ("norm", nn.BatchNorm1d(c))]))


class Net(Base):
    def __init__(self, n=3):
        super().__init__()
        layers = []
        for _ in range(n):
            layers.append(Block(4))
        self.body = nn.Sequential(*layers)
        self.heads = nn.ModuleList([nn.Linear(4, 2) for _ in range(2)])
        emb = nn.Embedding(10, 4)
        self.emb = emb
        self.add_module("extra", nn.LayerNorm(4))
        self.table = nn.ModuleDict({"a": nn.GRU(2, 3)})
        self.seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
'''


def test_layer_types_from_source():
    types = layer_types_from_source(MODEL, "Net", "pkg/model.py")
    assert types == {
        "stem": "torch.nn.Conv2d",
        "body": "torch.nn.Sequential",
        "body.*": "model.Block",
        "body.*.bn": "torch.nn.BatchNorm2d",
        "body.*.proj": "torch.nn.Sequential",
        "body.*.proj.conv": "torch.nn.Conv1d",
        "body.*.proj.norm": "torch.nn.BatchNorm1d",
        "heads": "torch.nn.ModuleList",
        "heads.*": "torch.nn.Linear",
        "emb": "torch.nn.Embedding",
        "extra": "torch.nn.LayerNorm",
        "table": "torch.nn.ModuleDict",
        "table.a": "torch.nn.GRU",
        "seq": "torch.nn.Sequential",
        "seq.0": "torch.nn.Linear",
        "seq.1": "torch.nn.ReLU",
    }


def test_layer_types_match_a_live_module():
    torch = pytest.importorskip("torch")
    namespace = {}
    exec(compile(MODEL, "model.py", "exec"), namespace)
    live = LayerTypes.from_module(namespace["Net"]())
    static = LayerTypes(layer_types_from_source(MODEL, "Net", "model.py"))
    for path, qualified in live.exact.items():
        if qualified.startswith("torch.nn.") and path:
            assert static.get(path) == qualified, path
    assert torch  # the live model needed torch


def test_layer_source_errors():
    with pytest.raises(LayerSourceError, match="no class 'Missing'.*Base, Block, Net"):
        layer_types_from_source(MODEL, "Missing", "model.py")
    with pytest.raises(LayerSourceError, match="model.py:1: cannot parse"):
        layer_types_from_source("class Net(:\n", "Net", "model.py")


SUBCLASSED = '''
import torch.nn as nn


class FrozenNorm(nn.BatchNorm2d):
    pass


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = FrozenNorm(4)
'''


def test_a_subclass_of_a_torch_layer_keeps_its_parameter_names():
    types = layer_types_from_source(SUBCLASSED, "Net", "net.py")
    assert types == {"norm": "torch.nn.BatchNorm2d"}
    torch = pytest.importorskip("torch")
    namespace = {}
    exec(compile(SUBCLASSED, "net.py", "exec"), namespace)
    assert LayerTypes.from_module(namespace["Net"]()).get("norm") == "torch.nn.BatchNorm2d"
    state = {k: v.numpy() for k, v in namespace["Net"]().state_dict().items()}
    out = convert_state(state, types=LayerTypes(types))
    assert "norm.gamma" in out.params and "norm.moving_variance" in out.params
    assert torch


def test_target_overrides_a_wrong_inference():
    """A hand-written LayerNorm keeps `weight`/`bias`; inference alone would say gamma/beta."""
    state = arrays(ln__weight=(4,), ln__bias=(4,))
    assert set(convert_state(state).params) == {"ln.gamma", "ln.beta"}
    fitted = convert_state(state, target_shapes={"ln.weight": (4,), "ln.bias": (4,)})
    assert set(fitted.params) == {"ln.weight", "ln.bias"}
    assert fitted.renamed == {}
