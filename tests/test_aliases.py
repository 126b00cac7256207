"""Other spellings of ruled torch APIs convert exactly as their public spelling does."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ms_migrate.core.aliases import canonical
from ms_migrate.engine import convert_source
from ms_migrate.tables.load import builtin_mappings_dir, load_rules

ROOT = Path(__file__).resolve().parents[1]
TABLE = builtin_mappings_dir() / "aliases" / "torch_aliases.json"


def _generator():
    spec = importlib.util.spec_from_file_location(
        "gen_torch_aliases", ROOT / "scripts" / "gen_torch_aliases.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # imports no torch until build() runs
    return module


def _body(code: str) -> str:
    """The converted code without its import lines (they name different modules)."""
    return "\n".join(line for line in code.splitlines()
                     if not line.startswith(("import ", "from ")))


# (alternative spelling, public spelling): same conversion expected.
PAIRS = [
    ("from torch.nn.modules.linear import Linear\nm = Linear(4, 3)\n",
     "from torch.nn import Linear\nm = Linear(4, 3)\n"),
    ("import torch.nn.modules as M\nm = M.Linear(4, 3, bias=False)\n",
     "import torch.nn as M\nm = M.Linear(4, 3, bias=False)\n"),
    ("import torch.nn.modules.linear as L\nm = L.Linear(2, 3)\n",
     "import torch.nn as L\nm = L.Linear(2, 3)\n"),
    ("from torch.nn import modules\nf = modules.MSELoss()\n",
     "from torch import nn\nf = nn.MSELoss()\n"),
    ("import torch.nn.modules.activation as A\nact = A.ReLU()\n",
     "import torch.nn as A\nact = A.ReLU()\n"),
    ("from torch.nn.modules.loss import BCELoss as L\nloss_fn = L(reduction='sum')\n",
     "from torch.nn import BCELoss as L\nloss_fn = L(reduction='sum')\n"),
    ("import torch\nconv = torch.nn.modules.conv.Conv2d(3, 8, 3, padding=1)\n",
     "import torch\nconv = torch.nn.Conv2d(3, 8, 3, padding=1)\n"),
    ("import torch\ny = torch.functional.split(x, 2)\n",
     "import torch\ny = torch.split(x, 2)\n"),
    ("import torch\ny = torch._C._nn.gelu(x)\n",
     "import torch\ny = torch.nn.functional.gelu(x)\n"),
    ("from torch.optim.adam import Adam\nopt = Adam(model.parameters(), lr=0.1)\n",
     "from torch.optim import Adam\nopt = Adam(model.parameters(), lr=0.1)\n"),
    ("import torch\nfrom torch.nn.parameter import Parameter\nw = Parameter(torch.zeros(3))\n",
     "import torch\nfrom torch.nn import Parameter\nw = Parameter(torch.zeros(3))\n"),
    ("import torch.utils.data.dataloader as dl\nloader = dl.DataLoader(data, batch_size=4)\n",
     "import torch.utils.data as dl\nloader = dl.DataLoader(data, batch_size=4)\n"),
    ("from torch.utils.data.dataset import Dataset\n"
     "class D(Dataset):\n    def __len__(self):\n        return 3\n"
     "    def __getitem__(self, i):\n        return i\n",
     "from torch.utils.data import Dataset\n"
     "class D(Dataset):\n    def __len__(self):\n        return 3\n"
     "    def __getitem__(self, i):\n        return i\n"),
    ("from torch.utils.data._utils.collate import default_collate\nb = default_collate(items)\n",
     "from torch.utils.data import default_collate\nb = default_collate(items)\n"),
    ("from torch.autograd.grad_mode import no_grad\nwith no_grad():\n    y = model(x)\n",
     "from torch import no_grad\nwith no_grad():\n    y = model(x)\n"),
    ("import torch\nok = isinstance(x, torch._tensor.Tensor)\n",
     "import torch\nok = isinstance(x, torch.Tensor)\n"),
    ("from torch._six import inf\nbest = -inf\n", "from torch import inf\nbest = -inf\n"),
]


@pytest.mark.parametrize("alternative,public", PAIRS, ids=[p[0].splitlines()[-1][:40]
                                                          for p in PAIRS])
def test_alternative_spelling_converts_as_public_one(alternative, public):
    converted = convert_source(alternative)
    expected = convert_source(public)
    assert _body(converted.code) == _body(expected.code)
    assert ("torch" in converted.code) == ("torch" in expected.code)
    assert ([(f.api, f.action) for f in converted.report.findings]
            == [(f.api, f.action) for f in expected.report.findings])


def test_linear_from_module_path_drops_the_torch_import():
    code = convert_source("from torch.nn.modules.linear import Linear\n"
                          "m = Linear(4, 3)\n").code
    assert "nn.Dense(4, 3)" in code
    assert "torch" not in code


def test_names_that_are_no_alias_of_a_ruled_api_stay():
    source = ("import torch\n"
              "h = torch.nn.modules.module.register_module_forward_hook(hook)\n")
    assert canonical("torch.nn.modules.module.register_module_forward_hook") == \
        "torch.nn.modules.module.register_module_forward_hook"
    result = convert_source(source)
    assert "torch.nn.modules.module.register_module_forward_hook(hook)" in result.code
    assert "import torch" in result.code


def test_canonical_keeps_attribute_chains_and_public_names():
    assert canonical("torch.nn.modules.linear.Linear") == "torch.nn.Linear"
    assert canonical("torch._tensor.Tensor.add") == "torch.Tensor.add"
    assert canonical("torch.nn.Linear") == "torch.nn.Linear"
    assert canonical("numpy.zeros") == "numpy.zeros"


def test_every_target_has_a_rule():
    rules = load_rules()
    ruled = set(rules.by_name)
    namespaces = {name.rpartition(".")[0] for name in ruled}  # torch.Tensor, torch.nn.Module
    names = json.loads(TABLE.read_text(encoding="utf-8"))["names"]
    assert len(names) > 300
    passes = set(_generator().PASS_NAMES)
    unruled = {t for t in names.values() if t not in ruled | namespaces | passes}
    assert not unruled
    assert not set(names) & ruled  # a spelling with its own rule keeps it
    assert all(canonical(alternative) == public for alternative, public in names.items())


def test_table_is_current():
    pytest.importorskip("torch")
    # in a fresh interpreter: tests that ran converted programs in this one may have
    # replaced torch functions (torch.manual_seed), and the table maps objects to names
    script = ("import sys; sys.path.insert(0, sys.argv[1]); import gen_torch_aliases; "
              "sys.stdout.write(gen_torch_aliases.build())")
    built = subprocess.run([sys.executable, "-c", script, str(ROOT / "scripts")],
                           capture_output=True, text=True, check=True).stdout
    assert built == TABLE.read_text(encoding="utf-8"), \
        "regenerate: python scripts/gen_torch_aliases.py"


def test_wrapper_imported_from_its_module_path_converts():
    source = ("import torch.distributed as dist\n"
              "from torch.nn.parallel.distributed import DistributedDataParallel as Wrap\n"
              "dist.init_process_group('nccl')\nmodel = Wrap(model, device_ids=[0])\n")
    public = source.replace("torch.nn.parallel.distributed", "torch.nn.parallel")
    assert _body(convert_source(source).code) == _body(convert_source(public).code)
    assert "Wrap(" not in convert_source(source).code


def test_a_missing_or_damaged_table_leaves_names_as_written(tmp_path, monkeypatch):
    from ms_migrate.core import aliases
    (tmp_path / "aliases").mkdir()
    (tmp_path / "aliases" / "torch_aliases.json").write_text('{"names": [1', encoding="utf-8")
    monkeypatch.setattr(aliases, "builtin_mappings_dir", lambda: tmp_path)
    monkeypatch.setattr(aliases, "_TABLE", None)
    aliases.canonical.cache_clear()
    try:
        assert aliases.canonical("torch.nn.modules.linear.Linear") == \
            "torch.nn.modules.linear.Linear"
        assert aliases.torch_modules() == frozenset()
    finally:
        aliases.canonical.cache_clear()
        monkeypatch.setattr(aliases, "_TABLE", None)  # the next call reads the real one
