"""Tensors printed with format specs: the converted program prints what torch printed."""
import os
import subprocess
import sys

import pytest

from ms_migrate import convert_source

PROGRAM = '''
import time
import torch
import torch.nn as nn

criterion = nn.MSELoss()
pred = torch.tensor([[0.25, -1.5], [2.0, 0.125]])
target = torch.tensor([[0.5, -1.0], [1.0, 0.0]])
labels = torch.tensor([1, 0])
start = time.time()
running, correct, total = 0.0, 0, 0
for epoch in range(2):
    loss = criterion(pred * (epoch + 1), target)
    acc = (pred.argmax(1) == labels).float().mean()
    running += loss.item()
    correct += (pred.argmax(1) == labels).sum().item()
    total += len(labels)
    print(f"epoch {epoch:3d} loss {loss:.4f} acc {acc:.2%} {loss:>10.3e} {loss:g}")
    print(f"{loss=:.3f} {running:.2f} {100.0 * correct / total:.1f} {loss.item():.5f}")
    print("loss: {:.6f} epoch {}".format(loss, epoch))
    print("{0:.3f} / {0:.2E} hits {1:d} {2:d}".format(loss, (pred.argmax(1) == labels).sum(),
                                                     labels.argmax()))
    print("{loss:.3f} {acc:.1%} {name}".format(loss=loss, acc=acc, name="train"))
    print("%.4f" % loss, "%d/%d %.3f" % (epoch, 2, loss), "%s" % loss.item())
    print(f"{pred.sum():.4f} {pred[0, 1]:.2f} {pred.mean(dim=0)[1]:+.3f}")
'''


def run(code, tmp_path, name):
    path = tmp_path / name
    path.write_text(code)
    env = dict(os.environ, GLOG_v="3")
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_printed_text_equals_torchs(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("mindspore")
    result = convert_source(PROGRAM, "train.py")
    assert "float(loss):.4f" in result.code and "loss={float(loss):.3f}" in result.code
    assert 'format(float(loss), epoch)' in result.code
    assert "{running:.2f}" in result.code and "{loss.item():.5f}" in result.code
    assert '"%.4f" % loss' in result.code
    assert any(f.api == "format spec" and f.action == "converted"
               for f in result.report.findings)
    expected = run(PROGRAM, tmp_path, "torch_train.py")
    assert "loss" in expected and expected.count("\n") == 14
    assert run(result.code, tmp_path, "ms_train.py") == expected


@pytest.mark.parametrize("source, converted", [
    ('f"{loss:.4f}"', 'f"{float(loss):.4f}"'),
    ('"{:.2f}".format(loss)', '"{:.2f}".format(float(loss))'),
    ('"{x:.2f}".format(x=loss)', '"{x:.2f}".format(x=float(loss))'),
    ('"{:d}".format(correct.sum())', '"{:d}".format(int(correct.sum()))'),
    # left as written: no float type, a number, a conversion, nested spec fields
    ('f"{loss}"', 'f"{loss}"'),
    ('f"{loss:>8}"', 'f"{loss:>8}"'),
    ('f"{epoch:d}"', 'f"{epoch:d}"'),
    ('f"{n:.2f}"', 'f"{n:.2f}"'),
    ('f"{float(loss):.2f}"', 'f"{float(loss):.2f}"'),
    ('f"{len(loss):.2f}"', 'f"{len(loss):.2f}"'),
    ('f"{np.mean(n):.2f} {math.sqrt(n):.1e}"', 'f"{np.mean(n):.2f} {math.sqrt(n):.1e}"'),
    ('f"{loss!s:.2}"', 'f"{loss!s:.2}"'),
    ('"{:{}.{}f}".format(loss, 8, 2)', '"{:{}.{}f}".format(loss, 8, 2)'),
    ('"%.3f" % loss', '"%.3f" % loss'),
])
def test_what_is_wrapped(source, converted):
    code = convert_source(f"import torch\nn = 3\nloss = torch.ones(())\nprint({source})\n",
                          "t.py").code
    assert code.rstrip().splitlines()[-1] == f"print({converted})"


def test_files_without_torch_are_left_alone():
    source = 'loss = get()\nprint(f"{loss:.4f}")\n'
    assert convert_source(source, "t.py").code == source


def test_converting_twice_changes_nothing():
    once = convert_source(PROGRAM, "train.py").code
    assert convert_source(once, "train.py").code == once
