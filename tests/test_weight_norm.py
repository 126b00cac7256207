"""torch.nn.utils.weight_norm / remove_weight_norm as helpers written into the file:
a weight-normed vocoder-like network (Conv1d, ConvTranspose1d, Conv2d, dim=None),
its weights copied from torch by name (weight_g, weight_v), forward and gradients
compared, then remove_weight_norm and forward again."""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402

SOURCE = textwrap.dedent("""\
    import torch
    import torch.nn as nn
    from torch.nn import Conv1d, ConvTranspose1d, Conv2d
    from torch.nn.utils import weight_norm, remove_weight_norm


    def init_weights(m, mean=0.0, std=0.01):
        classname = m.__class__.__name__
        if classname.find("Conv") != -1:
            m.weight.data.normal_(mean, std)


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.pre = weight_norm(Conv1d(3, 6, 5, 1, padding=2))
            self.ups = nn.ModuleList([weight_norm(ConvTranspose1d(6, 4, 4, 2, padding=1))])
            self.ups.apply(init_weights)
            norm_f = weight_norm
            self.post = norm_f(Conv2d(1, 2, (3, 1), 1, padding=(1, 0)), dim=None)

        def forward(self, x):
            x = torch.tanh(self.pre(x))
            x = self.ups[0](x)
            return self.post(x.unsqueeze(1))

        def remove_weight_norm(self):
            remove_weight_norm(self.pre)
            for l in self.ups:
                remove_weight_norm(l)
            remove_weight_norm(self.post)
    """)


def test_weight_norm_computes_and_trains_like_torch():
    result = convert_source(SOURCE, "prog.py")
    code = result.code
    assert "import torch" not in code and "from torch" not in code, code
    assert convert_source(code, "prog.py").code == code  # idempotent
    t, m = {}, {}
    exec(compile(SOURCE, "<torch>", "exec"), t)
    exec(compile(code, "<ms>", "exec"), m)
    torch.manual_seed(0)
    theirs, ours = t["Net"](), m["Net"]()
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    params = dict(ours.parameters_and_names())
    assert sorted(params) == sorted(state)  # weight_g / weight_v under torch's names
    for name, value in state.items():
        assert tuple(params[name].shape) == value.shape, name  # loads without reshaping
        params[name].set_data(mindspore.Tensor(value))
    x = np.random.default_rng(0).standard_normal((2, 3, 7)).astype(np.float32)
    out = theirs(torch.tensor(x))
    np.testing.assert_allclose(ours(mindspore.tensor(x)).asnumpy(), out.detach().numpy(),
                               atol=1e-5, rtol=1e-4)
    (out ** 2).sum().backward()
    names = [n for n, _ in ours.parameters_and_names()]
    _, grads = mindspore.value_and_grad(lambda a: (ours(a) ** 2).sum(), None,
                                        ours.trainable_params())(mindspore.tensor(x))
    their = dict(theirs.named_parameters())
    for name, grad in zip(names, grads):
        np.testing.assert_allclose(grad.asnumpy(), their[name].grad.numpy(), atol=1e-4,
                                   rtol=1e-3, err_msg=name)
    theirs.remove_weight_norm()
    ours.remove_weight_norm()
    assert sorted(n for n, _ in ours.parameters_and_names()) == sorted(theirs.state_dict())
    np.testing.assert_allclose(ours(mindspore.tensor(x)).asnumpy(),
                               theirs(torch.tensor(x)).detach().numpy(), atol=1e-5, rtol=1e-4)


SPECTRAL = textwrap.dedent("""\
    import torch
    import torch.nn as nn
    from torch.nn.utils import weight_norm, spectral_norm


    class Discriminator(nn.Module):
        def __init__(self, use_spectral_norm=True):
            super().__init__()
            norm_f = weight_norm if use_spectral_norm == False else spectral_norm
            self.convs = nn.ModuleList([norm_f(nn.Conv1d(2, 4, 5, 1, padding=2)),
                                        norm_f(nn.Conv2d(4, 3, (3, 1), padding=(1, 0))),
                                        spectral_norm(nn.ConvTranspose1d(3, 2, 4, 2, padding=1),
                                                      n_power_iterations=2)])

        def forward(self, x):
            x = torch.relu(self.convs[0](x))
            x = self.convs[1](x.unsqueeze(-1)).squeeze(-1)
            return self.convs[2](x)
    """)


def test_spectral_norm_computes_and_trains_like_torch():
    result = convert_source(SPECTRAL, "prog.py")
    code = result.code
    assert "import torch" not in code and "from torch" not in code, code
    assert any(f.api == "torch.nn.utils.spectral_norm" and f.action == "warning"
               for f in result.report.findings)
    t, m = {}, {}
    exec(compile(SPECTRAL, "<torch>", "exec"), t)
    exec(compile(code, "<ms>", "exec"), m)
    torch.manual_seed(0)
    theirs, ours = t["Discriminator"](), m["Discriminator"]()
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    params = dict(ours.parameters_and_names())
    assert sorted(params) == sorted(state)  # weight_orig, weight_u, weight_v as torch's
    for name, value in state.items():
        assert tuple(params[name].shape) == value.shape, name
        params[name].set_data(mindspore.Tensor(value))
    x = np.random.default_rng(0).standard_normal((2, 2, 6)).astype(np.float32)
    ours.set_train(True)  # torch's modules start in training mode
    for step in range(2):  # training: the power iteration moves u and v at each call
        out = theirs(torch.tensor(x))
        (out ** 2).sum().backward()
        their = dict(theirs.named_parameters())
        trainable = ours.trainable_params()
        value, grads = mindspore.value_and_grad(lambda a: (ours(a) ** 2).sum(), None,
                                                trainable)(mindspore.tensor(x))
        np.testing.assert_allclose(value.asnumpy(), (out ** 2).sum().item(), rtol=1e-4)
        for p, grad in zip(trainable, grads):
            np.testing.assert_allclose(grad.asnumpy(), their[p.name].grad.numpy(), atol=1e-4,
                                       rtol=1e-3, err_msg=p.name)
        theirs.zero_grad()
        buffers = dict(theirs.named_buffers())
        for name, buffer in buffers.items():
            np.testing.assert_allclose(params[name].asnumpy(), buffer.numpy(), atol=1e-5,
                                       err_msg=name)
    theirs.eval()
    ours.set_train(False)
    np.testing.assert_allclose(ours(mindspore.tensor(x)).asnumpy(),
                               theirs(torch.tensor(x)).detach().numpy(), atol=1e-5, rtol=1e-4)
