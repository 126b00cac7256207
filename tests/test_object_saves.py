"""torch.save of objects the converter cannot see as parameters (a `save_on_master(*args,
**kwargs)` wrapper, a checkpoint dict handed to a function, numpy data, plain values,
a tensor, an open file) and torch.load of the same files: the converted program writes
and reads them back, and gives what torch gives."""
import argparse
import warnings

import numpy as np
import pytest

from ms_migrate import convert_source

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate.runtime.equivalence import copy_torch_weights  # noqa: E402

SOURCE = '''
import torch
import torch.nn as nn


def is_main_process():
    return True


def save_on_master(*args, **kwargs):
    if is_main_process():
        torch.save(*args, **kwargs)


def save_checkpoint(state, filename):
    torch.save(state, filename)


def build():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    return model, optimizer


def save_all(model, optimizer, epoch, args, path):
    to_save = {
        'model': model.state_dict(),
        'optimizer': optimizer.state_dict(),
        'epoch': epoch,
        'args': args,
    }
    save_on_master(to_save, path)


def resume(model, optimizer, path):
    checkpoint = torch.load(path, map_location='cpu', weights_only=False)
    model.load_state_dict(checkpoint['model'])
    optimizer.load_state_dict(checkpoint['optimizer'])
    return checkpoint['epoch'] + 1


def save_state(model, epoch, path):
    save_checkpoint({'epoch': epoch, 'state_dict': model.state_dict()}, path)


def save_values(data, path, tensor_path, meta_path):
    torch.save(data, open(path, 'wb'))
    torch.save(torch.arange(6).reshape(2, 3) * 2, tensor_path)
    meta = {'classes': ['cat', 'dog'], 'size': 32}
    torch.save(meta, meta_path)


def read_values(path, tensor_path, meta_path):
    data = torch.load(path, weights_only=False)
    t = torch.load(tensor_path)
    meta = torch.load(meta_path, weights_only=False)
    return data, t, meta
'''


def converted():
    result = convert_source(SOURCE, "saves.py")
    assert "torch" not in [line.split()[1] for line in result.code.splitlines()
                           if line.startswith("import ")]
    assert not [f for f in result.report.findings if f.action == "unsupported"]
    namespace = {}
    exec(compile(result.code, "saves_ms.py", "exec"), namespace)
    return result.code, namespace


def original():
    namespace = {}
    exec(compile(SOURCE, "saves.py", "exec"), namespace)
    return namespace


def test_the_calls_name_the_helpers_and_models_stay_checkpoints():
    code, _ = converted()
    assert "save_object(*args, **kwargs)" in code
    assert "save_object(state, filename)" in code
    assert "save_object(data, open(path, 'wb'))" in code
    assert "load_object(path, weights_only=False)" in code
    # loaded into the networks: a checkpoint read
    assert "checkpoint = mindspore.load_checkpoint(path)" in code


def test_checkpoint_dict_through_a_wrapper_round_trips(tmp_path):
    t, (_, m) = original(), converted()
    tm, topt = t["build"]()
    mm, mopt = m["build"]()
    copy_torch_weights(tm, mm)
    args = argparse.Namespace(lr=0.1)
    t["save_all"](tm, topt, 4, args, str(tmp_path / "t.pth"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m["save_all"](mm, mopt, 4, args, str(tmp_path / "m.ckpt"))
    assert any("args" in str(w.message) for w in caught)  # left out, and said so

    tm2, topt2 = t["build"]()
    mm2, mopt2 = m["build"]()
    assert t["resume"](tm2, topt2, str(tmp_path / "t.pth")) == 5
    assert m["resume"](mm2, mopt2, str(tmp_path / "m.ckpt")) == 5
    x = np.random.default_rng(0).standard_normal((5, 3)).astype("float32")
    expected = tm2(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(mm2(mindspore.Tensor(x)).asnumpy(), expected, rtol=1e-6,
                               atol=1e-6)
    # a network other than the saved one gives other numbers: the load did something
    assert not np.allclose(m["build"]()[0](mindspore.Tensor(x)).asnumpy(), expected)


def test_a_state_dict_given_to_a_save_function_is_a_checkpoint(tmp_path):
    _, m = converted()
    mm, _ = m["build"]()
    m["save_state"](mm, 7, str(tmp_path / "s.ckpt"))
    loaded = mindspore.load_checkpoint(str(tmp_path / "s.ckpt"))
    assert int(loaded["epoch"].asnumpy()) == 7
    for name, p in mm.parameters_dict().items():
        np.testing.assert_array_equal(loaded[name].asnumpy(), p.asnumpy())


def test_values_that_hold_no_parameters_come_back_as_they_were(tmp_path):
    t, (_, m) = original(), converted()
    data = np.random.default_rng(1).standard_normal((3, 4))
    paths = [str(tmp_path / name) for name in ("d.pt", "t.pt", "meta.pt")]
    t["save_values"](data, *paths)
    tdata, tt, tmeta = t["read_values"](*paths)
    mpaths = [str(tmp_path / ("m" + name)) for name in ("d.pt", "t.pt", "meta.pt")]
    m["save_values"](data, *mpaths)
    mdata, mt, mmeta = m["read_values"](*mpaths)
    np.testing.assert_array_equal(mdata, tdata)
    assert isinstance(mt, mindspore.Tensor)
    np.testing.assert_array_equal(mt.asnumpy(), tt.numpy())
    assert mmeta == tmeta


def test_a_checkpoint_read_through_a_variable_stays_a_checkpoint_read():
    source = ("import torch\ncheckpoint = torch.load('a.pth')\n"
              "state_dict = checkpoint['state_dict']\nmodel.load_state_dict(state_dict)\n"
              "vocab = torch.load('vocab.pt')\n")
    code = convert_source(source).code
    assert "checkpoint = mindspore.load_checkpoint('a.ckpt')" in code
    assert "vocab = load_object('vocab.ckpt')" in code


def test_a_name_holding_a_state_dict_stays_a_checkpoint_save():
    source = ("import torch\nckp = model.state_dict()\ntorch.save(ckp, 'a.pt')\n"
              "torch.save(model, 'm.pt')\nmodel.eval()\n")
    code = convert_source(source).code
    assert "mindspore.save_checkpoint(ckp, 'a.ckpt')" in code
    assert "mindspore.save_checkpoint(model, 'm.ckpt')" in code
    assert "save_object" not in code


@pytest.mark.parametrize("call", [
    "torch.save(t, p, pickle, 4, False)",
    "torch.save(_use_new_zipfile_serialization=False, pickle_protocol=4, pickle_module=pickle, "
    "f=p, obj=t)",
    "torch.save(t, p, _use_new_zipfile_serialization=False)",
])
def test_every_argument_form_of_torch_save_round_trips(tmp_path, call):
    source = ("import pickle\nimport torch\n\n\ndef run(p):\n"
              "    t = torch.tensor([0., 1., 2.])\n"
              f"    {call}\n"
              "    return torch.load(p, map_location=torch.device('cpu'), weights_only=False)\n")
    result = convert_source(source)
    assert not [f for f in result.report.findings if f.action == "unsupported"]
    m, t = {}, {}
    exec(compile(result.code, "s_ms.py", "exec"), m)
    exec(compile(source, "s.py", "exec"), t)
    got = m["run"](str(tmp_path / "m.pt"))
    np.testing.assert_array_equal(got.asnumpy(), t["run"](str(tmp_path / "t.pt")).numpy())
