"""Cells and functions a converted file gets for torch.nn pieces MindSpore 2.10 lacks
or runs only off CPU: triplet and multi-label margin losses, the `_Loss` base class,
ParameterDict, packed sequences (as torch lays them out), `_pair`/`_ntuple`, the fan of
a weight shape and the flat parameter vector. Each takes torch's signature and computes
with MindSpore ops that have CPU kernels."""
from __future__ import annotations

_REDUCE = '''\
        if self.reduction == "mean":
            return loss.mean()
        if self.reduction == "sum":
            return loss.sum()
        return loss
'''

HELPERS = {
    "legacy_reduction": '''\
def legacy_reduction(size_average=None, reduce=None, reduction="mean"):
    """The reduction torch derives from the deprecated size_average / reduce flags."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        return "mean"
    return "sum" if reduce else "none"
''',
    "_Loss": '''\
class _Loss(mindspore.nn.Cell):
    """torch.nn.modules.loss._Loss: a loss Cell that keeps its reduction."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        self.reduction = legacy_reduction(size_average, reduce, reduction)
''',
    "BCELoss": '''\
class BCELoss(mindspore.nn.Cell):
    """torch.nn.BCELoss with a weight: the binary cross entropy (logs clamped at -100, as
    torch's), times the weight, then the reduction (MindSpore 2.10's BCELoss returns
    garbage on CPU for a weight that broadcasts)."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        self.weight = weight
        self.reduction = legacy_reduction(size_average, reduce, reduction)

    def construct(self, input, target):
        loss = -(target * mindspore.ops.clamp(mindspore.ops.log(input), min=-100)
                 + (1 - target) * mindspore.ops.clamp(mindspore.ops.log(1 - input), min=-100))
        if self.weight is not None:
            loss = loss * self.weight
''' + _REDUCE,
    "AlphaDropout": '''\
class AlphaDropout(mindspore.nn.Cell):
    """torch.nn.AlphaDropout: in training, dropped elements take SELU's negative
    saturation and the result is scaled and shifted back to the input's mean and
    variance; in inference, the input as it is."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        self.p = p

    def construct(self, input):
        if not self.training or self.p == 0:
            return input
        alpha = 1.7580993408473766
        a = ((alpha * alpha * self.p + 1) * (1 - self.p)) ** -0.5
        keep = mindspore.ops.bernoulli(mindspore.ops.full(input.shape, 1 - self.p, dtype=input.dtype))
        return input * keep * a + (keep - 1) * alpha * a + alpha * a * self.p
''',
    "RReLU": '''\
class RReLU(mindspore.nn.Cell):
    """torch.nn.RReLU: negative inputs times a slope drawn uniformly from [lower, upper]
    per element in training, times (lower + upper) / 2 in inference (MindSpore's RReLU
    draws in inference too)."""

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower, self.upper = lower, upper

    def construct(self, input):
        if self.training:
            slope = mindspore.ops.uniform(input.shape, mindspore.tensor(self.lower, input.dtype),
                                          mindspore.tensor(self.upper, input.dtype))
        else:
            slope = (self.lower + self.upper) / 2
        return mindspore.ops.where(input >= 0, input, input * slope)
''',
    "LazyNorm": '''\
class LazyNorm(mindspore.nn.Cell):
    """torch's lazy normalisation layers (LazyBatchNorm*d, LazyInstanceNorm*d): the number
    of features is the channel count of the first input, and the affine weight and bias
    and the running statistics are made then."""
    batched_ndim, per_instance = 3, False

    def __init__(self, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.num_features = 0

    def materialize(self, channels):
        self.num_features = channels
        if self.affine:
            self.weight = mindspore.Parameter(mindspore.ops.ones(channels, mindspore.float32), name="weight")
            self.bias = mindspore.Parameter(mindspore.ops.zeros(channels, mindspore.float32), name="bias")
        if self.track_running_stats:
            self.running_mean = mindspore.Parameter(mindspore.ops.zeros(channels, mindspore.float32),
                                                    name="running_mean", requires_grad=False)
            self.running_var = mindspore.Parameter(mindspore.ops.ones(channels, mindspore.float32),
                                                   name="running_var", requires_grad=False)

    def construct(self, input):
        unbatched = input.ndim == self.batched_ndim - 1
        if unbatched:
            input = input.unsqueeze(0)
        if not self.num_features:
            self.materialize(input.shape[1])
        shape = (1, -1) + (1,) * (input.ndim - 2)
        spatial = tuple(range(2, input.ndim))
        axes = spatial if self.per_instance else (0,) + spatial
        if self.training or not self.track_running_stats:
            mean = input.mean(axes, keep_dims=True)
            var = ((input - mean) ** 2).mean(axes, keep_dims=True)
            if self.training and self.track_running_stats:
                count = input.size // input.shape[1] // (input.shape[0] if self.per_instance else 1)
                unbiased = var * count / max(count - 1, 1)
                self.running_mean.set_data((1 - self.momentum) * self.running_mean
                                           + self.momentum * mean.reshape(-1, self.num_features).mean(0))
                self.running_var.set_data((1 - self.momentum) * self.running_var
                                          + self.momentum * unbiased.reshape(-1, self.num_features).mean(0))
        else:
            mean, var = self.running_mean.reshape(shape), self.running_var.reshape(shape)
        out = (input - mean) / mindspore.ops.sqrt(var + self.eps)
        if self.affine:
            out = out * self.weight.reshape(shape) + self.bias.reshape(shape)
        return out.squeeze(0) if unbatched else out
''',
    "Fold": '''\
class Fold(mindspore.nn.Cell):
    """torch.nn.Fold: sums sliding blocks back into a (N, C, H, W) tensor (ops.fold)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size = mindspore.tensor(list(output_size) if isinstance(output_size, (list, tuple))
                                            else [output_size, output_size], mindspore.int32)
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def construct(self, input):
        return mindspore.ops.fold(input, self.output_size, self.kernel_size, self.dilation,
                                  self.padding, self.stride)
''',
    "RNNCell": '''\
class RNNCell(mindspore.nn.RNNCell):
    """mindspore.nn.RNNCell with torch's default hidden state: zeros when none is given."""

    def construct(self, x, hx=None):
        if hx is None:
            hx = mindspore.ops.zeros(x.shape[:-1] + (self.hidden_size,), x.dtype)
        return super().construct(x, hx)
''',
    "GRUCell": '''\
class GRUCell(mindspore.nn.GRUCell):
    """mindspore.nn.GRUCell with torch's default hidden state: zeros when none is given."""

    def construct(self, x, hx=None):
        if hx is None:
            hx = mindspore.ops.zeros(x.shape[:-1] + (self.hidden_size,), x.dtype)
        return super().construct(x, hx)
''',
    "LSTMCell": '''\
class LSTMCell(mindspore.nn.LSTMCell):
    """mindspore.nn.LSTMCell with torch's default (h, c) state: zeros when none is given."""

    def construct(self, x, hx=None):
        if hx is None:
            zeros = mindspore.ops.zeros(x.shape[:-1] + (self.hidden_size,), x.dtype)
            hx = (zeros, zeros)
        return super().construct(x, hx)
''',
    "CircularPad": '''\
class CircularPad(mindspore.nn.Cell):
    """torch's CircularPad1d/2d/3d: wraps the input around its last dimensions (ops.pad,
    mode='circular'); `padding` is torch's tuple (left, right, top, bottom, front, back)."""
    dims = 1

    def __init__(self, padding):
        super().__init__()
        self.padding = tuple(padding) if isinstance(padding, (list, tuple)) else (padding,) * (2 * self.dims)

    def construct(self, input):
        return mindspore.ops.pad(input, self.padding, mode="circular")
''',
    "CircularPad1d": '''\
class CircularPad1d(CircularPad):
    """torch.nn.CircularPad1d: circular padding of the last 1 dimension."""
    dims = 1
''',
    "CircularPad2d": '''\
class CircularPad2d(CircularPad):
    """torch.nn.CircularPad2d: circular padding of the last 2 dimensions."""
    dims = 2
''',
    "CircularPad3d": '''\
class CircularPad3d(CircularPad):
    """torch.nn.CircularPad3d: circular padding of the last 3 dimensions."""
    dims = 3
''',
    "AdaptiveAvgPool1d": '''\
class AdaptiveAvgPool1d(mindspore.nn.Cell):
    """torch.nn.AdaptiveAvgPool1d for any input length (MindSpore's needs a length that
    output_size divides): ops.adaptive_avg_pool2d over a height of 1."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def construct(self, input):
        size = input.shape[-1] if self.output_size is None else self.output_size
        return mindspore.ops.adaptive_avg_pool2d(input.unsqueeze(-2), (1, size)).squeeze(-2)
''',
    "AdaptiveMaxPool1d": '''\
class AdaptiveMaxPool1d(mindspore.nn.Cell):
    """torch.nn.AdaptiveMaxPool1d: any input length, the indices (int64) on request
    (ops.adaptive_max_pool2d over a height of 1)."""

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def construct(self, input):
        size = input.shape[-1] if self.output_size is None else self.output_size
        out, indices = mindspore.ops.adaptive_max_pool2d(input.unsqueeze(-2), (1, size), True)
        out, indices = out.squeeze(-2), indices.squeeze(-2).astype(mindspore.int64)
        return (out, indices) if self.return_indices else out
''',
    "AdaptiveMaxPool3d": '''\
class AdaptiveMaxPool3d(mindspore.nn.Cell):
    """torch.nn.AdaptiveMaxPool3d: None keeps that input size; the indices are int64."""

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def construct(self, input):
        size = self.output_size if isinstance(self.output_size, (list, tuple)) else (self.output_size,) * 3
        size = tuple(input.shape[i - 3] if n is None else n for i, n in enumerate(size))
        out, indices = mindspore.ops.adaptive_max_pool3d(input, size, True)
        return (out, indices.astype(mindspore.int64)) if self.return_indices else out
''',
    "fractional_max_pool": '''\
def fractional_max_pool(input, kernel_size, output_size=None, output_ratio=None,
                        return_indices=False, _random_samples=None, dims=2):
    """torch's fractional max pooling (2-d or 3-d): windows of kernel_size starting at
    pseudo-random, increasing offsets (one random sample per plane and dimension), the
    maximum of each and, on request, its flat index in the plane (int64)."""
    unbatched = input.ndim == dims + 1
    if unbatched:
        input = input.unsqueeze(0)
        if _random_samples is not None and _random_samples.ndim == 2:
            _random_samples = _random_samples.unsqueeze(0)
    n, c, sizes = input.shape[0], input.shape[1], input.shape[2:]
    kernel = tuple(kernel_size) if isinstance(kernel_size, (list, tuple)) else (kernel_size,) * dims
    if output_size is None:
        ratio = tuple(output_ratio) if isinstance(output_ratio, (list, tuple)) else (output_ratio,) * dims
        output_size = tuple(int(s * r) for s, r in zip(sizes, ratio))
    out = tuple(output_size) if isinstance(output_size, (list, tuple)) else (output_size,) * dims
    if _random_samples is None:
        _random_samples = mindspore.ops.rand(n, c, dims)
    samples = _random_samples[:n, :c].astype(mindspore.float64)
    full = (n, c) + out + kernel
    flat = 0
    for d in range(dims):
        # torch reads the samples from the last dimension backwards in 2-d (width first)
        u = samples[:, :, (dims - 1 - d) if dims == 2 else d].reshape(n, c, 1)
        steps = mindspore.ops.arange(out[d]).astype(mindspore.float64)
        alpha = (sizes[d] - kernel[d]) / (out[d] - 1) if out[d] > 1 else 0.0
        starts = mindspore.ops.floor((steps + u) * alpha) - mindspore.ops.floor(u * alpha)
        starts = mindspore.ops.where(steps == out[d] - 1, float(sizes[d] - kernel[d]), starts)
        window = starts.astype(mindspore.int64).unsqueeze(-1) + mindspore.ops.arange(kernel[d]).astype(mindspore.int64)
        shape = [n, c] + [1] * (2 * dims)
        shape[2 + d], shape[2 + dims + d] = out[d], kernel[d]
        flat = flat + window.reshape(shape) * math.prod(sizes[d + 1:])
    flat = mindspore.ops.broadcast_to(flat, full).reshape(n, c, -1)
    values = mindspore.ops.gather_elements(input.reshape(n, c, -1), 2, flat)
    values = values.reshape(n, c, *out, -1)
    result, position = mindspore.ops.max(values, -1)
    indices = mindspore.ops.gather_elements(flat.reshape(n, c, *out, -1), -1, position.unsqueeze(-1)).squeeze(-1)
    if unbatched:
        result, indices = result.squeeze(0), indices.squeeze(0)
    return (result, indices) if return_indices else result
''',
    "fractional_max_pool2d": '''\
def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """torch.nn.functional.fractional_max_pool2d (see fractional_max_pool)."""
    return fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices,
                               _random_samples, 2)
''',
    "FractionalMaxPool2d": '''\
class FractionalMaxPool2d(mindspore.nn.Cell):
    """torch.nn.FractionalMaxPool2d (see fractional_max_pool)."""

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                 _random_samples=None):
        super().__init__()
        self.kernel_size, self.output_size, self.output_ratio = kernel_size, output_size, output_ratio
        self.return_indices, self._random_samples = return_indices, _random_samples

    def construct(self, input):
        return fractional_max_pool(input, self.kernel_size, self.output_size, self.output_ratio,
                                   self.return_indices, self._random_samples, 2)
''',
    "fractional_max_pool3d": '''\
def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """torch.nn.functional.fractional_max_pool3d (see fractional_max_pool)."""
    return fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices,
                               _random_samples, 3)
''',
    "FractionalMaxPool3d": '''\
class FractionalMaxPool3d(mindspore.nn.Cell):
    """torch.nn.FractionalMaxPool3d (see fractional_max_pool)."""

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                 _random_samples=None):
        super().__init__()
        self.kernel_size, self.output_size, self.output_ratio = kernel_size, output_size, output_ratio
        self.return_indices, self._random_samples = return_indices, _random_samples

    def construct(self, input):
        return fractional_max_pool(input, self.kernel_size, self.output_size, self.output_ratio,
                                   self.return_indices, self._random_samples, 3)
''',
    "instance_norm": '''\
def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-05):
    """torch.nn.functional.instance_norm: each (sample, channel) normalised over its own
    positions, the running statistics (when given) updated in place afterwards; or, with
    use_input_stats=False, normalised with the running statistics."""
    shape = (1, -1) + (1,) * (input.ndim - 2)
    axes = tuple(range(2, input.ndim))
    if use_input_stats:
        mean = input.mean(axes, keep_dims=True)
        var = ((input - mean) ** 2).mean(axes, keep_dims=True)
    else:
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    out = (input - mean) / mindspore.ops.sqrt(var + eps)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    if use_input_stats:
        count = input[0, 0].size
        if running_mean is not None:
            running_mean.assign_value(((1 - momentum) * running_mean + momentum * mean.mean(0).reshape(-1)).astype(running_mean.dtype))
        if running_var is not None:
            unbiased = var * count / max(count - 1, 1)
            running_var.assign_value(((1 - momentum) * running_var + momentum * unbiased.mean(0).reshape(-1)).astype(running_var.dtype))
    return out
''',
    "TripletMarginLoss": '''\
class TripletMarginLoss(mindspore.nn.Cell):
    """torch.nn.TripletMarginLoss: max(d(a, p) - d(a, n) + margin, 0) with the p-norm
    distance of the differences plus eps (d(p, n) instead of d(a, n) where smaller, with
    swap), then the reduction (MindSpore's own has no CPU kernel)."""

    def __init__(self, margin=1.0, p=2.0, eps=1e-06, swap=False, size_average=None,
                 reduce=None, reduction="mean"):
        super().__init__()
        self.margin, self.norm, self.eps, self.swap = margin, p, eps, swap
        self.reduction = legacy_reduction(size_average, reduce, reduction)

    def distance(self, x1, x2):
        # the p-norm as a power sum: ops.norm has no float64 CPU kernel
        return ((x1 - x2 + self.eps).abs() ** self.norm).sum(-1) ** (1 / self.norm)

    def construct(self, anchor, positive, negative):
        positive_distance = self.distance(anchor, positive)
        negative_distance = self.distance(anchor, negative)
        if self.swap:
            swapped = self.distance(positive, negative)
            negative_distance = mindspore.ops.minimum(negative_distance, swapped)
        loss = mindspore.ops.relu(positive_distance - negative_distance + self.margin)
''' + _REDUCE,
    "triplet_margin_with_distance_loss": '''\
def triplet_margin_with_distance_loss(anchor, positive, negative, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """torch.nn.functional.triplet_margin_with_distance_loss: max(d(a, p) - d(a, n) +
    margin, 0), d the given distance (default: the pairwise 2-norm), then the reduction."""
    if distance_function is None:
        def distance_function(x1, x2):
            return mindspore.ops.sqrt(((x1 - x2 + 1e-06) ** 2).sum(-1))
    positive_distance = distance_function(anchor, positive)
    negative_distance = distance_function(anchor, negative)
    if swap:
        negative_distance = mindspore.ops.minimum(negative_distance,
                                                  distance_function(positive, negative))
    loss = mindspore.ops.relu(positive_distance - negative_distance + margin)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
''',
    "multilabel_margin_loss": '''\
def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """torch.nn.functional.multilabel_margin_loss: per sample, the sum over its target
    classes j (the entries of target before the first -1) and the other classes i of
    max(0, 1 - (x[j] - x[i])), divided by the number of classes; then the reduction."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    single = input.ndim <= 1
    if single:
        input, target = input.reshape(1, -1), target.reshape(1, -1)
    classes = input.shape[-1]
    valid = mindspore.ops.cumprod((target >= 0).astype(mindspore.float32), 1) > 0
    index = mindspore.ops.where(valid, target, mindspore.ops.zeros_like(target)).astype(mindspore.int64)
    hit = (index.unsqueeze(-1) == mindspore.ops.arange(classes).astype(mindspore.int64)) & valid.unsqueeze(-1)
    is_target = hit.any(1)
    target_scores = mindspore.ops.gather_elements(input, 1, index)
    margins = mindspore.ops.relu(1 - target_scores.unsqueeze(-1) + input.unsqueeze(1))
    chosen = valid.unsqueeze(-1) & ~is_target.unsqueeze(1)
    loss = (margins * chosen.astype(input.dtype)).sum((1, 2)) / classes
    if single:
        loss = loss.reshape(())
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
''',
    "MultiLabelMarginLoss": '''\
class MultiLabelMarginLoss(mindspore.nn.Cell):
    """torch.nn.MultiLabelMarginLoss: multilabel_margin_loss as a Cell (MindSpore's own
    has no CPU kernel)."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        self.reduction = legacy_reduction(size_average, reduce, reduction)

    def construct(self, input, target):
        return multilabel_margin_loss(input, target, reduction=self.reduction)
''',
    "ParameterDict": '''\
class ParameterDict(mindspore.nn.Cell):
    """torch.nn.ParameterDict: Parameters by name, in insertion order, each an attribute
    of the Cell (so its parameters hold them)."""

    def __init__(self, parameters=None):
        super().__init__()
        self._names = []
        if parameters is not None:
            self.update(parameters)

    def update(self, parameters):
        items = parameters.items() if hasattr(parameters, "items") else parameters
        for name, value in items:
            self[name] = value

    def __setitem__(self, name, value):
        if not isinstance(value, mindspore.Parameter):
            value = mindspore.Parameter(value, name=name)
        if name not in self._names:
            self._names.append(name)
        setattr(self, name, value)

    def __getitem__(self, name):
        return getattr(self, name)

    def __delitem__(self, name):
        self._names.remove(name)
        delattr(self, name)

    def pop(self, name):
        value = self[name]
        del self[name]
        return value

    def __len__(self):
        return len(self._names)

    def __iter__(self):
        return iter(list(self._names))

    def __contains__(self, name):
        return name in self._names

    def keys(self):
        return list(self._names)

    def values(self):
        return [self[name] for name in self._names]

    def items(self):
        return [(name, self[name]) for name in self._names]
''',
    "_ntuple": '''\
def _ntuple(n, name="parse"):
    """torch.nn.modules.utils._ntuple: a function making a tuple of n of a single value
    (an iterable is made a tuple as it is)."""
    def parse(x):
        if isinstance(x, collections.abc.Iterable):
            return tuple(x)
        return tuple(itertools.repeat(x, n))
    parse.__name__ = name
    return parse
''',
    "_pair": '''\
def _pair(x):
    """torch.nn.modules.utils._pair: (x, x), an iterable as a tuple."""
    return _ntuple(2, "_pair")(x)
''',
    "_calculate_fan_in_and_fan_out": '''\
def _calculate_fan_in_and_fan_out(tensor):
    """torch.nn.init._calculate_fan_in_and_fan_out: (in features x receptive field,
    out features x receptive field) of a weight of 2 or more dimensions."""
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer "
                         "than 2 dimensions")
    receptive_field = 1
    for size in tensor.shape[2:]:
        receptive_field *= size
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field
''',
    "parameters_to_vector": '''\
def parameters_to_vector(parameters):
    """torch.nn.utils.parameters_to_vector: the parameters flattened and concatenated."""
    return mindspore.ops.cat([p.view(-1) for p in parameters])
''',
    "vector_to_parameters": '''\
def vector_to_parameters(vec, parameters):
    """torch.nn.utils.vector_to_parameters: each parameter takes its slice of vec."""
    start = 0
    for p in parameters:
        size = p.numel()
        p.set_data(vec[start:start + size].view(p.shape).astype(p.dtype))
        start += size
''',
    "PackedSequence": '''\
class PackedSequence(collections.namedtuple(
        "PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"],
        defaults=(None, None))):
    """torch.nn.utils.rnn.PackedSequence: the valid time steps of a batch, step by step
    (longest sequence first), and the batch size of each step."""
''',
    "pack_padded_sequence": '''\
def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """torch.nn.utils.rnn.pack_padded_sequence: the valid steps of a padded batch laid
    out as torch's PackedSequence (MindSpore's RNN layers take the padded batch and
    seq_length instead)."""
    if isinstance(lengths, mindspore.Tensor):
        lengths = lengths.asnumpy().tolist()
    lengths = [int(n) for n in lengths]
    if batch_first:
        input = input.swapaxes(0, 1)
    if enforce_sorted:
        order, sorted_indices, unsorted_indices = list(range(len(lengths))), None, None
    else:
        order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
        sorted_indices = mindspore.tensor(order, mindspore.int64)
        unsorted_indices = mindspore.ops.argsort(sorted_indices).astype(mindspore.int64)
        input = input[:, sorted_indices]
    ordered = [lengths[i] for i in order]
    batch_sizes = [sum(1 for n in ordered if n > step) for step in range(ordered[0])]
    data = mindspore.ops.cat([input[step, :size] for step, size in enumerate(batch_sizes)])
    return PackedSequence(data, mindspore.tensor(batch_sizes, mindspore.int64),
                          sorted_indices, unsorted_indices)
''',
    "pack_sequence": '''\
def pack_sequence(sequences, enforce_sorted=True):
    """torch.nn.utils.rnn.pack_sequence: a list of sequences as a PackedSequence."""
    lengths = [len(s) for s in sequences]
    longest = max(lengths)
    padded = mindspore.ops.stack([
        mindspore.ops.cat([s, mindspore.ops.zeros((longest - len(s),) + tuple(s.shape[1:]), s.dtype)])
        if len(s) < longest else s for s in sequences], 1)
    return pack_padded_sequence(padded, lengths, enforce_sorted=enforce_sorted)
''',
    "pad_packed_sequence": '''\
def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """torch.nn.utils.rnn.pad_packed_sequence: the padded batch of a PackedSequence and
    the length of each sequence (int64), in the order the sequences were packed in."""
    data, batch_sizes, sorted_indices, unsorted_indices = sequence
    sizes = [int(n) for n in batch_sizes.asnumpy().tolist()]
    steps = len(sizes) if total_length is None else total_length
    rows, start = [], 0
    for step in range(steps):
        size = sizes[step] if step < len(sizes) else 0
        row = data[start:start + size]
        start += size
        if size < sizes[0]:
            fill = mindspore.ops.full((sizes[0] - size,) + tuple(data.shape[1:]),
                                      padding_value, dtype=data.dtype)
            row = mindspore.ops.cat([row, fill]) if size else fill
        rows.append(row)
    padded = mindspore.ops.stack(rows)
    lengths = mindspore.tensor([sum(1 for n in sizes if n > i) for i in range(sizes[0])],
                               mindspore.int64)
    if unsorted_indices is not None:
        padded, lengths = padded[:, unsorted_indices], lengths[unsorted_indices]
    if batch_first:
        padded = padded.swapaxes(0, 1)
    return padded, lengths
''',
    "unpad_sequence": '''\
def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """torch.nn.utils.rnn.unpad_sequence: the list of sequences, each cut to its length."""
    if not batch_first:
        padded_sequences = padded_sequences.swapaxes(0, 1)
    if isinstance(lengths, mindspore.Tensor):
        lengths = lengths.asnumpy().tolist()
    return [seq[:int(n)] for seq, n in zip(padded_sequences, lengths)]
''',
    "unpack_sequence": '''\
def unpack_sequence(packed_sequences):
    """torch.nn.utils.rnn.unpack_sequence: the list of sequences of a PackedSequence."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
''',
}


def _lazy_norm(kind: str, dims: int) -> str:
    """A lazy norm layer: LazyNorm with the rank and defaults of torch's class."""
    batch = kind == "Batch"
    return f'''\
class Lazy{kind}Norm{dims}d(LazyNorm):
    """torch.nn.Lazy{kind}Norm{dims}d: {kind.lower()} normalisation of {dims + 2}-D input whose number of features is read from the first input."""
    batched_ndim, per_instance = {dims + 2}, {not batch}

    def __init__(self, eps=1e-05, momentum=0.1, affine={batch}, track_running_stats={batch},
                 device=None, dtype=None):
        super().__init__(eps, momentum, affine, track_running_stats)
'''


# the six lazy norm layers differ only in rank and defaults
HELPERS.update({f"Lazy{kind}Norm{dims}d": _lazy_norm(kind, dims)
                for kind in ("Batch", "Instance") for dims in (1, 2, 3)})


IMPORTS = {
    "fractional_max_pool": ("import math",),
    "_ntuple": ("import collections.abc", "import itertools"),
    "PackedSequence": ("import collections",),
}

NEEDS = {
    "_Loss": ("legacy_reduction",),
    "fractional_max_pool2d": ("fractional_max_pool",),
    "fractional_max_pool3d": ("fractional_max_pool",),
    "FractionalMaxPool2d": ("fractional_max_pool",),
    "FractionalMaxPool3d": ("fractional_max_pool",),
    "CircularPad1d": ("CircularPad",),
    "CircularPad2d": ("CircularPad",),
    "CircularPad3d": ("CircularPad",),
    "LazyBatchNorm1d": ("LazyNorm",),
    "LazyBatchNorm2d": ("LazyNorm",),
    "LazyBatchNorm3d": ("LazyNorm",),
    "LazyInstanceNorm1d": ("LazyNorm",),
    "LazyInstanceNorm2d": ("LazyNorm",),
    "LazyInstanceNorm3d": ("LazyNorm",),
    "BCELoss": ("legacy_reduction",),
    "TripletMarginLoss": ("legacy_reduction",),
    "multilabel_margin_loss": ("legacy_reduction",),
    "MultiLabelMarginLoss": ("multilabel_margin_loss",),
    "_pair": ("_ntuple",),
    "pack_padded_sequence": ("PackedSequence",),
    "pack_sequence": ("pack_padded_sequence",),
    "unpack_sequence": ("pad_packed_sequence", "unpad_sequence"),
}
