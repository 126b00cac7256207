"""`.values` / `.indices` of a result stored in a name: `best = x.max(1)` ... `best.indices`
becomes `best[1]` (MindSpore returns plain tuples) where only that call's result can
reach the read; where something else may, the read is left and marked."""
import pytest

from ms_migrate import convert_source
from ms_migrate.runtime.equivalence import PRELUDE


def convert(body: str):
    return convert_source(PRELUDE + body, "<test>")


def unsupported(result):
    return [(f.api, f.message) for f in result.report.findings if f.action == "unsupported"]


# Programs run on both frameworks with the same inputs; `out` is compared.
PROGRAMS = {
    "max": ("result = torch.max(logits, dim=1)\n"
            "pred = result.indices\n"
            "acc = (pred == y).float().mean()\n"
            "conf = result.values.sum()\n",
            "(result.values, pred, acc, conf)",
            {"logits": "randn(8, 5)", "y": "randint(0, 5, (8,))"}),
    "topk": ("top = scores.topk(3, dim=-1)\n"
             "vals, idx = top.values, top.indices\n",
             "(vals, idx, top.values[:, 0])",
             {"scores": "randn(4, 6)"}),
    "sort": ("s = torch.sort(x, dim=1, descending=True)\n"
             "first = s.indices[:, 0]\n"
             "smallest = s.values[:, -1]\n",
             "(first, smallest)",
             {"x": "randn(3, 7)"}),
    "min in a loop": ("def accuracy(batches, labels):\n"
                      "    correct = 0\n"
                      "    for b, y in zip(batches, labels):\n"
                      "        best = b.min(1)\n"
                      "        correct += (best.indices == y).float().sum()\n"
                      "    return correct, best.values\n",
                      "accuracy([a, b], [ya, yb])",
                      {"a": "randn(6, 4)", "b": "randn(6, 4)",
                       "ya": "randint(0, 4, (6,))", "yb": "randint(0, 4, (6,))"}),
    "either branch": ("def pick(x, largest):\n"
                      "    if largest:\n"
                      "        r = x.max(dim=0)\n"
                      "    else:\n"
                      "        r = torch.min(x, 0)\n"
                      "    return r.indices, r.values\n",
                      "(pick(x, True), pick(x, False))",
                      {"x": "randn(5, 3)"}),
}


@pytest.mark.parametrize("name", PROGRAMS)
def test_stored_results_give_torch_numbers(name):
    pytest.importorskip("torch")
    pytest.importorskip("mindspore")
    from ms_migrate.runtime.equivalence import run_example
    setup, code, inputs = PROGRAMS[name]
    ran = run_example({"setup": setup, "code": code, "inputs": inputs, "dtype": "loose"},
                      "function")
    assert ".values" not in ran.mindspore_code and ".indices" not in ran.mindspore_code


def test_fields_after_the_call_in_a_chain():
    result = convert("a = x.max(dim=1).values.float()\nb = torch.sort(x, 1).indices.sum()\n")
    assert "a = x.max(dim=1)[0].float()" in result.code
    assert "b = ops.sort(x, 1)[1].sum()" in result.code


def test_unpacking_and_subscripts_stay_as_they_are():
    result = convert("v, i = x.max(1)\nbest = probs.max(1)\nacc = (best[1] == y).float()\n")
    assert "v, i = x.max(1)\n" in result.code
    assert "acc = (best[1] == y).float()" in result.code


def test_a_reassigned_name_is_not_rewritten():
    result = convert("def f(x):\n"
                     "    r = x.max(1)\n"
                     "    r = other(x)\n"
                     "    a = r.values\n"
                     "    r = x.topk(2)\n"
                     "    for r in x:\n"
                     "        pass\n"
                     "    with ctx() as r:\n"
                     "        b = r.indices\n"
                     "    def g(r):\n"
                     "        return r.values\n"
                     "    return [r.values for r in rs]\n")
    assert "a = r.values" in result.code
    assert "b = r.indices" in result.code
    assert "return r.values" in result.code
    assert "return [r.values for r in rs]" in result.code
    assert not unsupported(result)


def test_a_read_other_values_may_reach_is_marked():
    result = convert("r = foo(x)\n"
                     "if c:\n"
                     "    r = torch.max(x, 1)\n"
                     "pred = r.indices\n"
                     "s = x.sort(1)\n"
                     "for s in rows:\n"
                     "    pass\n"
                     "v = s.values\n")
    assert "pred = r.indices" in result.code and "v = s.values" in result.code
    assert "# ms-migrate: r.indices: MindSpore returns a plain tuple" in result.code
    assert [api for api, _ in unsupported(result)] == ["r.indices", "s.values"]
    assert "use r[1]" in unsupported(result)[0][1]
    assert convert_source(result.code).code == result.code


def test_a_read_in_a_loop_or_after_it_sees_only_the_call():
    result = convert("for x, y in loader:\n"
                     "    best = x.max(1)\n"
                     "    n = (best.indices == y).sum()\n"
                     "print(best.values)\n"
                     "mr = torch.max(a, 1)\n"
                     "f = lambda: mr.values\n"
                     "def later():\n"
                     "    return mr.values\n")
    assert "n = (best[1] == y).sum()" in result.code
    assert "print(best[0])" in result.code
    # run later, when mr may hold something else: left
    assert "f = lambda: mr.values" in result.code and "return mr.values" in result.code
    assert not unsupported(result)


def test_other_values_named_like_fields_are_left():
    result = convert("df = read_csv(path)\narr = df.values\nr = x.max(1)\nr.values = 3\n")
    assert "arr = df.values" in result.code and "r.values = 3" in result.code
    assert not unsupported(result)
