"""nn.ModuleDict holding containers (nanoGPT's `transformer`): MindSpore's CellDict
refuses CellList / SequentialCell / CellDict values, so such a dict becomes a small
Cell written into the file that keeps the entries as attributes. The converted model
builds, loads torch's weights under torch's names and gives the same logits."""
import textwrap

import pytest

from ms_migrate.engine import convert_source

GPT = '''
import torch
import torch.nn as nn
from torch.nn import functional as F


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.ln_2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x):
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, vocab=20, block=8, d=16, n=2):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab, d),
            wpe=nn.Embedding(block, d),
            drop=nn.Dropout(0.1),
            h=nn.ModuleList([Block(d, 2) for _ in range(n)]),
            ln_f=nn.LayerNorm(d),
        ))
        self.lm_head = nn.Linear(d, vocab, bias=False)

    def forward(self, idx):
        b, t = idx.size()
        pos = torch.arange(0, t, dtype=torch.long)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer["ln_f"](x)
        if "ln_f" in self.transformer and len(self.transformer) == 5:
            x = x * 2
        return self.lm_head(x)
'''


def _convert(source):
    result = convert_source(textwrap.dedent(source), "model.py")
    unsupported = [f"{f.api}: {f.message}" for f in result.report.findings
                   if f.action == "unsupported"]
    assert not unsupported, unsupported
    return result


def test_container_values_give_a_cell_of_attributes():
    code = _convert(GPT).code
    assert "nn.CellDict(" not in code and "ModuleDict" not in code
    assert "self.transformer = NamedCells(dict(" in code
    assert code.count("class NamedCells(mindspore.nn.Cell):") == 1
    assert "h=nn.CellList([Block(d, 2) for _ in range(n)])" in code
    assert convert_source(code, "model_ms.py").code == code  # idempotent


@pytest.mark.parametrize("modules", [
    '{"body": nn.Sequential(nn.Linear(2, 2)), "head": nn.Linear(2, 1)}',
    '[("body", nn.ModuleList([nn.Linear(2, 2)])), ("head", nn.Linear(2, 1))]',
    '{k: nn.ModuleDict({"a": nn.Linear(2, 2)}) for k in "xy"}',
    'OrderedDict(body=nn.Sequential(nn.Linear(2, 2)))',
])
def test_every_spelling_of_a_container_value(modules):
    source = f"from collections import OrderedDict\nimport torch.nn as nn\nm = nn.ModuleDict({modules})\n"
    code = _convert(source).code
    assert "m = NamedCells(" in code
    pytest.importorskip("mindspore")
    scope = {}
    exec(compile(code, "model_ms.py", "exec"), scope)  # test input, written above
    m = scope["m"]
    assert len(m) == len(list(m.keys())) >= 1
    for name, cell in m.items():
        assert m[name] is cell and getattr(m, name) is cell and name in m


def test_plain_layers_stay_a_cell_dict():
    code = _convert('import torch.nn as nn\nm = nn.ModuleDict(dict(a=nn.Linear(2, 2)))\n').code
    assert "m = nn.CellDict(dict(a=nn.Dense(2, 2)))" in code and "NamedCells" not in code


torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")


def test_gpt_builds_loads_torch_weights_and_gives_the_same_logits(tmp_path):
    import numpy as np
    from click.testing import CliRunner

    from ms_migrate.cli.main import main
    from ms_migrate.runtime.verify import build, verify_models

    source = textwrap.dedent(GPT)
    (tmp_path / "model.py").write_text(source)
    (tmp_path / "model_ms.py").write_text(_convert(GPT).code)
    torch.manual_seed(0)
    model = build(f"{tmp_path / 'model.py'}:GPT", (), {}).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    torch.save(model.state_dict(), tmp_path / "model.pth")
    result = CliRunner().invoke(main, [
        "convert-weights", str(tmp_path / "model.pth"), "-o", str(tmp_path / "model.ckpt"),
        "--model", f"{tmp_path / 'model.py'}:GPT",
        "--check-against", f"{tmp_path / 'model_ms.py'}:GPT"])
    assert result.exit_code == 0, result.output

    cell = build(f"{tmp_path / 'model_ms.py'}:GPT", (), {})
    names = {p.name for p in cell.get_parameters()}
    assert "transformer.h.1.mlp.0.weight" in names
    assert "transformer.wte.embedding_table" in names
    not_loaded, unused = mindspore.load_param_into_net(
        cell, mindspore.load_checkpoint(str(tmp_path / "model.ckpt")), strict_load=True)
    assert not not_loaded and not unused, (not_loaded, unused)
    idx = np.random.default_rng(0).integers(0, 20, (3, 8)).astype("int64")
    compared = verify_models(model, cell, [idx], atol=1e-4, rtol=0, copy_weights=False)
    assert compared.ok, "\n".join(compared.lines())
    assert max(o.max_abs for o in compared.outputs) < 1e-4
