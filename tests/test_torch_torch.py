"""`torch.torch` is the torch module itself: `torch.torch.int32` and
`torch.torch.tril(x)` convert as `torch.int32` and `torch.tril(x)` do."""
from ms_migrate import convert_source


def test_torch_torch_is_torch():
    source = ("import torch\nx = torch.torch.ones(2, 3, dtype=torch.torch.int32)\n"
              "y = torch.torch.tril(x)\n")
    converted = convert_source(source, "<test>")
    assert "torch" not in converted.code.replace("mindspore", ""), converted.code
    assert not [f for f in converted.report.findings if f.action == "unsupported"]
    namespace = {}
    exec(compile(converted.code, "<converted>", "exec"), namespace)
    assert namespace["y"].shape == (2, 3) and str(namespace["y"].dtype) == "Int32"
