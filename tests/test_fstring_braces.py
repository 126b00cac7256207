"""A conversion that puts a dict display first in an f-string expression
(`torch.device(x)` -> `{"cuda": "GPU", "cpu": "CPU"}.get(...)`) keeps a space after
the opening brace: `{{` would read as an escaped brace."""
from ms_migrate import convert_source


def test_a_dict_first_in_an_fstring_expression_gets_a_space():
    source = "import torch\ndef f(x):\n    return f\"{torch.device(x)}\"\n"
    converted = convert_source(source, "<test>").code
    assert "f\"{ {'cuda': 'GPU', 'cpu': 'CPU'}.get(" in converted, converted
    namespace = {}
    exec(compile(converted, "<converted>", "exec"), namespace)
    assert namespace["f"]("cuda:1") == "GPU" and namespace["f"]("npu") == "npu"
    assert convert_source(converted, "<again>").code == converted
