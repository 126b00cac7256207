"""LU factorisation for converted files (helper_code.py registers them): MindSpore 2.10
has no batched LU with LAPACK's pivots on CPU, so lu_factor_ex computes it from ops
(getrf's partial pivoting: the pivots agree with torch's), and the rest of torch's LU
functions build on it."""

HELPERS = {
    "lu_factor_ex": '''\
def lu_factor_ex(A, pivot=True, check_errors=False):
    """torch.linalg.lu_factor_ex: LU with partial pivoting as LAPACK's getrf computes it
    (the first row of largest magnitude comes up; a zero pivot leaves its column
    unscaled): the packed LU, 1-based int32 pivots, and info, the 1-based index of the
    first zero on U's diagonal (0 when none)."""
    if not pivot:
        raise ValueError("LU without pivoting: torch computes it on CUDA only")
    m, n = A.shape[-2], A.shape[-1]
    batch = tuple(A.shape[:-2])
    rows = mindspore.ops.arange(m).reshape(m, 1)
    cols = mindspore.ops.arange(n)
    lu, pivots = A, []
    for k in range(min(m, n)):
        p = lu[..., k:, k].abs().argmax(-1).astype(mindspore.int64) + k
        pivots.append(p)
        p = p.reshape(batch + (1, 1))
        order = mindspore.ops.where(rows == k, p, mindspore.ops.where(rows == p, k, rows))
        lu = mindspore.ops.gather_elements(lu, -2, order.broadcast_to(lu.shape))
        d = lu[..., k:k + 1, k:k + 1]
        factors = lu[..., k:k + 1] / mindspore.ops.where(d == 0, mindspore.ops.ones_like(d), d)
        below = rows > k
        lu = mindspore.ops.where(below & (cols > k), lu - factors * lu[..., k:k + 1, :], lu)
        lu = mindspore.ops.where(below & (cols == k), factors, lu)
    pivots = (mindspore.ops.stack(pivots, -1) + 1).astype(mindspore.int32)
    zero = (lu.diagonal(0, -2, -1) == 0).astype(mindspore.int32)
    info = mindspore.ops.where(zero.any(-1), zero.argmax(-1).astype(mindspore.int32) + 1, 0)
    if check_errors and info.any():
        raise ValueError("lu_factor_ex: U has a zero on its diagonal (the matrix is singular)")
    return lu, pivots, info.astype(mindspore.int32)
''',
    "lu_factor": '''\
def lu_factor(A, pivot=True):
    """torch.linalg.lu_factor: the packed LU and the 1-based int32 pivots."""
    packed, pivots, _ = lu_factor_ex(A, pivot)
    return packed, pivots
''',
    "lu": '''\
def lu(A, pivot=True, get_infos=False):
    """torch.lu: the packed LU and the 1-based int32 pivots, and the info when asked."""
    packed, pivots, info = lu_factor_ex(A, pivot)
    return (packed, pivots, info) if get_infos else (packed, pivots)
''',
    "lu_unpack": '''\
def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """torch.lu_unpack: P, L, U with A = P @ L @ U from a packed LU and its 1-based
    pivots; an empty tensor for what is not unpacked."""
    m, n = LU_data.shape[-2], LU_data.shape[-1]
    k = min(m, n)
    P = L = U = mindspore.ops.zeros(0, LU_data.dtype)
    if unpack_data:
        L = mindspore.ops.tril(LU_data[..., :k], -1) + mindspore.ops.eye(m, k, LU_data.dtype)
        U = mindspore.ops.triu(LU_data[..., :k, :])
    if unpack_pivots:
        index = mindspore.ops.arange(m)
        perm = index.broadcast_to(tuple(LU_pivots.shape[:-1]) + (m,))
        for i in range(k):
            j = LU_pivots[..., i:i + 1].astype(mindspore.int64) - 1
            swapped = mindspore.ops.gather_elements(perm, -1, j)
            perm = mindspore.ops.where(
                index == i, swapped, mindspore.ops.where(index == j, perm[..., i:i + 1], perm))
        P = (perm.unsqueeze(-2) == index.reshape(m, 1)).astype(LU_data.dtype)
    return P, L, U
''',
    "linalg_lu": '''\
def linalg_lu(A, pivot=True):
    """torch.linalg.lu: P, L, U with A = P @ L @ U."""
    return lu_unpack(*lu_factor(A, pivot))
''',
    "linalg_lu_solve": '''\
def linalg_lu_solve(LU, pivots, B, left=True, adjoint=False):
    """torch.linalg.lu_solve: solves A X = B (X A = B when left=False; with A's adjoint
    when adjoint=True) for the A = P @ L @ U that LU and pivots describe."""
    P, L, U = lu_unpack(LU, pivots)
    A = P @ L @ U
    if adjoint:
        A = A.swapaxes(-1, -2).conj() if A.is_complex() else A.swapaxes(-1, -2)
    if left:
        return mindspore.ops.matrix_solve(A, B)
    return mindspore.ops.matrix_solve(A.swapaxes(-1, -2), B.swapaxes(-1, -2)).swapaxes(-1, -2)
''',
    "lu_solve": '''\
def lu_solve(b, LU_data, LU_pivots):
    """torch.lu_solve: solves A X = b for the A that LU_data and LU_pivots describe."""
    return linalg_lu_solve(LU_data, LU_pivots, b)
''',
}

NEEDS = {
    "lu_factor": ("lu_factor_ex",),
    "lu": ("lu_factor_ex",),
    "linalg_lu": ("lu_unpack", "lu_factor"),
    "linalg_lu_solve": ("lu_unpack",),
    "lu_solve": ("linalg_lu_solve",),
}
