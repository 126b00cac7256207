"""Constructs the real-world corpus left as torch: APIs passed as values (an
initialiser handed to a helper, an activation returned, `map(torch.tensor, rows)`),
a MindSpore import whose short name the file's own imports already take. Each small
program is converted, run in torch and in MindSpore on the same inputs, and the
numbers compared."""
import sys
import textwrap
import types

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402


def convert(source: str, extra=None):
    source = textwrap.dedent(source)
    result = convert_source(source, "prog.py")
    assert convert_source(result.code, "prog.py").code == result.code  # idempotent
    torch_ns, ms_ns = {"__name__": "prog", **(extra or {})}, {"__name__": "prog_ms",
                                                              **(extra or {})}
    exec(compile(source, "<torch>", "exec"), torch_ns)
    exec(compile(result.code, "<ms>", "exec"), ms_ns)
    return result, torch_ns, ms_ns


def test_initialisers_passed_to_a_helper_fill_the_layer_like_torch():
    """The a2c/ppo pattern: `init(module, nn.init.orthogonal_, lambda x:
    nn.init.constant_(x, 0), gain)` with a helper that hands `module.weight.data`."""
    result, t, m = convert("""\
        import numpy as np
        import torch
        import torch.nn as nn

        def init(module, weight_init, bias_init, gain=1):
            weight_init(module.weight.data, gain=gain)
            bias_init(module.bias.data)
            return module

        class Head(nn.Module):
            def __init__(self, n_in, n_out):
                super().__init__()
                init_ = lambda m: init(m, nn.init.orthogonal_,
                                       lambda x: nn.init.constant_(x, 0.25), np.sqrt(2))
                self.fc = init_(nn.Linear(n_in, n_out))

            def forward(self, x):
                return self.fc(x)
        """)
    assert "import torch" not in result.code and "# ms-migrate" not in result.code
    tm, mm = t["Head"](6, 4), m["Head"](6, 4)
    for w, b in ((tm.fc.weight.detach().numpy(), tm.fc.bias.detach().numpy()),
                 (mm.fc.weight.asnumpy(), mm.fc.bias.asnumpy())):
        np.testing.assert_allclose(w @ w.T, 2 * np.eye(4), atol=1e-5)  # gain sqrt(2)
        np.testing.assert_array_equal(b, np.full(4, 0.25, np.float32))
    x = np.random.default_rng(0).standard_normal((3, 6)).astype(np.float32)
    mm.fc.weight.set_data(mindspore.Tensor(tm.fc.weight.detach().numpy()))
    np.testing.assert_allclose(mm(mindspore.Tensor(x)).asnumpy(),
                               tm(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_a_helper_named_like_a_mindspore_alias_keeps_its_name():
    """`from helpers import init` with `nn.init.*` converted: MindSpore's initializer
    module must not take the name `init` from the user's helper."""
    def init(module, weight_init, bias_init, gain=1):
        weight_init(module.weight.data, gain=gain)
        bias_init(module.bias.data)
        return module

    mod = types.ModuleType("misc_helpers_for_test")
    mod.init = init
    sys.modules["misc_helpers_for_test"] = mod
    try:
        result, t, m = convert("""\
            import torch.nn as nn

            from misc_helpers_for_test import init

            def head(n_in, n_out):
                layer = nn.Linear(n_in, n_out)
                nn.init.zeros_(layer.bias)
                return init(layer, nn.init.orthogonal_, lambda x: nn.init.constant_(x, -1.0))
            """)
    finally:
        del sys.modules["misc_helpers_for_test"]
    assert "from misc_helpers_for_test import init" in result.code
    assert "as init" not in result.code
    tl, ml = t["head"](5, 3), m["head"](5, 3)
    for w, b in ((tl.weight.detach().numpy(), tl.bias.detach().numpy()),
                 (ml.weight.asnumpy(), ml.bias.asnumpy())):
        np.testing.assert_allclose(w @ w.T, np.eye(3), atol=1e-5)
        np.testing.assert_array_equal(b, np.full(3, -1.0, np.float32))


def test_functions_used_as_values_compute_like_torch():
    result, t, m = convert("""\
        import torch
        import torch.nn.functional as F

        def activation(name):
            if name == "glu":
                return F.glu
            return F.relu

        def loss_fn(smooth):
            return F.smooth_l1_loss if smooth else F.mse_loss

        def rows(encoded):
            return list(map(torch.tensor, encoded))
        """)
    assert "import torch" not in result.code and "# ms-migrate" not in result.code
    x = np.random.default_rng(2).standard_normal((3, 8)).astype(np.float32)
    y = np.random.default_rng(3).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(m["activation"]("glu")(mindspore.Tensor(x)).asnumpy(),
                               t["activation"]("glu")(torch.from_numpy(x)).numpy(), rtol=1e-5)
    for smooth in (True, False):
        a = x[:, :4]
        np.testing.assert_allclose(
            m["loss_fn"](smooth)(mindspore.Tensor(a), mindspore.Tensor(y)).asnumpy(),
            t["loss_fn"](smooth)(torch.from_numpy(a), torch.from_numpy(y)).numpy(), rtol=1e-5)
    encoded = [[5, 3, 9], [1]]
    for got, want in zip(m["rows"](encoded), t["rows"](encoded)):
        assert str(got.dtype) == "Int64" and want.dtype == torch.int64
        np.testing.assert_array_equal(got.asnumpy(), want.numpy())


@pytest.mark.parametrize("value, problem", [
    ("torch.zeros", "must be a lambda whose body is a call of the API"),
    ("lambda size: torch.ones(size)", "must call torch.zeros in full, not torch.ones"),
    ("lambda size: torch.zeros(size + 1)", "may pass the call only the lambda's parameters"),
    ("lambda size: torch.zeros(*size)", "may pass the call only the lambda's parameters"),
])
def test_a_value_that_cannot_work_stops_the_table_load(tmp_path, value, problem):
    from ms_migrate.core.rule import TableError
    from ms_migrate.tables.load import load_table
    table = tmp_path / "bad.toml"
    table.write_text('namespace = "torch"\n[zeros]\ntarget = "mindspore.ops.zeros"\n'
                     f'args = ["size"]\nvalue = "{value}"\n')
    with pytest.raises(TableError, match="bad.toml:zeros: field 'value' " + problem):
        load_table(table)


def test_isinstance_of_a_typed_tensor_class_tests_the_dtype():
    result, t, m = convert("""\
        import torch

        def kind(x):
            if isinstance(x, torch.LongTensor):
                return "long"
            if not isinstance(x, torch.cuda.FloatTensor):
                return "other"
            return "float"
        """)
    assert "import torch" not in result.code
    assert any("CUDA tensor class" in f.message for f in result.report.findings)
    t_long, m_long = torch.tensor([[1], [2]]), mindspore.tensor([[1], [2]])
    assert t["kind"](t_long) == m["kind"](m_long) == "long"
    assert t["kind"]([1, 2]) == m["kind"]([1, 2]) == "other"
    # torch: a CPU float tensor is no torch.cuda.FloatTensor; MindSpore places tensors
    # by context, so only the dtype is tested (the warning above)
    assert m["kind"](mindspore.tensor([0.5])) == "float"
    assert m["kind"](mindspore.tensor([0.5], dtype=mindspore.float64)) == "other"


def test_box_area_is_torchvisions_width_times_height():
    """torchvision is not installed beside torch here: its documented formula,
    (x2 - x1) * (y2 - y1), on (x1, y1, x2, y2) rows, is the expectation."""
    result = convert_source(textwrap.dedent("""\
        import torch
        from torchvision.ops.boxes import box_area

        def areas(boxes):
            return box_area(boxes)
        """), "prog.py")
    assert "torchvision" not in result.code and "torch" not in result.code
    ns = {}
    exec(compile(result.code, "<ms>", "exec"), ns)
    boxes = np.array([[0, 0, 2, 3], [1, 1, 1.5, 4], [0.5, 0.5, 0.5, 0.5]], np.float32)
    want = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    np.testing.assert_allclose(ns["areas"](mindspore.Tensor(boxes)).asnumpy(), want)


def test_keyword_dict_spread_into_an_optimizer_trains_like_torch():
    result, t, m = convert("""\
        import torch
        import torch.nn as nn
        import torch.optim as optim

        def train(model, kind, batches):
            opt_args = dict(lr=0.05, weight_decay=0.01)
            if kind == "sgd":
                optimizer = optim.SGD(model.parameters(), momentum=0.9, nesterov=True, **opt_args)
            else:
                optimizer = optim.AdamW(model.parameters(), **opt_args)
            losses = []
            for x, y in batches:
                optimizer.zero_grad()
                loss = ((model(x) - y) ** 2).mean()
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            return losses
        """)
    assert "import torch" not in result.code
    from ms_migrate.runtime.equivalence import copy_torch_weights
    rng = np.random.default_rng(4)
    data = [(rng.standard_normal((4, 3)).astype(np.float32),
             rng.standard_normal((4, 2)).astype(np.float32)) for _ in range(4)]
    for kind in ("sgd", "adamw"):
        torch.manual_seed(0)
        tm, mm = torch.nn.Linear(3, 2), mindspore.nn.Dense(3, 2)
        copy_torch_weights(tm, mm)
        t_losses = t["train"](tm, kind, [(torch.from_numpy(a), torch.from_numpy(b))
                                         for a, b in data])
        m_losses = m["train"](mm, kind, [(mindspore.Tensor(a), mindspore.Tensor(b))
                                         for a, b in data])
        np.testing.assert_allclose(m_losses, t_losses, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("cls", ["torch.LongTensor", "torch.cuda.LongTensor"])
def test_a_new_typed_tensor_given_as_out_chooses_the_dtype(cls):
    source = f"""\
        import torch

        def get_mask_from_lengths(lengths):
            max_len = torch.max(lengths).item()
            ids = torch.arange(0, max_len, out={cls}(max_len))
            return (ids < lengths.unsqueeze(1)).bool()
        """
    result = convert_source(textwrap.dedent(source), "prog.py")
    assert "torch" not in result.code and "dtype=mindspore.int64" in result.code
    t = {}
    exec(compile(textwrap.dedent(source.replace("torch.cuda.", "torch.")), "<t>", "exec"), t)
    m = {}
    exec(compile(result.code, "<ms>", "exec"), m)
    lengths = np.array([3, 1, 4], np.int64)
    np.testing.assert_array_equal(
        m["get_mask_from_lengths"](mindspore.Tensor(lengths)).asnumpy(),
        t["get_mask_from_lengths"](torch.from_numpy(lengths)).numpy())


def test_the_image_backend_is_torchvisions_default():
    """torchvision documents 'PIL' as the backend until set_image_backend changes it."""
    result = convert_source(textwrap.dedent("""\
        from torchvision import get_image_backend

        def loader_name():
            if get_image_backend() == 'accimage':
                return 'accimage loader'
            return 'PIL loader'
        """), "prog.py")
    assert "torchvision" not in result.code
    ns = {}
    exec(compile(result.code, "<ms>", "exec"), ns)
    assert ns["loader_name"]() == "PIL loader"


def test_helpers_for_a_runtime_gain_and_a_transposed_convolution_compute_like_torch():
    """tacotron2's layers and STFT: calculate_gain(w_init_gain) with the name known at
    run time, F.conv_transpose1d (no CPU kernel in MindSpore 2.10): helpers in the file."""
    result, t, m = convert("""\
        import torch
        import torch.nn.functional as F
        from torch.autograd import Variable

        def gains(names):
            return [torch.nn.init.calculate_gain(n) for n in names]

        def leaky(slope):
            return torch.nn.init.calculate_gain('leaky_relu', slope)

        def inverse(x, basis, hop):
            return F.conv_transpose1d(
                x,
                Variable(basis, requires_grad=False),
                stride=hop,
                padding=0)
        """)
    assert "import torch" not in result.code and "# ms-migrate" not in result.code
    assert result.code.count("def calculate_gain(") == 1
    names = ["linear", "conv1d", "sigmoid", "tanh", "relu", "selu", "conv_transpose3d"]
    np.testing.assert_allclose(m["gains"](names), t["gains"](names))
    assert m["leaky"](0.3) == pytest.approx(t["leaky"](0.3))
    assert m["leaky"](None) == pytest.approx(t["leaky"](None))
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 10, 12)).astype(np.float32)
    basis = rng.standard_normal((10, 1, 8)).astype(np.float32)
    np.testing.assert_allclose(
        m["inverse"](mindspore.Tensor(x), mindspore.Tensor(basis), 2).asnumpy(),
        t["inverse"](torch.from_numpy(x), torch.from_numpy(basis), 2).numpy(),
        rtol=1e-4, atol=1e-5)


def test_a_new_tensor_sampled_in_place_follows_torchs_law():
    """`t.randn(n, d).normal_(mean, std)`, `torch.empty(1).uniform_(lo, hi)` with
    bounds known at run time (pytorch-book, mae): random, so the laws are compared."""
    result, t, m = convert("""\
        import torch
        import torch as t

        def noises(n, mean, std):
            return t.randn(n, 4).normal_(mean, std)

        def areas(n, scale):
            return torch.cat([torch.empty(1).uniform_(scale[0], scale[1]) for _ in range(n)])

        def gumbel(t):
            noise = torch.zeros_like(t).uniform_(0, 1)
            return -torch.log(-torch.log(noise))
        """)
    assert "import torch" not in result.code and "# ms-migrate" not in result.code
    for ns, as_array in ((t, lambda x: x.numpy()), (m, lambda x: x.asnumpy())):
        sample = as_array(ns["noises"](20000, 3.0, 0.5))
        assert sample.shape == (20000, 4)
        assert abs(sample.mean() - 3.0) < 0.02 and abs(sample.std() - 0.5) < 0.02
        drawn = as_array(ns["areas"](5000, (0.25, 0.75)))
        assert drawn.min() >= 0.25 and drawn.max() < 0.75
        assert abs(drawn.mean() - 0.5) < 0.02
    for ns, make, as_array in ((t, torch.zeros, lambda x: x.numpy()),
                               (m, mindspore.ops.zeros, lambda x: x.asnumpy())):
        g = as_array(ns["gumbel"](make((200, 100))))
        assert g.shape == (200, 100)
        assert abs(np.median(g) - 0.3665) < 0.04  # the Gumbel law's median: -ln(ln 2)


def test_bicubic_resampling_of_position_embeddings_matches_torch():
    """mae's interpolate_pos_embed: F.interpolate(mode='bicubic') through a helper with
    torch's cubic weights (MindSpore's own kernel weighs differently)."""
    result, t, m = convert("""\
        import torch

        def resize(pos_embed, orig_size, new_size, extra):
            extra_tokens = pos_embed[:, :extra]
            pos_tokens = pos_embed[:, extra:]
            dim = pos_embed.shape[-1]
            pos_tokens = pos_tokens.reshape(-1, orig_size, orig_size, dim).permute(0, 3, 1, 2)
            pos_tokens = torch.nn.functional.interpolate(
                pos_tokens, size=(new_size, new_size), mode='bicubic', align_corners=False)
            pos_tokens = pos_tokens.permute(0, 2, 3, 1).flatten(1, 2)
            return torch.cat((extra_tokens, pos_tokens), dim=1)
        """)
    assert "import torch" not in result.code and "# ms-migrate" not in result.code
    pos = np.random.default_rng(6).standard_normal((1, 1 + 7 * 7, 8)).astype(np.float32)
    for new in (10, 4):
        np.testing.assert_allclose(
            m["resize"](mindspore.Tensor(pos), 7, new, 1).asnumpy(),
            t["resize"](torch.from_numpy(pos), 7, new, 1).numpy(), rtol=1e-4, atol=1e-5)


def test_reading_the_determinism_switch_reads_mindspores():
    result, t, m = convert("""\
        import torch

        def reset_kind():
            if torch.backends.cudnn.deterministic:
                return "fresh zeros"
            return "zeroed in place"

        def set_flag(value):
            torch.backends.cudnn.deterministic = value
        """)
    assert "import torch" not in result.code
    assert "mindspore.set_deterministic(value)" in result.code
    # MindSpore accepts set_deterministic once per process: only the default is read here
    assert t["reset_kind"]() == m["reset_kind"]() == "zeroed in place"


def test_default_collate_called_directly_batches_like_torch():
    result, t, m = convert("""\
        from torch.utils.data.dataloader import default_collate

        def collate_fn(batch):
            batch_clips, batch_targets = zip(*batch)
            batch_clips = [clip for multi_clips in batch_clips for clip in multi_clips]
            batch_targets = [target for multi in batch_targets for target in multi]
            if isinstance(batch_targets[0], (int, str)):
                return default_collate(batch_clips), default_collate(batch_targets)
            return default_collate(batch_clips), batch_targets
        """)
    assert "import torch" not in result.code and "from torch" not in result.code
    assert result.code.count("def default_collate(") == 1
    clips = np.random.default_rng(8).standard_normal((4, 3, 2)).astype(np.float32)
    for targets in ([[1, 2], [3, 4]], [["a", "b"], ["c", "d"]]):
        t_out = t["collate_fn"]([([torch.from_numpy(clips[0]), torch.from_numpy(clips[1])],
                                  targets[0]),
                                 ([torch.from_numpy(clips[2]), torch.from_numpy(clips[3])],
                                  targets[1])])
        m_out = m["collate_fn"]([([mindspore.Tensor(clips[0]), mindspore.Tensor(clips[1])],
                                  targets[0]),
                                 ([mindspore.Tensor(clips[2]), mindspore.Tensor(clips[3])],
                                  targets[1])])
        np.testing.assert_allclose(m_out[0].asnumpy(), t_out[0].numpy())
        if isinstance(targets[0][0], int):
            np.testing.assert_array_equal(m_out[1].asnumpy(), t_out[1].numpy())
            assert str(m_out[1].dtype) == "Int64"
        else:
            assert m_out[1] == t_out[1]


def test_a_helper_never_takes_a_name_the_file_binds():
    """`def conv_transpose1d(x, w)` wrapping F.conv_transpose1d: the helper is
    ms_conv_transpose1d, and the user's function still calls it."""
    result, t, m = convert("""\
        import torch.nn.functional as F

        def conv_transpose1d(x, w):
            return F.conv_transpose1d(x, w, stride=2)
        """)
    assert "def ms_conv_transpose1d(" in result.code
    assert "return ms_conv_transpose1d(x, w, stride=2)" in result.code
    rng = np.random.default_rng(9)
    x = rng.standard_normal((1, 3, 5)).astype(np.float32)
    w = rng.standard_normal((3, 2, 4)).astype(np.float32)
    np.testing.assert_allclose(
        m["conv_transpose1d"](mindspore.Tensor(x), mindspore.Tensor(w)).asnumpy(),
        t["conv_transpose1d"](torch.from_numpy(x), torch.from_numpy(w)).numpy(),
        rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("layer", ["nn.ParameterList()", "nn.Unfold(2)",
                                   "nn.InstanceNorm2d(3, track_running_stats=True)"])
def test_a_layer_written_as_a_helper_keeps_the_torch_import_another_layer_needs(layer):
    # a statement pass that replaces a torch reference must not also count it as
    # released: the main traversal counts only the references it meets
    source = ("import torch.nn as nn\n\n\nclass M(nn.Module):\n    def __init__(self):\n"
              f"        super().__init__()\n        self.a = {layer}\n"
              "        self.b = nn.EmbeddingBag(10, 3, max_norm=1.0)\n")
    code = convert_source(source, "m.py").code
    assert "import torch.nn as nn" in code and "nn.EmbeddingBag(10, 3, max_norm=1.0)" in code
    assert "from mindspore import nn\n" not in code
