"""Names and values survive torch -> MindSpore -> torch for any mix of layers."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ms_migrate.tables.load import load_rules
from ms_migrate.runtime.weights import LayerTypes, convert_state

# torch layer -> its parameters and buffers (shapes for small sizes)
LAYERS = {
    "torch.nn.Linear": {"weight": (3, 2), "bias": (3,)},
    "torch.nn.Conv1d": {"weight": (4, 2, 3), "bias": (4,)},
    "torch.nn.Conv2d": {"weight": (4, 2, 3, 3), "bias": (4,)},
    "torch.nn.BatchNorm1d": {"weight": (4,), "bias": (4,), "running_mean": (4,),
                             "running_var": (4,), "num_batches_tracked": ()},
    "torch.nn.BatchNorm2d": {"weight": (4,), "bias": (4,), "running_mean": (4,),
                             "running_var": (4,), "num_batches_tracked": ()},
    "torch.nn.BatchNorm3d": {"weight": (4,), "bias": (4,), "running_mean": (4,),
                             "running_var": (4,), "num_batches_tracked": ()},
    "torch.nn.LayerNorm": {"weight": (4,), "bias": (4,)},
    "torch.nn.Embedding": {"weight": (10, 4)},
    "torch.nn.GRU": {"weight_ih_l0": (9, 2), "weight_hh_l0": (9, 3), "bias_ih_l0": (9,),
                     "bias_hh_l0": (9,)},
}

paths = st.lists(st.sampled_from(["a", "b", "0", "1", "block", "head"]), min_size=1,
                 max_size=3).map(".".join)
models = st.dictionaries(paths, st.sampled_from(sorted(LAYERS)), min_size=1, max_size=6)


def _leaf_modules(model):
    """Layers are leaves: drop a path that is a prefix of another one."""
    return {p: t for p, t in model.items()
            if not any(o.startswith(p + ".") for o in model if o != p)}


@settings(max_examples=60, deadline=None)
@given(models, st.integers(0, 2**31 - 1))
def test_round_trip_with_layer_types(model, seed):
    model = _leaf_modules(model)
    rng = np.random.default_rng(seed)
    state = {}
    for path, layer in model.items():
        for name, shape in LAYERS[layer].items():
            state[f"{path}.{name}"] = rng.standard_normal(shape).astype("float32")
    rules = load_rules()
    types = LayerTypes(model)
    to_ms = convert_state(state, rules, types)
    assert len(set(to_ms.params)) == len(to_ms.params)
    back = convert_state(to_ms.params, rules, types, to_mindspore=False)
    dropped = {n for n in state if n.endswith("num_batches_tracked")}
    assert set(to_ms.dropped) == dropped
    assert set(back.params) == set(state) - dropped
    for name, value in back.params.items():
        assert value.shape == state[name].shape, name
        assert np.array_equal(value, state[name]), name
