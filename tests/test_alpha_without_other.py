"""torch.add/sub with alpha= but no `other` (a program torch itself refuses) stays as
it is, marked, instead of crashing the conversion."""
from ms_migrate import convert_source


def test_alpha_without_other_is_marked():
    result = convert_source("import torch\ny = torch.add(alpha=self.sqrt_())\n", "a.py")
    assert "torch.add(alpha=self.sqrt_())" in result.code
    assert any(f.api == "torch.add" and f.action == "unsupported" for f in result.report.findings)
