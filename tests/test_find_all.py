"""positions.find_all: finditer's matches, found faster for a pattern led by `\\b`."""
import re

import pytest

from ms_migrate.core.positions import find_all

TEXTS = ["", "class C: pass\nsubclass = 1\n_class, class_.x, (class)", "xa.b a.b b",
         "ab b", "save(x); autosave(y); torch.load( z)", "model.eval(); mymodel = models"]
PATTERNS = [r"\bclass\b", r"\b(?:save|load)\(", r"\bfoo|b", r"\b(?:a\.b|b)", r"\b",
            r"\b\w*", r"\bx?", r"\bmodel\b", r"\b(\w+)\.", r"class\b", r"(?:save|load)\b"]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_the_same_matches_as_finditer(pattern):
    compiled = re.compile(pattern)
    for text in TEXTS:
        assert [(m.span(), m.groups()) for m in find_all(compiled, text)] == [
            (m.span(), m.groups()) for m in compiled.finditer(text)]
