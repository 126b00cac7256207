"""An argument a rule drops takes its refused torch calls with it: no note, no finding
and no `import torch` stay for code that is no longer there."""
from ms_migrate import convert_source


def _convert(source):
    result = convert_source(source, "a.py")
    return result.code, [f for f in result.report.findings if f.action == "unsupported"]


def test_a_refused_call_inside_a_dropped_argument_goes_with_it():
    code, refused = _convert(
        "import torch\n"
        "from torch.utils.data import SubsetRandomSampler\n"
        "sampler = SubsetRandomSampler([1, 3, 5], generator=torch.Generator().manual_seed(42))\n")
    assert "import torch" not in code and "Generator" not in code
    assert "ds.SubsetRandomSampler([1, 3, 5])" in code
    assert refused == []


def test_a_refused_call_that_stays_keeps_its_note():
    code, refused = _convert(
        "import torch\n"
        "g = torch.Generator().manual_seed(42)\n"
        "from torch.utils.data import SubsetRandomSampler\n"
        "sampler = SubsetRandomSampler([1, 3, 5], generator=g)\n")
    assert "torch.Generator()" in code and "import torch" in code
    assert [f.api for f in refused] == ["torch.Generator"]
