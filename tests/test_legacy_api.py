"""Legacy torch spellings still common in public code: Variable, the typed tensor
classes (as constructors, as a class chosen at run time, as `.type()` targets) and
nn.init's spellings without the underscore. Converted programs run on the same
inputs as the torch originals and give the same numbers."""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402
from ms_migrate.runtime.equivalence import copy_torch_weights  # noqa: E402


def _convert(source: str):
    result = convert_source(textwrap.dedent(source), "legacy.py")
    problems = [f"{f.line}: {f.api}: {f.message}" for f in result.report.findings
                if f.action == "unsupported"]
    assert not problems, "not converted:\n" + "\n".join(problems)
    again = convert_source(result.code, "legacy.py")
    assert again.code == result.code, "converting twice changed the code"
    return result.code


def _code(code: str) -> str:
    """The code without its `# ms-migrate:` notes."""
    return "\n".join(line for line in code.splitlines() if not line.lstrip().startswith("#"))


def _run(code: str, name: str) -> dict:
    namespace = {"__name__": name}
    exec(compile(code, f"<{name}>", "exec"), namespace)
    return namespace


def test_variable_forms_convert_to_the_tensor_or_a_parameter():
    code = _convert("""
        import torch
        from torch.autograd import Variable
        x = Variable(torch.zeros(2, 3))
        y = torch.autograd.Variable(x, requires_grad=False)
        z = Variable(x, volatile=True).cuda()
        w = Variable(torch.randn(3), requires_grad=True)
        """)
    assert "torch" not in _code(code) and "Variable" not in _code(code)
    assert "x = ops.zeros((2, 3), dtype=mindspore.float32)" in code
    assert "y = x\n" in code and "z = x\n" in code
    assert "w = mindspore.Parameter(ops.randn(3))" in code


def test_requires_grad_from_a_name_chooses_and_an_expression_is_left_marked():
    result = convert_source("import torch\nfrom torch.autograd import Variable\n"
                            "def f(x, flag):\n    return Variable(x, requires_grad=flag)\n")
    assert "return mindspore.Parameter(x) if flag else x" in result.code
    result = convert_source("import torch\nfrom torch.autograd import Variable\n"
                            "def f(x, a, b):\n    return Variable(x, requires_grad=a or b)\n")
    assert "Variable(x, requires_grad=a or b)" in result.code
    assert any(f.action == "unsupported" and "requires_grad" in f.message
               for f in result.report.findings)


def test_class_chosen_at_run_time_becomes_the_tensors_it_makes():
    code = _convert("""
        import numpy as np
        import torch
        from torch.autograd import Variable
        cuda = torch.cuda.is_available()
        Tensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor
        LongTensor = torch.cuda.LongTensor if cuda else torch.LongTensor

        def make(n, data, labels):
            valid = Variable(Tensor(n, 1).fill_(1.0), requires_grad=False)
            fake = Variable(Tensor(n, 1).fill_(0.0), requires_grad=False)
            z = Variable(Tensor(data))
            idx = Variable(LongTensor(labels))
            empty = Tensor(n, 2)
            ids = torch.LongTensor(n * 2).zero_()
            return valid, fake, z, idx, empty, ids, z.type(torch.cuda.DoubleTensor), z.type('torch.LongTensor')
        """)
    assert "Tensor =" not in code and "LongTensor =" not in code and "torch" not in _code(code)
    assert "ops.full((n, 1), 1.0, dtype=mindspore.float32)" in code
    data = np.random.RandomState(0).normal(size=(3, 4)).astype(np.float64)
    labels = np.array([2, 0, 1])
    torch_out = _run(textwrap.dedent("""
        import numpy as np
        import torch
        from torch.autograd import Variable
        cuda = torch.cuda.is_available()
        Tensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor
        LongTensor = torch.cuda.LongTensor if cuda else torch.LongTensor

        def make(n, data, labels):
            valid = Variable(Tensor(n, 1).fill_(1.0), requires_grad=False)
            fake = Variable(Tensor(n, 1).fill_(0.0), requires_grad=False)
            z = Variable(Tensor(data))
            idx = Variable(LongTensor(labels))
            empty = Tensor(n, 2)
            ids = torch.LongTensor(n * 2).zero_()
            return valid, fake, z, idx, empty, ids, z.type(torch.DoubleTensor), z.type('torch.LongTensor')
        """), "legacy_torch")["make"](3, data, labels)
    ms_out = _run(code, "legacy_ms")["make"](3, data, labels)
    for i, (a, b) in enumerate(zip(torch_out, ms_out)):
        a, b = a.numpy(), b.asnumpy()
        assert a.shape == b.shape and a.dtype == b.dtype, (i, a.dtype, b.dtype)
        if i != 4:  # torch leaves `empty` uninitialised
            np.testing.assert_allclose(a, b, rtol=1e-6, err_msg=str(i))


def test_type_of_the_chosen_class_and_sizes_filled_at_birth():
    source = """
        import numpy as np
        import torch
        Tensor = torch.cuda.FloatTensor if torch.cuda.is_available() else torch.Tensor
        patch = (2, 2)

        def make(imgs, batch_size):
            real = imgs.type(Tensor)
            valid = torch.FloatTensor(batch_size, *patch).fill_(1.0)
            aux = torch.LongTensor(batch_size).fill_(7)
            noise = Tensor(np.ones((batch_size, 3)))
            gamma = torch.Tensor(batch_size).uniform_()
            return real, valid, aux, noise, gamma
        """
    code = _convert(source)
    assert "Tensor =" not in code and "torch" not in _code(code)
    assert "imgs.astype(mindspore.float32)" in code
    assert "ops.full((batch_size, *patch), 1.0, dtype=mindspore.float32)" in code
    assert "noise = mindspore.Tensor(np.ones((batch_size, 3)), dtype=mindspore.float32)\n" in code
    imgs = np.arange(6).reshape(2, 3)
    torch_out = _run(textwrap.dedent(source), "typed_torch")["make"](torch.from_numpy(imgs), 4)
    ms_out = _run(code, "typed_ms")["make"](mindspore.Tensor(imgs), 4)
    for i, (a, b) in enumerate(zip(torch_out, ms_out)):
        a, b = a.numpy(), b.asnumpy()
        assert a.shape == b.shape and a.dtype == b.dtype, (i, a.dtype, b.dtype)
        if i != 4:  # random
            np.testing.assert_allclose(a, b, rtol=1e-6, err_msg=str(i))
    assert ((ms_out[4].asnumpy() >= 0) & (ms_out[4].asnumpy() < 1)).all()


def test_a_class_mapped_over_rows_makes_a_tensor_of_each():
    source = """
        import torch
        LongTensor = torch.cuda.LongTensor if torch.cuda.is_available() else torch.LongTensor
        def columns(batch):
            ids, labels = map(torch.LongTensor, zip(*batch))
            return ids, labels, list(map(LongTensor, batch))
        """
    code = _convert(source)
    assert "map(lambda data: mindspore.Tensor(data, dtype=mindspore.int64), zip(*batch))" in code
    batch = [([1, 2], [0, 5]), ([3, 4], [1, 6])]
    torch_out = _run(textwrap.dedent(source), "map_torch")["columns"](batch)
    ms_out = _run(code, "map_ms")["columns"](batch)
    for a, b in zip(torch_out[:2] + tuple(torch_out[2]), ms_out[:2] + tuple(ms_out[2])):
        assert b.dtype == mindspore.int64
        np.testing.assert_array_equal(a.numpy(), b.asnumpy())


def test_a_class_read_other_than_by_calls_keeps_its_assignment():
    result = convert_source(textwrap.dedent("""
        import torch
        Tensor = torch.cuda.FloatTensor if torch.cuda.is_available() else torch.FloatTensor
        x = Tensor([1.0, 2.0])
        kinds = [Tensor]
        """))
    assert "x = mindspore.Tensor([1.0, 2.0], dtype=mindspore.float32)" in result.code
    assert "Tensor = torch.cuda.FloatTensor" in result.code  # still read: marked, kept


def test_a_name_each_function_binds_to_the_same_class_is_followed():
    code = _convert("""
        import torch
        def sample(n):
            Tensor = torch.cuda.FloatTensor
            return Tensor(n, 2).fill_(0)
        Tensor = torch.cuda.FloatTensor if torch.cuda.is_available() else torch.FloatTensor
        x = Tensor([1, 2])
        """)
    assert "Tensor =" not in code
    assert "return ops.full((n, 2), 0, dtype=mindspore.float32)" in code


def test_a_name_bound_twice_is_not_followed():
    result = convert_source(textwrap.dedent("""
        import torch
        Tensor = torch.FloatTensor
        def f(Tensor):
            return Tensor(3)
        """))
    assert "return Tensor(3)" in result.code


def test_sizes_that_are_expressions_make_zeros():
    code = _convert("""
        import torch
        def pad(batch, n):
            out = torch.FloatTensor(len(batch), n)
            ids = torch.LongTensor(len(batch), n)
            return out, ids
        """)
    assert "ops.zeros((len(batch), n), dtype=mindspore.float32)" in code
    assert "torch leaves these values uninitialised" in code
    out, ids = _run(code, "pad_ms")["pad"]([1, 2], 3)
    assert out.shape == (2, 3) and ids.dtype == mindspore.int64


OLD_STYLE = '''
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd import Variable

cuda = True if torch.cuda.is_available() else False
Tensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor
LongTensor = torch.cuda.LongTensor if cuda else torch.LongTensor


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 3)
        nn.init.constant(self.fc1.bias, 0.1)
        nn.init.normal(self.fc2.bias, 0.0, 0.0)

    def forward(self, x):
        return self.fc2(F.tanh(self.fc1(x)))


def batch(features, labels):
    x = Variable(Tensor(features))
    y = Variable(LongTensor(labels), requires_grad=False)
    mask = Variable(Tensor(features.shape[0], 1).fill_(1.0), requires_grad=False)
    return x * mask, y


def train(model, data, steps):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    criterion = nn.CrossEntropyLoss()
    losses = []
    for step in range(steps):
        x, y = batch(*data[step % len(data)])
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.item()))
    return losses


def accuracy(model, features, labels):
    x = Variable(Tensor(features), volatile=True)
    pred = model(x).argmax(1)
    return float((pred == Variable(LongTensor(labels))).type(torch.FloatTensor).mean())
'''


def test_an_old_style_training_script_trains_as_in_torch():
    code = _convert(OLD_STYLE)
    assert "Variable" not in _code(code) and "torch" not in _code(code)
    torch_ns, ms_ns = _run(OLD_STYLE, "old_torch"), _run(code, "old_ms")
    torch.manual_seed(0)
    torch_model, ms_model = torch_ns["Net"](), ms_ns["Net"]()
    copy_torch_weights(torch_model, ms_model)
    # the initialisers ran in both: the constant biases agree before copying matters
    np.testing.assert_allclose(ms_model.fc1.bias.asnumpy(), 0.1, rtol=1e-6)
    np.testing.assert_allclose(ms_model.fc2.bias.asnumpy(), 0.0)
    rng = np.random.RandomState(1)
    data = [(rng.normal(size=(8, 4)), rng.randint(0, 3, 8)) for _ in range(3)]
    torch_losses = torch_ns["train"](torch_model, data, 12)
    ms_losses = ms_ns["train"](ms_model, data, 12)
    np.testing.assert_allclose(ms_losses, torch_losses, rtol=1e-4, atol=1e-5)
    assert torch_losses[-1] < torch_losses[0]
    features, labels = data[0]
    assert ms_ns["accuracy"](ms_model, features, labels) == pytest.approx(
        torch_ns["accuracy"](torch_model, features, labels))


LEAVES = """
import torch
from torch.autograd import Variable


def fit(xs, ys, steps):
    w = Variable(torch.zeros(1), requires_grad=True)
    b = Variable(torch.zeros(1), requires_grad=True)
    optimizer = torch.optim.SGD([w, b], lr=0.05)
    losses = []
    for _ in range(steps):
        x, y = Variable(torch.Tensor(xs)), Variable(torch.Tensor(ys), requires_grad=False)
        optimizer.zero_grad()
        loss = ((x * w + b - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, float(w.item()), float(b.item())
"""


def test_variables_that_require_grad_are_parameters_an_optimizer_trains():
    code = _convert(LEAVES)
    assert "w = mindspore.Parameter(ops.zeros(1, dtype=mindspore.float32))" in code
    xs, ys = [1.0, 2.0, 3.0], [3.0, 5.0, 7.0]
    torch_losses, torch_w, torch_b = _run(LEAVES, "leaves_torch")["fit"](xs, ys, 8)
    ms_losses, ms_w, ms_b = _run(code, "leaves_ms")["fit"](xs, ys, 8)
    np.testing.assert_allclose(ms_losses, torch_losses, rtol=1e-5, atol=1e-6)
    assert ms_w == pytest.approx(torch_w, rel=1e-5) and ms_b == pytest.approx(torch_b, rel=1e-5)
    assert torch_losses[-1] < torch_losses[0] / 10
