"""torchvision.models constructors: the MindSpore architecture written into the
converted file computes what torchvision's computes from the same weights, under the
same parameter names, and user code around it (a slice of `.features`, a new `.fc`,
the children) converts and trains.

torchvision cannot be installed beside this torch everywhere: where it is missing, the
torch side is a short self-written copy of its architectures below (same layers, same
order, same names), installed as `torchvision.models` for the torch programs.
"""
import sys
import textwrap
import types

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")
nn = torch.nn

from ms_migrate import convert_source  # noqa: E402
from ms_migrate.runtime.equivalence import copy_torch_weights  # noqa: E402
from ms_migrate.runtime.weights import torch_state_to_mindspore  # noqa: E402


# --- torch side: torchvision's architectures ---------------------------------------
class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, width=64):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, width=64):
        super().__init__()
        mid = int(planes * (width / 64.0)) * groups
        self.conv1 = nn.Conv2d(inplanes, mid, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride, 1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + identity)


class ResNet(nn.Module):
    def __init__(self, block, layers, num_classes=1000, groups=1, width_per_group=64):
        super().__init__()
        self.inplanes, self.groups, self.width = 64, groups, width_per_group
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(block, 64, layers[0], 1)
        self.layer2 = self._make_layer(block, 128, layers[1], 2)
        self.layer3 = self._make_layer(block, 256, layers[2], 2)
        self.layer4 = self._make_layer(block, 512, layers[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.width)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes, 1, None, self.groups, self.width)
                   for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


VGG_CFGS = {11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
            16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
                 512, 512, 512, "M"]}


class VGG(nn.Module):
    def __init__(self, cfg, batch_norm, num_classes=1000):
        super().__init__()
        layers, channels = [], 3
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
                continue
            layers.append(nn.Conv2d(channels, v, 3, padding=1))
            layers += [nn.BatchNorm2d(v)] * batch_norm + [nn.ReLU(inplace=True)]
            channels = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(), nn.Linear(4096, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class Fire(nn.Module):
    def __init__(self, inplanes, squeeze, e1, e3):
        super().__init__()
        self.squeeze = nn.Conv2d(inplanes, squeeze, 1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze, e1, 1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze, e3, 3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        return torch.cat([self.expand1x1_activation(self.expand1x1(x)),
                          self.expand3x3_activation(self.expand3x3(x))], 1)


class SqueezeNet(nn.Module):
    def __init__(self, version, num_classes=1000):
        super().__init__()
        pool = lambda: nn.MaxPool2d(3, 2, ceil_mode=True)  # noqa: E731
        if version == "1_0":
            self.features = nn.Sequential(
                nn.Conv2d(3, 96, 7, 2), nn.ReLU(True), pool(), Fire(96, 16, 64, 64),
                Fire(128, 16, 64, 64), Fire(128, 32, 128, 128), pool(),
                Fire(256, 32, 128, 128), Fire(256, 48, 192, 192), Fire(384, 48, 192, 192),
                Fire(384, 64, 256, 256), pool(), Fire(512, 64, 256, 256))
        else:
            self.features = nn.Sequential(
                nn.Conv2d(3, 64, 3, 2), nn.ReLU(True), pool(), Fire(64, 16, 64, 64),
                Fire(128, 16, 64, 64), pool(), Fire(128, 32, 128, 128),
                Fire(256, 32, 128, 128), pool(), Fire(256, 48, 192, 192),
                Fire(384, 48, 192, 192), Fire(384, 64, 256, 256), Fire(512, 64, 256, 256))
        self.classifier = nn.Sequential(nn.Dropout(0.5), nn.Conv2d(512, num_classes, 1),
                                        nn.ReLU(True), nn.AdaptiveAvgPool2d((1, 1)))

    def forward(self, x):
        return torch.flatten(self.classifier(self.features(x)), 1)


class AlexNet(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(True), nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(True), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(True),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(True),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(True), nn.MaxPool2d(3, 2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(True), nn.Dropout(),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Linear(4096, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def _reference_models():
    def arch(build):
        def constructor(pretrained=False, weights=None, progress=True, **kwargs):
            assert not pretrained and weights is None  # nothing is downloaded in tests
            return build(**kwargs)
        return constructor
    return {
        "resnet18": arch(lambda **k: ResNet(BasicBlock, [2, 2, 2, 2], **k)),
        "resnet50": arch(lambda **k: ResNet(Bottleneck, [3, 4, 6, 3], **k)),
        "resnext50_32x4d": arch(lambda **k: ResNet(Bottleneck, [3, 4, 6, 3], groups=32,
                                                   width_per_group=4, **k)),
        "vgg11_bn": arch(lambda **k: VGG(VGG_CFGS[11], True, **k)),
        "vgg16": arch(lambda **k: VGG(VGG_CFGS[16], False, **k)),
        "squeezenet1_0": arch(lambda **k: SqueezeNet("1_0", **k)),
        "squeezenet1_1": arch(lambda **k: SqueezeNet("1_1", **k)),
        "alexnet": arch(lambda **k: AlexNet(**k)),
    }


@pytest.fixture(scope="module")
def tv_models():
    """torchvision.models, the real one where it imports, else the copy above."""
    try:
        import torchvision.models as real
        yield real
        return
    except Exception:
        pass
    saved = {name: sys.modules.get(name) for name in ("torchvision", "torchvision.models")}
    package = types.ModuleType("torchvision")
    models = types.ModuleType("torchvision.models")
    models.__dict__.update(_reference_models())
    package.models = models
    sys.modules.update({"torchvision": package, "torchvision.models": models})
    yield models
    for name, module in saved.items():
        if module is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = module


def convert(source: str):
    source = textwrap.dedent(source)
    result = convert_source(source, "prog.py")
    assert not any(line.startswith(("import torch", "from torch"))
                   for line in result.code.splitlines())  # no torch import left
    assert convert_source(result.code, "prog.py").code == result.code  # idempotent
    t_ns, m_ns = {"__name__": "prog_torch"}, {"__name__": "prog_ms"}
    exec(compile(source, "<torch>", "exec"), t_ns)
    exec(compile(result.code, "<ms>", "exec"), m_ns)
    return result, t_ns, m_ns


def _compare(t_model, m_model, size, atol=1e-4):
    torch_names = set(torch_state_to_mindspore(t_model))
    cell_names = {name for name, _ in m_model.parameters_and_names()}
    assert torch_names == cell_names
    copy_torch_weights(t_model, m_model)
    t_model.eval()
    m_model.set_train(False)
    x = np.random.RandomState(0).randn(1, 3, size, size).astype(np.float32)
    with torch.no_grad():
        expected = t_model(torch.tensor(x)).numpy()
    actual = m_model(mindspore.Tensor(x)).asnumpy()
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, atol=atol,
                               rtol=1e-4 * max(1.0, float(np.abs(expected).max())))


@pytest.mark.parametrize("arch,size", [
    ("resnet18", 64), ("resnet50", 64), ("resnext50_32x4d", 64), ("vgg11_bn", 32),
    ("vgg16", 32), ("squeezenet1_0", 64), ("squeezenet1_1", 64), ("alexnet", 64)])
def test_architecture_computes_torchvisions_values(tv_models, arch, size):
    result, t, m = convert(f"""\
        import torchvision.models as models

        def build():
            return models.{arch}(num_classes=10)
        """)
    assert f"def {arch}(pretrained=False, **kwargs):" in result.code
    torch.manual_seed(0)
    t_model, m_model = t["build"](), m["build"]()
    assert m_model.training and t_model.training  # a torch Module starts training
    _compare(t_model, m_model, size)


def test_only_the_families_used_are_written():
    code = convert_source(textwrap.dedent("""\
        from torchvision.models import vgg19, resnet18

        a = vgg19(pretrained=False)
        b = resnet18(weights=None, progress=False)
        """), "prog.py").code
    assert "class VGG(" in code and "class ResNet(" in code and "class BasicBlock(" in code
    assert "class Bottleneck(" not in code and "class SqueezeNet(" not in code
    assert "a = vgg19()" in code and "b = resnet18()" in code


def test_pretrained_weights_load_from_the_converted_checkpoint(tv_models, tmp_path,
                                                               monkeypatch):
    """`pretrained=True` and `weights=`: the model loads <arch>.ckpt; the note names
    the command that makes it; without the file the model is not built silently."""
    source = textwrap.dedent("""\
        import torchvision

        def build():
            return torchvision.models.squeezenet1_1(
                weights=torchvision.models.SqueezeNet1_1_Weights.IMAGENET1K_V1)
        """)
    result = convert_source(source, "prog.py")
    assert "squeezenet1_1(pretrained=True)" in result.code
    assert "ms-migrate convert-weights squeezenet1_1.pth -o squeezenet1_1.ckpt" in result.code
    m_ns = {"__name__": "prog_ms"}
    exec(compile(result.code, "<ms>", "exec"), m_ns)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Exception):
        m_ns["build"]()
    torch.manual_seed(0)
    reference = tv_models.squeezenet1_1()
    # what `ms-migrate convert-weights squeezenet1_1.pth -o squeezenet1_1.ckpt` writes
    from ms_migrate.runtime.weightfiles import write_mindspore
    write_mindspore(tmp_path / "squeezenet1_1.ckpt", torch_state_to_mindspore(reference))
    model = m_ns["build"]()
    loaded = dict(model.parameters_and_names())
    for name, value in reference.state_dict().items():
        if name.endswith("weight"):
            np.testing.assert_array_equal(loaded[name].asnumpy(), value.numpy())


TRAIN = """\
    import torch
    import torch.nn as nn
    import torchvision.models as models

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            vgg = models.vgg11_bn()
            self.stem = nn.Sequential(*list(vgg.features.children())[:4])
            resnet = models.resnet18(weights=None)
            resnet.fc = nn.Linear(resnet.fc.in_features, 3)
            self.trunk = nn.Sequential(*list(resnet.children())[4:-1])
            self.head = resnet.fc

        def forward(self, x):
            for name, layer in self.stem._modules.items():
                x = layer(x)
            x = self.trunk(x)
            return self.head(x.reshape(x.size(0), -1))

    def train_step(model, optimizer, x, y):
        model.train()
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()
    """


def test_sliced_features_and_new_fc_train_a_step(tv_models):
    result, t, m = convert(TRAIN)
    torch.manual_seed(0)
    t_model, m_model = t["Net"](), m["Net"]()
    copy_torch_weights(t_model, m_model)
    x = np.random.RandomState(1).randn(2, 3, 32, 32).astype(np.float32)
    y = np.array([0, 2])
    t_opt = torch.optim.SGD(t_model.parameters(), lr=0.1)
    m_opt = mindspore.nn.SGD(m_model.trainable_params(), learning_rate=0.1)
    t_loss = t["train_step"](t_model, t_opt, torch.tensor(x), torch.tensor(y))
    m_loss = m["train_step"](m_model, m_opt, mindspore.Tensor(x), mindspore.Tensor(y))
    assert abs(t_loss - m_loss) < 1e-4
    cells = dict(m_model.parameters_and_names())
    t_state = torch_state_to_mindspore(t_model)
    for name in ("head.weight", "stem.0.weight", "trunk.0.0.conv1.weight"):
        np.testing.assert_allclose(cells[name].asnumpy(), t_state[name], atol=1e-4)


def test_architecture_chosen_by_name(tv_models):
    """`models.__dict__[arch]` and `getattr(models, name)`: a dict of the constructors
    written into the file, which the name listing of imagenet/main.py reads too."""
    result, t, m = convert("""\
        import torchvision.models as models

        model_names = sorted(name for name in models.__dict__
            if name.islower() and not name.startswith("__")
            and callable(models.__dict__[name]))

        def build(arch):
            return models.__dict__[arch](num_classes=10)

        def build_by_getattr(name):
            return getattr(models, name)(num_classes=10)
        """)
    assert "TORCHVISION_MODELS[arch](num_classes=10)" in result.code
    assert "TORCHVISION_MODELS[name](num_classes=10)" in result.code
    assert {"resnet18", "resnet152", "vgg19_bn", "squeezenet1_1", "alexnet"} <= set(
        m["model_names"])
    assert set(m["model_names"]) <= {n for n in dir(tv_models) if n.islower()} | {
        "resnet34", "resnet101", "resnet152", "resnext101_32x8d", "wide_resnet50_2",
        "wide_resnet101_2", "vgg11", "vgg13", "vgg13_bn", "vgg16_bn", "vgg19", "vgg19_bn"}
    torch.manual_seed(0)
    _compare(t["build"]("squeezenet1_1"), m["build"]("squeezenet1_1"), 64)
    _compare(t["build_by_getattr"]("resnet18"), m["build_by_getattr"]("resnet18"), 64)
