"""`ms-migrate convert -` reads standard input and writes the result to standard output."""
import subprocess
import sys


def _convert(args, text):
    return subprocess.run([sys.executable, "-m", "ms_migrate", "convert", *args],
                          input=text.encode(), capture_output=True, timeout=120)


def test_stdin_to_stdout():
    run = _convert(["-", "-q"], "import torch.nn as nn\nlayer = nn.Linear(4, 2)\n")
    assert run.returncode == 0, run.stderr
    assert run.stdout.decode() == "from mindspore import nn\nlayer = nn.Dense(4, 2)\n"


def test_stdin_refuses_in_place_and_bad_input():
    assert _convert(["-", "--in-place"], "import torch\n").returncode == 2
    run = _convert(["-"], "import torch\nprint 'x'\n")
    assert run.returncode == 2 and b"<stdin>:2" in run.stderr and b"Traceback" not in run.stderr
