"""A finding's line is the first line of the call or attribute it is about, on lines of
one statement and of several."""
from ms_migrate import convert_source

SOURCE = '''import torch
def f(x): return torch.abs(x)
y = torch.zeros(2); z = torch.cumsum(
    y,
    dim=0).numpy()
w = [torch.ones(1),
     torch.exp(y)]
'''


def test_each_finding_is_on_the_line_its_call_starts():
    lines = {f.api: f.line for f in convert_source(SOURCE, "t.py").report.findings}
    assert lines == {"torch.abs": 2, "torch.zeros": 3, "torch.cumsum": 3, "Tensor.numpy": 3,
                     "torch.ones": 6, "torch.exp": 7}
