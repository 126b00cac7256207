"""`ms-migrate convert-weights`: formats, options, and bad input (exit 2, nothing written)."""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from click.testing import CliRunner

from ms_migrate.cli.main import main
from ms_migrate.engine import convert_source

NET = textwrap.dedent('''
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self, hidden=8):
            super().__init__()
            self.emb = nn.Embedding(10, 4)
            self.fc = nn.Linear(4, hidden)
            self.bn = nn.BatchNorm1d(hidden)
            self.out = nn.Linear(hidden, 2)

        def forward(self, tokens):
            return self.out(self.bn(self.fc(self.emb(tokens).mean(1))))
''')


@pytest.fixture
def files(tmp_path):
    """The torch model source, its conversion, and its weights as a .pth."""
    (tmp_path / "net.py").write_text(NET)
    (tmp_path / "net_ms.py").write_text(convert_source(NET, "net.py").code)
    namespace = {}
    exec(compile(NET, "net.py", "exec"), namespace)
    torch.manual_seed(0)
    model = namespace["Net"]()
    model.bn.running_mean.uniform_()
    model.bn.num_batches_tracked += 5
    torch.save(model.state_dict(), tmp_path / "net.pth")
    return tmp_path, model.state_dict()


def cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output


def ckpt(path):
    return {k: v.asnumpy() for k, v in mindspore.load_checkpoint(str(path)).items()}


def test_model_source_gives_exact_names(files):
    d, state = files
    code, out = cli("convert-weights", d / "net.pth", "-o", d / "net.ckpt",
                    "--model", f"{d / 'net.py'}:Net")
    assert code == 0, out
    params = ckpt(d / "net.ckpt")
    assert set(params) == {"emb.embedding_table", "fc.weight", "fc.bias", "bn.gamma",
                           "bn.beta", "bn.moving_mean", "bn.moving_variance",
                           "out.weight", "out.bias"}
    assert np.array_equal(params["bn.moving_mean"], state["bn.running_mean"].numpy())
    assert "1 dropped" in out and "5 renamed" in out


def test_without_the_model_names_are_inferred_and_checked(files):
    d, _ = files
    code, out = cli("convert-weights", d / "net.pth", "-o", d / "plain.ckpt")
    assert code == 0, out
    assert "emb.weight" in ckpt(d / "plain.ckpt")  # an Embedding looks like a Linear
    code, out = cli("convert-weights", d / "net.pth", "-o", d / "checked.ckpt",
                    "--check-against", f"{d / 'net_ms.py'}:Net", "--args", "hidden=8")
    assert code == 0, out
    assert "emb.embedding_table" in ckpt(d / "checked.ckpt")
    assert "all names and shapes checked" in out


def test_checkpoint_dict_key_and_prefix(files):
    d, state = files
    torch.save({"epoch": 3, "model_state": {f"module.{k}": v for k, v in state.items()}},
               d / "ck.pth")
    code, out = cli("convert-weights", d / "ck.pth", "-o", d / "ck.ckpt")
    assert code == 2
    assert "--key (model_state)" in out and not (d / "ck.ckpt").exists()
    code, out = cli("convert-weights", d / "ck.pth", "-o", d / "ck.ckpt", "--key",
                    "model_state", "--strip-prefix", "module.", "--model", f"{d / 'net.py'}:Net")
    assert code == 0, out
    assert "bn.gamma" in ckpt(d / "ck.ckpt")


def test_safetensors_both_ways(files):
    pytest.importorskip("safetensors")
    from safetensors.numpy import load_file, save_file
    d, state = files
    save_file({k: v.numpy() for k, v in state.items()}, str(d / "net.safetensors"))
    ref = f"{d / 'net.py'}:Net"
    assert cli("convert-weights", d / "net.safetensors", "-o", d / "st.ckpt", "--model", ref)[0] == 0
    code, out = cli("convert-weights", d / "st.ckpt", "-o", d / "back.safetensors",
                    "--model", ref)
    assert code == 0, out
    back = load_file(str(d / "back.safetensors"))
    for name, tensor in state.items():
        if not name.endswith("num_batches_tracked"):
            assert np.array_equal(back[name], tensor.numpy()), name


def test_pickled_code_is_not_run_without_the_flag(files):
    d, _ = files
    marker = d / "ran"
    (d / "payload.py").write_text(textwrap.dedent(f'''
        import pathlib
        import torch


        class Payload:
            def __reduce__(self):
                return (pathlib.Path.touch, (pathlib.Path({str(marker)!r}),))
    '''))
    namespace = {}
    exec(compile((d / "payload.py").read_text(), "payload.py", "exec"), namespace)
    torch.save({"w": torch.ones(2), "extra": namespace["Payload"]()}, d / "evil.pth")
    code, out = cli("convert-weights", d / "evil.pth", "-o", d / "evil.ckpt")
    assert code == 2
    assert "--allow-pickle" in out
    assert not marker.exists() and not (d / "evil.ckpt").exists()


def test_allow_pickle_reads_a_whole_pickled_module(files, tmp_path):
    d, _ = files
    namespace = {}
    exec(compile(NET, "net.py", "exec"), namespace)
    torch.save(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3)),
               d / "whole.pth")
    assert cli("convert-weights", d / "whole.pth", "-o", d / "whole.ckpt")[0] == 2
    code, out = cli("convert-weights", d / "whole.pth", "-o", d / "whole.ckpt", "--allow-pickle")
    assert code == 0, out
    assert set(ckpt(d / "whole.ckpt")) == {"0.weight", "0.bias", "1.gamma", "1.beta",
                                          "1.moving_mean", "1.moving_variance"}


# --- bad input: a one-line message, exit 2, nothing written or damaged ----------------
def _truncated(d):
    data = (d / "net.pth").read_bytes()
    (d / "cut.pth").write_bytes(data[:len(data) // 2])
    return d / "cut.pth"


def _junk_ckpt(d):
    (d / "junk.ckpt").write_bytes(b"\x08\x96\x01 not a checkpoint")
    return d / "junk.ckpt"


def _truncated_ckpt(d):
    cli("convert-weights", d / "net.pth", "-o", d / "good.ckpt")
    data = (d / "good.ckpt").read_bytes()
    (d / "cut.ckpt").write_bytes(data[:len(data) // 3])
    return d / "cut.ckpt"


def _text_file(d):
    (d / "notes.pth").write_text("hello\n")
    return d / "notes.pth"


def _junk_safetensors(d):
    (d / "bad.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    return d / "bad.safetensors"


@pytest.mark.parametrize("make_input,output,extra,message", [
    (_truncated, "out.ckpt", [], "not a readable torch checkpoint, or truncated"),
    (_text_file, "out.ckpt", [], "not a readable torch checkpoint"),
    (_junk_ckpt, "out.pth", [], "not a readable MindSpore checkpoint"),
    (_truncated_ckpt, "out.pth", [], "not a readable MindSpore checkpoint"),
    (_junk_safetensors, "out.ckpt", [], "not a readable .safetensors file"),
    (lambda d: d / "missing.pth", "out.ckpt", [], "missing.pth: no such file"),
    (lambda d: d, "out.ckpt", [], "is a directory"),
    (lambda d: d / "net.pth", "out.npz", [], "unknown weight file type '.npz'"),
    (lambda d: d / "net.pth", "out.pth", [], "write a .ckpt file for torch weights"),
    (lambda d: d / "net.pth", "out.ckpt", ["--key", "model"], "no key 'model'"),
    (lambda d: d / "net.pth", "out.ckpt", ["--model", "{d}/net.py:Nope"], "no class 'Nope'"),
    (lambda d: d / "net.pth", "out.ckpt", ["--model", "{d}/none.py:Net"], "none.py: no such file"),
    (lambda d: d / "net.pth", "out.ckpt", ["--args", "3"], "--args and --skip-unexpected go with"),
    (lambda d: d / "net.pth", "out.ckpt", ["--check-against", "{d}/net_ms.py:Net",
                                           "--args", "hidden=6"],
     "weights do not fit"),
    (lambda d: d / "net.pth", "out.ckpt", ["--check-against", "{d}/net_ms.py:Net",
                                           "--args", "hidden="], "--args"),
])
def test_bad_input(files, make_input, output, extra, message):
    d, _ = files
    source = make_input(d)
    target = d / output
    target.write_bytes(b"precious")  # an existing file must survive a failed run
    before = sorted(p.name for p in d.iterdir())
    code, out = cli("convert-weights", source, "-o", target,
                    *[e.format(d=d) for e in extra])
    assert code == 2, out
    assert message in out
    assert len(out.strip().splitlines()) == 1 and "Traceback" not in out
    assert target.read_bytes() == b"precious"
    assert sorted(p.name for p in d.iterdir()) == before


def test_mismatch_lists_missing_unexpected_and_misshaped(files):
    d, state = files
    (d / "other_ms.py").write_text(convert_source(
        NET.replace("nn.Linear(hidden, 2)", "nn.Linear(hidden, 3)")
           .replace("        self.emb = nn.Embedding(10, 4)\n", "")
           .replace("self.fc = nn.Linear(4, hidden)",
                    "self.fc = nn.Linear(4, hidden)\n        self.extra = nn.Linear(1, 1)"),
        "other.py").code)
    code, out = cli("convert-weights", d / "net.pth", "-o", d / "o.ckpt",
                    "--check-against", f"{d / 'other_ms.py'}:Net")
    assert code == 2
    assert "2 missing (extra.weight, extra.bias)" in out
    assert "1 unexpected (emb.weight)" in out
    assert "out.weight: (2, 8) vs (3, 8)" in out
    assert not (d / "o.ckpt").exists()


CONV1D = textwrap.dedent('''
    import torch.nn as nn


    class Wave(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(2, 4, 5, padding=2)
            self.up = nn.ConvTranspose1d(4, 3, 3)

        def forward(self, x):
            return self.up(self.conv(x))
''')


def test_conv1d_weights_gain_and_lose_the_size_one_axis(tmp_path):
    """Needs `unsqueeze_params = { weight = 2 }` on the Conv1d/ConvTranspose1d rules."""
    (tmp_path / "wave.py").write_text(CONV1D)
    (tmp_path / "wave_ms.py").write_text(convert_source(CONV1D, "wave.py").code)
    namespace = {}
    exec(compile(CONV1D, "wave.py", "exec"), namespace)
    state = namespace["Wave"]().state_dict()
    torch.save(state, tmp_path / "wave.pth")
    ref = f"{tmp_path / 'wave.py'}:Wave"
    code, out = cli("convert-weights", tmp_path / "wave.pth", "-o", tmp_path / "wave.ckpt",
                    "--model", ref)
    assert code == 0, out
    from ms_migrate.runtime.verify import build
    cell = build(f"{tmp_path / 'wave_ms.py'}:Wave")
    not_loaded, unused = mindspore.load_param_into_net(
        cell, mindspore.load_checkpoint(str(tmp_path / "wave.ckpt")), strict_load=True)
    assert not not_loaded and not unused
    assert tuple(cell.conv.weight.shape) == (4, 2, 1, 5)
    assert cli("convert-weights", tmp_path / "wave.ckpt", "-o", tmp_path / "back.pth",
               "--model", ref)[0] == 0
    back = torch.load(tmp_path / "back.pth", weights_only=True)
    assert all(torch.equal(back[k], v) for k, v in state.items())


def test_training_checkpoint_back_to_torch_skipping_optimizer_state(files):
    """A MindSpore training checkpoint also holds optimizer state; the model does not."""
    d, state = files
    assert cli("convert-weights", d / "net.pth", "-o", d / "net.ckpt")[0] == 0
    params = ckpt(d / "net.ckpt")
    params["global_step"] = np.array([100], dtype=np.int32)
    params["moment1.fc.weight"] = np.zeros_like(params["fc.weight"])
    mindspore.save_checkpoint([{"name": k, "data": mindspore.Tensor(v)}
                               for k, v in params.items()], str(d / "train.ckpt"))
    check = ["--check-against", f"{d / 'net.py'}:Net"]
    code, out = cli("convert-weights", d / "train.ckpt", "-o", d / "back.pth", *check)
    assert code == 2 and "2 unexpected" in out and not (d / "back.pth").exists()
    code, out = cli("convert-weights", d / "train.ckpt", "-o", d / "back.pth", *check,
                    "--skip-unexpected")
    assert code == 0, out
    assert "left out 2 weights" in out
    back = torch.load(d / "back.pth", weights_only=True)
    assert set(back) == {k for k in state if not k.endswith("num_batches_tracked")}


def test_dtypes_are_kept_and_bfloat16_becomes_float32(tmp_path):
    torch.save({"a.weight": torch.randn(2, 3, dtype=torch.float16),
                "b.weight": torch.randn(3, dtype=torch.bfloat16),
                "c.index": torch.arange(4)}, tmp_path / "mixed.pth")
    code, out = cli("convert-weights", tmp_path / "mixed.pth", "-o", tmp_path / "mixed.ckpt")
    assert code == 0, out
    assert "b.weight: bfloat16 stored as float32" in out
    params = ckpt(tmp_path / "mixed.ckpt")
    assert params["a.weight"].dtype == np.float16
    assert params["b.weight"].dtype == np.float32
    assert params["c.index"].dtype == np.int64
