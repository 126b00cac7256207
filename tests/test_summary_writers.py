"""SummaryWriter -> SummaryRecordWriter on mindspore.SummaryRecord: a converted training
script logs the scalars, histogram and images torch's writer logs, at the same steps;
read back from MindSpore's summary file (and from torch's TensorBoard file where the
tensorboard package is installed) and compared."""
import os
import struct
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402
from ms_migrate.runtime.equivalence import copy_torch_weights  # noqa: E402

SOURCE = textwrap.dedent("""\
    import numpy as np
    import torch
    import torch.nn as nn


    def train(model, data, log_writer=None, steps=4):
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        losses = []
        for step in range(steps):
            x, y = data[step % len(data)]
            loss = ((model(x) - y) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            if log_writer is not None:
                log_writer.add_scalar("loss/train", loss.item(), step)
                log_writer.add_scalar("lr", 0.1, step)
        if log_writer is not None:
            log_writer.add_histogram("weight", model.weight.detach().numpy(), steps)
            log_writer.add_image("chw", torch.sigmoid(model.weight.detach())[None], steps)
            grid = np.zeros((4, 6, 3), dtype=np.uint8)
            grid[1:3, 2:5] = 200
            log_writer.add_image("hwc", grid, steps, dataformats='HWC')
            log_writer.flush()
        return losses


    def main(model, data, log_dir):
        from torch.utils.tensorboard import SummaryWriter
        writer = SummaryWriter(log_dir=log_dir, flush_secs=30)
        losses = train(model, data, writer)
        writer.close()
        return losses
    """)


def _records(path):
    """The serialized events of a TFRecord-framed event file (both frameworks')."""
    data, i = open(path, "rb").read(), 0
    while i < len(data):
        n = struct.unpack("<Q", data[i:i + 8])[0]
        yield data[i + 12:i + 12 + n]
        i += n + 16


def _ms_summary(log_dir):
    from mindspore.train import summary_pb2
    values = {}
    for name in os.listdir(log_dir):
        for record in _records(os.path.join(log_dir, name)):
            event = summary_pb2.Event()
            event.ParseFromString(record)
            for value in event.summary.value:
                values[(value.tag, event.step)] = value
    return values


def _programs():
    result = convert_source(SOURCE, "prog.py")
    code = result.code
    assert "torch" not in code.replace("torch's", ""), code
    assert convert_source(code, "prog.py").code == code  # idempotent
    t, m = {"__name__": "prog"}, {"__name__": "prog_ms"}
    exec(compile(SOURCE, "<torch>", "exec"), t)
    exec(compile(code, "<ms>", "exec"), m)
    return result, t, m


def _models(t, m):
    rng = np.random.default_rng(0)
    data = [(rng.standard_normal((5, 3)).astype(np.float32),
             rng.standard_normal((5, 2)).astype(np.float32)) for _ in range(2)]
    torch.manual_seed(0)
    tn = torch.nn.Linear(3, 2)
    mn = mindspore.nn.Dense(3, 2)
    copy_torch_weights(tn, mn)
    return (tn, [tuple(map(torch.tensor, d)) for d in data],
            mn, [tuple(map(mindspore.tensor, d)) for d in data])


def test_summary_writer_logs_what_the_script_computes(tmp_path):
    result, t, m = _programs()
    assert "SummaryRecord" in result.code
    warned = [f for f in result.report.findings if f.check == "summary-writers"]
    assert [f.action for f in warned] == ["warning"] and "flush_secs" in warned[0].message
    tn, tdata, mn, mdata = _models(t, m)
    theirs = t["train"](tn, tdata)
    ours = m["main"](mn, mdata, str(tmp_path))
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    logged = _ms_summary(tmp_path)
    for step, loss in enumerate(ours):
        assert logged[("loss/train", step)].scalar_value == pytest.approx(loss, rel=1e-6)
        assert logged[("lr", step)].scalar_value == pytest.approx(0.1)
    weight = tn.weight.detach().numpy()
    histogram = logged[("weight", 4)].histogram
    assert histogram.min == pytest.approx(weight.min(), rel=1e-5)
    assert histogram.max == pytest.approx(weight.max(), rel=1e-5)
    assert sum(b.count for b in histogram.buckets) == weight.size
    assert (logged[("chw", 4)].image.height, logged[("chw", 4)].image.width) == (2, 3)
    assert (logged[("hwc", 4)].image.height, logged[("hwc", 4)].image.width) == (4, 6)


def test_summary_writer_matches_torchs_tensorboard_file(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.compat.proto import event_pb2
    _, t, m = _programs()
    tn, tdata, mn, mdata = _models(t, m)
    t["main"](tn, tdata, str(tmp_path / "torch"))
    m["main"](mn, mdata, str(tmp_path / "ms"))
    theirs = {}
    for name in os.listdir(tmp_path / "torch"):
        for record in _records(str(tmp_path / "torch" / name)):
            event = event_pb2.Event()
            event.ParseFromString(record)
            for value in event.summary.value:
                theirs[(value.tag, event.step)] = value
    ours = _ms_summary(tmp_path / "ms")
    assert set(ours) == set(theirs)
    for key, value in theirs.items():
        if value.HasField("image"):
            assert (ours[key].image.height, ours[key].image.width) == (
                value.image.height, value.image.width)
        elif value.HasField("histo"):
            assert ours[key].histogram.min == pytest.approx(value.histo.min, rel=1e-5)
            assert ours[key].histogram.max == pytest.approx(value.histo.max, rel=1e-5)
        else:
            assert ours[key].scalar_value == pytest.approx(value.simple_value, rel=1e-6)
