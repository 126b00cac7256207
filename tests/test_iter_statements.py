"""core.names.iter_statements: every statement once, nested ones included."""
import libcst as cst

from ms_migrate.core.names import iter_statements

SOURCE = """\
import a; import b
if x:
    import c
elif y: d = 1; e = 2
else:
    try:
        f = 3
    except E:
        g = 4
for i in z:
    def h():
        return i
"""


def _names(statements):
    return [type(s).__name__ for s in statements]


def test_each_statement_once_in_source_order():
    module = cst.parse_module(SOURCE)
    found = list(iter_statements(module.body))
    assert len({id(s) for s in found}) == len(found)
    assert _names(found) == [
        "SimpleStatementLine", "Import", "Import",
        "If", "SimpleStatementLine", "Import",
        "If", "Assign", "Assign",
        "Else", "Try", "SimpleStatementLine", "Assign",
        "ExceptHandler", "SimpleStatementLine", "Assign",
        "For", "FunctionDef", "SimpleStatementLine", "Return"]


def test_a_statement_not_entered_keeps_what_it_holds():
    module = cst.parse_module(SOURCE)
    found = list(iter_statements(module.body, enter=lambda s: type(s) is not cst.For))
    assert _names(found)[-1] == "For"
    assert "FunctionDef" not in _names(found)
