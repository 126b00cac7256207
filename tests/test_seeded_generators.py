"""A seeded torch.Generator drawing permutations -> a seeded numpy Generator: the
converted split has torch's sizes and items, is the same run after run and changes
with the seed (the permutations themselves are another algorithm's)."""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

from ms_migrate import convert_source  # noqa: E402

SOURCE = textwrap.dedent("""\
    import torch


    class Split:
        def __init__(self, split, num, seed=1337):
            rng = torch.Generator()
            rng.manual_seed(seed)
            perm = torch.randperm(num, generator=rng)
            num_test = min(int(num * 0.2), 5)
            self.ixes = perm[:num_test] if split == 'test' else perm[num_test:]

        def __len__(self):
            return self.ixes.nelement()

        def __getitem__(self, idx):
            return self.ixes[idx].item() * 2


    def epochs(n, start, count):
        orders = []
        for epoch in range(count):
            # deterministically shuffle based on epoch
            g = torch.Generator()
            g.manual_seed(epoch)
            orders.append(torch.randperm(n - start, generator=g).add(start).tolist())
        chained = torch.Generator().manual_seed(7)
        return orders, [torch.randperm(n, generator=chained).tolist() for _ in range(2)]
    """)


def _programs():
    result = convert_source(SOURCE, "prog.py")
    code = result.code
    assert "torch" not in code, code
    assert code.count("default_rng(") == 3 and "manual_seed" not in code
    assert convert_source(code, "prog.py").code == code  # idempotent
    assert "unsupported" not in {f.action for f in result.report.findings}
    assert len([f for f in result.report.findings if f.check == "seeded-generators"]) == 8
    t, m = {"__name__": "prog"}, {"__name__": "prog_ms"}
    exec(compile(SOURCE, "<torch>", "exec"), t)
    exec(compile(code, "<ms>", "exec"), m)
    return t, m


def test_seeded_split_has_torchs_sizes_and_items_and_is_reproducible():
    t, m = _programs()
    for split in ("train", "test"):
        theirs, ours = t["Split"](split, 30), m["Split"](split, 30)
        assert len(ours) == len(theirs)
        assert ours.ixes.dtype == mindspore.int64
        assert [ours[i] for i in range(len(ours))] == [m["Split"](split, 30)[i]
                                                      for i in range(len(ours))]
    items = sorted(m["Split"]("train", 30)[i] for i in range(25)) + \
        sorted(m["Split"]("test", 30)[i] for i in range(5))
    theirs = [t["Split"]("train", 30)[i] for i in range(25)] + \
        [t["Split"]("test", 30)[i] for i in range(5)]
    assert sorted(theirs) == list(range(0, 60, 2))
    assert sorted(items) == list(range(0, 60, 2))
    other = m["Split"]("test", 30, seed=1)
    assert [other[i] for i in range(5)] != [m["Split"]("test", 30)[i] for i in range(5)]


def test_epoch_orders_are_permutations_reproducible_per_epoch():
    t, m = _programs()
    orders, chained = m["epochs"](12, 2, 3)
    theirs, their_chained = t["epochs"](12, 2, 3)
    for ours, their in zip(orders, theirs):
        assert sorted(ours) == sorted(their) == list(range(2, 12))
    assert orders == m["epochs"](12, 2, 3)[0]
    assert orders[0] != orders[1]
    # one generator drawn twice: two different permutations, as torch's stream gives
    assert chained[0] != chained[1] and their_chained[0] != their_chained[1]
    assert sorted(chained[0]) == sorted(chained[1]) == list(range(12))
