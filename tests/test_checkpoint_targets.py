"""Entries of a loaded checkpoint that are written (deleted, assigned, incremented)
are not reads: they keep their subscript, so the converted code parses and runs."""
import libcst as cst
import numpy as np
import pytest

from ms_migrate import convert_source

SOURCE = '''
import torch
import torch.nn as nn

model = nn.Linear(3, 2)
torch.save({"model": model.state_dict(), "epoch": 4, "best": 0.5, "junk_1": 1}, "ck.pth")
checkpoint = torch.load("ck.pth")
del checkpoint["best"]
for key in list(checkpoint.keys()):
    if key.startswith("junk"):
        del checkpoint[key]
model.load_state_dict(checkpoint["model"])
checkpoint["epoch"] += 1
epoch = checkpoint["epoch"]
has_best = "best" in checkpoint
has_junk = "junk_1" in checkpoint
'''


def convert(source):
    result = convert_source(source, "resume.py")
    cst.parse_module(result.code)  # must parse
    return result.code


@pytest.mark.parametrize("statement", [
    'del ckpt["best"]',
    'del ckpt[key]',
    'del ckpt["a"], ckpt["b"]',
    'ckpt["epoch"] += 1',
    'ckpt["epoch"]: int = 3',
    'ckpt["epoch"] = 3',
    'for ckpt["k"] in range(2): pass',
])
def test_written_entries_keep_their_subscript(statement):
    code = convert(f'import torch\nckpt = torch.load("a.pth")\nkey = "x"\n{statement}\n')
    assert ".item()" not in code
    assert code.rstrip().splitlines()[-1] == statement


def test_reads_still_become_numbers():
    code = convert('import torch\nckpt = torch.load("a.pth")\ndel ckpt["best"]\n'
                   'epoch = ckpt["epoch"]\n')
    assert 'del ckpt["best"]' in code and 'epoch = ckpt["epoch"].item()' in code


def test_converted_program_deletes_and_updates_entries(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    pytest.importorskip("mindspore")
    monkeypatch.chdir(tmp_path)
    expected = {}
    exec(compile(SOURCE, "resume.py", "exec"), expected)
    code = convert(SOURCE)
    got = {}
    exec(compile(code, "resume_ms.py", "exec"), got)
    assert (expected["epoch"], expected["has_best"], expected["has_junk"]) == (5, False, False)
    assert (got["epoch"], got["has_best"], got["has_junk"]) == (5, False, False)
    assert isinstance(got["epoch"], int)
    del torch


def test_entries_read_by_a_variable_key_stay_parameters():
    code = convert('import torch\nsd = torch.load("a.pth")\nnew = {}\n'
                   'for k in sd:\n    new[k[7:]] = sd[k]\n')
    assert "new[k[7:]] = sd[k]\n" in code and ".item()" not in code


def test_renamed_weights_load_into_the_network(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    pytest.importorskip("mindspore")
    monkeypatch.chdir(tmp_path)
    source = (
        "import torch\nimport torch.nn as nn\n"
        "net = nn.Sequential(nn.Linear(3, 2))\n"
        "before = net(torch.ones(1, 3))\n"
        "torch.save(net.state_dict(), 'w.pth')\n"
        "sd = torch.load('w.pth')\n"
        "renamed = {}\n"
        "for k in list(sd.keys()):\n"
        "    renamed[k.replace('module.', '')] = sd[k]\n"
        "fresh = nn.Sequential(nn.Linear(3, 2))\n"
        "fresh.load_state_dict(renamed)\n"
        "after = fresh(torch.ones(1, 3))\n")
    for namespace, code, to_numpy in (
            ({}, source, lambda t: t.detach().numpy()),
            ({}, convert(source), lambda t: t.asnumpy())):
        exec(compile(code, "w.py", "exec"), namespace)
        np.testing.assert_allclose(to_numpy(namespace["after"]), to_numpy(namespace["before"]))
