"""A compound statement the training pass's edits rebuild with nothing in it changed
spans the lines it spanned (later passes may skip it by its lines), though it is not
taken for the statement parsed; one with an edit inside has no span."""
import libcst as cst

from ms_migrate.core.positions import StatementLines
from ms_migrate.core.quick_libcst import parse_source
from ms_migrate.passes.training.edits import Edits, apply_edits

SOURCE = '''class Net:
    def forward(self, x):
        return x


def train(model):
    for x in range(3):
        loss = model(x)
    print(loss)
'''


def test_an_unchanged_statement_rebuilt_keeps_its_lines():
    module = parse_source(SOURCE)
    lines = StatementLines(module, SOURCE)
    net, train = module.body
    print_line = train.body.body[1]
    edits = Edits()
    edits.replace[id(print_line)] = [cst.parse_statement("print(float(loss))\n")]
    new = apply_edits(module, edits, lines)
    new_net, new_train = new.body
    assert new_net is not net  # rebuilt, as the edits' walk rebuilds what holds a block
    assert lines.span(new_net) == lines.span(net) == (1, 3)
    assert not lines.is_parsed(new_net)
    assert lines.span(new_train.body.body[0]) == (7, 8)  # the loop: nothing in it changed
    assert lines.span(new_train) is None  # its print was replaced
