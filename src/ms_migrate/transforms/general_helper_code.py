"""Helpers of many kinds that no family module holds (helper_code.py registers them):
embedding rows, initialisers, summary writers and the like."""

HELPERS = {
    "embedding_rows": '''\
def embedding_rows(input, weight, max_norm=None, norm_type=2.0, scale_grad_by_freq=False):
    """torch.nn.functional.embedding: the rows of weight looked up; with max_norm, a row
    whose norm exceeds it scaled down to it (by max_norm / (norm + 1e-7), as torch; the
    gradient reaches weight unscaled, as torch's renormalisation is not recorded)."""
    if scale_grad_by_freq:
        raise NotImplementedError("scale_grad_by_freq: MindSpore does not scale gradients "
                                  "by frequency")
    rows = mindspore.ops.gather(weight, input, 0)
    if max_norm is None:
        return rows
    norms = mindspore.ops.norm(rows, norm_type, -1, keepdim=True)
    scale = mindspore.ops.where(norms > max_norm, max_norm / (norms + 1e-7),
                                mindspore.ops.ones_like(norms))
    return rows + mindspore.ops.stop_gradient(rows * scale - rows)
''',
    "register_parametrization": '''\
def register_parametrization(module, tensor_name, parametrization):
    """torch.nn.utils.parametrize.register_parametrization: reading `module.<tensor_name>`
    (in its construct too) gives parametrization(<the original Parameter>), computed at
    each read; the Parameter keeps its name and is what trains."""
    module.insert_child_to_cell("parametrization_" + tensor_name, parametrization)

    def read(self):
        return getattr(self, "parametrization_" + tensor_name)(self._params[tensor_name])
    base = type(module)
    module.__class__ = type(base.__name__, (base,), {tensor_name: property(read)})
    return module
''',
    "unfold_windows": '''\
def unfold_windows(input, dimension, size, step):
    """torch's Tensor.unfold: every window of `size` entries, `step` apart, along
    `dimension`, the windows in its place and their entries as a new last axis."""
    axis = dimension % input.ndim
    windows = []
    for start in range(0, input.shape[axis] - size + 1, step):
        index = [slice(None)] * input.ndim
        index[axis] = slice(start, start + size)
        windows.append(input[tuple(index)])
    return mindspore.ops.movedim(mindspore.ops.stack(windows, axis=axis), axis + 1, -1)
''',
    "signed_pad": '''\
def signed_pad(input, pad, mode="constant", value=None):
    """torch.nn.functional.pad, where a negative amount crops: those sides are cut by
    slicing first (MindSpore 2.10's CPU kernel gets them wrong after its first call)."""
    if min(pad) < 0:
        index = [slice(None)] * input.ndim
        for i in range(len(pad) // 2):
            axis = input.ndim - 1 - i
            before, after = max(-pad[2 * i], 0), max(-pad[2 * i + 1], 0)
            index[axis] = slice(before, input.shape[axis] - after)
        input = input[tuple(index)]
        pad = tuple(max(amount, 0) for amount in pad)
    return mindspore.ops.pad(input, pad, mode, value)
''',
    "interpolate_bicubic": '''\
def interpolate_bicubic(input, size, align_corners=False):
    """F.interpolate(mode='bicubic') as torch computes it (cubic convolution with
    A = -0.75, edge pixels repeated): one weight matrix per spatial axis."""
    def weights(n_in, n_out):
        out = numpy.arange(n_out, dtype=numpy.float64)
        if align_corners:
            src = out * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
        else:
            src = (out + 0.5) * (n_in / n_out) - 0.5
        start = numpy.floor(src)
        t = src - start
        a = -0.75
        taps = [((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a,
                ((a + 2) * t - (a + 3)) * t * t + 1,
                ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1,
                ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a]
        matrix = numpy.zeros((n_out, n_in))
        for k, tap in enumerate(taps):
            index = numpy.clip(start + k - 1, 0, n_in - 1).astype(int)
            numpy.add.at(matrix, (numpy.arange(n_out), index), tap)
        return mindspore.Tensor(matrix, input.dtype)
    size = (size, size) if isinstance(size, int) else size
    rows = weights(input.shape[-2], size[0])
    columns = weights(input.shape[-1], size[1])
    return mindspore.ops.matmul(mindspore.ops.matmul(rows, input), columns.T)
''',
    "default_collate": '''\
def default_collate(batch):
    """torch.utils.data.default_collate: samples stacked along a new first axis (tensors,
    numpy arrays, numbers); strings stay a list; dicts, named tuples and sequences are
    collated field by field."""
    first = batch[0]
    if isinstance(first, mindspore.Tensor):
        return mindspore.ops.stack(list(batch))
    if isinstance(first, (numpy.ndarray, numpy.number)):
        return mindspore.Tensor(numpy.stack(batch))
    if isinstance(first, float):
        return mindspore.tensor(list(batch), dtype=mindspore.float64)
    if isinstance(first, int):
        return mindspore.tensor(list(batch))
    if isinstance(first, str):
        return batch
    if isinstance(first, dict):
        return {key: default_collate([sample[key] for sample in batch]) for key in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):
        return type(first)(*(default_collate(list(field)) for field in zip(*batch)))
    return [default_collate(list(field)) for field in zip(*batch)]
''',
    "calculate_gain": '''\
def calculate_gain(nonlinearity, param=None):
    """torch.nn.init.calculate_gain: the gain an initialiser uses for a nonlinearity."""
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                        "conv_transpose2d", "conv_transpose3d", "sigmoid"):
        return 1
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")
''',
    "frozen_parameters": '''\
def frozen_parameters(layer, *names):
    """`layer` with the named parameters frozen at their initial values: torch's layer
    without them (`LayerNorm(d, bias=False)`) computes the same."""
    for name in names:
        getattr(layer, name).requires_grad = False
    return layer
''',
    "sparse_coo_tensor": '''\
def sparse_coo_tensor(indices, values, size=None, dtype=None):
    """torch.sparse_coo_tensor as the dense tensor it stands for: values at a repeated
    index add up (as torch's coalesce() adds them); without size, each sparse
    dimension is its largest index + 1."""
    indices = mindspore.tensor(indices, mindspore.int64)
    values = mindspore.tensor(values, dtype)
    if size is None:
        size = (indices.max(axis=1) + 1).tolist() + list(values.shape[1:])
    return mindspore.ops.scatter_nd(indices.T, values, tuple(size))
''',
    "functional_vjp": '''\
def functional_vjp(func, inputs, v=None):
    """torch.autograd.functional.vjp: func's output and the vector-Jacobian product
    v^T J, shaped as the inputs (a tensor or a tuple); v may be omitted for a scalar
    output (ones)."""
    single = not isinstance(inputs, (tuple, list))
    output, vjp_fn = mindspore.vjp(func, *((inputs,) if single else inputs))
    grads = vjp_fn(mindspore.ops.ones_like(output) if v is None else v)
    return output, grads[0] if single else grads
''',
    "svd": '''\
def svd(input, some=True, compute_uv=True):
    """torch.svd: (U, S, V), where ops.svd gives (S, U, V); without compute_uv, torch's U
    and V are zeros of shapes (..., m, m) and (..., n, n)."""
    if not compute_uv:
        m, n = input.shape[-2:]
        return (mindspore.ops.zeros(input.shape[:-2] + (m, m), input.dtype),
                mindspore.ops.svd(input, compute_uv=False),
                mindspore.ops.zeros(input.shape[:-2] + (n, n), input.dtype))
    s, u, v = mindspore.ops.svd(input, full_matrices=not some)
    return u, s, v
''',
    "linalg_svd": '''\
def linalg_svd(A, full_matrices=True):
    """torch.linalg.svd: (U, S, Vh), where ops.svd gives (S, U, V) with V not transposed."""
    s, u, v = mindspore.ops.svd(A, full_matrices=full_matrices)
    vh = v.swapaxes(-1, -2)
    return u, s, vh.conj() if vh.is_complex() else vh
''',
    "kthvalue": '''\
def kthvalue(input, k, dim=-1, keepdim=False):
    """torch.kthvalue: the k-th smallest value along dim and its index."""
    values, indices = mindspore.ops.sort(input, axis=dim)
    values = mindspore.ops.narrow(values, dim, k - 1, 1)
    indices = mindspore.ops.narrow(indices, dim, k - 1, 1).astype(mindspore.int64)
    if not keepdim:
        values, indices = values.squeeze(dim), indices.squeeze(dim)
    return values, indices
''',
    "histogram": '''\
def histogram(input, bins, range=None, weight=None, density=False):
    """torch.histogram with a number of equal-width bins: ops.histc's counts (the last
    bin holds its right edge; counted in float32, the widest type histc takes), or the
    weights summed per bin, and the bin edges; density divides by total * width."""
    low, high = range if range is not None else (input.min().item(), input.max().item())
    if weight is None:
        hist = mindspore.ops.histc(input.astype(mindspore.float32), bins, low, high)
        hist = hist.astype(input.dtype)
    else:
        position = mindspore.ops.floor((input - low) * bins / (high - low)).astype(mindspore.int32)
        inside = (input >= low) & (input <= high)
        hist = mindspore.ops.unsorted_segment_sum(
            (weight * inside).reshape(-1).astype(input.dtype),
            mindspore.ops.clamp(position, 0, bins - 1).reshape(-1), bins)
    edges = mindspore.ops.linspace(low, high, bins + 1).astype(input.dtype)
    if density:
        hist = hist / (hist.sum() * (edges[1:] - edges[:-1]))
    return hist, edges
''',
    "triangular_solve": '''\
def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False):
    """torch.triangular_solve: the solution X of A X = b (A triangular), and a copy of A."""
    x = mindspore.scipy.linalg.solve_triangular(
        A, b, trans=1 if transpose else 0, lower=not upper, unit_diagonal=unitriangular)
    return x, A.copy()
''',
    "eigvalsh": '''\
def eigvalsh(A, UPLO="L"):
    """torch.linalg.eigvalsh through ops.eig (MindSpore 2.10 has no symmetric eigenvalue op
    on CPU): the eigenvalues of the symmetric (Hermitian) matrix UPLO's triangle gives,
    ascending."""
    index = mindspore.ops.arange(A.shape[-1])
    rows, cols = index.reshape(-1, 1), index.reshape(1, -1)
    zeros = mindspore.ops.zeros_like(A)
    half = mindspore.ops.where(rows >= cols if UPLO == "L" else rows <= cols, A, zeros)
    strict = mindspore.ops.where(rows > cols if UPLO == "L" else rows < cols, A, zeros)
    strict = strict.swapaxes(-1, -2)
    full = half + (strict.conj() if A.is_complex() else strict)
    values = mindspore.ops.real(mindspore.ops.eig(full)[0])
    return mindspore.ops.sort(values, axis=-1)[0]
''',
    "quantile": '''\
def quantile(input, q, dim=None, keepdim=False, interpolation="linear", ignore_nan=False):
    """torch.quantile (torch.nanquantile with ignore_nan=True) from a sort: MindSpore 2.10's
    quantile has no CPU kernel. q is a number or a 1-D tensor, whose axis comes first."""
    x = input.reshape(-1) if dim is None else input.movedim(dim, -1)
    qs = mindspore.Tensor(q, x.dtype).reshape(-1)
    nan = x.isnan()
    if ignore_nan:
        count = (~nan).sum(-1, keepdims=True)
    else:
        count = mindspore.ops.full_like(nan[..., :1], x.shape[-1], dtype=mindspore.int64)
    values = mindspore.ops.where(nan, mindspore.Tensor(float("inf"), x.dtype), x).sort(-1)[0]
    pos = qs * (count - 1).astype(x.dtype)
    if interpolation == "nearest":
        pos = pos.round()
    low, high = pos.floor().clamp(min=0), pos.ceil().clamp(min=0)
    below = values.gather_elements(-1, low.astype(mindspore.int64))
    above = values.gather_elements(-1, high.astype(mindspore.int64))
    if interpolation in ("lower", "nearest"):
        out = below
    elif interpolation == "higher":
        out = above
    elif interpolation == "midpoint":
        out = (below + above) / 2
    else:
        out = below + (above - below) * (pos - low)
    undefined = count == 0 if ignore_nan else nan.any(-1, keep_dims=True)
    out = mindspore.ops.where(undefined, mindspore.Tensor(float("nan"), x.dtype), out)
    out = out.movedim(-1, 0)
    if keepdim:
        out = out.reshape((-1,) + (1,) * input.ndim) if dim is None else out.unsqueeze(
            dim % input.ndim + 1)
    elif dim is None:
        out = out.reshape(-1)
    return out if isinstance(q, mindspore.Tensor) and q.ndim == 1 else out.squeeze(0)
''',
    "scatter_reduce": '''\
def scatter_reduce(input, dim, index, src, reduce, include_self=True):
    """torch's Tensor.scatter_reduce (and scatter's reduce="add"/"multiply"): each entry
    of index marks its place along dim, and the marked src values are reduced there
    (MindSpore 2.10's CPU kernels only add)."""
    if not isinstance(src, mindspore.Tensor):
        src = mindspore.ops.full(index.shape, src, dtype=input.dtype)
    src = src[tuple(slice(0, n) for n in index.shape)].astype(input.dtype).movedim(dim, -1)
    index = index.movedim(dim, -1)
    base = input.movedim(dim, -1)
    hit = index.expand_dims(-1) == mindspore.ops.arange(base.shape[-1])  # (..., K, N)
    values = src.expand_dims(-1)
    if reduce in ("sum", "mean"):
        out = mindspore.ops.where(hit, values, mindspore.ops.zeros_like(values)).sum(-2)
    elif reduce == "prod":
        out = mindspore.ops.where(hit, values, mindspore.ops.ones_like(values)).prod(-2)
    elif reduce == "amax":
        out = mindspore.ops.amax(mindspore.ops.where(hit, values, src.min()), -2)
    else:
        out = mindspore.ops.amin(mindspore.ops.where(hit, values, src.max()), -2)
    count = hit.sum(-2)
    padding = []
    for have, want in zip(reversed(out.shape[:-1]), reversed(base.shape[:-1])):
        padding += [0, want - have]
    if padding and any(padding):
        out = mindspore.ops.pad(out, [0, 0] + padding)
        count = mindspore.ops.pad(count, [0, 0] + padding)
    if include_self:
        if reduce in ("sum", "mean"):
            out = out + base
        elif reduce == "prod":
            out = out * base
        elif reduce == "amax":
            out = mindspore.ops.maximum(out, base)
        else:
            out = mindspore.ops.minimum(out, base)
    if reduce == "mean":
        total = (count + 1 if include_self else count).clamp(min=1).astype(base.dtype)
        out = out / total if base.is_floating_point() else mindspore.ops.floor_divide(out, total)
    return mindspore.ops.where(count > 0, out.astype(base.dtype), base).movedim(-1, dim)
''',
    "ShuffledSubsetSampler": '''\
class ShuffledSubsetSampler(mindspore.dataset.dataloader.Sampler):
    """torch's SubsetRandomSampler: the given indices in a new random order at each pass
    (MindSpore's own is not iterable)."""

    def __init__(self, indices, generator=None):
        self.indices = indices

    def __iter__(self):
        for i in numpy.random.permutation(len(self.indices)):
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)
''',
    "WeightedIndexSampler": '''\
class WeightedIndexSampler(mindspore.dataset.dataloader.Sampler):
    """torch's WeightedRandomSampler: num_samples indices drawn with probabilities in
    proportion to weights (MindSpore's own is not iterable)."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        self.weights = numpy.asarray(weights, dtype=numpy.float64)
        self.num_samples = num_samples
        self.replacement = replacement

    def __iter__(self):
        p = self.weights / self.weights.sum()
        return iter(numpy.random.choice(len(p), self.num_samples, self.replacement, p).tolist())

    def __len__(self):
        return self.num_samples
''',
    "ChainedDatasets": '''\
class ChainedDatasets:
    """torch's ChainDataset: the samples of each iterable dataset in turn, at each pass
    (GeneratorDataset reads it as an iterable source)."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for dataset in self.datasets:
            yield from dataset
''',
    "mode": '''\
def mode(input, dim=-1, keepdim=False):
    """torch.mode: the most frequent value along dim (the smallest of equally frequent
    ones) and the index of its last occurrence."""
    x = mindspore.ops.movedim(input, dim, -1)
    counts = (x.unsqueeze(-1) == x.unsqueeze(-2)).sum(-1)
    most = mindspore.ops.amax(counts, -1, keepdims=True)
    values = mindspore.ops.amin(mindspore.ops.where(counts == most, x, x.max()), -1)
    positions = mindspore.ops.arange(x.shape[-1])
    indices = mindspore.ops.amax(
        mindspore.ops.where(x == values.unsqueeze(-1), positions, -1), -1)
    if keepdim:
        values, indices = values.unsqueeze(dim), indices.unsqueeze(dim)
    return values, indices
''',
    "SummaryRecordWriter": '''\
class SummaryRecordWriter(mindspore.SummaryRecord):
    """torch's SummaryWriter methods on MindSpore's SummaryRecord: each add_* call
    records its value at its step, in MindSpore's summary format (MindInsight)."""

    def __init__(self, log_dir=None):
        super().__init__(log_dir if log_dir is not None else "runs")

    def add_scalar(self, tag, scalar_value, global_step=None):
        self.add_value("scalar", tag, mindspore.Tensor(scalar_value, mindspore.float32))
        self.record(int(global_step or 0))

    def add_histogram(self, tag, values, global_step=None):
        self.add_value("histogram", tag, mindspore.Tensor(values))
        self.record(int(global_step or 0))

    def add_image(self, tag, img_tensor, global_step=None, dataformats="CHW"):
        image = mindspore.Tensor(img_tensor)
        for axis in "NCHW":  # CHW, HWC, HW, ... -> NCHW
            if axis not in dataformats:
                image, dataformats = image.expand_dims(0), axis + dataformats
        image = image.transpose(*[dataformats.index(axis) for axis in "NCHW"])
        self.add_value("image", tag, image)
        self.record(int(global_step or 0))

    def add_images(self, tag, img_tensor, global_step=None, dataformats="NCHW"):
        self.add_image(tag, img_tensor, global_step, dataformats)

    def add_figure(self, tag, figure, global_step=None, close=True):
        import matplotlib.pyplot
        figure.canvas.draw()
        image = numpy.asarray(figure.canvas.buffer_rgba())[..., :3]
        if close:
            matplotlib.pyplot.close(figure)
        self.add_image(tag, image, global_step, dataformats="HWC")
''',
}

IMPORTS = {"calculate_gain": ("import math",)}
