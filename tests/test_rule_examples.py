"""Every rule in mappings/ proves itself: its examples run on torch and, converted,
on MindSpore, with the same inputs; values, shapes and dtypes must agree.

A rule without an example fails here, so no rule lands unverified.
"""
import pytest

from ms_migrate.tables.load import load_rules

pytest.importorskip("torch")
pytest.importorskip("mindspore")

from ms_migrate.runtime.equivalence import run_example  # noqa: E402

RULES = sorted(load_rules(), key=lambda r: r.torch_name)
CASES = [pytest.param(rule, i, id=f"{rule.torch_name}[{i}]")
         for rule in RULES if not rule.unsupported
         for i in range(max(1, len(rule.examples)))]


@pytest.mark.parametrize("rule,index", CASES)
def test_rule_example(rule, index):
    assert rule.examples, f"{rule.source}: a rule needs at least one example"
    if rule.torch_name.startswith("torchvision."):
        # Where torchvision cannot be installed beside torch, tests/test_transforms_vision.py
        # and tests/test_data_readers.py check these rules against its documented results.
        pytest.importorskip("torchvision")
    if rule.torch_name.startswith("torchaudio."):
        # torchaudio is not built for this torch: tests/test_torchaudio.py checks these rules
        # against its documented computation.
        pytest.importorskip("torchaudio")
    if rule.torch_name.startswith("torchtext."):
        # torchtext is not maintained for current torch: tests/test_torchtext.py checks
        # these rules against its documented results.
        pytest.importorskip("torchtext")
    if rule.source.startswith("torch_nn_parallel_functions.toml") and not _torch_cuda():
        pytest.skip("torch runs torch.nn.parallel's functions only on CUDA devices: "
                    "tests/test_parallel_helpers.py checks them against torch's results")
    run_example(rule.examples[index], rule.kind)


def _torch_cuda():
    import torch
    return torch.cuda.is_available()


def test_unsupported_rules_give_a_reason():
    for rule in RULES:
        if rule.unsupported is not None:
            assert len(rule.unsupported) > 10, rule.source
