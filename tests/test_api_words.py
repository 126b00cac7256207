"""passes/api_words.py: the words a statement spells where it names a torch API."""
from types import SimpleNamespace

from ms_migrate.passes.api_words import api_words


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

