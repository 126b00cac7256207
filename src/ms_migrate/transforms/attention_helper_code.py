"""torch.nn.attention's kernel names and kernel regions, written into a converted file:
which kernel computes scaled_dot_product_attention is a matter of speed only, and
MindSpore chooses its kernels itself, so the names stay names (the same members, values
and text) and a region keeps only the list of kernels it allows, for code that reads it."""
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
    "sdpa_kernel": '''\
class sdpa_kernel:
    """torch.nn.attention.sdpa_kernel: a region where only the given kernels are allowed, as
    _cur_sdpa_kernel_backends() reads; MindSpore chooses the kernel it runs itself (speed
    only, the same values)."""

    allowed = [SDPBackend.CUDNN_ATTENTION, SDPBackend.FLASH_ATTENTION,
               SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH, SDPBackend.OVERRIDEABLE]

    def __init__(self, backends, set_priority=False):
        self.backends = [backends] if isinstance(backends, SDPBackend) else list(backends)

    def __enter__(self):
        self.previous, sdpa_kernel.allowed = sdpa_kernel.allowed, self.backends

    def __exit__(self, *exc_info):
        sdpa_kernel.allowed = self.previous
''',
    "_cur_sdpa_kernel_backends": '''\
def _cur_sdpa_kernel_backends():
    """torch.nn.attention._cur_sdpa_kernel_backends: the kernels the enclosing sdpa_kernel
    region allows (all of them outside any), in torch's order."""
    return [backend for backend in (SDPBackend.CUDNN_ATTENTION, SDPBackend.FLASH_ATTENTION,
                                    SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH,
                                    SDPBackend.OVERRIDEABLE) if backend in sdpa_kernel.allowed]
''',
}
NEEDS = {"sdpa_kernel": ("SDPBackend",), "_cur_sdpa_kernel_backends": ("sdpa_kernel",)}
IMPORTS = {"SDPBackend": ("import enum",)}
