"""torchaudio's file reading and transforms, written into a converted file: `load_waveform`
reads audio files with soundfile, as torchaudio's soundfile backend does; `Spectrogram`
is a Cell computing torchaudio's spectrogram with mindspore.ops.stft."""
from __future__ import annotations

HELPERS = {
    "load_waveform": '''\
def load_waveform(uri, frame_offset=0, num_frames=-1, normalize=True, channels_first=True,
                  format=None, buffer_size=4096, backend=None):
    """torchaudio.load, read with soundfile: the samples as a (channels, frames) tensor,
    float32 in [-1, 1) (normalize=False: 16-bit and 24/32-bit PCM files as int16 and
    int32) and the sample rate."""
    subtype = soundfile.info(uri).subtype if not normalize else None
    dtype = {"PCM_16": "int16", "PCM_24": "int32", "PCM_32": "int32"}.get(subtype, "float32")
    data, sample_rate = soundfile.read(uri, frames=num_frames, start=frame_offset, dtype=dtype,
                                       always_2d=True, format=format and format.upper())
    return mindspore.Tensor(data.T.copy() if channels_first else data), sample_rate
''',
    "Spectrogram": '''\
class Spectrogram(mindspore.nn.Cell):
    """torchaudio.transforms.Spectrogram: the short-time Fourier transform of the last axis
    (`pad` zeros on both sides first; a Hann window of win_length, or window_fn(win_length,
    **wkwargs)), its magnitude to the power `power` (None: the complex spectrum);
    normalized=True or "window" divides by the window's norm, "frame_length" by sqrt(n_fft)."""

    def __init__(self, n_fft=400, win_length=None, hop_length=None, pad=0, window_fn=None,
                 power=2.0, normalized=False, wkwargs=None, center=True, pad_mode="reflect",
                 onesided=True, return_complex=None):
        super().__init__()
        self.n_fft, self.pad, self.power, self.normalized = n_fft, pad, power, normalized
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        if window_fn is None:
            self.window = mindspore.ops.hann_window(self.win_length, dtype=mindspore.float32)
        else:
            self.window = window_fn(self.win_length, **(wkwargs or {}))
        self.center, self.pad_mode, self.onesided = center, pad_mode.upper(), onesided

    def construct(self, waveform):
        shape = waveform.shape
        waveform = waveform.reshape(-1, shape[-1])
        if self.pad > 0:
            waveform = mindspore.ops.pad(waveform, (self.pad, self.pad))
        window = self.window.astype(waveform.dtype)
        spec = mindspore.ops.stft(
            waveform, self.n_fft, self.hop_length, self.win_length, window, self.center,
            self.pad_mode, self.normalized == "frame_length", self.onesided, return_complex=True)
        spec = spec.reshape(shape[:-1] + spec.shape[-2:])
        norm = window.pow(2).sum().sqrt() if self.normalized in (True, "window") else 1
        if self.power is None:
            return mindspore.ops.Complex()(spec.real() / norm, spec.imag() / norm)
        magnitude = mindspore.ops.ComplexAbs()(spec) / norm
        return magnitude if self.power == 1.0 else magnitude.pow(self.power)
''',
}

IMPORTS = {"load_waveform": ("import soundfile",)}
