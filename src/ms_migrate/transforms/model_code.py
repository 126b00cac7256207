"""torchvision.models architectures as MindSpore Cells, written into a converted file
that builds one (transforms/models.py).

One class per family, built from a configuration as torchvision builds it, with
torchvision's attribute names (`features`, `classifier`, `avgpool`; `conv1`, `bn1`,
`layer1`..`layer4`, `fc`, `downsample.0`), so code that slices `.features`, replaces
`.fc` or walks the children works, and torchvision's weights, converted with
`ms-migrate convert-weights`, load by name. A constructor per architecture
(`resnet18`) takes torchvision's arguments; `pretrained=True` loads `<arch>.ckpt`.
Names spelled `mindspore.nn.X` get the file's import style (helper_code.py).
"""
from __future__ import annotations

_LOAD = '''\
def pretrained_weights(arch, pretrained, model):
    """`model` as torchvision returns it: in training mode, as a torch Module starts,
    with torchvision's pretrained weights when asked. MindSpore cannot read torch's
    files: they are `<arch>.ckpt`, made once with `ms-migrate convert-weights
    <arch>.pth -o <arch>.ckpt`."""
    if pretrained:
        mindspore.load_param_into_net(
            model, mindspore.load_checkpoint(arch + ".ckpt"), strict_load=True)
    model.set_train()
    return model
'''

_VGG = '''\
class VGG(mindspore.nn.Cell):
    """torchvision.models.VGG: 3x3 convolutions (numbers in `cfg`) and max pools ("M")
    in `features`, then three fully connected layers in `classifier`."""

    def __init__(self, cfg, batch_norm=False, num_classes=1000, init_weights=True,
                 dropout=0.5):
        super().__init__()
        layers, channels = [], 3
        for v in cfg:
            if v == "M":
                layers.append(mindspore.nn.MaxPool2d(kernel_size=2, stride=2))
                continue
            layers.append(mindspore.nn.Conv2d(
                channels, v, 3, pad_mode="pad", padding=1, has_bias=True))
            if batch_norm:
                layers.append(mindspore.nn.BatchNorm2d(v))
            layers.append(mindspore.nn.ReLU())
            channels = v
        self.features = mindspore.nn.SequentialCell(layers)
        self.avgpool = mindspore.nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = mindspore.nn.SequentialCell(
            mindspore.nn.Dense(512 * 7 * 7, 4096), mindspore.nn.ReLU(),
            mindspore.nn.Dropout(p=dropout),
            mindspore.nn.Dense(4096, 4096), mindspore.nn.ReLU(),
            mindspore.nn.Dropout(p=dropout),
            mindspore.nn.Dense(4096, num_classes))

    def construct(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(mindspore.ops.flatten(x, start_dim=1))
'''

_VGG_CFGS = {
    11: '[64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]',
    13: '[64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]',
    16: '[64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",\n'
        '           512, 512, 512, "M"]',
    19: '[64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",\n'
        '           512, 512, 512, 512, "M"]',
}

_BASIC_BLOCK = '''\
class BasicBlock(mindspore.nn.Cell):
    """torchvision.models.resnet.BasicBlock: two 3x3 convolutions and the shortcut."""
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1,
                 base_width=64, dilation=1, norm_layer=None):
        super().__init__()
        norm_layer = norm_layer or mindspore.nn.BatchNorm2d
        self.conv1 = mindspore.nn.Conv2d(
            inplanes, planes, 3, stride, pad_mode="pad", padding=1, has_bias=False)
        self.bn1 = norm_layer(planes)
        self.relu = mindspore.nn.ReLU()
        self.conv2 = mindspore.nn.Conv2d(
            planes, planes, 3, pad_mode="pad", padding=1, has_bias=False)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample

    def construct(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)
'''

_BOTTLENECK = '''\
class Bottleneck(mindspore.nn.Cell):
    """torchvision.models.resnet.Bottleneck: 1x1, 3x3 (the stride) and 1x1 convolutions
    and the shortcut."""
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1,
                 base_width=64, dilation=1, norm_layer=None):
        super().__init__()
        norm_layer = norm_layer or mindspore.nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = mindspore.nn.Conv2d(inplanes, width, 1, has_bias=False)
        self.bn1 = norm_layer(width)
        self.conv2 = mindspore.nn.Conv2d(
            width, width, 3, stride, pad_mode="pad", padding=dilation, dilation=dilation,
            group=groups, has_bias=False)
        self.bn2 = norm_layer(width)
        self.conv3 = mindspore.nn.Conv2d(width, planes * self.expansion, 1, has_bias=False)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = mindspore.nn.ReLU()
        self.downsample = downsample

    def construct(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + identity)
'''

_RESNET = '''\
class ResNet(mindspore.nn.Cell):
    """torchvision.models.ResNet: a 7x7 stem, four stages of `block`s (`layers` of each)
    and a fully connected layer `fc`."""

    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False, groups=1,
                 width_per_group=64, replace_stride_with_dilation=None, norm_layer=None):
        super().__init__()
        self.norm_layer = norm_layer or mindspore.nn.BatchNorm2d
        self.inplanes, self.dilation = 64, 1
        self.groups, self.base_width = groups, width_per_group
        dilate = replace_stride_with_dilation or [False, False, False]
        self.conv1 = mindspore.nn.Conv2d(
            3, 64, 7, 2, pad_mode="pad", padding=3, has_bias=False)
        self.bn1 = self.norm_layer(64)
        self.relu = mindspore.nn.ReLU()
        self.maxpool = mindspore.nn.MaxPool2d(
            kernel_size=3, stride=2, pad_mode="pad", padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], 2, dilate[0])
        self.layer3 = self._make_layer(block, 256, layers[2], 2, dilate[1])
        self.layer4 = self._make_layer(block, 512, layers[3], 2, dilate[2])
        self.avgpool = mindspore.nn.AdaptiveAvgPool2d((1, 1))
        self.fc = mindspore.nn.Dense(512 * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        downsample, previous_dilation = None, self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = mindspore.nn.SequentialCell(
                mindspore.nn.Conv2d(
                    self.inplanes, planes * block.expansion, 1, stride, has_bias=False),
                self.norm_layer(planes * block.expansion))
        layers = [block(
            self.inplanes, planes, stride, downsample, self.groups, self.base_width,
            previous_dilation, self.norm_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(
                self.inplanes, planes, groups=self.groups, base_width=self.base_width,
                dilation=self.dilation, norm_layer=self.norm_layer))
        return mindspore.nn.SequentialCell(layers)

    def construct(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(mindspore.ops.flatten(self.avgpool(x), start_dim=1))
'''

_RESNETS = {"resnet18": ("BasicBlock", "[2, 2, 2, 2]", ""),
            "resnet34": ("BasicBlock", "[3, 4, 6, 3]", ""),
            "resnet50": ("Bottleneck", "[3, 4, 6, 3]", ""),
            "resnet101": ("Bottleneck", "[3, 4, 23, 3]", ""),
            "resnet152": ("Bottleneck", "[3, 8, 36, 3]", ""),
            "resnext50_32x4d": ("Bottleneck", "[3, 4, 6, 3]",
                                "groups=32, width_per_group=4, "),
            "resnext101_32x8d": ("Bottleneck", "[3, 4, 23, 3]",
                                 "groups=32, width_per_group=8, "),
            "wide_resnet50_2": ("Bottleneck", "[3, 4, 6, 3]", "width_per_group=128, "),
            "wide_resnet101_2": ("Bottleneck", "[3, 4, 23, 3]", "width_per_group=128, ")}

_FIRE = '''\
class Fire(mindspore.nn.Cell):
    """torchvision.models.squeezenet.Fire: a 1x1 squeeze, then 1x1 and 3x3 expansions
    side by side."""

    def __init__(self, inplanes, squeeze_planes, expand1x1_planes, expand3x3_planes):
        super().__init__()
        self.squeeze = mindspore.nn.Conv2d(inplanes, squeeze_planes, 1, has_bias=True)
        self.squeeze_activation = mindspore.nn.ReLU()
        self.expand1x1 = mindspore.nn.Conv2d(
            squeeze_planes, expand1x1_planes, 1, has_bias=True)
        self.expand1x1_activation = mindspore.nn.ReLU()
        self.expand3x3 = mindspore.nn.Conv2d(
            squeeze_planes, expand3x3_planes, 3, pad_mode="pad", padding=1, has_bias=True)
        self.expand3x3_activation = mindspore.nn.ReLU()

    def construct(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        return mindspore.ops.cat([
            self.expand1x1_activation(self.expand1x1(x)),
            self.expand3x3_activation(self.expand3x3(x))], 1)
'''

_SQUEEZENET = '''\
class SqueezeNet(mindspore.nn.Cell):
    """torchvision.models.SqueezeNet, version "1_0" or "1_1": Fire modules between max
    pools in `features`; a 1x1 convolution to the classes and a mean in `classifier`."""

    def __init__(self, version="1_0", num_classes=1000, dropout=0.5):
        super().__init__()
        self.num_classes = num_classes

        def pool():
            return mindspore.nn.MaxPool2d(
                kernel_size=3, stride=2, pad_mode="pad", ceil_mode=True)
        if version == "1_0":
            self.features = mindspore.nn.SequentialCell(
                mindspore.nn.Conv2d(3, 96, 7, 2, has_bias=True, pad_mode="valid"),
                mindspore.nn.ReLU(), pool(),
                Fire(96, 16, 64, 64), Fire(128, 16, 64, 64), Fire(128, 32, 128, 128), pool(),
                Fire(256, 32, 128, 128), Fire(256, 48, 192, 192), Fire(384, 48, 192, 192),
                Fire(384, 64, 256, 256), pool(), Fire(512, 64, 256, 256))
        else:
            self.features = mindspore.nn.SequentialCell(
                mindspore.nn.Conv2d(3, 64, 3, 2, has_bias=True, pad_mode="valid"),
                mindspore.nn.ReLU(), pool(),
                Fire(64, 16, 64, 64), Fire(128, 16, 64, 64), pool(),
                Fire(128, 32, 128, 128), Fire(256, 32, 128, 128), pool(),
                Fire(256, 48, 192, 192), Fire(384, 48, 192, 192), Fire(384, 64, 256, 256),
                Fire(512, 64, 256, 256))
        self.classifier = mindspore.nn.SequentialCell(
            mindspore.nn.Dropout(p=dropout),
            mindspore.nn.Conv2d(512, num_classes, 1, has_bias=True),
            mindspore.nn.ReLU(), mindspore.nn.AdaptiveAvgPool2d((1, 1)))

    def construct(self, x):
        return mindspore.ops.flatten(self.classifier(self.features(x)), start_dim=1)
'''

_ALEXNET = '''\
class AlexNet(mindspore.nn.Cell):
    """torchvision.models.AlexNet: five convolutions in `features`, three fully
    connected layers in `classifier`."""

    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = mindspore.nn.SequentialCell(
            mindspore.nn.Conv2d(3, 64, 11, 4, pad_mode="pad", padding=2, has_bias=True),
            mindspore.nn.ReLU(), mindspore.nn.MaxPool2d(kernel_size=3, stride=2),
            mindspore.nn.Conv2d(64, 192, 5, pad_mode="pad", padding=2, has_bias=True),
            mindspore.nn.ReLU(), mindspore.nn.MaxPool2d(kernel_size=3, stride=2),
            mindspore.nn.Conv2d(192, 384, 3, pad_mode="pad", padding=1, has_bias=True),
            mindspore.nn.ReLU(),
            mindspore.nn.Conv2d(384, 256, 3, pad_mode="pad", padding=1, has_bias=True),
            mindspore.nn.ReLU(),
            mindspore.nn.Conv2d(256, 256, 3, pad_mode="pad", padding=1, has_bias=True),
            mindspore.nn.ReLU(), mindspore.nn.MaxPool2d(kernel_size=3, stride=2))
        self.avgpool = mindspore.nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = mindspore.nn.SequentialCell(
            mindspore.nn.Dropout(p=dropout), mindspore.nn.Dense(256 * 6 * 6, 4096),
            mindspore.nn.ReLU(), mindspore.nn.Dropout(p=dropout),
            mindspore.nn.Dense(4096, 4096), mindspore.nn.ReLU(),
            mindspore.nn.Dense(4096, num_classes))

    def construct(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(mindspore.ops.flatten(x, start_dim=1))
'''


def _constructor(arch: str, build: str, setup: str = "") -> str:
    call = f'"{arch}", pretrained, {build}'
    if len(call) > 60:  # the model's arguments on the next line
        head, _, rest = build.partition("(")
        call = f'"{arch}", pretrained, {head}(\n        {rest}'
    return (f'def {arch}(pretrained=False, **kwargs):\n'
            f'    """torchvision.models.{arch}; pretrained=True loads {arch}.ckpt."""\n'
            f'{setup}'
            f'    return pretrained_weights({call})\n')


# helper name -> (code, the helpers it uses)
MODEL_HELPERS = {"pretrained_weights": (_LOAD, ()), "VGG": (_VGG, ()),
                 "BasicBlock": (_BASIC_BLOCK, ()), "Bottleneck": (_BOTTLENECK, ()),
                 "ResNet": (_RESNET, ()), "Fire": (_FIRE, ()),
                 "SqueezeNet": (_SQUEEZENET, ("Fire",)), "AlexNet": (_ALEXNET, ())}
for _depth, _cfg in _VGG_CFGS.items():
    for _bn in ("", "_bn"):
        _arch = f"vgg{_depth}{_bn}"
        MODEL_HELPERS[_arch] = (_constructor(
            _arch, f"VGG(cfg, batch_norm={bool(_bn)}, **kwargs)", f"    cfg = {_cfg}\n"),
            ("pretrained_weights", "VGG"))
for _arch, (_block, _layers, _extra) in _RESNETS.items():
    MODEL_HELPERS[_arch] = (_constructor(
        _arch, f"ResNet({_block}, {_layers}, {_extra}**kwargs)"),
        ("pretrained_weights", _block, "ResNet"))
for _version in ("1_0", "1_1"):
    MODEL_HELPERS[f"squeezenet{_version}"] = (_constructor(
        f"squeezenet{_version}", f'SqueezeNet("{_version}", **kwargs)'),
        ("pretrained_weights", "SqueezeNet"))
MODEL_HELPERS["alexnet"] = (_constructor("alexnet", "AlexNet(**kwargs)"),
                            ("pretrained_weights", "AlexNet"))
# every constructor by name: `models.__dict__[arch]`, `getattr(models, name)`
CONSTRUCTORS = [name for name in MODEL_HELPERS
                if name.islower() and name != "pretrained_weights"]
MODEL_HELPERS["TORCHVISION_MODELS"] = (
    "TORCHVISION_MODELS = {\n"
    + "".join(f'    "{name}": {name},\n' for name in CONSTRUCTORS) + "}\n",
    tuple(CONSTRUCTORS))
HELPERS = {name: code for name, (code, _uses) in MODEL_HELPERS.items()}
NEEDS = {name: tuple(uses) for name, (_code, uses) in MODEL_HELPERS.items()}
