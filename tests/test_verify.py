"""`verify`: same weights, same inputs, outputs compared; --per-cell names the culprit."""
import dataclasses
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from click.testing import CliRunner  # noqa: E402

from ms_migrate.cli.main import main  # noqa: E402
from ms_migrate.engine import convert_source  # noqa: E402
from ms_migrate.tables.load import RuleSet, load_rules  # noqa: E402
from ms_migrate.runtime.verify import (VerifyError, build, make_input, parse_call_args,  # noqa: E402
                               verify_models)
from ms_migrate.runtime.weights import WeightError  # noqa: E402

CNN = textwrap.dedent('''
    import torch.nn as nn


    class SmallCNN(nn.Module):
        def __init__(self, classes=3):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 4, 3, padding=1),
                nn.BatchNorm2d(4),
                nn.ReLU(),
                nn.Conv2d(4, 4, 3),
                nn.BatchNorm2d(4, momentum=0.3),
                nn.ReLU(),
            )
            self.head = nn.Linear(4 * 6 * 6, classes)

        def forward(self, x):
            return self.head(self.features(x).reshape(x.shape[0], -1))
''')
INPUT = "2x3x8x8/float32"


def with_rule(name, **changes):
    return RuleSet([dataclasses.replace(r, **changes) if r.torch_name == name else r
                    for r in load_rules()])


def write_pair(tmp_path, rules=None, torch_source=CNN):
    result = convert_source(torch_source, "cnn.py", rules)
    (tmp_path / "cnn.py").write_text(torch_source)
    (tmp_path / "cnn_ms.py").write_text(result.code)
    return f"{tmp_path / 'cnn.py'}:SmallCNN", f"{tmp_path / 'cnn_ms.py'}:SmallCNN"


def models(tmp_path, rules=None):
    torch_ref, ms_ref = write_pair(tmp_path, rules)
    torch.manual_seed(0)
    model = build(torch_ref)
    with torch.no_grad():
        for bn in (model.features[1], model.features[4]):
            bn.running_mean.uniform_(-1, 1)
            bn.running_var.uniform_(0.5, 2)
    return model, build(ms_ref)


def cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output


# --- the Python API --------------------------------------------------------------
def test_correct_conversion_is_equivalent(tmp_path):
    model, cell = models(tmp_path)
    result = verify_models(model, cell, [INPUT], per_cell=True)
    assert result.ok, "\n".join(result.lines())
    assert result.outputs[0].shape == (2, 3)
    assert result.outputs[0].max_abs < 1e-5
    assert result.divergence is None
    assert result.compared_cells == 9  # the model, features, its 6 layers, head


def test_per_cell_names_the_batchnorm_a_wrong_rule_broke(tmp_path):
    wrong = with_rule("torch.nn.BatchNorm2d",
                      defaults={**load_rules().get("torch.nn.BatchNorm2d").defaults,
                                "eps": "0.5"})
    model, cell = models(tmp_path, wrong)
    result = verify_models(model, cell, [INPUT], per_cell=True)
    assert not result.ok
    assert result.divergence.torch_name == "features.1"
    assert result.divergence.torch_type == "BatchNorm2d"
    assert "features.1" in "\n".join(result.lines())


def wrong_conv_padding():
    """Conv2d whose padding is dropped: MindSpore's pad_mode="same" default stays.

    The first conv (padding=1, 3x3) happens to agree; the second (no padding) does not.
    """
    conv = load_rules().get("torch.nn.Conv2d")
    return with_rule("torch.nn.Conv2d", transform=None, drop=conv.drop + ("padding",))


def test_per_cell_names_the_conv_whose_padding_rule_is_wrong(tmp_path):
    wrong = wrong_conv_padding()
    model, cell = models(tmp_path, wrong)
    result = verify_models(model, cell, [INPUT], per_cell=True)
    assert not result.ok
    assert result.divergence.torch_name == "features.3"
    assert "shape (2, 4, 6, 6) (torch) vs (2, 4, 8, 8) (MindSpore)" in result.divergence.line()


def wrong_momentum():
    """BatchNorm2d whose momentum is passed through unchanged (MindSpore's is 1 - torch's)."""
    return with_rule("torch.nn.BatchNorm2d", values={})


def test_training_mode_compares_the_running_statistics(tmp_path):
    model, cell = models(tmp_path)
    result = verify_models(model, cell, [INPUT], train=True, per_cell=True)
    assert result.ok, "\n".join(result.lines())
    assert len(result.state) == 14  # 2 convs x 2, 2 BatchNorms x 4, head x 2
    assert float(model.features[4].running_mean.abs().sum()) > 0  # the run moved them


def test_per_cell_names_the_batchnorm_whose_momentum_rule_is_wrong(tmp_path):
    model, cell = models(tmp_path, wrong_momentum())
    assert verify_models(model, cell, [INPUT]).ok  # inference mode cannot see momentum
    model, cell = models(tmp_path, wrong_momentum())
    result = verify_models(model, cell, [INPUT], train=True, per_cell=True)
    assert not result.ok
    assert all(o.ok for o in result.outputs)
    assert result.divergence.torch_name == "features.4"
    assert "state features.4.running_mean" in result.divergence.line()


def test_weights_that_do_not_fit_raise(tmp_path):
    model, _ = models(tmp_path)
    other = convert_source(CNN.replace("nn.Linear(4 * 6 * 6", "nn.Linear(4 * 6 * 5"), "x.py")
    (tmp_path / "other_ms.py").write_text(other.code)
    with pytest.raises(WeightError, match="head.weight"):
        verify_models(model, build(f"{tmp_path / 'other_ms.py'}:SmallCNN"), [INPUT])


# --- inputs and arguments ----------------------------------------------------------
def test_input_specs():
    rng = np.random.default_rng(0)
    x = make_input("2x3x4/float64", rng)
    assert x.shape == (2, 3, 4) and x.dtype == np.float64
    tokens = make_input("4x16/int64/5:9", rng)
    assert tokens.dtype == np.int64 and tokens.min() >= 5 and tokens.max() < 9
    assert make_input("3", rng).dtype == np.float32
    assert make_input("2x2/bool", rng).dtype == bool
    for bad in ("2xa", "2x3/float128", "2x3/int64/9:1", "2x3/int64/x", "1/2/3/4"):
        with pytest.raises(VerifyError, match="input"):
            make_input(bad, rng)


def test_call_args():
    assert parse_call_args('3, num_classes=10, name="a"') == ((3,), {"num_classes": 10,
                                                                     "name": "a"})
    assert parse_call_args("") == ((), {})
    with pytest.raises(VerifyError, match="literals"):
        parse_call_args("os.system('x')")


# --- the command -----------------------------------------------------------------
def test_cli_equivalent_exits_0(tmp_path):
    torch_ref, ms_ref = write_pair(tmp_path)
    code, out = cli("verify", torch_ref, ms_ref, "--args", "classes=3", "--input", INPUT)
    assert code == 0, out
    assert "output (2, 3): max abs diff" in out and "equivalent" in out


def test_cli_per_cell_names_the_offending_submodule(tmp_path):
    torch_ref, ms_ref = write_pair(tmp_path, wrong_conv_padding())
    code, out = cli("verify", torch_ref, ms_ref, "--input", INPUT, "--per-cell")
    assert code == 1, out
    assert "first diverging submodule: features.3" in out


def test_cli_train_per_cell_names_the_batchnorm(tmp_path):
    torch_ref, ms_ref = write_pair(tmp_path, wrong_momentum())
    code, out = cli("verify", torch_ref, ms_ref, "--input", INPUT, "--per-cell")
    assert code == 0, out
    code, out = cli("verify", torch_ref, ms_ref, "--input", INPUT, "--per-cell", "--train")
    assert code == 1, out
    assert "first diverging submodule: features.4 [BatchNorm2d -> BatchNorm2d]" in out


def test_cli_loads_given_torch_weights(tmp_path):
    torch_ref, ms_ref = write_pair(tmp_path)
    model = build(torch_ref)
    torch.save({"model": model.state_dict()}, tmp_path / "w.pth")
    code, out = cli("verify", torch_ref, ms_ref, "--input", INPUT,
                    "--weights", tmp_path / "w.pth", "--key", "model")
    assert code == 0, out
    code, out = cli("verify", torch_ref, ms_ref, "--input", INPUT,
                    "--weights", tmp_path / "w.pth")
    assert code == 2 and "--key" in out


@pytest.mark.parametrize("args,message", [
    (["{dir}/missing.py:SmallCNN", "{ms}"], "missing.py: no such file"),
    (["{torch}", "{dir}/cnn_ms.py:Nope"], "no class 'Nope'"),
    (["{torch}", "{ms}", "--args", "classes="], "--args"),
    (["{torch}", "{ms}", "--args", "unknown=1"], "building SmallCNN failed: TypeError"),
    (["{dir}/broken.py:X", "{ms}"], "broken.py: importing failed: ZeroDivisionError"),
    (["{dir}/cnn.py", "{ms}"], "expected FILE.py:ClassName"),
])
def test_cli_bad_input_exits_2(tmp_path, args, message):
    torch_ref, ms_ref = write_pair(tmp_path)
    (tmp_path / "broken.py").write_text("x = 1 / 0\n")
    filled = [a.format(dir=tmp_path, torch=torch_ref, ms=ms_ref) for a in args]
    code, out = cli("verify", *filled, "--input", INPUT)
    assert code == 2, out
    assert message in out
    assert len(out.strip().splitlines()) == 1 and "Traceback" not in out


def test_cli_bad_input_spec_exits_2(tmp_path):
    torch_ref, ms_ref = write_pair(tmp_path)
    code, out = cli("verify", torch_ref, ms_ref, "--input", "2x3x8xQ")
    assert code == 2 and "input '2x3x8xQ'" in out


def test_cli_weights_that_do_not_fit_exit_1(tmp_path):
    torch_ref, _ = write_pair(tmp_path)
    other = convert_source(CNN.replace("nn.Linear(4 * 6 * 6", "nn.Linear(4 * 6 * 5"), "x.py")
    (tmp_path / "other_ms.py").write_text(other.code)
    code, out = cli("verify", torch_ref, f"{tmp_path / 'other_ms.py'}:SmallCNN",
                    "--input", INPUT)
    assert code == 1
    assert "do not fit the Cell" in out and "head.weight" in out


def test_cli_wrong_input_shape_is_reported_not_raised(tmp_path):
    torch_ref, ms_ref = write_pair(tmp_path)
    code, out = cli("verify", torch_ref, ms_ref, "--input", "2x5x8x8")
    assert code == 1
    assert "running the models failed" in out and "Traceback" not in out


def test_each_model_file_gets_its_own_sibling_modules(tmp_path):
    """A torch project and its converted copy both have `layers.py`."""
    torch_dir, ms_dir = tmp_path / "pt", tmp_path / "ms"
    torch_dir.mkdir()
    ms_dir.mkdir()
    layers = textwrap.dedent('''
        import torch.nn as nn


        def block(n):
            return nn.Sequential(nn.Linear(n, n), nn.BatchNorm1d(n), nn.ReLU())
    ''')
    net = textwrap.dedent('''
        import torch.nn as nn
        from layers import block


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = block(4)

            def forward(self, x):
                return self.body(x)
    ''')
    for name, text in (("layers.py", layers), ("net.py", net)):
        (torch_dir / name).write_text(text)
        (ms_dir / name).write_text(convert_source(text, name).code)
    code, out = cli("verify", f"{torch_dir / 'net.py'}:Net", f"{ms_dir / 'net.py'}:Net",
                    "--input", "3x4")
    assert code == 0, out
