"""Whole models, end to end: torch source -> convert_source -> MindSpore source;
torch weights -> `convert-weights` -> loaded into the converted Cell by MindSpore's
own loader -> the same outputs (< 1e-4) on the same inputs; and .ckpt -> .pth gives
back the torch weights exactly.
"""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from click.testing import CliRunner  # noqa: E402

from ms_migrate.cli.main import main  # noqa: E402
from ms_migrate.engine import convert_source  # noqa: E402
from ms_migrate.runtime.verify import build, verify_models  # noqa: E402

TOL = 1e-4

RESNET = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


def conv3x3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = conv3x3(cin, cout, stride)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = conv3x3(cout, cout)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(cout),
            )

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + identity)


class ResNet(nn.Module):
    def __init__(self, num_classes=10, width=8):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )
        layers = []
        cin = width
        for i, cout in enumerate([width, width * 2, width * 4]):
            layers.append(BasicBlock(cin, cout, stride=1 if i == 0 else 2))
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.layers(self.stem(x))
        x = x.mean(dim=(2, 3))
        return self.fc(x)
'''

LSTM_LM = '''
import torch.nn as nn


class LSTMLanguageModel(nn.Module):
    def __init__(self, vocab_size=50, embed_dim=16, hidden=32, num_layers=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden, num_layers=num_layers, batch_first=True)
        self.dropout = nn.Dropout(0.2)
        self.decoder = nn.Linear(hidden, vocab_size)

    def forward(self, tokens):
        out, _ = self.lstm(self.embedding(tokens))
        return self.decoder(self.dropout(out))
'''

TRANSFORMER_BUILTIN = '''
import torch.nn as nn


class TextClassifier(nn.Module):
    def __init__(self, vocab=40, d_model=16, nhead=4, num_layers=2, classes=3):
        super().__init__()
        self.embedding = nn.Embedding(vocab, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=32,
                                           dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=num_layers)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, classes)

    def forward(self, tokens):
        h = self.encoder(self.embedding(tokens))
        return self.head(self.norm(h).mean(dim=1))
'''

TRANSFORMER_HANDWRITTEN = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class SelfAttention(nn.Module):
    def __init__(self, d_model, nhead):
        super().__init__()
        self.nhead = nhead
        self.scale = (d_model // nhead) ** -0.5
        self.q = nn.Linear(d_model, d_model)
        self.k = nn.Linear(d_model, d_model)
        self.v = nn.Linear(d_model, d_model)
        self.out = nn.Linear(d_model, d_model)

    def forward(self, x, mask):
        b, t, d = x.shape
        q = self.q(x).view(b, t, self.nhead, -1).transpose(1, 2)
        k = self.k(x).view(b, t, self.nhead, -1).transpose(1, 2)
        v = self.v(x).view(b, t, self.nhead, -1).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(-2, -1)) * self.scale
        scores = scores.masked_fill(mask[:, None, None, :] == 0, float("-inf"))
        attn = F.softmax(scores, dim=-1)
        out = torch.matmul(attn, v).transpose(1, 2).reshape(b, t, d)
        return self.out(out)


class Block(nn.Module):
    def __init__(self, d_model, nhead):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = SelfAttention(d_model, nhead)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(),
                                 nn.Linear(4 * d_model, d_model))

    def forward(self, x, mask):
        x = x + self.attn(self.ln1(x), mask)
        return x + self.mlp(self.ln2(x))


class TinyTransformer(nn.Module):
    def __init__(self, vocab=30, d_model=16, nhead=2, depth=2, classes=4):
        super().__init__()
        self.embedding = nn.Embedding(vocab, d_model)
        self.blocks = nn.ModuleList([Block(d_model, nhead) for _ in range(depth)])
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, classes)

    def forward(self, tokens, mask):
        x = self.embedding(tokens)
        for block in self.blocks:
            x = block(x, mask)
        return self.head(self.norm(x)[:, 0])
'''

MLP_BN = '''
import torch.nn as nn


class MLP(nn.Module):
    def __init__(self, d_in=20, hidden=32, classes=5):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(d_in, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Dropout(0.3),
            nn.Linear(hidden, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Linear(hidden, classes),
        )

    def forward(self, x):
        return self.net(x)
'''


def _tokens(shape, high, seed=0):
    return np.random.default_rng(seed).integers(0, high, size=shape).astype("int64")


def _attention_inputs():
    mask = np.random.default_rng(1).integers(0, 2, size=(3, 7)).astype("int64")
    mask[:, 0] = 1  # no row fully masked
    return [_tokens((3, 7), 30), mask]


CASES = {
    "resnet": (RESNET, "ResNet", lambda: [np.random.default_rng(0).standard_normal(
        (2, 3, 16, 16)).astype("float32")], {"width": 8}),
    "lstm_lm": (LSTM_LM, "LSTMLanguageModel", lambda: [_tokens((3, 9), 50)], {}),
    "transformer_builtin": (TRANSFORMER_BUILTIN, "TextClassifier",
                            lambda: [_tokens((2, 6), 40)], {}),
    "transformer_handwritten": (TRANSFORMER_HANDWRITTEN, "TinyTransformer",
                                _attention_inputs, {}),
    "mlp_batchnorm": (MLP_BN, "MLP", lambda: [np.random.default_rng(0).standard_normal(
        (6, 20)).astype("float32")], {}),
}


def convert_files(tmp_path, source):
    """Write the torch source and its conversion; fail on anything not converted."""
    source = textwrap.dedent(source)
    result = convert_source(source, "model.py")
    unsupported = [f"{f.api}: {f.message}" for f in result.report.findings
                   if f.action == "unsupported"]
    assert not unsupported, "not converted: " + "; ".join(unsupported)
    (tmp_path / "model.py").write_text(source)
    (tmp_path / "model_ms.py").write_text(result.code)
    return tmp_path / "model.py", tmp_path / "model_ms.py"


def trained_torch_model(path, class_name, kwargs, inputs):
    """The torch model with non-trivial weights and running statistics."""
    torch.manual_seed(0)
    model = build(f"{path}:{class_name}", (), kwargs)
    with torch.no_grad():
        for p in model.parameters():  # move away from init values (e.g. gamma = 1)
            p.add_(0.05 * torch.randn_like(p))
        model.train()
        for _ in range(3):  # BatchNorm running statistics
            model(*[torch.from_numpy(a) for a in inputs])
    return model.eval()


def cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output


@pytest.mark.parametrize("case", sorted(CASES))
def test_converted_model_matches_on_converted_weights(tmp_path, case):
    source, class_name, make_inputs, kwargs = CASES[case]
    torch_file, ms_file = convert_files(tmp_path, source)
    inputs = make_inputs()
    model = trained_torch_model(torch_file, class_name, kwargs, inputs)
    torch.save(model.state_dict(), tmp_path / "model.pth")
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())

    code, out = cli("convert-weights", tmp_path / "model.pth", "-o", tmp_path / "model.ckpt",
                    "--model", f"{torch_file}:{class_name}",
                    "--check-against", f"{ms_file}:{class_name}", "--args", args)
    assert code == 0, out

    cell = build(f"{ms_file}:{class_name}", (), kwargs)
    not_loaded, unused = mindspore.load_param_into_net(
        cell, mindspore.load_checkpoint(str(tmp_path / "model.ckpt")), strict_load=True)
    assert not not_loaded and not unused, (not_loaded, unused)
    result = verify_models(model, cell, inputs, atol=TOL, rtol=0, copy_weights=False)
    assert result.ok, "\n".join(result.lines())
    assert max(o.max_abs for o in result.outputs) < TOL


@pytest.mark.parametrize("case", sorted(CASES))
def test_weights_round_trip_exactly(tmp_path, case):
    source, class_name, make_inputs, kwargs = CASES[case]
    torch_file = tmp_path / "model.py"
    torch_file.write_text(textwrap.dedent(source))
    model = trained_torch_model(torch_file, class_name, kwargs, make_inputs())
    original = model.state_dict()
    torch.save(original, tmp_path / "model.pth")
    ref = f"{torch_file}:{class_name}"

    assert cli("convert-weights", tmp_path / "model.pth", "-o", tmp_path / "model.ckpt",
               "--model", ref)[0] == 0
    code, out = cli("convert-weights", tmp_path / "model.ckpt", "-o", tmp_path / "back.pth",
                    "--model", ref)
    assert code == 0, out
    back = torch.load(tmp_path / "back.pth", weights_only=True)
    kept = {k for k in original if not k.endswith("num_batches_tracked")}
    assert set(back) == kept
    for name in kept:
        assert back[name].dtype == original[name].dtype, name
        assert torch.equal(back[name], original[name]), name
    # torch fills in num_batches_tracked, which MindSpore does not keep
    fresh = build(ref, (), kwargs)
    fresh.load_state_dict(back, strict=True)


def test_layers_called_through_self_are_not_tensor_methods():
    """`self.norm(x)`, `self.relu(x)`: layers the model holds, named like Tensor methods."""
    source = textwrap.dedent('''
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.relu = nn.ReLU()
                self.norm = nn.LayerNorm(4)

            def forward(self, x):
                self.train()
                return self.norm(self.relu(x))
    ''')
    code = convert_source(source, "net.py").code
    assert "return self.norm(self.relu(x))" in code
    assert "self.set_train()" in code  # Module methods still apply to self


@pytest.mark.parametrize("case", sorted(CASES))
def test_converted_model_gives_the_same_outputs_compiled(tmp_path, case):
    """`mindspore.jit(cell.construct)` computes what PyNative does: the emitted
    spellings mean the same in both modes (`x.transpose(1, 2)` would not)."""
    source, class_name, make_inputs, kwargs = CASES[case]
    _, ms_file = convert_files(tmp_path, source)
    inputs = [mindspore.Tensor(a) for a in make_inputs()]
    mindspore.set_seed(0)
    cell = build(f"{ms_file}:{class_name}", (), kwargs)
    cell.set_train(False)
    eager = cell(*inputs).asnumpy()
    compiled = mindspore.jit(cell.construct)(*inputs).asnumpy()
    assert eager.shape == compiled.shape
    np.testing.assert_allclose(compiled, eager, rtol=1e-5, atol=1e-5)
