"""passes/api_words.py: the words a statement spells where it names a torch API."""
from types import SimpleNamespace

from ms_migrate.core.positions import NEVER, names_pattern
from ms_migrate.passes.api_words import api_words, word_patterns


def test_last_names_and_the_files_own_imports_of_the_api():
    ctx = SimpleNamespace(aliases={"torch": "torch", "store": "torch.save",
                                   "ser": "torch.serialization"})
    words = api_words(ctx, ("torch.save", "torch.load"))
    assert {"save", "load", "store"} <= words
    assert "torch" not in words and "ser" not in words


def test_other_spellings_the_alias_table_maps_to_the_api():
    ctx = SimpleNamespace(aliases={"torch": "torch"})
    # torch._C._fft.fft_fft is torch.fft.fft: a statement may spell either last name
    assert {"fft", "fft_fft"} <= api_words(ctx, ("torch.fft.fft",))


def _lines(patterns, text):
    return {text.count("\n", 0, m.start()) for p in patterns for m in p.finditer(text)}


def test_word_patterns_match_the_lines_names_pattern_does():
    text = "x = dev(0)\nmydevice = 1\ndevices = 2\nb.device\n y=device_x\nq = 'device'\n"
    for words in ({"device"}, {"device", "dev"}, {"a", "b", "c", "d", "e", "f", "device"}):
        assert _lines(word_patterns(words), text) == _lines([names_pattern(words)], text)


def test_word_patterns_of_no_words_match_nowhere():
    assert word_patterns(set()) == (NEVER,)
