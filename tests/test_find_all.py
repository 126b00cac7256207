"""positions.find_all: finditer's matches, found faster for a pattern led by `\\b`; and
the lines of a few names, scanned a word at a time."""
import re

import libcst as cst
import pytest

from ms_migrate.core.positions import StatementLines, _word_by_word, find_all, names_pattern

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


def _lines_of(pattern, text):
    return tuple(sorted({text.count("\n", 0, m.start()) + 1 for m in pattern.finditer(text)}))


@pytest.mark.parametrize("words", [{"device"}, {"device", "dev"},
                                   {"a", "b", "c", "d", "e", "f", "device"}])
def test_a_few_names_are_scanned_a_word_at_a_time_on_the_same_lines(words):
    # (positions._word_by_word: a literal's search each, not the alternation's)
    text = "x = dev(0)\nmydevice = 1\ndevices = 2\nb.device\ny=device_x\nq = 'device'\n"
    pattern = names_pattern(words)
    assert _word_by_word(pattern)
    lines = StatementLines(cst.parse_module(text), text)
    assert lines.lines_matching(pattern) == _lines_of(pattern, text)
