"""torch DataLoaders and their conversions read the same source: every batch of every
epoch must agree in contents, shapes and dtypes (shuffle off), or, where torch draws
at random, in what can be compared (the items each epoch holds).

Each case is a torch program defining `batches()`; it runs as written and, converted
by ms-migrate, on MindSpore.
"""
import textwrap
from collections import Counter

import numpy as np
import pytest

from ms_migrate import convert_source

pytest.importorskip("torch")
pytest.importorskip("mindspore")

from ms_migrate.runtime.equivalence import compare, flatten  # noqa: E402

HEADER = """\
import numpy as np
import torch
from torch.utils import data
from torch.utils.data import DataLoader, Dataset, IterableDataset, TensorDataset
"""

PAIRS = """
class Pairs(Dataset):
    def __init__(self, n):
        self.x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)

    def __getitem__(self, index):
        return self.x[index], int(index) % 4

    def __len__(self):
        return len(self.x)
"""


def run_both(body: str):
    """(torch result, MindSpore result, converted code) of `batches()`."""
    torch_code = HEADER + textwrap.dedent(body)
    result = convert_source(torch_code, "case.py")
    unsupported = [f for f in result.report.findings if f.action == "unsupported"]
    assert not unsupported, [(f.api, f.message) for f in unsupported]
    t_ns, m_ns = {}, {}
    exec(compile(torch_code, "<torch>", "exec"), t_ns)
    exec(compile(result.code, "<mindspore>", "exec"), m_ns)
    return t_ns["batches"](), m_ns["batches"](), result.code


def same_batches(body: str) -> str:
    expected, actual, code = run_both(body)
    assert len(expected) == len(actual), code
    compare(expected, actual, tol=0)
    return code


def items(batches):
    """The first column's rows of every batch, as hashable tuples."""
    rows = []
    for batch in batches:
        first = flatten(batch)[0]
        rows += [tuple(np.atleast_1d(r).tolist()) for r in first]
    return rows


@pytest.mark.parametrize("drop_last", [False, True])
def test_map_dataset_int_labels_remainder(drop_last):
    code = same_batches(PAIRS + f"""
loader = DataLoader(Pairs(10), batch_size=4, drop_last={drop_last})

def batches():
    out = []
    for epoch in range(2):
        for x, y in loader:
            out.append((x, y))
    return out
""")
    assert "GeneratorDataset" in code and "torch" not in code


def test_tensor_returns_float_labels_and_workers():
    same_batches("""
class Rows(Dataset):
    def __init__(self):
        self.values = torch.arange(12.0).reshape(6, 2)

    def __getitem__(self, i):
        return self.values[i] * 2, torch.tensor(i), float(i) / 4

    def __len__(self):
        return 6

loader = DataLoader(Rows(), batch_size=4, shuffle=False, num_workers=2)

def batches():
    return [batch for batch in loader]
""")


def test_list_samples_with_workers():
    same_batches("""
class Lists(Dataset):
    def __getitem__(self, i):
        return [np.full(2, i, dtype=np.float32), i]

    def __len__(self):
        return 5

loader = DataLoader(Lists(), batch_size=2, num_workers=2)

def batches():
    return [batch for batch in loader]
""")


def test_generator_arguments_go_with_their_torch_calls():
    code = same_batches(PAIRS + """
loader = DataLoader(Pairs(6), batch_size=6, sampler=data.RandomSampler(
    range(6), generator=torch.Generator().manual_seed(0)))

def batches():
    return [sorted(y.tolist()) for x, y in loader]
""")
    assert "generator" not in code.replace("# ms-migrate: generator dropped", "")


def test_enumerate_next_iter_and_lengths():
    code = same_batches("""
features = torch.arange(20.0).reshape(10, 2)
labels = torch.arange(10) % 3
train_set = TensorDataset(features, labels)
loader = DataLoader(train_set, batch_size=3)

def batches():
    out = [next(iter(loader))]
    for i, (x, y) in enumerate(loader):
        out.append((i, x, y))
    out.append((len(loader), len(loader.dataset), loader.batch_size))
    return out
""")
    assert "len(loader)" in code and "len(train_set)" in code  # MindSpore datasets have len()


def test_dict_samples_give_dict_batches():
    code = same_batches("""
class Points(Dataset):
    def __getitem__(self, i):
        return {"point": np.full(2, i, dtype=np.float32), "id": i}

    def __len__(self):
        return 5

loader = DataLoader(Points(), batch_size=2)

def batches():
    out = []
    for batch in loader:
        out.append(batch["point"] + 1)
        out.append(batch)
    return out
""")
    assert "for (batch,) in loader" in code


def test_single_value_samples():
    same_batches("""
class Numbers(Dataset):
    def __getitem__(self, i):
        return np.float32(i) * 2

    def __len__(self):
        return 7

loader = DataLoader(Numbers(), batch_size=3, drop_last=True)

def batches():
    first = next(iter(loader))
    return [first] + [x for x in loader] + [x * 2 for i, x in enumerate(loader)]
""")


def test_iterable_dataset():
    same_batches("""
class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        for i in range(self.n):
            yield np.ones(2, dtype=np.float32) * i, i

loader = DataLoader(Stream(5), batch_size=2)

def batches():
    return [(x, y) for x, y in loader] * 1 + [(x, y) for x, y in loader]
""")


def test_collate_fn_with_more_outputs():
    code = same_batches("""
class Sentences(Dataset):
    def __init__(self):
        self.tokens = [[1, 2, 3], [4], [5, 6], [7, 8, 9, 10], [11]]

    def __getitem__(self, i):
        return self.tokens[i], i % 2

    def __len__(self):
        return len(self.tokens)


def pad(samples):
    longest = max(len(s[0]) for s in samples)
    padded = np.array([list(s[0]) + [0] * (longest - len(s[0])) for s in samples])
    lengths = np.array([len(s[0]) for s in samples])
    return padded, lengths, np.array([s[1] for s in samples])

loader = DataLoader(Sentences(), batch_size=2, collate_fn=pad)

def batches():
    return [(padded, lengths, labels) for padded, lengths, labels in loader]
""")
    assert "per_batch_map" in code and "output_columns" in code


def test_default_collate_is_the_plain_batch():
    code = same_batches(PAIRS + """
from torch.utils.data import default_collate
loader = DataLoader(Pairs(5), batch_size=2, collate_fn=default_collate)

def batches():
    return list(loader)
""")
    assert "per_batch_map" not in code


def test_subset_concat_and_sequential_sampler():
    same_batches(PAIRS + """
part = data.Subset(Pairs(8), [7, 1, 3])
both = data.ConcatDataset([part, Pairs(3)])
ordered = DataLoader(Pairs(6), batch_size=4, sampler=data.SequentialSampler(range(6)))

def batches():
    return list(DataLoader(both, batch_size=4)) + list(ordered)
""")


def test_distributed_sampler_shards():
    same_batches(PAIRS + """
dataset = Pairs(7)
shards = [DataLoader(dataset, batch_size=2, sampler=data.DistributedSampler(
    dataset, num_replicas=3, rank=r, shuffle=False)) for r in range(3)]

def batches():
    return [list(shard) for shard in shards]
""")


def test_shuffle_each_epoch_holds_every_item_once():
    expected, actual, _ = run_both(PAIRS + """
loader = DataLoader(Pairs(9), batch_size=4, shuffle=True)

def batches():
    return [list(loader) for epoch in range(3)]
""")
    for t_epoch, m_epoch in zip(expected, actual):
        assert [len(flatten(b)[0]) for b in t_epoch] == [len(flatten(b)[0]) for b in m_epoch]
        assert Counter(items(t_epoch)) == Counter(items(m_epoch))
    assert items(actual[0]) != items(actual[1]) or items(actual[1]) != items(actual[2])


@pytest.mark.parametrize("sampler,check", [
    ("data.RandomSampler(dataset)", "permutation"),
    ("data.SubsetRandomSampler([0, 2, 4, 6])", "permutation"),
    ("data.RandomSampler(dataset, replacement=True, num_samples=6)", "within"),
    ("data.WeightedRandomSampler([0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0], 8)", "within"),
    ("data.DistributedSampler(dataset, num_replicas=2, rank=1)", "count"),
])
def test_random_samplers_draw_the_same_items(sampler, check):
    expected, actual, _ = run_both(PAIRS + f"""
dataset = Pairs(8)
loader = DataLoader(dataset, batch_size=3, sampler={sampler})

def batches():
    return [list(loader) for epoch in range(2)]
""")
    for t_epoch, m_epoch in zip(expected, actual):
        t_items, m_items = items(t_epoch), items(m_epoch)
        assert len(t_items) == len(m_items)
        if check == "permutation":
            assert Counter(t_items) == Counter(m_items)
        elif check == "within":  # drawn with replacement: only items that may be drawn
            rows = (1, 3, 5, 7) if "Weighted" in sampler else range(8)
            allowed = {tuple(float(v) for v in range(i * 3, i * 3 + 3)) for i in rows}
            assert set(m_items) <= allowed and set(t_items) <= allowed
        else:  # one shard of a shuffle: as many distinct items as torch's shard
            assert len(set(m_items)) == len(set(t_items))
        for batch in m_epoch:
            assert str(flatten(batch)[0].dtype) == "float32"


def test_random_split_parts_are_disjoint_and_complete():
    expected, actual, code = run_both(PAIRS + """
train_part, val_part = data.random_split(Pairs(10), [7, 3])
train_loader = DataLoader(train_part, batch_size=4)
val_loader = DataLoader(val_part, batch_size=4, shuffle=True)

def batches():
    return [(list(train_loader), list(val_loader)) for epoch in range(2)]
""")
    for (t_train, t_val), (m_train, m_val) in zip(expected, actual):
        train, val = items(m_train), items(m_val)
        assert len(train) == 7 and len(val) == 3 and not set(train) & set(val)
        assert Counter(train + val) == Counter(items(t_train) + items(t_val))
    assert set(items(actual[0][0])) == set(items(actual[1][0]))  # drawn once, not per epoch


def test_samples_are_arrays_for_numpy_2():
    """GeneratorDataset under numpy 2 calls np.array(value, copy=False) on every sample
    value, which refuses Python and numpy scalars: converted sources return arrays."""
    result = convert_source(HEADER + PAIRS + """
class Stream(IterableDataset):
    def __iter__(self):
        for i in range(3):
            yield {"x": float(i), "y": np.int64(i)}
""")
    ns = {}
    exec(compile(result.code, "<mindspore>", "exec"), ns)
    import mindspore
    values = list(ns["Pairs"](3)[np.int64(1)]) + [v for s in ns["Stream"]() for v in s.values()]
    assert values and all(isinstance(v, (np.ndarray, mindspore.Tensor)) for v in values)
