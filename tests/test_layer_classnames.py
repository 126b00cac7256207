"""Parameter attributes renamed inside class-name branches (DCGAN's weights_init),
converted and run on both frameworks."""
import numpy as np
import pytest

from ms_migrate import convert_source

DCGAN = '''
import torch
import torch.nn as nn


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif classname.find('BatchNorm') != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


def tensor_init(m):
    classname = type(m).__name__
    if classname.startswith('Conv'):
        m.weight.data.normal_(0.0, 0.02)
    elif 'BatchNorm' in classname:
        m.weight.data.normal_(1.0, 0.02)
        m.bias.data.fill_(0)


class Generator(nn.Module):
    def __init__(self, nz=16, ngf=64):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, 1, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, z):
        return self.main(z)


class Discriminator(nn.Module):
    def __init__(self, ndf=64):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return self.main(x).view(-1)


netG = Generator()
netG.apply(weights_init)
netD = Discriminator()
netD.apply(tensor_init)
'''


def _branch(test, body="m.weight.data.fill_(1)", assign="classname = m.__class__.__name__"):
    source = f"import torch.nn as nn\n\n\ndef init(m):\n    {assign}\n    if {test}:\n        {body}\n"
    return convert_source(source)


@pytest.mark.parametrize("test", [
    "classname.find('BatchNorm') != -1",
    "classname.find('BatchNorm') >= 0",
    "'BatchNorm' in classname",
    "classname.startswith('BatchNorm')",
    "classname.startswith(('BatchNorm', 'GroupNorm'))",
    "classname == 'BatchNorm2d'",
    "'BatchNorm2d' == classname",
    "classname in ('BatchNorm1d', 'BatchNorm2d')",
    "classname.endswith('Norm2d')",
    "m.__class__.__name__.find('BatchNorm') != -1",
    "type(m).__name__ == 'BatchNorm2d'",
    "hasattr(m, 'weight') and classname.find('Norm') != -1",
    "classname.find('BatchNorm') != -1 or classname.find('LayerNorm') != -1",
])
def test_class_name_tests_narrow_the_branch(test):
    code = _branch(test).code
    assert "m.gamma" in code and "m.weight" not in code, code


def test_type_name_is_traced_too():
    code = _branch("'BatchNorm' in name", assign="name = type(m).__name__").code
    assert "m.gamma" in code


@pytest.mark.parametrize("test", [
    "classname.find('MyBlock') != -1",        # no torch layer has that name
    "classname.find('BatchNorm') == -1",      # not a BatchNorm
    "not classname.startswith('BatchNorm')",
    "classname.find('Conv') != -1",           # same names in MindSpore
    "classname.find('BatchNorm') != -1 or hasattr(m, 'weight')",
    "other.find('BatchNorm') != -1",          # not a class name
    "classname.find(key) != -1",
])
def test_other_tests_leave_the_branch(test):
    code = _branch(test).code
    assert "m.weight" in code and "gamma" not in code, code


@pytest.mark.parametrize("test", ["type(m).__name__.startswith('BatchNorm')",
                                  "'BatchNorm' in m.__class__.__name__"])
def test_a_class_name_tested_directly(test):
    source = f"import torch\n\n\ndef init(m):\n    if {test}:\n        m.bias.data.zero_()\n"
    assert "m.beta" in convert_source(source).code


def test_a_variable_also_assigned_otherwise_is_not_followed():
    source = ("import torch\n\n\ndef init(m, other):\n    classname = m.__class__.__name__\n"
              "    if other:\n        classname = other\n"
              "    if 'BatchNorm' in classname:\n        m.weight.data.fill_(1)\n")
    assert "ops.assign(m.weight.data" in convert_source(source).code  # converted, not renamed


def test_a_parameter_of_that_name_is_not_followed():
    source = ("import torch\n\n\ndef init(m, classname):\n    if 'BatchNorm' in classname:\n"
              "        m.weight.data.fill_(1)\n    classname = m.__class__.__name__\n")
    assert "ops.assign(m.weight.data" in convert_source(source).code  # converted, not renamed


def test_only_the_same_function_is_followed():
    source = ("import torch\n\n\ndef outer(m):\n    classname = m.__class__.__name__\n\n"
              "    def inner(m):\n        if 'BatchNorm' in classname:\n"
              "            m.weight.data.fill_(1)\n")
    assert "ops.assign(m.weight.data" in convert_source(source).code  # converted, not renamed


def test_a_module_level_loop():
    source = ("import torch.nn as nn\nnet = nn.Sequential(nn.BatchNorm1d(3))\n"
              "for m in net.modules():\n    classname = type(m).__name__\n"
              "    if classname.startswith('BatchNorm'):\n        nn.init.zeros_(m.bias)\n")
    code = convert_source(source).code
    assert "m.beta.set_data(" in code


def test_disagreeing_layers_are_marked():
    result = _branch("classname.find('Norm') != -1", body="m.running_var.fill_(1)")
    assert "m.running_var" in result.code
    assert "# ms-migrate: m.running_var: the layers tested here name" in result.code
    [finding] = [f for f in result.report.findings if f.api == "torch.nn.*Norm*.running_var"]
    assert finding.action == "unsupported"


def test_names_mindspore_spells_differently_are_marked():
    result = _branch("classname.find('Linear') != -1", body="nn.init.zeros_(m.bias)")
    note = "# ms-migrate: class name 'Linear' does not match MindSpore's Dense (torch.nn.Linear)"
    assert note in result.code
    [finding] = [f for f in result.report.findings if f.api == "layer class name"]
    assert finding.action == "warning" and finding.line == 6


def test_apply_and_data_convert_as_mindspore_runs_them():
    code = convert_source(DCGAN).code
    assert "netG.apply(weights_init)" in code  # Cell.apply: children first, then the cell
    assert "m.gamma.set_data(init.initializer(init.Normal(mean=1.0, sigma=0.02), m.gamma.shape" in code
    assert "ops.assign(m.beta.data, ops.full_like(m.beta.data, 0))" in code


def _stats(values):
    return float(np.mean(values)), float(np.std(values))


def test_dcgan_initialised_as_torch():
    """Both weight inits run on MindSpore's cells: BatchNorm gamma ~ N(1, 0.02), beta 0,
    conv weights ~ N(0, 0.02), as torch's weight/bias (MindSpore's own defaults are
    gamma 1, conv weights HeUniform)."""
    torch = pytest.importorskip("torch")
    ms = pytest.importorskip("mindspore")
    torch.manual_seed(0)
    ms.set_seed(0)
    t_ns, m_ns = {}, {}
    exec(DCGAN, t_ns)
    exec(convert_source(DCGAN).code, m_ns)
    for net in ("netG", "netD"):
        torch_params = {k: v.detach().numpy() for k, v in t_ns[net].named_parameters()}
        ms_params = {k: v.asnumpy() for k, v in m_ns[net].parameters_and_names()}
        for name, value in torch_params.items():
            ms_name = name.replace(".weight", ".gamma") if value.ndim == 1 else name
            ms_name = ms_name.replace(".bias", ".beta")
            actual = ms_params[ms_name]
            assert actual.size == value.size, name
            if name.endswith(".bias"):
                assert not actual.any() and not value.any(), name
                continue
            expected_mean = 1.0 if value.ndim == 1 else 0.0
            error = 0.02 / np.sqrt(value.size)  # of the sample mean; the std's is smaller
            for got in (_stats(actual), _stats(value)):
                assert abs(got[0] - expected_mean) < 4 * error, (net, name, got)
                assert abs(got[1] - 0.02) < 4 * error, (net, name, got)


def test_dcgan_runs_with_torch_weights():
    """The converted generator and discriminator give torch's outputs for its weights."""
    torch = pytest.importorskip("torch")
    ms = pytest.importorskip("mindspore")
    from ms_migrate.runtime.weights import torch_state_to_mindspore

    t_ns, m_ns = {}, {}
    exec(DCGAN, t_ns)
    exec(convert_source(DCGAN).code, m_ns)
    z = np.random.default_rng(0).standard_normal((2, 16, 1, 1)).astype(np.float32)
    for net, x in (("netG", z), ("netD", None)):
        t_net, m_net = t_ns[net].eval(), m_ns[net]
        state = torch_state_to_mindspore(t_net)
        ms.load_param_into_net(m_net, {k: ms.Parameter(ms.Tensor(v), name=k) for k, v in state.items()})
        m_net.set_train(False)
        if x is None:  # the discriminator judges the generator's images
            x = t_ns["netG"](torch.from_numpy(z)).detach().numpy()
        expected = t_net(torch.from_numpy(x)).detach().numpy()
        np.testing.assert_allclose(m_net(ms.Tensor(x)).asnumpy(), expected, rtol=1e-4, atol=1e-5)
