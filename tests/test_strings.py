"""core/strings.string_value gives what libcst's evaluated_value gives."""
import gc

import libcst as cst
import pytest

from ms_migrate.core.strings import string_value

LITERALS = ['"cuda:0"', "'lr'", '""', "r'\\d+'", "b'\\x00ab'", "u'caf\\u00e9'", "'''a\nb'''",
            '"""x"""', "'a' 'b'", "'a' \"b\" 'c'", "b'a' b'b'", "'a' f'{b}'",
            "f'{a}' 'b'", "'tab\\tnew\\nline'", "R'raw\\n'", "rb'\\x'"]


@pytest.mark.parametrize("text", LITERALS)
def test_same_value_as_libcst(text):
    node = cst.parse_expression(text)
    assert type(string_value(node)) is type(node.evaluated_value)
    assert string_value(node) == node.evaluated_value


def test_leaves_no_reference_cycle():
    node = cst.parse_expression("'cuda' \"0\"")
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        string_value(node)
        assert gc.collect() == 0
    finally:
        if enabled:
            gc.enable()
