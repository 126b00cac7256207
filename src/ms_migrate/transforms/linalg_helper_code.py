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
    "lstsq": '''\
def lstsq(A, B, rcond=None, driver=None):
    """torch.linalg.lstsq from ops.svd: (solution, residuals, rank, singular_values),
    singular values below rcond * the largest (rcond default eps * max(m, n)) dropped.
    As torch's drivers: rank unless driver="gels", singular values for "gelsd"/"gelss",
    residuals (squared, per column) for a driver other than the default "gelsy" when
    m > n and A has full rank; an empty tensor for the rest."""
    driver = driver or "gelsy"
    m, n = A.shape[-2], A.shape[-1]
    s, u, v = mindspore.ops.svd(A, full_matrices=False)
    if rcond is None:
        eps = 2.220446049250313e-16 if s.dtype == mindspore.float64 else 1.1920928955078125e-07
        rcond = eps * max(m, n)
    keep = s > rcond * s.max(axis=-1, keepdims=True)
    inverse = mindspore.ops.where(keep, 1 / s, mindspore.ops.zeros_like(s))
    solution = v @ (inverse.unsqueeze(-1) * (u.swapaxes(-1, -2) @ B))
    rank = keep.astype(mindspore.int64).sum(-1)
    residuals = mindspore.ops.zeros(0, A.dtype)
    if driver != "gelsy" and m > n and bool((rank == n).all()):
        residuals = ((A @ solution - B) ** 2).sum(-2)
    if driver == "gels":
        rank = mindspore.ops.zeros(0, mindspore.int64)
    if driver not in ("gelsd", "gelss"):
        s = mindspore.ops.zeros(0, A.dtype)
    return solution, residuals, rank, s
''',
}
