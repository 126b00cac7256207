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
}
