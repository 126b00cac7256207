"""torchaudio calls -> the helpers of audio_helper_code.py, with torchaudio's signatures."""
from __future__ import annotations

from ..core.callrewrite import Bound, rewrite
from .base import transform
from .helper_code import request

_HELPER_NAMES = {"torchaudio.load": "load_waveform"}


@transform
def audio_helper(ctx, rule, bound: Bound, call=None):
    """torchaudio.load(path) -> load_waveform(path); Spectrogram(...) -> the Cell written
    into the file (the helper takes torchaudio's arguments as they are)."""
    name = _HELPER_NAMES.get(rule.torch_name, rule.torch_name.rpartition(".")[2])
    return rewrite(rule, bound, request(ctx, name), call, ctx.name)
