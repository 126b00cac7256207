"""A function that imports another module under a torch alias's name
(`from numpy import linalg as F` under a module-level `import torch.nn.functional as F`):
F is a module there, so `F.softmax(...)` is no Tensor method call, and the arguments
convert as anywhere else, the same the first time and the second."""
import textwrap

from ms_migrate import convert_source

SOURCE = textwrap.dedent("""\
    import torch
    import torch.nn.functional as F

    def f(x):
        from numpy import linalg as F
        return F.softmax(x, 1, x, dtype=torch.float32)
""")


def test_a_local_import_over_a_torch_alias_is_a_module():
    code = convert_source(SOURCE, "f.py").code
    assert "dtype=mindspore.float32" in code and "ms-migrate" not in code
    assert convert_source(code, "f.py").code == code
