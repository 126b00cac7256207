"""torchtext's vocabularies, tokenizers and map-style datasets become plain Python helpers
written into the converted file. torchtext is not installable beside this torch (it is
not maintained for torch 2.x releases this recent), so these tests compare the
converted code against plain-Python expectations worked out from torchtext's documented
behaviour (docstrings of torchtext.vocab.build_vocab_from_iterator / vocab / Vocab and
torchtext.data.utils.get_tokenizer, whose own example sentence is used below): tokens
sorted by falling count, then alphabetically; specials first unless special_first=False;
min_freq and max_tokens; a default index for unknown tokens, RuntimeError without one."""
import re

import numpy as np
import pytest

from ms_migrate import convert_source
from ms_migrate.tables.load import load_rules
from ms_migrate.runtime.equivalence import example_program

ms = pytest.importorskip("mindspore")

# rule example -> torchtext's documented result
EXPECTED = {
    ("torchtext.vocab.build_vocab_from_iterator", 0): ["<unk>", "a", "b", "c", "d"],
    ("torchtext.vocab.build_vocab_from_iterator", 1): [0, 2, 2],
    ("torchtext.vocab.vocab", 0): {"<unk>": 0, "b": 1, "c": 2},
    ("torchtext.data.utils.get_tokenizer", 0): ["you", "can", "now", "install", "torchtext",
                                                "using", "pip", "!"],
    ("torchtext.data.utils.get_tokenizer", 1): ["a", "b", "c"],
    ("torchtext.data.functional.to_map_style_dataset", 0): ("c", "d"),
    # the example's val.en / val.de lines, paired in file order, newlines stripped
    ("torchtext.datasets.Multi30k", 0): [("A dog.", "Ein Hund."), ("Two cats.", "Zwei Katzen.")],
    ("torchtext.datasets.multi30k", 0): ["test", "train", "valid"],
    # legacy API: the second line pair has an empty side and is skipped; lowercased, split
    ("torchtext.datasets.TranslationDataset", 0): [(["ein", "hund"], ["a", "dog"]),
                                                   (["zwei", "katzen"], ["two", "cats"])],
    # specials unk, pad, init, eos; then a (2), b, c (1 each, alphabetical); unknown -> 0;
    # <s> a b </s> | <s> c </s> <pad>, as (length, batch)
    ("torchtext.data.Field", 0): (["<unk>", "<pad>", "<s>", "</s>", "a", "b", "c"], 0,
                                  [[2, 2], [4, 6], [5, 3], [3, 1]]),
    # y counted twice (kept), x once (below min_freq=2: unknown); lengths before padding
    ("torchtext.data.Field", 1): [[[2, 1, 1], [0, 2, 2]], [1, 3]],
    ("torchtext.data.Dataset", 0): (1, [["d"]], [["e", "f", "g"]]),
    ("torchtext.data.Example", 0): (["hello", "world"], "x"),
    # vocab a=3 b=4 c=5 (<e>=2); sorted by length, batches of 2, each reversed (longest first)
    ("torchtext.data.BucketIterator", 0): [[[4, 3], [4, 2], [2, 1]],
                                           [[3, 3], [4, 5], [5, 2], [2, 1]],
                                           [[5], [3], [4], [3], [2]]],
    # vocab a=2 b=3; in order, batch first
    ("torchtext.data.Iterator", 0): [[[3, 2], [2, 1]], [[2, 2, 3]]],
    # multi30k/train and /val of root; test=None left out; "Three" has one token: filtered
    ("torchtext.datasets.Multi30k.splits", 0): ([["ein", "hund"]], [["zwei", "katzen"]]),
}
CASES = [(rule, i) for rule in load_rules() if rule.torch_name.startswith("torchtext.")
         and not rule.unsupported for i in range(len(rule.examples))]


def _run(source):
    result = convert_source(source, "text.py")
    # only the helpers' docstrings (and Multi30k's cache folder) name torchtext
    assert not re.search(r"^\s*(import|from)\s+torchtext|torchtext\.\w+\(", result.code, re.M)
    assert not [f for f in result.report.findings if f.action == "unsupported"]
    scope = {}
    exec(compile(result.code, "<converted>", "exec"), scope)  # noqa: S102 - our own program
    return scope, result.code


def test_every_converting_rule_has_a_documented_expectation():
    assert {(rule.torch_name, i) for rule, i in CASES} == set(EXPECTED)


@pytest.mark.parametrize("rule,index", CASES,
                         ids=[f"{r.torch_name}[{i}]" for r, i in CASES])
def test_rule_examples_give_torchtext_s_documented_results(rule, index):
    scope, _ = _run(example_program(rule.examples[index], rule.kind))
    assert scope["out"] == EXPECTED[(rule.torch_name, index)]


VOCAB = '''from torchtext.vocab import build_vocab_from_iterator
corpus = [["the", "cat", "sat"], ["the", "dog", "sat", "down"], ["a", "cat"]]
v = build_vocab_from_iterator(corpus, specials=["<unk>", "<pad>"], max_tokens=5)
'''


def test_max_tokens_keeps_the_most_frequent_and_the_vocab_behaves_as_torchtext_s():
    scope, _ = _run(VOCAB)
    v = scope["v"]
    # counts: cat 2, sat 2, the 2, a 1, down 1, dog 1 -> 5 - 2 specials = 3 kept
    assert v.get_itos() == ["<unk>", "<pad>", "cat", "sat", "the"]
    assert len(v) == 5 and "cat" in v and "dog" not in v
    with pytest.raises(RuntimeError):
        v["dog"]
    v.set_default_index(v["<unk>"])
    assert v.get_default_index() == 0 and v(["the", "dog"]) == [4, 0]
    assert v.lookup_tokens([4, 2]) == ["the", "cat"] and v.lookup_token(3) == "sat"
    v.insert_token("dog", 2)
    assert v.get_stoi() == {"<unk>": 0, "<pad>": 1, "dog": 2, "cat": 3, "sat": 4, "the": 5}
    v.append_token("down")
    assert v.lookup_indices(["down", "zzz"]) == [6, 0]
    with pytest.raises(RuntimeError):
        v.append_token("cat")


PIPELINE = '''import torch
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import DataLoader
from torchtext.data.functional import to_map_style_dataset
from torchtext.data.utils import get_tokenizer
from torchtext.vocab import build_vocab_from_iterator

pairs = [("A cat sat.", "x"), ("The dog, the cat!", "y"), ("Cats?", "x")]
tokenizer = get_tokenizer("basic_english")
vocab = build_vocab_from_iterator((tokenizer(text) for text, _ in pairs),
                                  specials=["<unk>", "<pad>"])
vocab.set_default_index(vocab["<unk>"])


def collate(batch):
    texts = [torch.tensor(vocab(tokenizer(text)), dtype=torch.int64) for text, _ in batch]
    labels = torch.tensor([label == "y" for _, label in batch], dtype=torch.int64)
    return pad_sequence(texts, batch_first=True, padding_value=vocab["<pad>"]), labels


loader = DataLoader(to_map_style_dataset(iter(pairs)), batch_size=2, collate_fn=collate)
batches = [(text.asnumpy() if hasattr(text, "asnumpy") else text.numpy(),
            label.asnumpy() if hasattr(label, "asnumpy") else label.numpy())
           for text, label in loader]
'''


def test_a_text_pipeline_gives_torchtext_s_indices_and_batches():
    scope, code = _run(PIPELINE)
    assert "import torch" not in code
    # tokens: a cat sat . | the dog , the cat ! | cats ?
    # counts: cat 2, the 2, then ! , . ? a cats dog sat once each, alphabetically
    itos = ["<unk>", "<pad>", "cat", "the", "!", ",", ".", "?", "a", "cats", "dog", "sat"]
    assert scope["vocab"].get_itos() == itos
    (first, labels), (second, last_labels) = scope["batches"]
    np.testing.assert_array_equal(first, [[8, 2, 11, 6, 1, 1], [3, 10, 5, 3, 2, 4]])
    np.testing.assert_array_equal(second, [[9, 7]])
    np.testing.assert_array_equal(labels, [0, 1])
    np.testing.assert_array_equal(last_labels, [0])


def test_unknown_tokenizers_and_the_legacy_api_stay_marked():
    result = convert_source("import torchtext\n"
                            "tok = torchtext.data.utils.get_tokenizer('moses')\n"
                            "train = torchtext.datasets.IMDB(split='train')\n", "a.py")
    marked = {f.api for f in result.report.findings if f.action == "unsupported"}
    assert marked == {"torchtext.data.utils.get_tokenizer", "torchtext.datasets.IMDB"}
    assert "get_tokenizer('moses')" in result.code and "# ms-migrate:" in result.code


def test_conversion_is_idempotent():
    once = convert_source(PIPELINE, "text.py").code
    assert convert_source(once, "text.py").code == once
