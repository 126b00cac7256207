"""torch.special functions whose composition reads the input more than once, for
converted files (helper_code.py registers them)."""

HELPERS = {
    "entr": '''\
def entr(input):
    """torch.special.entr: -x * log(x) for x > 0, 0 at 0, -inf below 0; integers as
    float32, as torch promotes them."""
    if not input.is_floating_point():
        input = input.astype(mindspore.float32)
    positive = input > 0
    inf = mindspore.ops.full_like(input, float("-inf"))
    below = mindspore.ops.where(input == 0, mindspore.ops.zeros_like(input), inf)
    safe = mindspore.ops.where(positive, input, mindspore.ops.ones_like(input))
    return mindspore.ops.where(positive, -input * mindspore.ops.log(safe), below)
''',
    "erfcx": '''\
def erfcx(input):
    """torch.special.erfcx: the scaled complementary error function exp(x ** 2) *
    erfc(x), from erfc (MindSpore 2.10 has no erfcx); it overflows above x of about
    9 (float32) where torch's stays finite. Integers as float32, as torch promotes them."""
    if not input.is_floating_point():
        input = input.astype(mindspore.float32)
    return mindspore.ops.exp(input * input) * mindspore.ops.erfc(input)
''',
    "multigammaln": '''\
def multigammaln(input, p):
    """torch.special.multigammaln: p * (p - 1) / 4 * log(pi) plus the sum of
    lgamma(x - i / 2) for i < p (ops.mvlgamma refuses an x <= (p - 1) / 2, which torch
    computes)."""
    total = p * (p - 1) / 4 * math.log(math.pi)
    for i in range(p):
        total = total + mindspore.ops.lgamma(input - i / 2)
    return total
''',
}

IMPORTS = {"multigammaln": ("import math",)}
