"""passes/text_search.py: the fast text tests answer as the regex search would."""
import re

from ms_migrate.passes.text_search import contains_any, found


def test_found_tries_the_pattern_where_its_literals_are():
    word = re.compile(r"\b(?:save|load)\(")
    assert found(word, "torch.save(model)", "save(", "load(")
    assert not found(word, "autosave(model)", "save(", "load(")
    assert found(word, "autosave(x); load(y)", "save(", "load(")
    assert not found(word, "nothing here", "save(", "load(")


def test_found_reads_the_text_before_a_match():
    line_start = re.compile(r"^import\b", re.M)
    assert not found(line_start, "x = 1; import os", "import")
    assert found(line_start, "x = 1\nimport os", "import")
    assert not found(re.compile(r"(?<!_)foo"), "_foo", "foo")


def test_contains_any():
    assert contains_any("with torch.no_grad():", ("enable_grad", "no_grad"))
    assert not contains_any("with torch.inference():", ("enable_grad", "no_grad"))
