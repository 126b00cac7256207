"""torch's embedding bags (nn.EmbeddingBag, F.embedding_bag), which MindSpore 2.10 lacks,
written into a converted file: the rows an input picks, gathered, then reduced per bag
by segment sums and maxima (ops.unsorted_segment_sum / _max run on CPU and have
gradients). A padding index takes no part in its bag; an empty bag gives zeros."""
from __future__ import annotations

HELPERS = {
    "embedding_bag": '''\
def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2,
                  scale_grad_by_freq=False, mode="mean", per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    """torch.nn.functional.embedding_bag: the rows of `weight` that `input` picks, summed,
    averaged or maxed per bag (a row of a 2-D input, or the run of a 1-D input from one
    offset to the next); entries equal to padding_idx take no part; empty bags give 0."""
    if max_norm is not None or scale_grad_by_freq:
        raise ValueError("embedding_bag: max_norm and scale_grad_by_freq are not available")
    if input.ndim == 2:
        offsets = mindspore.ops.arange(0, input.size, input.shape[1])
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif include_last_offset:
        offsets = offsets[:-1]
    bags = offsets.shape[0]
    positions = mindspore.ops.arange(input.shape[0], dtype=offsets.dtype)
    # int32 out: MindSpore's SearchSorted CPU kernel fails once int32 and int64 outputs
    # mix in one process, and the other searchsorted conversions ask for int32
    bag = mindspore.ops.searchsorted(offsets, positions, right=True, out_int32=True) - 1
    if padding_idx is not None:  # padded entries go to an extra bag, left out below
        bag = mindspore.ops.where(input == padding_idx % weight.shape[0], bags, bag)
    rows = mindspore.ops.gather(weight, input, 0)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.unsqueeze(-1)
    counts = mindspore.ops.unsorted_segment_sum(
        mindspore.ops.ones_like(bag).astype(weight.dtype), bag, bags + 1)[:bags].unsqueeze(-1)
    if mode == "max":
        largest = mindspore.ops.unsorted_segment_max(rows, bag, bags + 1)[:bags]
        return mindspore.ops.where(counts > 0, largest, mindspore.ops.zeros_like(largest))
    sums = mindspore.ops.unsorted_segment_sum(rows, bag, bags + 1)[:bags]
    if mode == "mean":
        return sums / counts.clamp(min=1)
    return sums
''',
    "EmbeddingBag": '''\
class EmbeddingBag(mindspore.nn.Cell):
    """torch.nn.EmbeddingBag: a table of num_embeddings rows drawn from N(0, 1) (the
    padding row zero), reduced per bag as embedding_bag does."""

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, mode="mean", _weight=None,
                 include_last_offset=False, padding_idx=None, dtype=None):
        super().__init__()
        if _weight is None:
            _weight = mindspore.ops.randn(num_embeddings, embedding_dim, dtype=dtype)
            if padding_idx is not None:
                _weight[padding_idx] = 0
        self.weight = mindspore.Parameter(_weight, name="weight")
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.mode = scale_grad_by_freq, mode
        self.include_last_offset, self.padding_idx = include_last_offset, padding_idx

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, mode="mean", include_last_offset=False,
                        padding_idx=None):
        """torch's EmbeddingBag.from_pretrained: a bag layer over the given table, which
        is trained only when freeze is False."""
        bag = cls(*embeddings.shape, max_norm, norm_type, scale_grad_by_freq, mode,
                  embeddings, include_last_offset, padding_idx)
        bag.weight.requires_grad = not freeze
        return bag

    def construct(self, input, offsets=None, per_sample_weights=None):
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                             self.scale_grad_by_freq, self.mode, per_sample_weights,
                             self.include_last_offset, self.padding_idx)
''',
}
NEEDS = {"EmbeddingBag": ("embedding_bag",)}
