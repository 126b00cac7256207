"""Functions a converted file gets for torch.utils.data.random_split where the lengths
are fractions or known only at run time."""
from __future__ import annotations

HELPERS = {
    "random_split_indices": '''\
def random_split_indices(n, lengths):
    """torch.utils.data.random_split's parts of range(n), drawn once: lengths are counts,
    or fractions of n that sum to 1 (each part floor(n * fraction), the remainder one
    by one to the first parts, as torch does)."""
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = [int(math.floor(n * fraction)) for fraction in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
    else:
        counts = lengths
    if sum(counts) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    return numpy.split(numpy.random.permutation(n), numpy.cumsum(counts)[:-1])
''',
}

IMPORTS = {"random_split_indices": ("import math",)}
