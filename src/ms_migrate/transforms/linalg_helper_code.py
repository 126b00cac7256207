"""Linear algebra MindSpore 2.10 lacks, for converted files (helper_code.py registers
them), composed from ops.svd and the like."""

HELPERS = {
    "matrix_rank": '''\
def matrix_rank(A, tol=None, hermitian=False, atol=None, rtol=None):
    """torch.linalg.matrix_rank: how many singular values exceed max(atol, rtol * the
    largest). tol is atol with rtol 0; rtol defaults to eps * max(m, n), or to 0 where an
    atol > 0 is given. A hermitian matrix is read from its lower triangle only."""
    if hermitian:
        index = mindspore.ops.arange(A.shape[-1])
        rows, cols = index.reshape(-1, 1), index.reshape(1, -1)
        zeros = mindspore.ops.zeros_like(A)
        strict = mindspore.ops.where(rows > cols, A, zeros).swapaxes(-1, -2)
        A = mindspore.ops.where(rows >= cols, A, zeros) + (
            strict.conj() if A.is_complex() else strict)
    s = mindspore.ops.svd(A, compute_uv=False)
    if tol is not None:
        atol, rtol = tol, 0.0
    if rtol is None:
        eps = 2.220446049250313e-16 if s.dtype == mindspore.float64 else 1.1920928955078125e-07
        rtol = 0.0 if atol is not None and atol > 0 else eps * max(A.shape[-2], A.shape[-1])
    threshold = rtol * s.max(axis=-1, keepdims=True)
    floor = mindspore.ops.zeros_like(threshold) + (0.0 if atol is None else atol)
    return (s > mindspore.ops.maximum(threshold, floor)).astype(mindspore.int64).sum(-1)
''',
}
