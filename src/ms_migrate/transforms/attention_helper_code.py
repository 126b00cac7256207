"""torch.nn.attention's kernel names, written into a converted file: which kernel
computes scaled_dot_product_attention is a matter of speed only, and MindSpore chooses
its kernels itself, so the names stay names (the same members, values and text)."""
from __future__ import annotations

HELPERS = {
    "SDPBackend": '''\
class SDPBackend(enum.Enum):
    """torch.nn.attention.SDPBackend: the names of torch's attention kernels. They label a
    choice of kernel only; MindSpore chooses its kernels, and the values are the same."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4
''',
    "_cur_sdpa_kernel_backends": '''\
def _cur_sdpa_kernel_backends():
    """torch.nn.attention._cur_sdpa_kernel_backends outside any sdpa_kernel region: every
    kernel is allowed (MindSpore chooses its kernels; sdpa_kernel regions are removed)."""
    return [SDPBackend.CUDNN_ATTENTION, SDPBackend.FLASH_ATTENTION,
            SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH, SDPBackend.OVERRIDEABLE]
''',
}
NEEDS = {"_cur_sdpa_kernel_backends": ("SDPBackend",)}
IMPORTS = {"SDPBackend": ("import enum",)}
