"""torchtext's legacy data API (Field, TranslationDataset, BucketIterator, ...) becomes
classes written into the converted file, with MindSpore tensors for the batches.
torchtext cannot be installed beside this torch: the expectations below are worked out
by hand from the files written here and torchtext's documented behaviour (lines
stripped and paired where neither side is empty; vocabulary: specials unk, pad, init,
eos, then by falling count, then alphabetically; init + tokens + eos, padded to the
longest, (length, batch); BucketIterator(train=True): the example order, then the
batches of each chunk of 100 batches, shuffled with random.sample from the state
Python's random had when the iterator was made)."""
import importlib
import pickle
import random
import sys

import numpy as np
import pytest

from ms_migrate import convert_source

ms = pytest.importorskip("mindspore")

PROGRAM = '''from itertools import chain
import torch
from torchtext.data import Field, Dataset, BucketIterator
from torchtext.datasets import TranslationDataset

field = Field(tokenize=None, lower=True, pad_token="<blank>", init_token="<s>", eos_token="</s>")
fields = (field, field)
train = TranslationDataset(fields=fields, path=PREFIX, exts=(".src", ".trg"),
                           filter_pred=lambda x: len(x.src) <= 3 and len(x.trg) <= 3)
field.build_vocab(chain(train.src, train.trg), min_freq=2)
pad_idx = field.vocab.stoi["<blank>"]
random.seed(SEED)
iterator = BucketIterator(train, batch_size=2, device=torch.device("cpu"), train=True)
batches = [(batch.src, batch.trg) for batch in iterator]
again = [batch.src for batch in iterator]
moved = Dataset(examples=train.examples, fields={"src": field, "trg": field})
'''

SRC = ["a b", "b c a", "", "a a", "c b b b", "b"]
TRG = ["x y", "y", "z", "x x y", "y x", "x y"]


def _convert():
    result = convert_source(PROGRAM, "train.py")
    assert "import torch" not in result.code and "from torchtext" not in result.code
    assert not [f for f in result.report.findings if f.action == "unsupported"]
    assert convert_source(result.code, "train.py").code == result.code  # idempotent
    return result.code


def test_legacy_fields_datasets_and_buckets_give_torchtext_s_batches(tmp_path):
    (tmp_path / "d.src").write_text("".join(s + "\n" for s in SRC))
    (tmp_path / "d.trg").write_text("".join(t + "\n" for t in TRG))
    scope = {"PREFIX": str(tmp_path / "d"), "SEED": 3, "random": random}
    exec(compile(_convert(), "<converted>", "exec"), scope)  # noqa: S102 - our own program
    # kept: line 3 has an empty source; line 5 has 4 source tokens (filtered)
    kept = [(["a", "b"], ["x", "y"]), (["b", "c", "a"], ["y"]), (["a", "a"], ["x", "x", "y"]),
            (["b"], ["x", "y"])]
    assert [(ex.src, ex.trg) for ex in scope["train"].examples] == kept
    # counts over src and trg: a 4, b 3, x 4, y 4, c 1 (< min_freq 2)
    itos = ["<unk>", "<blank>", "<s>", "</s>", "a", "x", "y", "b"]
    assert scope["field"].vocab.itos == itos
    assert scope["pad_idx"] == 1 and scope["field"].vocab.stoi["c"] == 0
    # the order torchtext draws: examples shuffled, then the batches of the chunk shuffled
    rng = random.Random()
    random.seed(3)
    rng.setstate(random.getstate())
    order = rng.sample(range(4), 4)
    pairs = [order[:2], order[2:]]
    pairs = rng.sample(pairs, 2)
    stoi = {t: i for i, t in enumerate(itos)}

    def numbers(tokens_list):
        longest = max(len(t) for t in tokens_list)
        rows = [[2] + [stoi.get(t, 0) for t in tokens] + [3] + [1] * (longest - len(tokens))
                for tokens in tokens_list]
        return np.array(rows).T  # (length, batch)

    assert len(scope["batches"]) == 2
    for (src, trg), pair in zip(scope["batches"], pairs):
        assert isinstance(src, ms.Tensor) and src.dtype == ms.int64
        np.testing.assert_array_equal(src.asnumpy(), numbers([kept[i][0] for i in pair]))
        np.testing.assert_array_equal(trg.asnumpy(), numbers([kept[i][1] for i in pair]))
    # a second epoch draws on from where the first left off
    order = rng.sample(range(4), 4)
    pairs = rng.sample([order[:2], order[2:]], 2)
    for src, pair in zip(scope["again"], pairs):
        np.testing.assert_array_equal(src.asnumpy(), numbers([kept[i][0] for i in pair]))
    assert list(scope["moved"].trg) == [t for _, t in kept]


def test_a_pickled_field_is_loaded_with_its_tokenizer_and_vocabulary(tmp_path, monkeypatch):
    code = _convert().replace("random.seed(SEED)", "")
    (tmp_path / "d.src").write_text("A b\n")
    (tmp_path / "d.trg").write_text("b B\n")
    (tmp_path / "legacy_text_program.py").write_text(
        f"import random\nPREFIX = {str(tmp_path / 'd')!r}\n" + code)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("legacy_text_program")
    try:
        loaded = pickle.loads(pickle.dumps(module.field))
    finally:
        sys.modules.pop("legacy_text_program", None)
    assert loaded.preprocess("B  a") == ["b", "a"]  # the tokenizer is made again
    assert loaded.vocab.itos == module.field.vocab.itos == ["<unk>", "<blank>", "<s>", "</s>",
                                                            "b"]
    assert loaded.vocab.stoi["zz"] == 0
    assert loaded.process([["b"]]).asnumpy().tolist() == [[2], [4], [3]]
