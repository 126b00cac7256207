"""quick_statements builds the very tree libcst's parser makes, or defers to the parser."""
import dataclasses

import libcst as cst
import pytest

from ms_migrate.core.quick_libcst import parse_statement
from ms_migrate.passes.training import quick_statements
from ms_migrate.passes.training.quick_statements import statement


def _differs(built, parsed, path="statement"):
    """Where two trees differ: node types, every field, sequence types included."""
    if type(built) is not type(parsed):
        return f"{path}: {type(built).__name__} != {type(parsed).__name__}"
    if isinstance(built, cst.CSTNode):
        for field in dataclasses.fields(built):
            found = _differs(getattr(built, field.name), getattr(parsed, field.name),
                             f"{path}.{field.name}")
            if found:
                return found
        return None
    if isinstance(built, (list, tuple)):
        if len(built) != len(parsed):
            return f"{path}: {len(built)} != {len(parsed)} items"
        for i, (a, b) in enumerate(zip(built, parsed)):
            found = _differs(a, b, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if built == parsed else f"{path}: {built!r} != {parsed!r}"


BUILT = [
    "optimizer(grads)\n", "self.optimizer(grads)\n", "f()\n", "a.b.c(d)(e)\n", "x\n",
    "return loss\n", "return loss, outputs\n", "return (a, b), c\n",
    "grad_fn = mindspore.value_and_grad(forward_fn, None, optimizer.parameters)\n",
    "grad_fn = mindspore.value_and_grad(forward_fn, None, optimizer.parameters, has_aux=True)\n",
    "loss, grads = grad_fn(x, y)\n", "(loss, out), grads = grad_fn(x, y)\n",
    "(loss, out, aux), grads = grad_fn()\n", "grads = grad_reducer(grads)\n",
    "x = None\n", "f(x=(a, b))\n", "f((a, b))\n", "x.y = z\n", "model.set_train()\n",
    "def forward_fn():\n    pass\n", "def forward_fn(x):\n    pass\n",
    "def forward_fn(x, y, z):\n    pass\n",
]
PARSED = [  # outside the shapes built: the parser's tree
    "return\n", "x = 1\n", "x = 'a'\n", "x = a + b\n", "x = y = z\n", "x=y\n", "f(a,b)\n",
    "f(a, )\n", "(a,) = b\n", "(a) = b\n", "f(*a)\n", "import x\n", "x = lambda: y\n",
    "x = a if b else c\n", "f(x)  # note\n", "x = (a *\n     b)\n", "def f(a, ):\n    pass\n",
    "def f(*a):\n    pass\n", "@jit\ndef f(a):\n    return a\n", "x = tuple(g(p) for p in w)\n",
]


@pytest.mark.parametrize("code", BUILT)
def test_built_as_parsed(code):
    built = quick_statements._Builder(code).statement()
    assert built is not None
    assert _differs(built, parse_statement(code)) is None
    assert cst.Module([built]).code == code


@pytest.mark.parametrize("code", PARSED)
def test_other_code_parsed(code):
    assert quick_statements._Builder(code).statement() is None
    assert _differs(statement(code), parse_statement(code)) is None


def test_each_statement_new():
    """Trees are never shared: passes key statements by id()."""
    assert statement("optimizer(grads)\n") is not statement("optimizer(grads)\n")
