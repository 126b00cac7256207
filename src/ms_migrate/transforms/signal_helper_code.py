"""Signal processing MindSpore 2.10 lacks, for converted files (helper_code.py registers
them)."""

HELPERS = {
    "istft": '''\
def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
          normalized=False, onesided=None, length=None, return_complex=False):
    """torch.istft: each frame's inverse FFT times the window, overlapped and added
    `hop_length` apart (ops.fold), divided by the summed squared window; `center`
    drops the n_fft // 2 samples stft padded at each end."""
    hop_length = hop_length or n_fft // 4
    win_length = win_length or n_fft
    squeeze = input.ndim == 2
    if squeeze:
        input = input.unsqueeze(0)
    if window is None:
        window = mindspore.ops.ones(win_length, mindspore.float32)
    left = (n_fft - win_length) // 2
    window = mindspore.ops.pad(window, (left, n_fft - win_length - left))
    if onesided is None:
        onesided = input.shape[-2] != n_fft
    norm = "ortho" if normalized else "backward"
    if onesided:
        frames = mindspore.ops.irfft(input, n=n_fft, dim=-2, norm=norm)
    else:
        frames = mindspore.ops.ifft(input, n=n_fft, dim=-2, norm=norm)
        if not return_complex:
            frames = mindspore.ops.real(frames)
    frames = frames * window.reshape(-1, 1).astype(frames.dtype)
    count = frames.shape[-1]
    total = n_fft + hop_length * (count - 1)
    size = mindspore.Tensor([1, total], mindspore.int32)

    def overlap_add(columns):
        return mindspore.ops.fold(columns, size, (1, n_fft), stride=(1, hop_length))[:, 0, 0]

    signal = overlap_add(frames)
    square = (window * window).reshape(1, -1, 1).broadcast_to((1, n_fft, count))
    envelope = overlap_add(square.astype(mindspore.float32))
    start = n_fft // 2 if center else 0
    end = total - start if length is None else min(start + length, total)
    signal = signal[:, start:end] / envelope[:, start:end].astype(signal.dtype)
    if length is not None and signal.shape[-1] < length:
        signal = mindspore.ops.pad(signal, (0, length - signal.shape[-1]))
    return signal[0] if squeeze else signal
''',
}
