"""torchaudio, converted: `Spectrogram` becomes a Cell written into the file over
mindspore.ops.stft, `torchaudio.load` a soundfile reader written into the file, and
`set_audio_backend` statements go. torchaudio cannot be installed beside this torch, so
the spectrogram is compared with torchaudio's documented computation written here with
torch.stft (pad, Hann window, stft, normalisation, magnitude ** power), and the loaded
samples with those written into a WAV file (16-bit PCM / 32768, as torchaudio gives)."""
import wave

import numpy as np
import pytest

from ms_migrate import convert_source

torch = pytest.importorskip("torch")
pytest.importorskip("mindspore")


def run_converted(program: str) -> dict:
    result = convert_source(program, "audio.py")
    assert "torchaudio" not in "".join(
        line for line in result.code.splitlines() if line.startswith(("import", "from"))), result.code
    assert not [f for f in result.report.findings if f.action == "unsupported"], result.code
    namespace = {"__name__": "audio_case"}
    exec(compile(result.code, "<mindspore>", "exec"), namespace)
    return namespace


def torchaudio_spectrogram(waveform, n_fft=400, win_length=None, hop_length=None, pad=0,
                           power=2.0, normalized=False, center=True, pad_mode="reflect",
                           onesided=True):
    """torchaudio.functional.spectrogram as its documentation describes it."""
    win_length = win_length or n_fft
    hop_length = hop_length or win_length // 2
    window = torch.hann_window(win_length)
    if pad > 0:
        waveform = torch.nn.functional.pad(waveform, (pad, pad))
    shape = waveform.shape
    spec = torch.stft(waveform.reshape(-1, shape[-1]), n_fft, hop_length, win_length, window,
                      center, pad_mode, normalized == "frame_length", onesided,
                      return_complex=True)
    spec = spec.reshape(shape[:-1] + spec.shape[-2:])
    if normalized is True or normalized == "window":
        spec = spec / window.pow(2).sum().sqrt()
    if power is None:
        return spec
    return spec.abs() if power == 1.0 else spec.abs().pow(power)


SPECTROGRAMS = '''\
import torch
import torch.nn as nn
import torchaudio
from torchaudio.transforms import Spectrogram


class AST(nn.Module):
    def __init__(self, n_fft=128, power=2, win_length=24, hop_length=None, pad=0,
                 center=True, pad_mode="reflect"):
        super().__init__()
        self.spec = Spectrogram(
            n_fft = n_fft,
            power = power,
            win_length = win_length,
            hop_length = hop_length,
            pad = pad,
            center = center,
            pad_mode = pad_mode
        )

    def forward(self, audio):
        return self.spec(audio)


def positional(audio):
    return torchaudio.transforms.Spectrogram(64, 32, 8, 3)(audio)


def normalized(audio, how):
    return torchaudio.transforms.Spectrogram(n_fft=50, power=1.0, normalized=how)(audio)


def complex_spectrum(audio):
    return torchaudio.transforms.Spectrogram(32, hop_length=7, center=False, power=None,
                                             onesided=False)(audio)
'''

AUDIO = np.random.default_rng(0).standard_normal((2, 3, 700)).astype(np.float32)


@pytest.fixture(scope="module")
def spectrograms():
    return run_converted(SPECTROGRAMS)


def _close(got, want):
    got = got.asnumpy()
    want = want.numpy()
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(want).max()))


@pytest.mark.parametrize("options", [
    {}, {"hop_length": 5, "pad": 4}, {"center": False}, {"pad_mode": "constant", "power": 1.0},
])
def test_the_layer_in_a_model_computes_torchaudios_spectrogram(spectrograms, options):
    import mindspore
    model = spectrograms["AST"](**options)
    want = torchaudio_spectrogram(torch.tensor(AUDIO[0]), **{
        "n_fft": 128, "win_length": 24, "power": 2, **options})
    _close(model(mindspore.Tensor(AUDIO[0])), want)


def test_positional_arguments_and_more_axes(spectrograms):
    import mindspore
    want = torchaudio_spectrogram(torch.tensor(AUDIO), 64, 32, 8, 3)
    _close(spectrograms["positional"](mindspore.Tensor(AUDIO)), want)
    _close(spectrograms["positional"](mindspore.Tensor(AUDIO[0, 0])),
           torchaudio_spectrogram(torch.tensor(AUDIO[0, 0]), 64, 32, 8, 3))


@pytest.mark.parametrize("how", [True, "window", "frame_length", False])
def test_normalized(spectrograms, how):
    import mindspore
    want = torchaudio_spectrogram(torch.tensor(AUDIO[1]), n_fft=50, power=1.0, normalized=how)
    _close(spectrograms["normalized"](mindspore.Tensor(AUDIO[1]), how), want)


def test_power_none_gives_the_complex_spectrum(spectrograms):
    import mindspore
    want = torchaudio_spectrogram(torch.tensor(AUDIO[0]), 32, hop_length=7, center=False,
                                  power=None, onesided=False)
    _close(spectrograms["complex_spectrum"](mindspore.Tensor(AUDIO[0])), want)


def test_with_torchaudio_the_values_match(spectrograms):
    torchaudio = pytest.importorskip("torchaudio")
    import mindspore
    want = torchaudio.transforms.Spectrogram(n_fft=128, power=2, win_length=24)(
        torch.tensor(AUDIO[0]))
    _close(spectrograms["AST"]()(mindspore.Tensor(AUDIO[0])), want)


LOADING = '''\
import torch
import torchaudio

torchaudio.set_audio_backend("sox_io")


def load_audio(path):
    sound, sample_rate = torchaudio.load(path)
    if sound.shape[0] == 1:
        sound = sound.squeeze()
    else:
        sound = sound.mean(axis=0)  # multiple channels, average
    return sound.numpy(), sample_rate


def part(path, offset, count, last):
    return torchaudio.load(path, frame_offset=offset, num_frames=count, channels_first=not last)


def raw(path):
    return torchaudio.load(path, normalize=False)[0]
'''


def write_wav(path, samples: np.ndarray, rate: int):
    """samples: int16 (frames, channels)."""
    with wave.open(str(path), "wb") as f:
        f.setnchannels(samples.shape[1])
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(samples.astype("<i2").tobytes())


@pytest.fixture(scope="module")
def loading():
    pytest.importorskip("soundfile")
    return run_converted(LOADING)


SAMPLES = np.random.default_rng(1).integers(-32768, 32768, (50, 2)).astype(np.int16)


def test_load_gives_torchaudios_float_samples_and_rate(loading, tmp_path):
    write_wav(tmp_path / "stereo.wav", SAMPLES, 8000)
    write_wav(tmp_path / "mono.wav", SAMPLES[:, :1], 16000)
    sound, rate = loading["load_audio"](str(tmp_path / "stereo.wav"))
    assert rate == 8000 and sound.dtype == np.float32
    np.testing.assert_allclose(sound, (SAMPLES / 32768.0).T.mean(axis=0), rtol=1e-6, atol=1e-7)
    sound, rate = loading["load_audio"](str(tmp_path / "mono.wav"))
    assert rate == 16000
    np.testing.assert_array_equal(sound, (SAMPLES[:, 0] / 32768.0).astype(np.float32))


def test_frame_offset_num_frames_channels_first_and_raw_samples(loading, tmp_path):
    write_wav(tmp_path / "clip.wav", SAMPLES, 8000)
    wave_, _ = loading["part"](str(tmp_path / "clip.wav"), 7, 20, False)
    want = (SAMPLES[7:27] / 32768.0).astype(np.float32)
    np.testing.assert_array_equal(wave_.asnumpy(), want.T)
    wave_, _ = loading["part"](str(tmp_path / "clip.wav"), 40, -1, True)
    np.testing.assert_array_equal(wave_.asnumpy(), (SAMPLES[40:] / 32768.0).astype(np.float32))
    got = loading["raw"](str(tmp_path / "clip.wav")).asnumpy()
    assert got.dtype == np.int16
    np.testing.assert_array_equal(got, SAMPLES.T)


def test_backend_statement_goes_with_a_note():
    result = convert_source(LOADING, "audio.py")
    assert "set_audio_backend" not in result.code.replace(
        "# ms-migrate: torchaudio.set_audio_backend", "")
    assert any(f.api == "torchaudio.set_audio_backend" for f in result.report.findings)
